"""``alpaca-desk chat``: one answer, or a chat in the terminal, through the inference host."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from runtime.chat import DecodingParams, HostClient, raise_for_error, speculative, templates
from runtime.errors import AppError, ParameterError
from runtime.models import read_model_info
from runtime.paths import app_paths


def add_parsers(sub: Any) -> None:
    """Add ``chat`` to the ``alpaca-desk`` subcommands."""
    chat = sub.add_parser("chat", help="answer a prompt, or chat in the terminal")
    chat.add_argument("model", help="a .gguf model file")
    chat.add_argument(
        "--template",
        help=f"chat template: {', '.join(templates.template_names())} (default: chosen from the model)",
    )
    chat.add_argument("--system", help="system prompt (default: the template's)")
    chat.add_argument("--prompt", help="answer this once and exit (else: interactive chat)")
    chat.add_argument("--show-prompt", action="store_true", help="print the exact prompt instead of answering")
    chat.add_argument("--json", action="store_true", help="print one JSON object with the answer and stats")
    _add_decoding_args(chat)
    chat.set_defaults(run=run_chat)


def _add_decoding_args(parser: argparse.ArgumentParser) -> None:
    defaults = DecodingParams()
    group = parser.add_argument_group("decoding (defaults: the paper's, section 6.2)")
    group.add_argument("--ctx", dest="n_ctx", type=int, default=defaults.n_ctx, help="context size in tokens")
    group.add_argument("--max-tokens", type=int, default=defaults.max_tokens, help="new tokens at most")
    group.add_argument("--temperature", type=float, default=defaults.temperature)
    group.add_argument("--top-k", type=int, default=defaults.top_k)
    group.add_argument("--top-p", type=float, default=defaults.top_p)
    group.add_argument("--repeat-penalty", type=float, default=defaults.repeat_penalty)
    group.add_argument("--seed", type=int, default=None, help="fix the seed (default: random per answer)")
    group.add_argument("--threads", type=int, default=None, help="CPU threads (default: the cores)")
    group.add_argument("--gpu-layers", type=int, default=0, help="layers to offload to a GPU build")
    add_speculative_arguments(group)
    group.add_argument(
        "--kv",
        choices=("f16", "q8_0", "q4_0"),
        default="f16",
        help="KV cache type: q8_0 halves its memory, q4_0 quarters it (both turn on flash attention)",
    )


def add_speculative_arguments(group: Any) -> None:
    """``--speculative`` and ``--draft``, as ``chat`` and ``serve`` take them."""
    group.add_argument(
        "--speculative",
        choices=speculative.MODES,
        default=speculative.DEFAULT_MODE,
        help="speculative decoding: off, lookup (drafts copied from the prompt and answer), "
        "auto (lookup that stops when it does not pay), draft (a draft model's guesses, --draft); "
        "the text is the same, as the model is then loaded with flash attention (default: %(default)s)",
    )
    group.add_argument(
        "--draft",
        metavar="FILE",
        help="a smaller .gguf model with the same vocabulary that drafts for --speculative draft",
    )


def check_speculative_arguments(args: argparse.Namespace) -> None:
    """Refuse ``--speculative draft`` without ``--draft`` before anything is loaded."""
    if args.speculative == "draft" and not args.draft:
        raise ParameterError(
            "Speculative decoding with a draft model needs a draft model: load one first (--draft FILE).",
            code="draft_model_missing",
        )


def _params(args: argparse.Namespace) -> DecodingParams:
    return DecodingParams(
        n_ctx=args.n_ctx,
        max_tokens=args.max_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        repeat_penalty=args.repeat_penalty,
        seed=args.seed,
    )


def _template_for(args: argparse.Namespace) -> tuple[str, Any]:
    info = read_model_info(args.model)
    name = args.template or templates.choose_template(
        vocab_size=info.vocab_size, name=f"{info.name} {info.file_name}", has_chat_template=info.has_chat_template
    )
    templates.get_template(name)  # unknown names fail here, with the list of known ones
    return name, info


def run_chat(args: argparse.Namespace) -> int:
    """``alpaca-desk chat``."""
    check_speculative_arguments(args)
    params = _params(args)
    template, info = _template_for(args)
    if args.show_prompt:
        turn = templates.Turn(user=args.prompt if args.prompt is not None else "{instruction}")
        prompt = templates.render(
            template, [turn], system=args.system, jinja_source=info.chat_template, jinja_origin=info.file_name
        )
        sys.stdout.write(prompt.text)
        sys.stdout.flush()
        return 0
    client = HostClient(log_file=app_paths().logs / "host.log")
    try:
        client.call(
            "load",
            path=args.model,
            n_ctx=params.n_ctx,
            n_threads=args.threads,
            n_gpu_layers=args.gpu_layers,
            kv=args.kv,
            # Drafts are verified in batches: their logits must equal one-token decoding's.
            exact_batches=args.speculative != "off",
            draft=args.draft if args.speculative == "draft" else None,
            timeout=600,
        )
        if args.prompt is not None:
            answer, stats = _answer(client, template, args, params, [templates.Turn(user=args.prompt)])
            if args.json:
                result = {
                    "model": info.path,
                    "template": template,
                    "answer": answer,
                    "tokens_per_second": stats.get("tokens_per_s"),
                    "stats": stats,
                }
                sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
            else:
                sys.stdout.write("\n")
            return 0
        return _interactive(client, template, args, params)
    finally:
        client.stop()


def _answer(
    client: HostClient,
    template: str,
    args: argparse.Namespace,
    params: DecodingParams,
    turns: list[templates.Turn],
) -> tuple[str, dict[str, Any]]:
    parts: list[str] = []
    stats: dict[str, Any] = {}
    request = {
        "template": template,
        "system": args.system,
        "turns": [{"user": t.user, "assistant": t.assistant} for t in turns],
        "params": params.to_dict(),
        "speculative": args.speculative,
    }
    events = client.stream("chat", **request)
    try:
        for event in events:
            kind = event["event"]
            if kind == "token":
                parts.append(event["text"])
                if not args.json:
                    sys.stdout.write(event["text"])
                    sys.stdout.flush()
            elif kind == "prompt":
                stats["dropped_turns"] = event["dropped_turns"]
                if event["dropped_turns"] and not args.json:
                    sys.stderr.write(f"[{event['dropped_turns']} oldest turn(s) left out to fit the context]\n")
            elif kind == "finished":
                stats.update({k: v for k, v in event.items() if k not in ("id", "event")})
            elif kind == "error":
                raise_for_error(event)
    except KeyboardInterrupt:
        client.cancel()
        for event in events:
            if event["event"] == "token":
                parts.append(event["text"])
            elif event["event"] == "finished":
                stats.update({k: v for k, v in event.items() if k not in ("id", "event")})
    return "".join(parts), stats


def _interactive(client: HostClient, template: str, args: argparse.Namespace, params: DecodingParams) -> int:
    sys.stderr.write("Type a message and press Enter. /reset starts over, /exit or Ctrl-D quits.\n")
    turns: list[templates.Turn] = []
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            sys.stderr.write("\n")
            return 0
        text = line.strip()
        if not text:
            continue
        if text in ("/exit", "/quit"):
            return 0
        if text == "/reset":
            turns = []
            continue
        try:
            answer, stats = _answer(client, template, args, params, [*turns, templates.Turn(user=text)])
        except AppError as exc:
            sys.stderr.write(f"error: {exc}\n")
            continue
        sys.stdout.write("\n")
        turns.append(templates.Turn(user=text, assistant=answer))
        if stats.get("tokens_per_s"):
            sys.stderr.write(f"[{stats['generated_tokens']} tokens, {stats['tokens_per_s']:.1f} tokens/s]\n")
