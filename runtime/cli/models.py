"""``alpaca-desk convert|quantize|report``: merged weights to GGUF, quantization, and the quantization report.

Each runs its job process (:mod:`runtime.models.model_jobs`) with progress on stderr; ``--json``
prints the job's result as one JSON object on stdout; Ctrl-C cancels and leaves nothing behind.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path
from typing import Any

from runtime.cli.foreground import print_result, run_job
from runtime.errors import AppError

# runtime.models.quantize imports llama_cpp: the names are repeated here so that `--help` is quick.
_QUANT_TYPES = ("q8_0", "q6_k", "q5_k_m", "q5_0", "q4_k_m", "q4_0", "q3_k_m", "q2_k")


def add_parsers(sub: Any) -> None:
    """Add ``convert``, ``quantize`` and ``report`` to the ``alpaca-desk`` subcommands."""
    convert = sub.add_parser("convert", help="convert merged LLaMA weights (HF folder or .pth) to GGUF")
    convert.add_argument("src", help="a Hugging Face LLaMA folder or Meta's consolidated.*.pth folder")
    convert.add_argument("--out", required=True, help="the .gguf file to write")
    convert.add_argument("--outtype", choices=["f16", "bf16", "f32"], default="f16")
    convert.add_argument("--name", help="the model's name in the file (default: the folder's name)")
    convert.add_argument("--template", choices=["auto", "raw", "chinese-alpaca", "chinese-alpaca-2"], default="auto")
    convert.add_argument("--json", action="store_true", help="print the result as one JSON object")
    convert.set_defaults(run=run_convert)

    quantize = sub.add_parser("quantize", help="quantize a GGUF file with llama.cpp's quantizer")
    quantize.add_argument("src", help="an F16/BF16/F32 .gguf file")
    quantize.add_argument(
        "--type", dest="types", action="append", required=True, choices=_QUANT_TYPES, help="repeat for several"
    )
    quantize.add_argument("--out", required=True, help="the folder for the quantized files")
    quantize.add_argument("--threads", type=int, default=None, help="threads (default: all cores)")
    quantize.add_argument("--json", action="store_true", help="print the results as one JSON object")
    quantize.set_defaults(run=run_quantize)

    report = sub.add_parser("report", help="size, bits per weight, perplexity and speed of GGUF files")
    report.add_argument("files", nargs="+", help="GGUF files of one model")
    report.add_argument("--text", help="a UTF-8 text (default: the bundled Chinese sample)")
    report.add_argument("--ctx", type=int, default=512, help="perplexity window in tokens (default: 512)")
    report.add_argument("--threads", type=int, default=None)
    report.add_argument("--max-chunks", type=int, default=0, help="evaluate at most this many windows")
    report.add_argument("--speed-tokens", type=int, default=64, help="tokens generated to measure speed")
    report.add_argument("--csv", help="also write the table to this CSV file")
    report.add_argument("--json", action="store_true", help="print the report as one JSON object")
    report.set_defaults(run=run_report)


def _absolute(path: str) -> str:
    # Absolute, not resolved: resolving a symbolic-link loop raises, and the job's own checks
    # name a loop (or a named pipe) with what to do.
    return os.path.abspath(Path(path).expanduser())


def run_convert(args: argparse.Namespace) -> int:
    """``alpaca-desk convert``."""
    result = run_job(
        "convert",
        src=_absolute(args.src),
        out=_absolute(args.out),
        outtype=args.outtype,
        name=args.name,
        template=args.template,
    )
    return print_result(
        result,
        as_json=args.json,
        summary=lambda r: (
            f"Wrote {r['path']} ({r['bytes'] / 2**20:,.1f} MiB, {r['n_tensors']} tensors, "
            f"template {r['template']}) in {r['seconds']:.1f} s."
        ),
    )


def quantized_name(src: str | Path, qtype: str) -> str:
    """``model-f16.gguf`` -> ``model-q4_k_m.gguf``: the output file's name for a type."""
    stem = re.sub(r"[-_.](f16|f32|bf16)$", "", Path(src).stem, flags=re.IGNORECASE)
    return f"{stem}-{qtype}.gguf"


def run_quantize(args: argparse.Namespace) -> int:
    """``alpaca-desk quantize``: one job per type, in order."""
    out_dir = Path(_absolute(args.out))
    try:
        if out_dir.exists() and not out_dir.is_dir():
            raise AppError(f"{out_dir} is not a folder.", code="quantize_bad_folder", params={"path": str(out_dir)})
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # a symbolic-link loop, no permission, a read-only disk
        raise AppError(
            f"Cannot use the folder {out_dir}: {exc.strerror or exc}. Choose another output folder.",
            code="quantize_bad_folder_access",
            params={"path": str(out_dir), "reason": str(exc.strerror or exc)},
        ) from exc
    results: list[dict[str, Any]] = []
    written: list[str] = []
    try:
        for qtype in dict.fromkeys(args.types):
            result = run_job(
                "quantize",
                written=written,
                src=_absolute(args.src),
                out=str(out_dir / quantized_name(args.src, qtype)),
                type=qtype,
                threads=args.threads,
            )
            if result is None:
                return 130
            results.append(result)
            written.append(str(result["path"]))
            if not args.json:
                sys.stdout.write(
                    f"Wrote {result['path']} ({result['bytes'] / 2**20:,.1f} MiB, {result['bits_per_weight']:.2f} "
                    f"bits per weight) in {result['seconds']:.1f} s.\n"
                )
    except AppError:
        # A later type failed: the error says nothing of the files already finished, which stay.
        if written:
            sys.stderr.write("".join(f"kept: {path} (written before the error)\n" for path in written))
        raise
    except KeyboardInterrupt:
        # Ctrl-C between two jobs: none runs, and the finished files stay.
        kept = "".join(f"\n  {path}" for path in written)
        sys.stderr.write(
            f"cancelled; kept, finished before:{kept}\n" if written else "cancelled; nothing was written\n"
        )
        return 130
    if args.json:
        sys.stdout.write(json.dumps({"files": results}, ensure_ascii=False) + "\n")
    return 0


def run_report(args: argparse.Namespace) -> int:
    """``alpaca-desk report``."""
    from runtime.models.report import report_csv

    result = run_job(
        "report",
        files="\n".join(_absolute(f) for f in args.files),
        text=_absolute(args.text) if args.text else None,
        ctx=args.ctx,
        threads=args.threads,
        max_chunks=args.max_chunks,
        speed_tokens=args.speed_tokens,
    )
    if result is None:
        return 130
    rows = result.get("rows", [])
    if args.csv:
        from runtime.paths import write_atomic

        write_atomic(Path(args.csv).expanduser(), report_csv(rows).encode("utf-8"))
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    width = max(len("file"), *(len(Path(r["file"]).name) for r in rows))
    lines = [f"{'file':<{width}}  {'type':<8}  {'MiB':>9}  {'bpw':>6}  {'PPL':>10}  {'tok/s':>8}"]
    for r in rows:
        lines.append(
            f"{Path(r['file']).name:<{width}}  {r['quantization']:<8}  {r['bytes'] / 2**20:>9,.1f}  "
            f"{r['bits_per_weight']:>6.2f}  {r['perplexity']:>10.4f}  {r['tokens_per_second']:>8.1f}"
        )
    lines.append(f"Perplexity over windows of {result['n_ctx']} tokens of {result['text']}.")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
