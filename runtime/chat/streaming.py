"""Turning a stream of token bytes into text a person can read while it arrives.

Two small pieces used by the inference host's decode loop:

- :class:`Utf8Stream` joins token pieces into text without ever splitting a character.
  Chinese characters missing from a vocabulary are emitted as 3 byte-fallback tokens
  (``<0xE4><0xBD><0xA0>``); decoding each piece alone would show replacement characters.
- :class:`StopMatcher` holds back text that could be the start of a stop string, so
  ``### Instruction:`` never flashes on screen before the answer is cut there.
"""

from __future__ import annotations

import codecs


class Utf8Stream:
    """Incremental UTF-8 decoder for token pieces.

    Incomplete sequences are held until the next piece completes them; a sequence that can
    never be valid (a model may emit stray byte tokens) becomes U+FFFD, which is the honest
    rendering of what the model produced.

    Args:
        strip_leading_space: drop whitespace before the first visible character. SentencePiece
            models start a word with ``▁``, so the first piece of an answer renders as `` 你``.
    """

    def __init__(self, *, strip_leading_space: bool = True) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._strip = strip_leading_space

    def feed(self, piece: bytes) -> str:
        """Add one token's bytes; return the text that is now complete (maybe empty)."""
        text = self._decoder.decode(piece)
        if self._strip and text:
            text = text.lstrip()
            if text:
                self._strip = False
        return text

    def flush(self) -> str:
        """Return whatever is left at the end (an unfinished sequence becomes U+FFFD)."""
        text = self._decoder.decode(b"", final=True)
        return text.lstrip() if self._strip else text


class StopMatcher:
    """Finds the first stop string in streamed text and holds back possible prefixes of one."""

    def __init__(self, stops: tuple[str, ...] | list[str]) -> None:
        self._stops = tuple(s for s in stops if s)
        self._held = ""

    def feed(self, text: str) -> tuple[str, bool]:
        """Add text; return ``(text safe to show now, whether a stop string was reached)``."""
        if not self._stops:
            return text, False
        buffer = self._held + text
        cut = min((i for i in (buffer.find(s) for s in self._stops) if i >= 0), default=-1)
        if cut >= 0:
            self._held = ""
            return buffer[:cut], True
        keep = 0
        for stop in self._stops:
            # Longest suffix of the buffer that is a proper prefix of this stop string.
            for n in range(min(len(stop) - 1, len(buffer)), 0, -1):
                if buffer.endswith(stop[:n]):
                    keep = max(keep, n)
                    break
        self._held = buffer[len(buffer) - keep :] if keep else ""
        return buffer[: len(buffer) - keep], False

    def flush(self) -> str:
        """Return the held text once generation ended for another reason."""
        held, self._held = self._held, ""
        return held
