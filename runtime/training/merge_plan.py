"""What the LoRA merge reads and checks before any weight (:mod:`runtime.training.merge`).

An adapter folder's ``adapter_config.json`` (r and lora_alpha finite and in range, plain LoRA only),
its weights file, and its tokenizer's size, counted as ``len(LlamaTokenizer)`` counts it: the pieces
of ``tokenizer.model`` plus the tokens of ``added_tokens.json``, whose ids must follow the pieces in
turn. The authors' SFT scripts save Chinese-Alpaca's tokenizer that way (49,953 pieces and
``[PAD]`` as token 49,953, beside embeddings of 49,954 rows). Then the vocabulary sizes along the
chain (:func:`plan_vocabulary`). Every JSON file goes through the bounded reader. No torch here.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.errors import AppError, UntrustedJsonError
from runtime.tokens import TOKENIZER_MODEL, TokenizerError, read_model_proto, vocab_mismatch
from runtime.training.added_tokens import ADDED_TOKENS_FILE, AddedTokensError, read_added_tokens
from runtime.untrusted_json import read_json_file

#: A JSON file of a model or adapter folder larger than this is refused (configs are small).
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: Largest LoRA rank accepted (published adapters use 8 to 64; peft's own examples stay far below).
MAX_RANK = 65_536
#: Largest |lora_alpha| accepted: alpha / r scales every update, and far larger values only overflow.
MAX_ALPHA = 1e6
#: The tokens a Hugging Face tokenizer adds after tokenizer.model's pieces ({"[PAD]": 49953}).
ADDED_TOKENS = ADDED_TOKENS_FILE


class MergeError(AppError):
    """A merge cannot be done: missing files, an adapter that does not fit, vocabulary sizes that differ."""


@dataclass(frozen=True)
class AdapterInfo:
    """What a LoRA adapter folder holds (read without loading its weights).

    Attributes:
        path: The folder.
        rank, alpha, scale: LoRA's r, alpha and the merge factor (alpha/r, or alpha/sqrt(r) for rsLoRA).
        weights: The weights file (``adapter_model.safetensors`` or ``.bin``).
        tokenizer_size: Tokens of the tokenizer in the folder (tokenizer.model's pieces plus
            added_tokens.json's tokens), or None when it has no tokenizer.model.
        fan_in_fan_out: The adapted layers store W transposed (GPT-2 style; never for LLaMA).
    """

    path: Path
    rank: int
    alpha: float
    scale: float
    weights: Path
    tokenizer_size: int | None
    fan_in_fan_out: bool = False


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A model or adapter folder's JSON file (``what`` names it in the message), which must hold an object."""
    try:
        value = read_json_file(path, max_bytes=MAX_CONFIG_BYTES)
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        return value
    except (OSError, ValueError) as exc:
        if isinstance(exc, UntrustedJsonError):
            reason = exc.reason
        else:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise MergeError(
            f"Cannot read {path} ({what}): {reason}.",
            code="merge_file_unreadable",
            params={"path": str(path), "what": what, "reason": reason},
        ) from exc


def _config_number(path: Path, key: str, value: object, *, low: float, high: float, integer: bool = False) -> float:
    """``value`` of ``key`` in the adapter's configuration, checked to be a finite number in [low, high]."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and integer:
        ok = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if ok:
        number = float(value)  # type: ignore[arg-type]
        if math.isfinite(number) and low <= number <= high:
            return number
    shown = json.dumps(value) if isinstance(value, str | int | float | bool) or value is None else type(value).__name__
    kind = "a whole number" if integer else "a number"
    raise MergeError(
        f"{path}: {key} is {shown}, not {kind} from {low:g} to {high:g}. The adapter's configuration is "
        "damaged or was not written by peft: download or train the adapter again. Nothing was merged.",
        code="merge_bad_config",
        params={"path": str(path), "key": key, "value": shown, "low": f"{low:g}", "high": f"{high:g}"},
    )


def _tokenizer_size(folder: Path) -> int | None:
    """``len(LlamaTokenizer)`` of the folder's tokenizer, or None when it has no tokenizer.model."""
    model = folder / TOKENIZER_MODEL
    if not model.is_file():
        return None
    try:
        pieces = len(read_model_proto(model).pieces)
    except TokenizerError as exc:
        raise MergeError(
            f"The tokenizer {model} cannot be read: {exc}",
            code="merge_file_unreadable",
            params={"path": str(model), "what": "tokenizer", "reason": str(exc)},
        ) from exc
    added = folder / ADDED_TOKENS
    return pieces + _added_token_count(added, pieces) if added.is_file() else pieces


def _added_token_count(path: Path, pieces: int) -> int:
    """The tokens of ``added_tokens.json``, checked to take the ids right after the ``pieces`` in turn."""
    try:
        return len(read_added_tokens(path, pieces))
    except AddedTokensError as exc:
        if not exc.out_of_turn:
            raise MergeError(
                f"Cannot read {path} (the added tokens): {exc.reason}.",
                code="merge_file_unreadable",
                params={"path": str(path), "what": "the added tokens", "reason": exc.reason},
            ) from exc
        raise MergeError(
            f"{path} gives the added token {exc.token} the id {exc.token_id}, but the tokenizer.model beside it "
            f"has {pieces:,} pieces, so the added tokens must take the ids from {pieces:,} on, in turn "
            f"({exc.expected:,} here). The tokenizer files of that folder do not belong together: put there "
            "the tokenizer.model and added_tokens.json that were saved with its weights (or download or "
            "train them again). Nothing was merged.",
            code="merge_added_tokens_bad",
            params={
                "path": str(path),
                "token": exc.token,
                "id": exc.token_id,
                "pieces": f"{pieces:,}",
                "expected": f"{exc.expected:,}",
            },
        ) from exc


def read_adapter(path: str | os.PathLike[str]) -> AdapterInfo:
    """Read an adapter folder's ``adapter_config.json`` and find its weights.

    Raises:
        MergeError: Not a LoRA adapter folder, or a kind of adapter this merge does not handle (DoRA).
    """
    folder = Path(path)
    config = read_json_object(folder / "adapter_config.json", "the LoRA adapter's configuration")
    if str(config.get("peft_type", "LORA")).upper() != "LORA":
        raise MergeError(
            f"{folder} is a {config.get('peft_type')} adapter; only LoRA adapters can be merged here.",
            code="merge_not_lora",
            params={"path": str(folder), "kind": str(config.get("peft_type"))},
        )
    if config.get("use_dora"):
        raise MergeError(
            f"{folder} is a DoRA adapter; merge it with peft's merge_and_unload instead.",
            code="merge_not_lora",
            params={"path": str(folder), "kind": "DoRA"},
        )
    config_path = folder / "adapter_config.json"
    rank = _config_number(config_path, "r", config.get("r"), integer=True, low=1, high=MAX_RANK)
    alpha = _config_number(config_path, "lora_alpha", config.get("lora_alpha"), low=-MAX_ALPHA, high=MAX_ALPHA)
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise MergeError(
            f"{folder} gives some layers their own rank or alpha (rank_pattern / alpha_pattern); "
            "merge it with peft's merge_and_unload instead.",
            code="merge_not_lora",
            params={"path": str(folder), "kind": "LoRA with per-layer ranks"},
        )
    scale = alpha / (rank**0.5 if config.get("use_rslora") else rank)
    for name in ("adapter_model.safetensors", "adapter_model.bin"):
        if (folder / name).is_file():
            weights = folder / name
            break
    else:
        raise MergeError(
            f"{folder} has no adapter_model.safetensors or adapter_model.bin.",
            code="merge_file_unreadable",
            params={"path": str(folder), "what": "the adapter's weights", "reason": "missing"},
        )
    return AdapterInfo(
        path=folder,
        rank=int(rank),
        alpha=alpha,
        scale=scale,
        weights=weights,
        tokenizer_size=_tokenizer_size(folder),
        fan_in_fan_out=bool(config.get("fan_in_fan_out")),
    )


def _vocab_error(tokenizer: int, rows: int, where: str) -> MergeError:
    warning = vocab_mismatch(tokenizer, rows)
    assert warning is not None
    return MergeError(f"{where}: {warning.message}", code=warning.code, params={**warning.params, "where": where})


def plan_vocabulary(base: Path, adapters: list[AdapterInfo], embedding_rows: dict[str, int]) -> tuple[int, Path]:
    """Check the vocabulary sizes along the chain; returns the final rows and the tokenizer folder.

    Args:
        base: The base model folder.
        adapters: The adapters, in merge order.
        embedding_rows: For each adapter folder (str), the rows of the embeddings it carries (absent: none).

    Raises:
        MergeError: A tokenizer and the embeddings it would be used with differ in size.
    """
    config = read_json_object(base / "config.json", "the base model's configuration")
    rows = config.get("vocab_size")
    if not isinstance(rows, int) or isinstance(rows, bool) or rows <= 0:
        raise MergeError(
            f"{base / 'config.json'} has no vocab_size.",
            code="merge_file_unreadable",
            params={"path": str(base / "config.json"), "what": "vocab_size", "reason": "missing"},
        )
    tokenizer_from = base
    base_tokenizer = _tokenizer_size(base)
    if base_tokenizer is not None and base_tokenizer != rows:
        raise _vocab_error(base_tokenizer, rows, f"base model {base}")
    for info in adapters:
        carried = embedding_rows.get(str(info.path))
        if carried is not None:
            rows = carried  # this adapter's trained (resized) embeddings replace the current ones
        if info.tokenizer_size is not None:
            if info.tokenizer_size != rows:
                where = f"adapter {info.path}" + (" (it carries no embeddings)" if carried is None else "")
                raise _vocab_error(info.tokenizer_size, rows, where)
            tokenizer_from = info.path
    final_tokenizer = _tokenizer_size(tokenizer_from)
    if final_tokenizer is None and tokenizer_from == base and rows != config.get("vocab_size"):
        raise MergeError(
            f"The adapters resize the vocabulary to {rows:,} rows but carry no tokenizer.model, and the base "
            f"model's tokenizer is for {config.get('vocab_size'):,}. Put the adapter's tokenizer in its folder.",
            code="merge_tokenizer_missing",
            params={"rows": rows},
        )
    return rows, tokenizer_from
