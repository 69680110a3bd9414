"""The one reader of JSON that comes from outside: settings, saved hosts, the download queue,
manifests, the catalogue, the training registry, job specifications, remote records, hub answers.

``json.loads`` on such input has two failures no caller expects: a document nested 100,000 levels
deep raises ``RecursionError`` (or, in the pure-Python decoder, exhausts the stack), and a file of
gigabytes is read into memory whole. Here every document is bounded twice before it is decoded:

- a byte cap (a file is read to at most ``max_bytes + 1`` bytes; its size is only stat'ed);
- a nesting cap, checked by a linear scan outside strings (:func:`nesting_depth`: regular
  expressions and a running sum, no recursion), so ``json.loads`` never recurses deeper than it.

Every refusal is one :class:`~runtime.errors.UntrustedJsonError` (also a ``ValueError``) whose
``code`` and ``params`` name the file and the limit; callers that keep a bad file aside
(:mod:`runtime.settings`, :mod:`runtime.training.remote.hosts`) do so for these errors as well.

JSON lines between our own processes (the inference host's and jobs' pipes) are not read here:
both ends are this program.
"""

from __future__ import annotations

import json
import os
import re
from itertools import accumulate
from pathlib import Path
from typing import Any

from runtime.errors import UntrustedJsonError

#: Deeper than any file the app writes or reads (settings: 3 levels; a hub's file list: 3; a
#: Hugging Face config or tokenizer file: under 10), shallow enough for ``json.loads``'s recursion.
MAX_DEPTH = 64

_ESCAPE = re.compile(r"\\.", re.DOTALL)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


def nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects in ``text``, counted outside strings.

    Linear in the text's length and never recursive: escapes are dropped first (outside a string
    an escape is invalid JSON anyway), then whole strings, then everything but brackets, and the
    depth is the largest running sum. An unterminated string ends the count (the decoder stops
    there too). For a document that is not JSON the figure may be too high, never too low for the
    part the decoder would read.
    """
    plain = _STRING.sub("", _ESCAPE.sub("", text))
    open_quote = plain.find('"')
    if open_quote >= 0:
        plain = plain[:open_quote]
    brackets = _NOT_BRACKET.sub("", plain)
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0)


def _error(source: str, reason: str, *, code: str, **params: object) -> UntrustedJsonError:
    return UntrustedJsonError(
        f"{source} was not read: {reason}. Replace it with a good copy, or remove it.",
        reason=reason,
        code=code,
        params={"path": source, **params},
    )


def parse_json(data: str | bytes, *, source: str, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """Decode untrusted JSON text within a size and a nesting bound.

    Args:
        data: The text, or UTF-8 bytes (a byte-order mark is allowed).
        source: What it is, for the message: a file's path, or "the hub's answer for ORG/NAME".
        max_bytes: More bytes (characters, for text) than this are refused unread.
        max_depth: Arrays and objects nested deeper than this are refused before decoding.

    Raises:
        UntrustedJsonError: Too large (``json_too_large``), nested too deeply (``json_too_deep``),
            or not UTF-8 JSON (``json_invalid``).
    """
    if len(data) > max_bytes:
        raise _error(
            source,
            f"it is larger than {max_bytes:,} bytes, far more than such a file holds",
            code="json_too_large",
            size=len(data),
            limit=max_bytes,
        )
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _error(
                source, f"it is not UTF-8 text (byte {exc.start})", code="json_invalid", detail="not UTF-8"
            ) from exc
    else:
        text = data
    text = text.removeprefix("\ufeff")
    depth = nesting_depth(text)
    if depth > max_depth:
        raise _error(
            source,
            f"it is nested more than {max_depth} levels deep, which a real one never is",
            code="json_too_deep",
            limit=max_depth,
        )
    try:
        return json.loads(text)
    except ValueError as exc:  # JSONDecodeError, or a number of more than 4,300 digits
        raise _error(source, f"it is not JSON ({exc})", code="json_invalid", detail=str(exc)[:200]) from exc


def read_json_file(path: str | os.PathLike[str], *, max_bytes: int, max_depth: int = MAX_DEPTH) -> Any:
    """Read and decode an untrusted JSON file: at most ``max_bytes + 1`` bytes are ever read.

    Raises:
        OSError: The file cannot be opened or read (``FileNotFoundError`` when it is missing):
            callers decide what a missing file means.
        UntrustedJsonError: As :func:`parse_json`; the message names the file.
    """
    target = Path(path)
    with target.open("rb") as handle:
        raw = handle.read(max_bytes + 1)
        if len(raw) > max_bytes:
            size = max(os.fstat(handle.fileno()).st_size, len(raw))
            raise _error(
                str(target),
                f"it is {size:,} bytes, larger than the {max_bytes:,} bytes such a file may have",
                code="json_too_large",
                size=size,
                limit=max_bytes,
            )
    return parse_json(raw, source=str(target), max_bytes=max_bytes, max_depth=max_depth)
