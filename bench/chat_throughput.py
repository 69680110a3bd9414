"""Decode speed and time to first token through the whole app path, against llama.cpp itself.

For each model (the ~160M-parameter Q8_0 bench model with the 49,953-piece Chinese-LLaMA vocabulary,
and the real ``stories260K.gguf``) this measures, with the same thread count everywhere:

* **app**: a :class:`runtime.chat.client.HostClient` -> host process -> JSON-lines IPC -> client, op
  ``generate``, the paper's sampling settings (temperature 0.2, top-k 40, top-p 0.9, repetition
  penalty 1.1), a fixed seed, a 64-token prompt and 128 new tokens;
* **create_completion**: llama-cpp-python's ``Llama.create_completion(stream=True)`` in this
  process, same prompt tokens, settings, seed and threads (min-p and typical-p switched off, as in
  the app's sampler chain);
* **llama-bench**: llama.cpp's own benchmark (``-p 64 -n 128``, flash attention off as in the app
  and the create_completion path: on a CPU, llama.cpp's default ``auto`` turns it on, and its CPU
  kernel decodes slower once the context grows), built once from the installed llama-cpp-python's
  source distribution into the cache.

The three run interleaved, round by round (app, create_completion, one llama-bench repetition),
so that a slow spell of a shared machine hits them alike; every figure is the median over
``--runs`` rounds after a warm-up, and ``paired_ratio_*`` is the median of the per-round ratios.
Decode tokens/s is ``(generated - 1) / (end of answer - first token)``, as the user sees it (the
app: from the first ``token`` event to ``finished``; create_completion: from the first chunk to
the end of the stream); llama-bench's tg128 decodes 128 tokens with no sampling at all.
Time to first token is from sending the request to the first text. Before each timed run an untimed
one-token request with another prompt replaces the KV cache, so both Python paths evaluate the
prompt again (all but the BOS token, which every prompt shares).

The random bench model may emit EOS before 128 tokens: the seed is chosen (from ``--seed`` upwards)
so that the app path produces all 128; the generated counts are reported and tokens/s always uses
the actual count.

Prints ONE JSON line on stdout; progress goes to stderr. ``make bench`` runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

from _common import (
    CHINESE_SP_MODEL,
    LLAMA_TOKENIZER,
    STORIES_GGUF,
    ZH_SAMPLES,
    cache_dir,
    log,
    machine_info,
    median,
    rounded,
    shown_path,
)

from runtime.chat.client import HostClient, raise_for_error
from runtime.chat.host import default_threads

N_PROMPT = 64
N_PREDICT = 128
N_CTX = 2048
N_BATCH = 512
SAMPLING = {"temperature": 0.2, "top_k": 40, "top_p": 0.9, "repeat_penalty": 1.1}
SEED_TRIES = 30
TIMEOUT_S = 600.0

EN_PROMPT = (
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with "
    "her big red ball. One day, she saw a small dog under a tree. The dog was sad because it was lost. "
    "Lily wanted to help the dog find its home, so she asked her mom if they could look together. "
    "They walked and walked until they saw a little house with a green door."
)


# -- prompts ---------------------------------------------------------------------------------------


def zh_text() -> str:
    return ZH_SAMPLES.read_text(encoding="utf-8")[:4000].replace("\n\n", "\n")


def make_prompt(model_path: Path, text: str, *, per_char: bool, n_tokens: int) -> tuple[str, list[int]]:
    """The longest prefix of ``text`` whose tokenization (with BOS, as the host's ``generate`` op
    does it) has at most ``n_tokens`` tokens, cut at characters (Chinese) or words (English)."""
    import llama_cpp

    vocab_only = llama_cpp.Llama(model_path=str(model_path), vocab_only=True, verbose=False)
    try:
        units = list(text) if per_char else text.split(" ")
        joiner = "" if per_char else " "

        def tokens_of(k: int) -> list[int]:
            prefix = joiner.join(units[:k])
            return list(vocab_only.tokenize(prefix.encode("utf-8"), add_bos=True, special=False))

        low, high = 1, len(units)
        if len(tokens_of(high)) <= n_tokens:
            raise RuntimeError(f"prompt text too short for {n_tokens} tokens")
        while low < high:  # the largest k with at most n_tokens tokens
            mid = (low + high + 1) // 2
            if len(tokens_of(mid)) <= n_tokens:
                low = mid
            else:
                high = mid - 1
        prompt = joiner.join(units[:low])
        return prompt, tokens_of(low)
    finally:
        vocab_only.close()


# -- the app path ----------------------------------------------------------------------------------


def app_params(seed: int, max_tokens: int = N_PREDICT) -> dict[str, Any]:
    return {"n_ctx": N_CTX, "max_tokens": max_tokens, "seed": seed, **SAMPLING}


def app_run(client: HostClient, prompt: str, seed: int) -> dict[str, Any]:
    """One timed ``generate`` through the host, after a one-token request that replaces the KV cache."""
    client.call("generate", prompt="x", params=app_params(seed, 1), stop=[], timeout=TIMEOUT_S)
    t_first = t_end = None
    finished: dict[str, Any] = {}
    t_send = time.perf_counter()
    for event in client.stream("generate", prompt=prompt, params=app_params(seed), stop=[], timeout=TIMEOUT_S):
        now = time.perf_counter()
        kind = event["event"]
        if kind == "token" and t_first is None:
            t_first = now
        elif kind == "error":
            raise_for_error(event)
        elif kind == "finished":
            t_end = now
            finished = event
    n = int(finished.get("generated_tokens", 0))
    if t_first is None or t_end is None or n < 2:
        return {"generated": n, "tokens_per_s": None, "ttft_ms": None, "finished": finished}
    return {
        "generated": n,
        "tokens_per_s": (n - 1) / (t_end - t_first),
        "ttft_ms": (t_first - t_send) * 1000,
        "host_tokens_per_s": finished.get("tokens_per_s"),
        "host_ttft_ms": 1000 * float(finished.get("time_to_first_token_s") or 0.0),
        "prompt_tokens_evaluated": finished.get("prompt_tokens_evaluated"),
        "reason": finished.get("reason"),
    }


def start_host(model: Path, threads: int) -> HostClient:
    client = HostClient(log_file=cache_dir("logs") / "host.log")
    client.start()
    if not client.wait_ready(120):
        client.stop()
        raise RuntimeError("the host did not start within 120 s")
    client.call("load", path=str(model), n_ctx=N_CTX, n_threads=threads, n_gpu_layers=0, timeout=TIMEOUT_S)
    return client


def choose_seed(client: HostClient, prompt: str, first: int) -> int:
    """A seed whose answer is the full N_PREDICT tokens (the search doubles as the app's warm-up)."""
    chosen, best = first, -1
    for candidate in range(first, first + SEED_TRIES):
        generated = app_run(client, prompt, candidate)["generated"]
        log(f"  app seed {candidate}: {generated} tokens")
        if generated > best:
            chosen, best = candidate, generated
        if generated >= N_PREDICT:
            break
    return chosen


# -- llama-cpp-python's create_completion -----------------------------------------------------------


def cc_run(llm: Any, prompt_tokens: list[int], clear_tokens: list[int], seed: int) -> dict[str, Any]:
    settings = {
        "temperature": SAMPLING["temperature"],
        "top_k": SAMPLING["top_k"],
        "top_p": SAMPLING["top_p"],
        "repeat_penalty": SAMPLING["repeat_penalty"],
        "min_p": 0.0,
        "typical_p": 1.0,
        "seed": seed,
    }
    for _ in llm.create_completion(clear_tokens, max_tokens=1, stream=True, **settings):
        pass
    t_first = None
    finish = None
    t_send = time.perf_counter()
    for chunk in llm.create_completion(prompt_tokens, max_tokens=N_PREDICT, stream=True, **settings):
        if t_first is None:
            t_first = time.perf_counter()
        finish = chunk["choices"][0]["finish_reason"] or finish
    t_end = time.perf_counter()
    # "length": exactly N_PREDICT. "stop" (EOS): every generated token was evaluated.
    n = N_PREDICT if finish == "length" else llm.n_tokens - len(prompt_tokens)
    if t_first is None or n < 2:
        return {"generated": n, "tokens_per_s": None, "ttft_ms": None}
    return {
        "generated": n,
        "tokens_per_s": (n - 1) / (t_end - t_first),
        "ttft_ms": (t_first - t_send) * 1000,
        "reason": finish,
    }


def open_llama(model: Path, threads: int) -> Any:
    import llama_cpp

    return llama_cpp.Llama(
        model_path=str(model),
        n_ctx=N_CTX,
        n_batch=N_BATCH,
        n_threads=threads,
        n_threads_batch=threads,
        n_gpu_layers=0,
        flash_attn=False,  # as the app's host does on a CPU (faster decode as the context grows)
        verbose=False,
    )


# -- llama.cpp's llama-bench ------------------------------------------------------------------------


def _run_logged(cmd: list[str], log_path: Path, cwd: Path | None = None) -> None:
    with log_path.open("a", encoding="utf-8") as handle:
        handle.write(f"$ {' '.join(cmd)}\n")
        handle.flush()
        subprocess.run(cmd, cwd=cwd, stdout=handle, stderr=subprocess.STDOUT, check=True)


def ensure_llama_bench(version: str, jobs: int) -> tuple[Path | None, str]:
    """Path of llama-bench built from llama-cpp-python ``version``'s sdist (built on first use), and a note."""
    root = cache_dir(f"llama-bench-{version}")
    binary = root / "build" / "bin" / "llama-bench"
    if binary.is_file():
        return binary, "cached build"
    compiler = shutil.which("c++") or shutil.which("g++") or shutil.which("clang++")
    if shutil.which("cmake") is None or compiler is None:
        return None, "skipped: llama-bench needs cmake and a C++ compiler, and this machine lacks one"
    build_log = root / "build.log"
    try:
        sdist = cache_dir("sdist") / f"llama_cpp_python-{version}.tar.gz"
        if not sdist.is_file():
            log(f"downloading the llama-cpp-python {version} source distribution")
            _run_logged(
                [
                    sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
                    f"llama-cpp-python=={version}", "-d", str(sdist.parent),
                ],
                build_log,
            )  # fmt: skip
        source = root / "src"
        llama_dir = source / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
        if not (llama_dir / "CMakeLists.txt").is_file():
            log("unpacking vendor/llama.cpp")
            prefix = f"llama_cpp_python-{version}/vendor/llama.cpp/"
            with tarfile.open(sdist) as archive:
                members = [m for m in archive.getmembers() if m.name.startswith(prefix)]
                archive.extractall(source, members=members, filter="data")
        build = root / "build"
        log(f"building llama-bench with -j{jobs} (a few minutes, once; log: {build_log})")
        _run_logged(
            [
                "cmake", "-S", str(llama_dir), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                "-DGGML_NATIVE=ON", "-DLLAMA_CURL=OFF", "-DLLAMA_OPENSSL=OFF", "-DBUILD_SHARED_LIBS=OFF",
                "-DLLAMA_BUILD_TOOLS=ON", "-DLLAMA_BUILD_COMMON=ON", "-DLLAMA_BUILD_TESTS=OFF",
                "-DLLAMA_BUILD_EXAMPLES=OFF", "-DLLAMA_BUILD_SERVER=OFF", "-DLLAMA_BUILD_APP=OFF",
            ],
            build_log,
        )  # fmt: skip
        _run_logged(["cmake", "--build", str(build), "--target", "llama-bench", "-j", str(jobs)], build_log)
    except (subprocess.CalledProcessError, OSError, tarfile.TarError) as exc:
        return None, f"skipped: building llama-bench failed ({exc}); see {build_log}"
    if not binary.is_file():
        return None, f"skipped: the build did not produce {binary}; see {build_log}"
    return binary, "built now"


def llama_bench_run(binary: Path, model: Path, threads: int) -> dict[str, Any]:
    """One llama-bench invocation (its own warm-up, then one repetition of pp64 and tg128)."""
    cmd = [
        str(binary), "-m", str(model), "-p", str(N_PROMPT), "-n", str(N_PREDICT), "-t", str(threads),
        "-fa", "0", "-r", "1", "-o", "json",
    ]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        return {"error": f"llama-bench exit code {done.returncode}: {done.stderr.strip()[-500:]}"}
    out: dict[str, Any] = {}
    for row in json.loads(done.stdout):
        if row.get("n_prompt") == N_PROMPT and row.get("n_gen") == 0:
            out["pp64"] = row.get("avg_ts")
        elif row.get("n_prompt") == 0 and row.get("n_gen") == N_PREDICT:
            out["tg128"] = row.get("avg_ts")
        out.setdefault("model_n_params", row.get("model_n_params"))
        out.setdefault("build_commit", row.get("build_commit"))
    return out


# -- driver ----------------------------------------------------------------------------------------


def ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 3) if a is not None and b else None


