"""``alpaca-desk train`` and ``alpaca-desk merge-lora``: LoRA training runs on this computer, and the merge.

``train preview --spec JOB.json`` shows what a spec trains with (every default filled in, the
tokenizer's size, the first sequences and their labels). ``train pretrain|sft --spec JOB.json``
registers a run, starts the script as a child process and prints its progress until it ends (Ctrl-C
stops it with a checkpoint). Its outputs go to the run's folder under the data folder, or to ``--out
DIR``; a spec's own ``output_dir`` is used only when it lies under the data folder (a spec file may
come from anywhere). With ``--host NAME`` the run goes to a saved SSH host instead
(:mod:`runtime.training.remote.target`), detached: Ctrl-C only stops following it. ``train status
[JOB_ID]`` lists the runs or shows one (a remote one as its host reports it); ``train attach
JOB_ID`` follows a remote run again from the last line this computer has; ``train stop JOB_ID``
stops a run from another terminal (a remote one through its host's agent: the ``remote`` commands of
:mod:`runtime.cli.remote` do the talking).
``merge-lora BASE ADAPTER [ADAPTER ...] --out DIR`` runs the ``lora-merge`` job; an ADAPTER is a
folder or a repository id downloaded into the models folder (``alpaca-desk download
hfl/chinese-alpaca-plus-lora-7b``), and the catalogue's published adapters must come in their
recipe's order (:mod:`runtime.training.published`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from runtime.errors import AppError, RemoteError
from runtime.jobs import JobProcess, build_command, job_command
from runtime.training import registry
from runtime.training.evaluation import parse_evaluation
from runtime.training.launcher import JobSpec, LocalTarget, RunState, SpecError, check_output_dir, parse_progress


def add_parsers(sub: Any) -> None:
    """Add ``train`` and ``merge-lora``."""
    train = sub.add_parser("train", help="LoRA pre-training and instruction fine-tuning (paper sections 4.3-4.5)")
    train_sub = train.add_subparsers(dest="train_command", required=True)
    for kind, text in (
        ("pretrain", "continued pre-training on plain text"),
        ("sft", "instruction fine-tuning on Alpaca-format data"),
    ):
        run = train_sub.add_parser(kind, help=f"run {text} on this computer and follow it")
        run.add_argument("--spec", required=True, help="the job specification (JSON)")
        run.add_argument(
            "--out",
            metavar="DIR",
            help="the run's output folder (default: its folder under the data folder; a spec's output_dir "
            "outside the data folder is used only when named here)",
        )
        run.add_argument("--python", help="the Python with the train extra (default: this one)")
        run.add_argument("--host", help="a saved SSH host to run it on (alpaca-desk hosts list), detached")
        run.add_argument("--json", action="store_true", help="print the script's JSON lines as they come")
        run.set_defaults(run=run_train, kind=kind)
    preview = train_sub.add_parser(
        "preview", help="show what a spec trains with: every default filled in, and its first sequences"
    )
    preview.add_argument("--spec", required=True, help="the job specification (JSON)")
    preview.add_argument("--examples", type=int, default=3, metavar="N", help="how many sequences to show")
    preview.add_argument("--json", action="store_true", help="print one JSON object")
    preview.set_defaults(run=run_preview)
    status = train_sub.add_parser("status", help="list the runs, or show one")
    status.add_argument("job_id", nargs="?", help="a run's id")
    status.add_argument("--json", action="store_true", help="print JSON")
    status.set_defaults(run=run_status)
    attach = train_sub.add_parser("attach", help="follow a run on an SSH host again, from where this computer left")
    attach.add_argument("job_id", help="the run's id")
    attach.add_argument("--json", action="store_true", help="print the script's JSON lines as they come")
    attach.set_defaults(run=run_attach)
    stop = train_sub.add_parser("stop", help="stop a run, here or on its SSH host (it saves a checkpoint)")
    stop.add_argument("job_id", help="the run's id")
    stop.set_defaults(run=run_stop)

    merge = sub.add_parser("merge-lora", help="merge LoRA adapters into their base model (Hugging Face folders)")
    merge.add_argument("base", help="the base model's Hugging Face folder")
    merge.add_argument(
        "adapters",
        nargs="+",
        metavar="ADAPTER",
        help="LoRA adapter folders or downloaded repository ids (hfl/chinese-llama-plus-lora-7b), merged in this order",
    )
    merge.add_argument("--out", required=True, help="the merged model's folder (must not exist)")
    merge.add_argument("--dtype", default="auto", choices=["auto", "float16", "bfloat16", "float32"])
    merge.add_argument("--python", help="the Python with the train extra (default: this one)")
    merge.add_argument("--json", action="store_true", help="print the result as one JSON object")
    merge.set_defaults(run=run_merge)


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _print_events(events: Iterable[dict[str, Any]], *, as_json: bool, errors: bool = False) -> None:
    """Print a run's events as they come: each as one JSON line (``as_json``), or its progress line.

    ``errors``: an error event that has no progress line is printed too, as ``error: MESSAGE`` (a
    remote run's events).
    """
    for event in events:
        if as_json:
            _say(json.dumps(event, ensure_ascii=False))
            continue
        line = _progress_line(event)
        if line is None and errors and event.get("event") == "error":
            line = f"error: {event.get('message')}"
        if line is not None:
            _say(line)


def _progress_line(event: dict[str, Any]) -> str | None:
    progress = parse_progress(event)
    if progress is not None:
        parts = [f"step {progress.step}/{progress.total}"]
        if progress.loss is not None:
            parts.append(f"loss {progress.loss:.4f}")
        if progress.lr is not None:
            parts.append(f"lr {progress.lr:.3g}")
        if progress.tokens_per_s is not None:
            parts.append(f"{progress.tokens_per_s:,.0f} tokens/s")
        if progress.gpu_memory_mb is not None:
            parts.append(f"GPU {progress.gpu_memory_mb / 1024:.1f} GiB")
        if progress.eta_s is not None:
            parts.append(f"ETA {time.strftime('%H:%M:%S', time.gmtime(progress.eta_s))}")
        return "  ".join(parts)
    checked = parse_evaluation(event)
    if checked is not None:
        loss, ppl = checked.eval_loss, checked.perplexity
        return f"step {checked.step}/{checked.total}  validation loss {loss:.4f}  perplexity {ppl:.2f}"
    kind = event.get("event")
    if kind == "remote":
        return f"[{event.get('phase')}]"
    if kind == "upload" and event.get("done") == event.get("total"):
        return f"uploaded {event.get('total')} bytes"
    if kind == "checkpoint":
        return f"checkpoint: {event.get('path')}"
    if kind == "started":
        return f"started (process {event.get('pid')})"
    return None


def run_train(args: argparse.Namespace) -> int:
    """``train pretrain|sft --spec JOB.json``."""
    spec = JobSpec.read(args.spec)
    if spec.kind != args.kind:
        raise SpecError(
            f"{args.spec} is a {spec.kind} job; run it with `alpaca-desk train {spec.kind}`.",
            code="training_spec_invalid",
            params={"field": "kind", "reason": f"{spec.kind} given to {args.kind}"},
        )
    if args.out and args.host:
        raise SpecError(
            "--out is for runs on this computer; a run on a host writes into its job folder there "
            "(alpaca-desk remote download fetches it).",
            code="training_spec_invalid",
            params={"field": "--out", "reason": "is for runs on this computer"},
        )
    if args.out:
        # The user's word on the command line: this folder, wherever it is.
        spec = spec.replace(output_dir=str(Path(args.out).expanduser().resolve()))
    elif spec.output_dir and not args.host:
        check_output_dir(spec.output_dir, spec_file=args.spec)  # before anything is registered
    if args.host:
        from runtime.training.remote.target import RemoteTarget

        remote = RemoteTarget(args.host).start(spec)
        if not args.json:
            _say(f"run {remote.job_id} on {args.host} (detached: Ctrl-C stops following, not the run)")
        return _follow_remote(remote, args)
    # A spec's output folder is kept only when given; otherwise the run's registry folder holds it.
    handle = LocalTarget(args.python).start(spec, output_chosen=bool(args.out))
    if not args.json:
        _say(f"run {handle.job_id}: {handle.output_dir}")
    interrupted = threading.Event()

    def on_interrupt(_signum: int, _frame: Any) -> None:
        if not interrupted.is_set():
            interrupted.set()
            sys.stderr.write("stopping: the run saves a checkpoint (a rerun of the same spec resumes)\n")
            handle.stop()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        _print_events(handle.events(), as_json=args.json)
        outcome = handle.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if outcome.state is RunState.FINISHED:
        if not args.json:
            _say(f"finished: adapter in {outcome.adapter}")
        return 0
    if outcome.state is RunState.STOPPED:
        if not args.json:
            _say(
                f"stopped at step {outcome.last_step}"
                + (f"; checkpoint {outcome.checkpoint}" if outcome.checkpoint else "")
            )
            if outcome.checkpoint and not spec.output_dir:
                _say(f"to resume, run the spec again with --out {handle.output_dir}")
        return 130
    sys.stderr.write(f"error: {outcome.error}\n")
    return 1


def run_preview(args: argparse.Namespace) -> int:
    """``train preview --spec JOB.json``: the resolved recipe, the tokenizer's size, the first sequences."""
    if args.examples < 0:
        raise SpecError(
            "--examples must be 0 or more.",
            code="training_spec_invalid",
            params={"field": "--examples", "reason": "must be 0 or more"},
        )
    from runtime.training import data, prepare

    # The preview's token cache is the app's (a run keeps its own beside its output, on the GPU host).
    result = prepare.run_preview(JobSpec.read(args.spec), cache_dir=prepare.preview_cache_dir(), examples=args.examples)
    if args.json:
        _say(json.dumps(result, ensure_ascii=False))
        return 0
    resolved = result["resolved"]
    _say(f"{resolved['kind']}, generation {resolved['generation']}, tokenizer of {result['tokenizer_size']:,} tokens")
    for name in (
        "learning_rate",
        "warmup_ratio",
        "warmup_steps",
        "total_steps",
        "weight_decay",
        "lora_rank",
        "lora_alpha",
        "block_size",
        "train_embeddings",
        "gradient_checkpointing",
        "validation_split_percentage",
        "validation_file",
        "eval_steps",
        "load_in_kbits",
    ):
        _say(f"  {name}: {resolved[name]}")
    for number, example in enumerate(result["examples"], 1):
        learned = sum(1 for label in example["labels"] if label != data.IGNORE_INDEX)
        _say(f"sequence {number}: {len(example['input_ids'])} tokens, {learned} learned")
    return 0


def _follow_remote(handle: Any, args: argparse.Namespace) -> int:
    """Print a remote run's events until it ends (0: finished) or Ctrl-C detaches (the run goes on)."""

    def on_interrupt(_signum: int, _frame: Any) -> None:
        handle.detach()

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        _print_events(handle.events(), as_json=args.json, errors=True)
    finally:
        signal.signal(signal.SIGINT, previous)
    if handle.detached:
        sys.stderr.write(f"still running; follow it again with: alpaca-desk train attach {handle.job_id}\n")
        return 0
    outcome = handle.wait()
    if outcome.state is RunState.FINISHED:
        if not args.json:
            _say(f"finished: download the adapter with: alpaca-desk remote download {handle.job_id} --out DIR")
        return 0
    if outcome.state is RunState.STOPPED:
        if not args.json:
            _say(f"stopped at step {outcome.last_step}")
        return 130
    sys.stderr.write(f"error: {outcome.error}\n")
    return 1


def _remote_host(job_id: str) -> str | None:
    """The saved host a run is on (None: it runs on this computer)."""
    try:
        record = registry.load_run(job_id)
    except registry.RunNotFound:
        from runtime.training.remote import load_run

        try:
            return load_run(job_id).host  # a job started with `alpaca-desk remote run`
        except RemoteError:
            raise registry.RunNotFound(
                f"No run {job_id} (see `alpaca-desk train status` for the list).",
                code="training_run_not_found",
                params={"job": job_id},
            ) from None
    return None if record.target == "local" else record.target


def run_attach(args: argparse.Namespace) -> int:
    """``train attach JOB_ID``: the run's events so far, then the new ones until it ends."""
    from runtime.training.remote.target import RemoteTarget

    host = _remote_host(args.job_id)
    if host is None:
        raise AppError(
            f"Run {args.job_id} runs on this computer, in the process that started it; see `alpaca-desk train "
            f"status {args.job_id}`.",
            code="training_attach_local",
            params={"job": args.job_id},
        )
    return _follow_remote(RemoteTarget(host).attach(args.job_id), args)


def run_status(args: argparse.Namespace) -> int:
    """``train status [JOB_ID]``."""
    if args.job_id:
        host = _remote_host(args.job_id)
        try:
            record = registry.refresh(registry.load_run(args.job_id))
        except registry.RunNotFound:
            record = None  # a remote job outside the registry: its host says how it is
        if record is not None and args.json:
            _say(json.dumps(record.__dict__, ensure_ascii=False))
        elif record is not None:
            for name, value in record.__dict__.items():
                _say(f"{name}: {value}")
        if host is not None and (record is None or not args.json):
            from runtime.cli.remote import run_remote_status

            return run_remote_status(args)
        return 0
    records = registry.list_runs()
    if args.json:
        _say(json.dumps([r.__dict__ for r in records], ensure_ascii=False))
        return 0
    if not records:
        _say("no training runs yet")
    for r in records:
        loss = f"loss {r.last_loss:.4f}" if r.last_loss is not None else ""
        _say(f"{r.job_id}  {r.target}  {r.state}  step {r.last_step}/{r.total_steps}  {loss}".rstrip())
    return 0


def run_stop(args: argparse.Namespace) -> int:
    """``train stop JOB_ID``."""
    host = _remote_host(args.job_id)
    if host is not None:
        from runtime.cli.remote import run_remote_stop
        from runtime.training.remote import load_run

        returncode = run_remote_stop(args)
        state = load_run(args.job_id).state
        if state in ("finished", "failed", "stopped", "lost"):
            try:
                registry.update_run(args.job_id, state="failed" if state == "lost" else state)
            except registry.RunNotFound:
                pass
        return returncode
    record = registry.stop_run(args.job_id)
    _say(f"{record.job_id}: {record.state}")
    return 0


def merge_command(
    base: str, adapters: list[str], out: str, *, dtype: str = "auto", python: str | None = None
) -> list[str]:
    """The ``lora-merge`` job's argv; with ``python``, run by that Python (which has the train extra)."""
    argv = build_command("lora-merge", base=base, adapters=json.dumps(adapters), out=out, dtype=dtype)
    if python:
        argv = [python, "-m", "runtime.jobs", *argv[len(job_command()) :]]
    return argv


def _resolve_adapters(values: list[str]) -> list[str]:
    """Folders for the adapters given (repository ids are looked up in the models folder), in an
    order the catalogue's recipes allow."""
    from runtime.hub import load_catalogue
    from runtime.hub.catalogue import models_dir_from_settings
    from runtime.paths import app_paths
    from runtime.settings import load_settings
    from runtime.training.published import check_order, resolve_adapter

    paths = app_paths()
    settings, _notices = load_settings(paths.settings_file)
    models_dir = models_dir_from_settings(settings, paths.models)
    folders = [resolve_adapter(value, models_dir) for value in values]
    entries = {entry.repo: entry for entry in load_catalogue().entries}
    check_order(folders, models_dir, entries)
    return [str(folder) for folder in folders]


def run_merge(args: argparse.Namespace) -> int:
    """``merge-lora BASE ADAPTER... --out DIR``."""
    from runtime.training.published import check_base_folder

    adapters = _resolve_adapters(list(args.adapters))
    check_base_folder(args.base)
    process = JobProcess(merge_command(args.base, adapters, args.out, dtype=args.dtype, python=args.python))
    process.start()
    try:
        for event in process.events():
            if event.get("event") == "progress" and not args.json:
                _say(f"merged {event.get('done')}/{event.get('total')} weight files")
        outcome = process.wait()
    except KeyboardInterrupt:
        process.cancel()
        process.wait()
        return 130
    if not outcome.ok:
        raise AppError(outcome.error or "The merge failed.", code=outcome.code, params=outcome.params)
    result = outcome.result or {}
    if args.json:
        _say(json.dumps(result, ensure_ascii=False))
    else:
        vocab, tokenizer = result.get("vocab_size"), result.get("tokenizer")
        _say(f"merged into {result.get('out')} (vocabulary {vocab}; tokenizer from {tokenizer})")
    return 0
