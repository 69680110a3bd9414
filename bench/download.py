"""The download path's throughput and CPU cost against ``huggingface_hub.hf_hub_download``.

A 512 MB file (generated in a temporary folder) is served by the hub-compatible test server
(``tests/fakehub.py``) in its own process on 127.0.0.1. Each download runs in a fresh child process
(so its CPU time is its own, not the server's): ours (:func:`runtime.hub.download_files`: Range
resume, SHA-256 verification, manifest) and ``hf_hub_download`` into a Hugging Face cache, alternately,
``--rounds`` times each; the best of each is reported. Prints one JSON line::

    {"bench": "download", "size_mb": 512, "ours_mb_s": ..., "hf_mb_s": ..., "ratio": ...,
     "ours_cpu_s_per_gb": ..., "hf_cpu_s_per_gb": ..., ...}

The issue's target: ``ratio`` (ours / hf) >= 0.9.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO_ROOT, log

REPO = "hfl/chinese-alpaca-2-bench-gguf"
NAME = "ggml-model-q4_k.gguf"
MB = 1024 * 1024


def make_file(path: Path, size_mb: int) -> None:
    """``size_mb`` MiB of incompressible bytes (a 4 MiB random block, each copy stamped)."""
    block = bytearray(random.Random(7).randbytes(4 * MB))
    with path.open("wb") as handle:
        for index in range(size_mb // 4):
            block[:8] = index.to_bytes(8, "little")
            handle.write(block)


def one(kind: str, url: str, out: Path) -> dict[str, float]:
    """Run one download in this process (the child) and measure it."""
    start_cpu, start = time.process_time(), time.perf_counter()
    if kind == "ours":
        from runtime.hub import HubConfig, download_files

        [path] = download_files(HubConfig(endpoint=url), REPO, [NAME], out)
    else:
        from huggingface_hub import hf_hub_download

        path = Path(hf_hub_download(REPO, NAME, endpoint=url, cache_dir=out, token=False))
    wall, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    return {"wall_s": wall, "cpu_s": cpu, "bytes": path.stat().st_size}


def child(kind: str, url: str, out: Path) -> dict[str, float]:
    env = dict(os.environ)
    env.pop("HF_HUB_OFFLINE", None)
    env["HF_HUB_DISABLE_TELEMETRY"] = "1"
    env["HF_HUB_DISABLE_XET"] = "1"
    env["PYTHONPATH"] = str(REPO_ROOT)
    command = [sys.executable, __file__, "--one", kind, "--url", url, "--out", str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    """Command line."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=512)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--one", choices=["ours", "hf"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.url, Path(args.out))))  # noqa: T201 - the child's report
        return 0
    with tempfile.TemporaryDirectory(prefix="alpaca-bench-download-") as tmp:
        source = Path(tmp) / "source.gguf"
        log(f"writing a {args.size_mb} MiB file")
        make_file(source, args.size_mb)
        env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
        server = subprocess.Popen(
            [sys.executable, "-m", "tests.fakehub", REPO, f"{NAME}={source}"],
            cwd=REPO_ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            assert server.stdout is not None
            url = server.stdout.readline().strip()
            log(f"serving at {url}")
            results: dict[str, list[dict[str, float]]] = {"ours": [], "hf": []}
            for round_index in range(args.rounds):
                for kind in ("ours", "hf") if round_index % 2 == 0 else ("hf", "ours"):
                    out = Path(tmp) / f"{kind}-{round_index}"
                    result = child(kind, url, out)
                    if result["bytes"] != source.stat().st_size:
                        raise SystemExit(f"{kind} wrote {result['bytes']} bytes")
                    log(f"{kind}: {result['bytes'] / MB / result['wall_s']:.0f} MiB/s, cpu {result['cpu_s']:.2f} s")
                    results[kind].append(result)
                    shutil.rmtree(out, ignore_errors=True)
        finally:
            if server.stdin is not None:
                server.stdin.close()
            server.wait(30)
    size = args.size_mb * MB
    best = {kind: min(runs, key=lambda r: r["wall_s"]) for kind, runs in results.items()}
    speed = {kind: size / MB / best[kind]["wall_s"] for kind in best}
    cpu_per_gb = {kind: min(r["cpu_s"] for r in results[kind]) / (size / 1e9) for kind in results}
    report = {
        "bench": "download",
        "size_mb": args.size_mb,
        "rounds": args.rounds,
        "ours_mb_s": round(speed["ours"], 1),
        "hf_mb_s": round(speed["hf"], 1),
        "ratio": round(speed["ours"] / speed["hf"], 3),
        # Rounds alternate which goes first; the median of the per-round ratios is less noisy on a
        # small machine, where the server (Python, one core) and the download share the CPUs.
        "ratio_median_of_rounds": round(
            statistics.median(h["wall_s"] / o["wall_s"] for o, h in zip(results["ours"], results["hf"], strict=True)), 3
        ),
        "ours_cpu_s_per_gb": round(cpu_per_gb["ours"], 2),
        "hf_cpu_s_per_gb": round(cpu_per_gb["hf"], 2),
        "ours_verifies_sha256": True,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(report))  # noqa: T201 - the benchmark's one line
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
