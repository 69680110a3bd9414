"""The tokens a Hugging Face tokenizer folder keeps after its SentencePiece pieces (``added_tokens.json``).

``len(LlamaTokenizer)`` counts the pieces of ``tokenizer.model`` plus these tokens, and transformers
refuses a file whose ids do not follow the pieces in turn ("Non-consecutive added token"): a gap or a
far id would put a token beyond the embedding rows, or leave rows without a token. The authors' SFT
scripts save Chinese-Alpaca's tokenizer this way (49,953 pieces and ``[PAD]`` as token 49,953). The
merge and the training set-up both read the file here, through the bounded JSON reader.
"""

from __future__ import annotations

import json
from pathlib import Path

from runtime.errors import UntrustedJsonError
from runtime.untrusted_json import read_json_file

#: The file's name beside ``tokenizer.model``.
ADDED_TOKENS_FILE = "added_tokens.json"
#: A real file holds a handful of tokens; one over this is refused unread.
MAX_ADDED_TOKENS_BYTES = 1024 * 1024
#: Characters of an added token's text shown in a message (a crafted file may hold megabytes).
_SHOWN_TOKEN_CHARS = 40


class AddedTokensError(ValueError):
    """``added_tokens.json`` cannot be used with the pieces beside it.

    Attributes:
        reason: Why, in a few words (for a message that names the file itself).
        token, token_id, expected: For a token out of turn: its text and id as shown to the user, and
            the id it should have had; empty when the file could not be read at all.
    """

    def __init__(self, reason: str, *, token: str = "", token_id: str = "", expected: int = -1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.token = token
        self.token_id = token_id
        self.expected = expected

    @property
    def out_of_turn(self) -> bool:
        return self.expected >= 0


def read_added_tokens(path: Path, pieces: int) -> dict[str, int]:
    """The tokens of ``path`` (token → id), checked to take the ids right after ``pieces`` in turn.

    Raises:
        AddedTokensError: Unreadable, too large, too deep, not an object, or a token out of turn.
    """
    try:
        tokens = read_json_file(path, max_bytes=MAX_ADDED_TOKENS_BYTES)
    except UntrustedJsonError as exc:
        raise AddedTokensError(exc.reason) from exc
    except OSError as exc:
        raise AddedTokensError(exc.strerror or str(exc)) from exc
    if not isinstance(tokens, dict):
        raise AddedTokensError("it is not a JSON object of token → id")
    order = sorted(tokens.items(), key=lambda item: _id_order(item[1]))
    for expected, (text, token_id) in enumerate(order, start=pieces):
        if isinstance(token_id, int) and not isinstance(token_id, bool) and token_id == expected:
            continue
        shown_text = json.dumps(
            text[:_SHOWN_TOKEN_CHARS] + ("…" if len(text) > _SHOWN_TOKEN_CHARS else ""), ensure_ascii=False
        )
        shown_id = json.dumps(token_id)[:_SHOWN_TOKEN_CHARS] if _is_plain(token_id) else type(token_id).__name__
        raise AddedTokensError(
            f"the added token {shown_text} has the id {shown_id}, not {expected:,}",
            token=shown_text,
            token_id=shown_id,
            expected=expected,
        )
    return dict(order)


def _is_plain(value: object) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _id_order(token_id: object) -> tuple[int, int]:
    """Whole ids in order, anything else after them (where it is named as the first bad one)."""
    if isinstance(token_id, int) and not isinstance(token_id, bool):
        return (0, token_id)
    return (1, 0)