def bench_model(
    name: str, model: Path, prompt_text: str, per_char: bool, args: argparse.Namespace, llama_bench: Path | None
) -> dict[str, Any]:
    """All three measurements, interleaved round by round so that a slow spell of a shared machine
    hits them alike; medians over the rounds, and the median of the per-round ratios."""
    log(f"{name}: {model.name}")
    prompt, prompt_tokens = make_prompt(model, prompt_text, per_char=per_char, n_tokens=N_PROMPT)
    client = start_host(model, args.threads)
    llm = open_llama(model, args.threads)
    rounds: list[dict[str, Any]] = []
    try:
        seed = choose_seed(client, prompt, args.seed)
        clear_tokens = list(llm.tokenize(b"x", add_bos=True, special=False))
        cc_run(llm, prompt_tokens, clear_tokens, seed)  # warm-up
        for i in range(args.runs):
            app = app_run(client, prompt, seed)
            cc = cc_run(llm, prompt_tokens, clear_tokens, seed)
            lb = llama_bench_run(llama_bench, model, args.threads) if llama_bench else {}
            rounds.append({"app": app, "cc": cc, "lb": lb})
            log(
                f"  round {i + 1}/{args.runs}: app {app['generated']} tok {app['tokens_per_s'] or 0:.1f} tok/s "
                f"ttft {app['ttft_ms'] or 0:.1f} ms | create_completion {cc['generated']} tok "
                f"{cc['tokens_per_s'] or 0:.1f} tok/s ttft {cc['ttft_ms'] or 0:.1f} ms | "
                f"llama-bench tg128 {lb.get('tg128') or 0:.1f} pp64 {lb.get('pp64') or 0:.1f}"
            )
    finally:
        client.stop()
        llm.close()

    def figures(path: str, key: str) -> list[float]:
        return [r[path][key] for r in rounds if r[path].get(key) is not None]

    app_tps, cc_tps, tg = (
        median(figures(p, k)) for p, k in (("app", "tokens_per_s"), ("cc", "tokens_per_s"), ("lb", "tg128"))
    )
    paired_lb = [
        r["app"]["tokens_per_s"] / r["lb"]["tg128"] for r in rounds if r["lb"].get("tg128") and r["app"]["tokens_per_s"]
    ]
    paired_cc = [
        r["app"]["tokens_per_s"] / r["cc"]["tokens_per_s"]
        for r in rounds
        if r["cc"]["tokens_per_s"] and r["app"]["tokens_per_s"]
    ]
    errors = [r["lb"]["error"] for r in rounds if r["lb"].get("error")]
    n_params = next((r["lb"]["model_n_params"] for r in rounds if r["lb"].get("model_n_params")), None)
    return {
        "model": model.name,
        "model_size_bytes": model.stat().st_size,
        "model_n_params": n_params,
        "threads": args.threads,
        "prompt_tokens": len(prompt_tokens),
        "prompt_tokens_evaluated": rounds[-1]["app"].get("prompt_tokens_evaluated"),
        "max_tokens": N_PREDICT,
        "seed": seed,
        "app_tokens_per_s": rounded(app_tps),
        "app_ttft_ms": rounded(median(figures("app", "ttft_ms"))),
        "app_generated_tokens": [r["app"]["generated"] for r in rounds],
        "host_reported_tokens_per_s": rounded(median(figures("app", "host_tokens_per_s"))),
        "host_reported_ttft_ms": rounded(median(figures("app", "host_ttft_ms"))),
        "create_completion_tokens_per_s": rounded(cc_tps),
        "create_completion_ttft_ms": rounded(median(figures("cc", "ttft_ms"))),
        "create_completion_generated_tokens": [r["cc"]["generated"] for r in rounds],
        "llama_bench_tg128": rounded(tg),
        "llama_bench_pp64": rounded(median(figures("lb", "pp64"))),
        "llama_bench_error": errors[0] if errors else None,
        "ratio_app_vs_llama_bench": ratio(app_tps, tg),
        "ratio_app_vs_create_completion": ratio(app_tps, cc_tps),
        "paired_ratio_app_vs_llama_bench": rounded(median(paired_lb), 3),
        "paired_ratio_app_vs_create_completion": rounded(median(paired_cc), 3),
        "samples_tokens_per_s": {
            "app": [rounded(x, 1) for x in figures("app", "tokens_per_s")],
            "create_completion": [rounded(x, 1) for x in figures("cc", "tokens_per_s")],
            "llama_bench_tg128": [rounded(x, 1) for x in figures("lb", "tg128")],
        },
        "meets_target": (
            None if tg is None or app_tps is None or cc_tps is None else bool(app_tps >= 0.9 * tg and app_tps >= cc_tps)
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=None, help="threads (default: the host's default_threads())")
    parser.add_argument("--runs", type=int, default=5, help="interleaved rounds (medians reported)")
    parser.add_argument("--seed", type=int, default=1, help="first seed tried for the sampler")
    parser.add_argument("--models", default="bench,stories", help="comma list of: bench, stories")
    parser.add_argument("--no-llama-bench", action="store_true", help="skip llama.cpp's llama-bench")
    parser.add_argument("--build-jobs", type=int, default=2, help="parallel jobs for the llama-bench build")
    args = parser.parse_args(argv)
    args.threads = args.threads or default_threads()

    import llama_cpp

    version = llama_cpp.__version__
    llama_bench, lb_note = (None, "skipped: --no-llama-bench")
    if not args.no_llama_bench:
        llama_bench, lb_note = ensure_llama_bench(version, args.build_jobs)
        log(f"llama-bench: {lb_note}")

    report: dict[str, Any] = {
        "benchmark": "chat_throughput",
        "machine": machine_info(),
        "llama_cpp_python": version,
        "llama_cpp_system_info": llama_cpp.llama_print_system_info().decode().strip(),
        "threads": args.threads,
        "runs": args.runs,
        "sampling": {**SAMPLING, "n_prompt": N_PROMPT, "n_predict": N_PREDICT, "n_ctx": N_CTX},
        "llama_bench": shown_path(llama_bench) if llama_bench else None,
        "llama_bench_note": lb_note,
        "targets": "app >= 0.90 x llama-bench tg128 and app >= create_completion",
        "models": {},
    }
    wanted = [m.strip() for m in args.models.split(",") if m.strip()]
    if "bench" in wanted:
        from runtime.models.tiny import build_bench_model

        log("bench model: building or reusing the cached 160M Q8_0 model")
        model = build_bench_model(
            cache_dir("models"),
            LLAMA_TOKENIZER,
            CHINESE_SP_MODEL,
        )
        report["models"]["bench_160m_q8_0"] = bench_model("bench", model, zh_text(), True, args, llama_bench)
    if "stories" in wanted:
        model = STORIES_GGUF
        report["models"]["stories260K"] = bench_model("stories", model, EN_PROMPT, False, args, llama_bench)
    if hasattr(os, "getloadavg"):
        report["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
