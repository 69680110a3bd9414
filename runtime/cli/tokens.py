"""``alpaca-desk tokens`` and ``alpaca-desk vocab``: the tokenizer comparison and the vocabulary tool."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from runtime.errors import AppError

# runtime.tokens (sentencepiece, protobuf) is imported by the commands that use it, so that the
# host, which a frozen build starts through this package, does not pay for it; hence these literals.
_TOKENIZER_NAMES = "llama, chinese-llama, chinese-llama-2"
_DEFAULT_TOKENIZERS = ("llama", "chinese-llama")


def add_parsers(sub: Any) -> None:
    """Add ``tokens`` and ``vocab merge|train`` to the ``alpaca-desk`` subcommands."""
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
    tokens.add_argument(
        "--ids", action="store_true", help="with --json: each tokenizer's token ids and pieces, in order"
    )
    tokens.add_argument("--add-bos", action="store_true", help="count the BOS token a prompt starts with")
    tokens.add_argument("--ctx", dest="n_ctx", type=int, default=2048, help="context size for the estimate")
    tokens.set_defaults(run=run_tokens)

    vocab = sub.add_parser("vocab", help="the vocabulary-extension tool (paper section 4.2)")
    vocab_sub = vocab.add_subparsers(dest="vocab_command", required=True)
    merge = vocab_sub.add_parser("merge", help="append a model's new pieces to a base tokenizer")
    merge.add_argument("base", help="the base tokenizer.model (LLaMA's)")
    merge.add_argument("addition", help="the SentencePiece model whose new pieces are appended")
    merge.add_argument("--out", required=True, help="folder to write (tokenizer.model and Hugging Face files)")
    merge.add_argument("--pad", action="store_true", help="append a pad token <pad> (Chinese-Alpaca: 49,954)")
    merge.add_argument("--sample", help="a text file to count before and after the merge")
    merge.add_argument("--json", action="store_true", help="print the report as one JSON object")
    merge.set_defaults(run=run_vocab_merge)
    train = vocab_sub.add_parser("train", help="train a SentencePiece model on a corpus (in a job process)")
    train.add_argument("corpus", help="UTF-8 text, one sentence or paragraph per line")
    train.add_argument("--out", required=True, help="the .model file to write")
    train.add_argument("--size", type=int, default=20_000, help="vocabulary size (default: 20000, the paper's)")
    train.add_argument("--model-type", choices=["bpe", "unigram"], default="bpe")
    train.add_argument("--coverage", type=float, default=0.9995, help="character coverage (default: 0.9995)")
    train.add_argument("--max-sentences", type=int, default=2_000_000, help="sample at most this many lines")
    train.add_argument("--threads", type=int, default=None, help="training threads (default: the CPU count)")
    train.add_argument("--json", action="store_true", help="print the result as one JSON object")
    train.set_defaults(run=run_vocab_train)


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
        if args.ids:
            for row, tokenizer in zip(rows, loaded, strict=True):
                row.update(_ids_and_pieces(tokenizer, text, add_bos=args.add_bos))
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


def _ids_and_pieces(tokenizer: Any, text: str, *, add_bos: bool) -> dict[str, list[Any]]:
    """Token ids and pieces as the tokenizer cuts ``text``; BOS first when it is counted."""
    segmentation = tokenizer.segment(text)
    ids, pieces = list(segmentation.ids), list(segmentation.pieces)
    if add_bos and tokenizer.add_bos:
        ids.insert(0, tokenizer.bos_id)
        pieces.insert(0, tokenizer.processor.id_to_piece(tokenizer.bos_id))
    return {"ids": ids, "pieces": pieces}


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
    from runtime.cli.foreground import print_result, run_job

    result = run_job(
        "vocab-train",
        corpus=str(Path(args.corpus).expanduser().resolve()),
        out=str(Path(args.out).expanduser().resolve()),
        size=args.size,
        model_type=args.model_type,
        character_coverage=args.coverage,
        max_sentences=args.max_sentences,
        threads=args.threads,
    )
    return print_result(
        result,
        as_json=args.json,
        summary=lambda r: (
            f"Wrote {r.get('path')} ({r.get('vocab_size', 0):,} pieces) from "
            f"{r.get('sentences', 0):,} lines in {r.get('seconds', 0):.1f} s."
        ),
    )
