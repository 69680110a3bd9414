"""``alpaca-desk``: the command line over the same runtime the GUI uses.

``alpaca-desk chat MODEL.gguf [--prompt TEXT]`` answers once (or chats in the terminal),
``alpaca-desk host`` is the inference host (how a frozen build starts it),
``alpaca-desk tokens FILE`` compares tokenizers on a text, ``alpaca-desk vocab merge|train`` is the
vocabulary-extension tool, and ``alpaca-desk job NAME ...`` runs one job process (how a frozen
build starts :mod:`runtime.jobs`). ``app.main`` sends these subcommands here and starts the GUI
otherwise, so runtime never imports app.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from runtime.chat import templates
from runtime.chat.client import HostClient, raise_for_error
from runtime.chat.params import DecodingParams
from runtime.errors import AppError
from runtime.models import read_model_info
from runtime.paths import app_paths, set_base_dir

# runtime.tokens (sentencepiece, protobuf) is imported by the commands that use it, so that the
# host, which a frozen build starts through this module, does not pay for it; hence these literals.
_TOKENIZER_NAMES = "llama, chinese-llama, chinese-llama-2"
_DEFAULT_TOKENIZERS = ("llama", "chinese-llama")


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


def build_parser() -> argparse.ArgumentParser:
    """The ``alpaca-desk`` argument parser."""
    parser = argparse.ArgumentParser(
        prog="alpaca-desk", description="Chat offline with Chinese-LLaMA and Chinese-Alpaca models."
    )
    parser.add_argument("--data-dir", help="keep every file (settings, conversations, models) under DIR")
    sub = parser.add_subparsers(dest="command")

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

    sub.add_parser("host", help="run the inference host on stdin/stdout (used by the app)")

    tokens = sub.add_parser("tokens", help="count a text's tokens under several tokenizers")
    tokens.add_argument("file", help="a UTF-8 text file, or - for standard input")
    tokens.add_argument(
        "--tokenizer",
        dest="tokenizers",
        action="append",
        metavar="NAME_OR_PATH",
        help=f"{_TOKENIZER_NAMES}, a tokenizer.model, a tokenizer folder or a .gguf; repeat to "
        f"compare several (default: {' and '.join(_DEFAULT_TOKENIZERS)})",
    )
    tokens.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    tokens.add_argument("--add-bos", action="store_true", help="count the BOS token a prompt starts with")
    tokens.add_argument("--ctx", dest="n_ctx", type=int, default=2048, help="context size for the estimate")

    vocab = sub.add_parser("vocab", help="the vocabulary-extension tool (paper section 4.2)")
    vocab_sub = vocab.add_subparsers(dest="vocab_command", required=True)
    merge = vocab_sub.add_parser("merge", help="append a model's new pieces to a base tokenizer")
    merge.add_argument("base", help="the base tokenizer.model (LLaMA's)")
    merge.add_argument("addition", help="the SentencePiece model whose new pieces are appended")
    merge.add_argument("--out", required=True, help="folder to write (tokenizer.model and Hugging Face files)")
    merge.add_argument("--pad", action="store_true", help="append a pad token <pad> (Chinese-Alpaca: 49,954)")
    merge.add_argument("--sample", help="a text file to count before and after the merge")
    merge.add_argument("--json", action="store_true", help="print the report as one JSON object")
    train = vocab_sub.add_parser("train", help="train a SentencePiece model on a corpus (in a job process)")
    train.add_argument("corpus", help="UTF-8 text, one sentence or paragraph per line")
    train.add_argument("--out", required=True, help="the .model file to write")
    train.add_argument("--size", type=int, default=20_000, help="vocabulary size (default: 20000, the paper's)")
    train.add_argument("--model-type", choices=["bpe", "unigram"], default="bpe")
    train.add_argument("--coverage", type=float, default=0.9995, help="character coverage (default: 0.9995)")
    train.add_argument("--max-sentences", type=int, default=2_000_000, help="sample at most this many lines")
    train.add_argument("--threads", type=int, default=None, help="training threads (default: the CPU count)")
    train.add_argument("--json", action="store_true", help="print the result as one JSON object")

    job = sub.add_parser("job", help="run one job process, reporting JSON lines (used by the app)")
    job.add_argument("job_args", nargs=argparse.REMAINDER, help="the job and its options")
    return parser


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
    params = _params(args)
    template, info = _template_for(args)
    if args.show_prompt:
        turn = templates.Turn(user=args.prompt if args.prompt is not None else "{instruction}")
        prompt = templates.render(template, [turn], system=args.system, jinja_source=info.chat_template)
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
            timeout=600,
        )
        if args.prompt is not None:
            answer, stats = _answer(client, template, args, params, [templates.Turn(user=args.prompt)])
            if args.json:
                result = {"model": info.path, "template": template, "answer": answer, "stats": stats}
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


# -- tokens and vocab ------------------------------------------------------------------------------


def _read_text(name: str) -> tuple[str, str]:
    if name == "-":
        return sys.stdin.buffer.read().decode("utf-8", errors="replace"), "<stdin>"
    path = Path(name).expanduser()
    try:
        return path.read_bytes().decode("utf-8", errors="replace"), str(path)
    except OSError as exc:
        raise AppError(
            f"Cannot read the text file {path}: {exc.strerror or exc}. "
            "Give a UTF-8 text file, or - for standard input.",
            code="text_unreadable",
            params={"path": str(path)},
        ) from exc


def run_tokens(args: argparse.Namespace) -> int:
    """``alpaca-desk tokens``: the tokenizer panel's comparison, on the command line."""
    from runtime.tokens import compare, context_capacity, load_tokenizer, resolve_tokenizer

    text, source = _read_text(args.file)
    loaded = [load_tokenizer(resolve_tokenizer(name)) for name in args.tokenizers or _DEFAULT_TOKENIZERS]
    counts = compare(text, loaded, add_bos=args.add_bos)
    if args.json:
        rows = [
            {
                "label": count.label,
                "kind": tokenizer.spec.kind,
                "path": tokenizer.spec.path,
                "n_vocab": tokenizer.n_vocab,
                "n_tokens": count.n_tokens,
                "chars_per_token": round(count.chars_per_token, 4),
                "byte_fallback": count.byte_fallback,
                "ratio_to_first": round(count.ratio_to_first, 4),
                "context_chars": context_capacity(count, args.n_ctx),
            }
            for tokenizer, count in zip(loaded, counts, strict=True)
        ]
        report = {"source": source, "n_chars": len(text), "add_bos": args.add_bos, "n_ctx": args.n_ctx}
        sys.stdout.write(json.dumps({**report, "tokenizers": rows}, ensure_ascii=False) + "\n")
        return 0
    width = max(len("tokenizer"), *(len(count.label) for count in counts))
    fits = f"chars in {args.n_ctx:,}"
    lines = [
        f"{'tokenizer':<{width}}  {'tokens':>9}  {'chars/token':>11}  {'byte pieces':>11}  {'ratio':>6}  {fits:>14}"
    ]
    for count in counts:
        lines.append(
            f"{count.label:<{width}}  {count.n_tokens:>9,}  {count.chars_per_token:>11.2f}  "
            f"{count.byte_fallback:>11,}  {count.ratio_to_first:>6.2f}  {context_capacity(count, args.n_ctx):>14,}"
        )
    bos = "including" if args.add_bos else "not counting"
    lines.append(
        f"{len(text):,} characters from {source}, {bos} the BOS token. The last column: about how many characters "
        f"of this kind of text a {args.n_ctx:,}-token context holds."
    )
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run_vocab_merge(args: argparse.Namespace) -> int:
    """``alpaca-desk vocab merge``: quick, so it runs in this process (the same function as the job)."""
    from runtime.tokens.vocab_jobs import PAD_EXPLANATION, merge_vocabulary

    result = merge_vocabulary(args.base, args.addition, args.out, pad=args.pad, sample=args.sample)
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    lines = [
        f"Wrote {result['model_path']} (and the Hugging Face tokenizer files beside it).",
        f"Base pieces: {result['base_size']:,}; added: {result['added']:,}; final size: {result['final_size']:,}"
        + (f" (with the pad token {result['pad_token']})." if result["pad_token"] else "."),
    ]
    sample = result.get("sample")
    if sample:
        lines.append(
            f"Sample of {sample['chars']:,} characters: {sample['tokens_before']:,} tokens before, "
            f"{sample['tokens_after']:,} after ({sample['ratio']:.2f}x)."
        )
    if args.pad:
        lines.append(PAD_EXPLANATION)
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def run_vocab_train(args: argparse.Namespace) -> int:
    """``alpaca-desk vocab train``: the ``vocab-train`` job, with progress on stderr; Ctrl-C cancels."""
    from runtime.jobs import JobError, JobProcess, build_command

    command = build_command(
        "vocab-train",
        corpus=str(Path(args.corpus).expanduser().resolve()),
        out=str(Path(args.out).expanduser().resolve()),
        size=args.size,
        model_type=args.model_type,
        character_coverage=args.coverage,
        max_sentences=args.max_sentences,
        threads=args.threads,
    )
    process = JobProcess(command)
    process.start()
    try:
        for event in process.events():
            if event["event"] == "progress":
                total = f"/{event['total']:,}" if event["total"] else ""
                figures = f" {event['done']:,}{total}" if event["total"] else ""
                sys.stderr.write(f"[{event['stage']}{figures}]\n")
                sys.stderr.flush()
        outcome = process.wait()
    except KeyboardInterrupt:
        sys.stderr.write("cancelling...\n")
        process.cancel()
        process.wait()
        sys.stderr.write("cancelled; nothing was written\n")
        return 130
    if outcome.cancelled:
        return 130
    if not outcome.ok:
        raise JobError(outcome.error or "training failed", code=outcome.code, params=outcome.params)
    result = outcome.result or {}
    if args.json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(
            f"Wrote {result.get('path')} ({result.get('vocab_size', 0):,} pieces) from "
            f"{result.get('sentences', 0):,} lines in {result.get('seconds', 0):.1f} s.\n"
        )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``alpaca-desk chat|host|tokens|vocab|job ...``."""
    words = list(sys.argv[1:] if argv is None else argv)
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
    if args.command == "job":
        from runtime.jobs import main as job_main

        return job_main(args.job_args)
    if args.command is None:
        build_parser().print_help()
        return 2
    commands = {"chat": run_chat, "tokens": run_tokens}
    if args.command == "vocab":
        commands["vocab"] = run_vocab_merge if args.vocab_command == "merge" else run_vocab_train
    try:
        return commands[args.command](args)
    except AppError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
