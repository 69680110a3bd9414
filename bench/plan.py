"""The planner against measurement: predicted and measured memory and decode speed, per model and setting.

For each model (tiny ones built here: widths 64, 256 and 512 with the 49,953- and 55,296-piece
vocabularies; and the ~160M-parameter Q8_0 bench model, unless ``--quick``) and each setting
(contexts 1,024 and 8,192, KV caches f16 and q8_0), a fresh inference host loads the model with
one decode thread (the machine's other work disturbs one thread least), writes a 64-token answer
to a short prompt, and reports its tokens/s; its peak memory is its own VmHWM from /proc. The
plan is made with this machine's probed figures (``runtime.models.machine``) for the same
context, KV type, one thread, the prompt's batch and the answer's middle depth.

``--model FILE`` (repeatable) adds a model built outside the project, for example SmolLM2-135M
(``make smollm2``; ``.cache/models/``), as the issue's "done when" asks.

Prints ONE JSON line on stdout: a row per model and setting (``memory_ratio`` and ``speed_ratio``
are predicted / measured) and the range of each ratio; progress, and each row as it comes, go to
stderr. Linux only (/proc).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from _common import CHINESE_SP_MODEL, LLAMA_TOKENIZER, REPO_ROOT, cache_dir, log

from runtime.chat.client import HostClient
from runtime.decoding import DecodingParams
from runtime.models.machine import this_machine
from runtime.models.plan import plan, read_shape
from runtime.models.tiny import build_bench_model, write_llama_gguf
from runtime.tokens import merge_sentencepiece

SHAPES = {
    "w64": {"hidden": 64, "layers": 2, "heads": 2, "ffn": 128},
    "w256": {"hidden": 256, "layers": 4, "heads": 8, "kv_heads": 4, "ffn": 704},
    "w512": {"hidden": 512, "layers": 8, "heads": 8, "ffn": 1408},
}
ANSWER_TOKENS = 64


def _peak_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _models(folder: Path, quick: bool, only: str) -> list[Path]:
    merged = merge_sentencepiece(LLAMA_TOKENIZER, CHINESE_SP_MODEL).model_proto_bytes
    llama2 = (REPO_ROOT / "assets" / "tokenizers" / "chinese-llama-2" / "tokenizer.model").read_bytes()
    models = []
    for vocab_name, vocab in (("v49953", merged), ("v55296", llama2)):
        for shape_name, shape in SHAPES.items():
            if only not in f"{shape_name}-{vocab_name}.gguf":
                continue
            log(f"building {shape_name}-{vocab_name}")
            models.append(write_llama_gguf(folder / f"{shape_name}-{vocab_name}.gguf", tokenizer=vocab, **shape))
    if not quick and only in "bench-llama":
        log("the bench model (160M, Q8_0)")
        models.append(build_bench_model(cache_dir("models"), LLAMA_TOKENIZER, CHINESE_SP_MODEL))
    return models


def measure(path: Path, n_ctx: int, kv: str) -> dict[str, object]:
    client = HostClient()
    try:
        client.call("load", path=str(path), n_ctx=n_ctx, n_threads=1, kv=kv, timeout=600)
        params = DecodingParams(n_ctx=n_ctx, max_tokens=ANSWER_TOKENS, seed=1)
        finished: dict[str, object] = {}
        prompt_tokens = 0
        for event in client.stream("generate", prompt="Once upon a time", params=params.to_dict(), timeout=600):
            if event["event"] == "prompt":
                prompt_tokens = int(event["n_tokens"])
            elif event["event"] in ("finished", "error"):
                finished = dict(event)
        assert client.pid is not None
        peak = _peak_bytes(client.pid)
    finally:
        client.stop()
    return {"peak": peak, "prompt_tokens": prompt_tokens, **finished}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny models only (no 160M bench model)")
    parser.add_argument("--only", default="", help="only the models whose file name contains this")
    parser.add_argument("--model", action="append", default=[], type=Path, help="also this GGUF (repeatable)")
    parser.add_argument("--no-built", action="store_true", help="only the --model files")
    args = parser.parse_args()
    machine = this_machine()
    assert machine is not None
    log(f"machine: {machine}")
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        built = [] if args.no_built else _models(Path(tmp), args.quick, args.only)
        for path in [*built, *args.model]:
            shape = read_shape(path)
            for n_ctx in (1024, 8192):
                for kv in ("f16", "q8_0"):
                    log(f"{path.name} ctx {n_ctx} kv {kv}")
                    got = measure(path, n_ctx, kv)
                    if got.get("event") != "finished":
                        rows.append({"model": path.name, "n_ctx": n_ctx, "kv": kv, "error": got})
                        continue
                    generated = int(got["generated_tokens"])  # type: ignore[call-overload]
                    predicted = plan(
                        shape,
                        machine,
                        n_ctx=n_ctx,
                        kv_type=kv,
                        threads=1,
                        batch=int(got["prompt_tokens"]),  # type: ignore[call-overload]
                        depth=int(got["prompt_tokens"]) + generated // 2,  # type: ignore[call-overload]
                    )
                    measured_speed = float(got["tokens_per_s"])  # type: ignore[arg-type]
                    peak = int(got["peak"])  # type: ignore[call-overload]
                    line = {
                        "bench": "plan",
                        "model": path.name,
                        "n_ctx": n_ctx,
                        "kv": kv,
                        "threads": 1,
                        "predicted_memory_bytes": predicted.memory_bytes,
                        "measured_peak_bytes": peak,
                        "memory_ratio": round(predicted.memory_bytes / peak, 3) if peak else None,
                        "predicted_tokens_per_second": predicted.tokens_per_second,
                        "measured_tokens_per_second": measured_speed,
                        "speed_ratio": round(predicted.tokens_per_second / measured_speed, 3)
                        if measured_speed
                        else None,
                        "generated_tokens": generated,
                        "bandwidth_bytes_per_s": round(machine.bandwidth),
                        "core_rate": round(machine.core_rate),
                    }
                    rows.append(line)
                    log(json.dumps(line))
    ratios = {key: [r[key] for r in rows if r.get(key)] for key in ("memory_ratio", "speed_ratio")}
    summary = {
        "bench": "plan",
        "machine": {"cpu": machine.cpu, "cores": machine.cores, "bandwidth": round(machine.bandwidth)},
        **{f"{key}_range": [min(v), max(v)] if v else None for key, v in ratios.items()},
        "errors": sum("error" in r for r in rows),
        "rows": rows,
    }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
