"""``alpaca-desk``: the parser and the dispatch; each command group lives in a module of its own.

``alpaca-desk chat MODEL.gguf [--prompt TEXT]`` answers once (or chats in the terminal),
``alpaca-desk serve MODEL.gguf`` serves it through an OpenAI-compatible API on this computer,
``alpaca-desk conversations recover FILE`` copies what a damaged conversation database still
holds, ``alpaca-desk host`` is the inference host (how a frozen build starts it),
``alpaca-desk template-sandbox`` renders untrusted chat templates for another process (likewise),
``alpaca-desk tokens FILE`` compares tokenizers on a text, ``alpaca-desk vocab merge|train`` is the
vocabulary-extension tool, ``alpaca-desk models|download|verify`` are the model hub (catalogue,
resumable verified downloads, re-checks), ``alpaca-desk convert|quantize|report`` turn merged weights into
quantized GGUF files and compare them,
``alpaca-desk plan MODEL.gguf`` predicts a model's memory and speed here,
``alpaca-desk train pretrain|sft|status|stop`` and ``alpaca-desk merge-lora``
run and merge LoRA training (paper sections 4.3-5), ``alpaca-desk hosts add|list|test|forget-key|remove`` keeps the
SSH hosts to train on, ``alpaca-desk remote status|attach|stop|download JOB_ID`` follows a job detached on one of them,
and ``alpaca-desk job NAME ...`` runs one job process (how a frozen
build starts :mod:`runtime.jobs`). ``app.main`` sends these subcommands here and starts the GUI
otherwise, so runtime never imports app.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from runtime.cli import chat, conversations, hub, models, plan, remote, serve, tokens, training
from runtime.errors import AppError
from runtime.paths import set_base_dir


def build_parser() -> argparse.ArgumentParser:
    """The ``alpaca-desk`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="alpaca-desk", description="Chat offline with Chinese-LLaMA and Chinese-Alpaca models."
    )
    parser.add_argument("--data-dir", help="keep every file (settings, conversations, models) under DIR")
    sub = parser.add_subparsers(dest="command")

    # Each command group adds its subcommands and sets ``run`` on them; a capability adds a module.
    chat.add_parsers(sub)
    serve.add_parsers(sub)
    conversations.add_parsers(sub)
    sub.add_parser("host", help="run the inference host on stdin/stdout (used by the app)")
    sub.add_parser("template-sandbox", help="render model files' chat templates under limits (used by the app)")
    tokens.add_parsers(sub)
    remote.add_parsers(sub)
    hub.add_parsers(sub)
    models.add_parsers(sub)
    plan.add_parsers(sub)
    training.add_parsers(sub)
    job = sub.add_parser("job", help="run one job process, reporting JSON lines (used by the app)")
    job.add_argument("job_args", nargs=argparse.REMAINDER, help="the job and its options")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``alpaca-desk COMMAND ...`` (the commands: :data:`app.main.CLI_COMMANDS`)."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words[:1] == ["template-sandbox"]:
        # Before anything else is imported: the sandbox limits its memory first, and this
        # process should hold as little as possible under that limit.
        from runtime.chat.template_sandbox import main as sandbox_main

        return sandbox_main()
    if words[:1] == ["job"]:
        # Job processes parse their own options (argparse's REMAINDER would trip over some of them).
        from runtime.jobs import main as job_main

        return job_main(words[1:])
    args = build_parser().parse_args(words)
    if args.data_dir:
        set_base_dir(args.data_dir)
    if args.command == "host":
        from runtime.chat.host import serve_stdio

        return serve_stdio()
    if args.command == "template-sandbox":
        from runtime.chat.template_sandbox import main as sandbox_main

        return sandbox_main()
    if args.command == "job":
        from runtime.jobs import main as job_main

        return job_main(args.job_args)
    if args.command is None:
        build_parser().print_help()
        return 2
    try:
        return int(args.run(args))
    except AppError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
