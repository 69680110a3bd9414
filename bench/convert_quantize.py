"""Conversion, quantization and perplexity against llama.cpp's own tools, on this machine.

* **convert**: a random LLaMA of about 600M parameters (hidden 1536, 16 layers, FFN 4096, the
  49,953-piece Chinese-LLaMA vocabulary) saved as F16 safetensors in two shards; the app's
  ``convert`` job against llama.cpp's ``convert_hf_to_gguf.py`` (from the llama-cpp-python source
  distribution the throughput bench unpacks, with its own gguf-py), both to F16. Reported: seconds,
  MB/s of checkpoint read, peak RSS (the process tree, sampled every 20 ms), the largest tensor in
  float32, and whether the two files' tensor data are byte-identical.
* **quantize**: for Q8_0, Q4_0 and Q4_K_M of that F16 file: the app's ``quantize`` job,
  ``llama_model_quantize`` called directly in this process, and ``llama-quantize`` built from the
  same tree; seconds for each, the job against the direct call, the size against the estimate,
  and whether the app's tensor data equal ``llama-quantize``'s byte for byte.
* **perplexity**: a tiny unigram model of the Chinese sample (a perplexity that means something)
  in F16 and Q4_0: the report's perplexity (n_ctx 128) against ``llama-perplexity`` on the same
  file, text and context, with the time of each.

Targets (issue 10): conversion time <= 1.0x the reference script's; peak RSS <= 1.5x the largest
tensor plus 300 MB; quantization within 5% of the direct call; perplexity within 0.5% of
llama-perplexity. Prints ONE JSON line on stdout; progress on stderr. ``make bench`` runs it.
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
import threading
import time
from pathlib import Path
from typing import Any

import psutil
from _common import CHINESE_SP_MODEL, LLAMA_TOKENIZER, ZH_SAMPLES, cache_dir, log, machine_info, rounded

from runtime.jobs import build_command
from runtime.models.tiny_checkpoint import write_llama_checkpoint
from runtime.tokens import merge_sentencepiece

SHAPE = {"hidden": 1536, "layers": 16, "heads": 12, "ffn": 4096}
QUANT_TYPES = ("q8_0", "q4_0", "q4_k_m")
TIMEOUT_S = 3600


def measured(command: list[str], *, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``command``; (seconds, peak RSS of its process tree in bytes, stderr tail)."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **(env or {})})
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        root = psutil.Process(proc.pid)
        while not stop.is_set():
            try:
                total = root.memory_info().rss + sum(c.memory_info().rss for c in root.children(recursive=True))
                peak = max(peak, total)
            except psutil.Error:
                pass
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _out, err = proc.communicate(timeout=TIMEOUT_S)
    elapsed = time.perf_counter() - started
    stop.set()
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{command[:4]} failed ({proc.returncode}): {err.decode(errors='replace')[-1500:]}")
    return elapsed, peak, err.decode(errors="replace")[-8000:]


def tensor_data(path: Path) -> dict[str, bytes]:
    import gguf

    reader = gguf.GGUFReader(path)
    return {t.name: bytes(t.data.tobytes()) for t in reader.tensors}


def same_tensors(a: Path, b: Path) -> bool:
    left, right = tensor_data(a), tensor_data(b)
    return left.keys() == right.keys() and all(left[k] == right[k] for k in left)


def ensure_tools(version: str) -> tuple[Path, Path, Path]:
    """llama-quantize and llama-perplexity built in the throughput bench's tree, and its llama.cpp source."""
    from chat_throughput import ensure_llama_bench

    binary, note = ensure_llama_bench(version, 1)
    if binary is None:
        raise RuntimeError(note)
    build = binary.parent.parent
    for target in ("llama-quantize", "llama-perplexity"):
        if not (build / "bin" / target).is_file():
            log(f"building {target} (once)")
            subprocess.run(["cmake", "--build", str(build), "--target", target, "-j1"], check=True, capture_output=True)
    source = build.parent / "src" / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
    return build / "bin" / "llama-quantize", build / "bin" / "llama-perplexity", source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 2)))
    parser.add_argument("--chunks", type=int, default=8, help="perplexity windows")
    parser.add_argument(
        "--quant-rounds", type=int, default=3, help="rounds of the job and the direct call, in turn, per type"
    )
    args = parser.parse_args()
    import llama_cpp

    version = llama_cpp.__version__
    # The direct calls below would print llama.cpp's log (one line per tensor) into the bench's stderr.
    silent = llama_cpp.llama_log_callback(lambda *_args: None)
    llama_cpp.llama_log_set(silent, ctypes.c_void_p(0))
    quantize_bin, perplexity_bin, llama_src = ensure_tools(version)
    work = cache_dir("convert-quantize")
    merged = merge_sentencepiece(LLAMA_TOKENIZER, CHINESE_SP_MODEL)
    checkpoint = work / "random-600m"
    if not (checkpoint / "model.safetensors.index.json").is_file():
        log("writing the ~600M-parameter checkpoint (once)")
        write_llama_checkpoint(checkpoint, tokenizer=merged.model_proto_bytes, dtype="f16", shards=2, std=0.02, **SHAPE)
    checkpoint_bytes = sum(p.stat().st_size for p in checkpoint.glob("*.safetensors"))
    largest = 49_953 * SHAPE["hidden"] * 4  # the embedding (and output) matrix, as float32

    results: dict[str, Any] = {"machine": machine_info(), "llama_cpp_python": version, "threads": args.threads}
    # -- convert
    ours = work / "ours-f16.gguf"
    reference = work / "reference-f16.gguf"
    for path in (ours, reference):
        path.unlink(missing_ok=True)
    log("converting with the app's job")
    ours_s, ours_rss, _ = measured(build_command("convert", src=checkpoint, out=ours, outtype="f16"))
    log("converting with convert_hf_to_gguf.py")
    ref_s, ref_rss, _ = measured(
        [sys.executable, str(llama_src / "convert_hf_to_gguf.py"), str(checkpoint), "--outtype", "f16",
         "--outfile", str(reference)],
        env={"PYTHONPATH": str(llama_src / "gguf-py")},
    )  # fmt: skip
    results["convert"] = {
        "n_params": sum(int(t.n_elements) for t in __import__("gguf").GGUFReader(ours).tensors),
        "checkpoint_mb": rounded(checkpoint_bytes / 1e6, 1),
        "app_s": rounded(ours_s),
        "reference_s": rounded(ref_s),
        "time_ratio": rounded(ours_s / ref_s, 3),
        "app_mb_per_s": rounded(checkpoint_bytes / 1e6 / ours_s, 1),
        "reference_mb_per_s": rounded(checkpoint_bytes / 1e6 / ref_s, 1),
        "app_peak_rss_mb": rounded(ours_rss / 1e6, 1),
        "reference_peak_rss_mb": rounded(ref_rss / 1e6, 1),
        "largest_tensor_f32_mb": rounded(largest / 1e6, 1),
        "rss_target_mb": rounded((1.5 * largest + 300e6) / 1e6, 1),
        "tensor_data_identical": same_tensors(ours, reference),
    }
    log(json.dumps(results["convert"]))

    # -- quantize
    quant: dict[str, Any] = {}
    for qtype in QUANT_TYPES:
        app_out, direct_out, tool_out = (work / f"{who}-{qtype}.gguf" for who in ("app", "direct", "tool"))
        log(f"quantizing to {qtype}: the job, the direct call, llama-quantize")
        from runtime.models.quantize import QUANT_TYPES as KNOWN
        from runtime.models.quantize import gguf_shape

        # The job and the direct call in turn, paired: on this shared machine the same call varies
        # by 10 to 15% from one run to the next (one pair alone once read 1.95x).
        job_times: list[float] = []
        direct_times: list[float] = []
        for _round in range(max(1, args.quant_rounds)):
            job_s, _rss, _ = measured(
                build_command("quantize", src=ours, out=app_out, type=qtype, threads=args.threads)
            )
            params = llama_cpp.llama_model_quantize_default_params()
            params.ftype = KNOWN[qtype].ftype
            params.nthread = args.threads
            started = time.perf_counter()
            llama_cpp.llama_model_quantize(str(ours).encode(), str(direct_out).encode(), ctypes.byref(params))
            job_times.append(job_s)
            direct_times.append(time.perf_counter() - started)
        job_s, direct_s = statistics.median(job_times), statistics.median(direct_times)
        paired = statistics.median(job / direct for job, direct in zip(job_times, direct_times, strict=True))
        tool_s, _rss, _ = measured([str(quantize_bin), str(ours), str(tool_out), qtype.upper(), str(args.threads)])
        from runtime.models.quantize import estimate_quantized_bytes

        shape = gguf_shape(ours)
        estimate = estimate_quantized_bytes(
            shape.tensors, qtype, n_layers=shape.n_layers, header_bytes=shape.header_bytes, n_gqa=shape.n_gqa
        )
        size = app_out.stat().st_size
        quant[qtype] = {
            "job_s": rounded(job_s),
            "direct_s": rounded(direct_s),
            "llama_quantize_s": rounded(tool_s),
            "job_vs_direct": rounded(paired, 3),
            "rounds": len(job_times),
            "bytes": size,
            "estimate_error": rounded((estimate - size) / size, 4),
            "identical_to_llama_quantize": same_tensors(app_out, tool_out),
        }
        log(json.dumps(quant[qtype]))
        for path in (direct_out, tool_out):
            path.unlink(missing_ok=True)
    results["quantize"] = quant

    # -- perplexity
    text = ZH_SAMPLES.read_text(encoding="utf-8")
    tiny = work / "unigram-tiny"
    write_llama_checkpoint(tiny, tokenizer=merged.model_proto_bytes, unigram_text=text, std=0.01, seed=3)
    from runtime.models.convert import convert_checkpoint
    from runtime.models.quantize import quantize_gguf
    from runtime.models.report import perplexity

    tiny_f16 = work / "unigram-f16.gguf"
    convert_checkpoint(tiny, tiny_f16)
    tiny_q4 = work / "unigram-q4_0.gguf"
    quantize_gguf(tiny_f16, tiny_q4, qtype="q4_0")
    ppl: dict[str, Any] = {}
    for label, model in (("f16", tiny_f16), ("q4_0", tiny_q4)):
        started = time.perf_counter()
        ours_ppl, chunks = perplexity(model, text, n_ctx=128, threads=args.threads, max_chunks=args.chunks)
        ours_ppl_s = time.perf_counter() - started
        tool_s, _rss, tail = measured(
            [str(perplexity_bin), "-m", str(model), "-f", str(ZH_SAMPLES), "-c", "128", "-b", "128",
             "--chunks", str(args.chunks), "-t", str(args.threads)]
        )  # fmt: skip
        match = re.search(r"Final estimate: PPL = ([0-9.]+)", tail)
        tool_ppl = float(match.group(1)) if match else None
        ppl[label] = {
            "report_ppl": rounded(ours_ppl, 4),
            "llama_perplexity_ppl": tool_ppl,
            "relative_difference": rounded(abs(ours_ppl - tool_ppl) / tool_ppl, 5) if tool_ppl else None,
            "report_s": rounded(ours_ppl_s),
            "llama_perplexity_s": rounded(tool_s),
            "chunks": chunks,
        }
        log(json.dumps(ppl[label]))
    results["perplexity"] = ppl
    sys.stdout.write(json.dumps(results) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
