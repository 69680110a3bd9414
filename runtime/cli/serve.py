"""``alpaca-desk serve MODEL.gguf``: the local OpenAI-compatible server, without the window."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from runtime.chat import templates
from runtime.cli.chat import add_speculative_arguments, check_speculative_arguments
from runtime.errors import ServeError
from runtime.models import read_model_info
from runtime.paths import app_paths

#: A key file is one line; anything longer is not a key file.
MAX_KEY_FILE_BYTES = 4096


def add_parsers(sub: Any) -> None:
    """Add ``serve`` to the ``alpaca-desk`` subcommands."""
    serve = sub.add_parser(
        "serve",
        help="serve a model through an OpenAI-compatible API on this computer",
        description="Serve MODEL.gguf through the OpenAI API (/v1/models, /v1/chat/completions, "
        "/v1/completions) and /tokenize, /detokenize. Only this computer can connect unless --host says "
        "otherwise, and then an API key is required.",
    )
    serve.add_argument("model", help="a .gguf model file")
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this computer only)"
    )
    serve.add_argument("--port", type=int, default=8080, help="port (default: 8080; 0: a free one)")
    key = serve.add_mutually_exclusive_group()
    key.add_argument(
        "--api-key",
        metavar="KEY",
        help="require this key (other users of this computer can see it in the process list)",
    )
    key.add_argument("--api-key-file", metavar="FILE", help="require the key written in this file")
    serve.add_argument(
        "--ctx", dest="n_ctx", metavar="N", type=int, default=2048, help="context size in tokens (default: 2048)"
    )
    serve.add_argument(
        "--threads", metavar="N", type=int, default=None, help="CPU threads (default: chosen by measuring)"
    )
    serve.add_argument(
        "--template",
        help=f"chat template: {', '.join(templates.template_names())} (default: chosen from the model)",
    )
    serve.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="let web pages from ORIGIN (such as http://localhost:3000) call the server; repeatable (default: none)",
    )
    add_speculative_arguments(serve)
    serve.set_defaults(run=run_serve)


def read_key_file(path: str) -> str:
    """The key in ``path``: its first line, without surrounding spaces."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as exc:
        raise ServeError(
            f"Cannot read the API key file {path} ({exc.strerror}); give a readable file with --api-key-file.",
            code="serve_key_file_unreadable",
            params={"path": path},
        ) from exc
    lines = data.decode("utf-8", errors="replace").strip().splitlines()
    key = lines[0].strip() if lines else ""
    if len(data) > MAX_KEY_FILE_BYTES or not key or len(lines) > 1:
        raise ServeError(
            f"The API key file {path} must hold one key on one line; write the key alone in it.",
            code="serve_key_file_bad",
            params={"path": path},
        )
    return key


def run_serve(args: argparse.Namespace) -> int:
    """``alpaca-desk serve``."""
    from runtime.serve.server import ServeConfig, serve

    check_speculative_arguments(args)
    info = read_model_info(args.model)  # the chat command's checks, before anything starts
    template = args.template or templates.choose_template(
        vocab_size=info.vocab_size, name=f"{info.name} {info.file_name}", has_chat_template=info.has_chat_template
    )
    templates.get_template(template)
    key = read_key_file(args.api_key_file) if args.api_key_file else (args.api_key or None)
    config = ServeConfig(
        model=info.path,
        template=template,
        host=args.host,
        port=args.port,
        api_key=key,
        n_ctx=args.n_ctx,
        threads=args.threads,
        cors_origins=tuple(args.cors_origin),
        speculative=args.speculative,
        draft=args.draft,
    )
    config.check()
    _log_to_stderr()
    paths = app_paths()
    network_log = paths.logs / "network.log"

    def banner(url: str, model: Any) -> None:
        lines = [
            f"Serving {model.id} (template {model.template}, context {model.n_ctx} tokens) at {url}",
            *([f"Speculative decoding: {config.speculative}"] if config.speculative != "off" else []),
            "API key: required (send 'Authorization: Bearer KEY')"
            if key
            else "API key: none required (only programs on this computer can connect)",
        ]
        if config.cors_origins:
            lines.append(f"Web pages allowed (CORS): {', '.join(config.cors_origins)}")
        lines.append("Press Ctrl-C to stop.")
        sys.stdout.write("\n".join(lines) + "\n")
        sys.stdout.flush()

    serve(
        config,
        log_file=paths.logs / "host.log",
        on_listening=banner,
        network_log=lambda event, url: _network_log(network_log, event, url),
    )
    sys.stdout.write("Stopped.\n")
    return 0


def _network_log(log: Path, event: str, url: str) -> None:
    from runtime.hub.client import log_request

    log_request(log, "SERVE", url, event)


def _log_to_stderr() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    served = logging.getLogger("alpaca_desk.serve")
    served.addHandler(handler)
    served.setLevel(logging.INFO)
    served.propagate = False
    # uvicorn's own lines name client addresses; only its warnings and errors are shown.
    logging.getLogger("uvicorn").setLevel(logging.WARNING)
