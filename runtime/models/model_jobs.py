"""What the model jobs of :mod:`runtime.jobs` run: inspect, convert, quantize and report.

Each runs in a job process started in Python's isolated mode (``JobDefinition.isolated``): a
checkpoint folder is someone else's files, and nothing in it, nor in the working directory, may be
importable by the process that reads it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runtime.jobs import JobContext, Progress


def inspect_job(context: JobContext, *, folder: str) -> dict[str, Any]:
    """``convert-inspect``: :func:`runtime.models.convert.inspect_checkpoint`, with size estimates per output."""
    from runtime.models.convert import (
        OUT_TYPES,
        estimate_gguf_bytes,
        estimate_header_bytes,
        gguf_tensor_shapes,
        inspect_checkpoint,
    )
    from runtime.models.quantize import QUANT_TYPES, estimate_quantized_bytes

    context.progress(Progress(0, 1, "inspecting"))
    checkpoint = inspect_checkpoint(folder)
    summary = checkpoint.summary()
    estimates: dict[str, int] = {}
    if checkpoint.ok:
        for outtype in OUT_TYPES:
            estimates[outtype] = estimate_gguf_bytes(checkpoint, outtype)
        shapes = gguf_tensor_shapes(checkpoint)
        header = estimate_header_bytes(checkpoint)
        for name in QUANT_TYPES:
            estimates[name] = estimate_quantized_bytes(
                shapes,
                name,
                n_layers=checkpoint.n_layers,
                header_bytes=header,
                n_gqa=max(1, checkpoint.n_heads // max(1, checkpoint.n_kv_heads)),
            )
    context.progress(Progress(1, 1, "done"))
    return {"checkpoint": summary, "estimates": estimates}


def convert_job(
    context: JobContext, *, src: str, out: str, outtype: str, name: str | None, template: str
) -> dict[str, Any]:
    """``convert``."""
    from runtime.models.convert import convert_checkpoint

    return convert_checkpoint(
        src,
        out,
        outtype=outtype,
        name=name,
        template=template,
        on_progress=context.progress,
        on_scratch=context.scratch,
        cancel=context.cancelled,
    )


def _name_native_aborts(context: JobContext, job: str, file: str) -> None:
    """Tell the parent which assertion failed should llama.cpp abort this job on ``file``.

    The process aborts right after the callback, so the error event is the job's last word; the
    parent shows it instead of "ended unexpectedly (signal SIGABRT)" and ggml's backtrace.
    """
    from runtime.models import native_log

    name = Path(file).name

    def report(assertion: str) -> None:
        context.emit(
            "error",
            message=(
                f"llama.cpp stopped on {name} with a failed check ({assertion}) and ended the {job} job. "
                "The file is damaged or unusual: download it again, or choose another model."
            ),
            code="model_native_abort",
            params={"name": name, "job": job, "assertion": assertion},
        )

    native_log.install().on_abort_call(report)


def quantize_job(context: JobContext, *, src: str, out: str, type: str, threads: int | None) -> dict[str, Any]:  # noqa: A002 - the option's name
    """``quantize``."""
    from runtime.models.quantize import quantize_gguf

    _name_native_aborts(context, "quantize", src)
    return quantize_gguf(
        src, out, qtype=type, threads=threads or 0, on_progress=context.progress, on_scratch=context.scratch
    )


def report_job(
    context: JobContext,
    *,
    files: str,
    text: str | None,
    ctx: int,
    threads: int | None,
    max_chunks: int,
    speed_tokens: int,
) -> dict[str, Any]:
    """``report``: ``files`` is a list of paths joined by newlines (paths may hold commas)."""
    from runtime.models.report import make_report

    paths = [line for line in files.split("\n") if line]
    named = paths[0] if len(paths) == 1 else "one of " + ", ".join(Path(path).name for path in paths)
    _name_native_aborts(context, "report", named)
    return make_report(
        paths,
        text_path=text,
        n_ctx=ctx,
        threads=threads or 0,
        max_chunks=max_chunks,
        speed_tokens=speed_tokens,
        on_progress=context.progress,
        cancel=context.cancelled,
    )
