"""Decoding parameters with the Chinese-LLaMA paper's defaults (section 6.2) and their ranges.

On the shared floor, not in runtime/chat: the settings file holds them too, and the floor uses no
capability package.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from runtime.errors import ParameterError


@dataclass(frozen=True)
class Range:
    """The valid range of one numeric parameter, and the step the GUI uses."""

    low: float
    high: float
    step: float
    is_int: bool


#: The context control's upper bound while no model is loaded; with one, the control goes up to
#: the length the model was trained for (a 64K model gets 64K, a 512-token one 512).
DEFAULT_MAX_CONTEXT = 32768

# Ranges cover what llama.cpp accepts and what is sensible on a laptop; the GUI builds its
# sliders from this table, so the two never disagree. The context's bound is the longest any
# model is trained for that a computer could hold (1M tokens): the GUI narrows it to the
# loaded model's trained length.
RANGES: dict[str, Range] = {
    "n_ctx": Range(256, 1 << 20, 256, True),
    "max_tokens": Range(1, 8192, 1, True),
    "temperature": Range(0.0, 2.0, 0.05, False),
    "top_k": Range(0, 200, 1, True),
    "top_p": Range(0.0, 1.0, 0.01, False),
    "repeat_penalty": Range(1.0, 2.0, 0.01, False),
}


@dataclass(frozen=True)
class DecodingParams:
    """Everything that shapes one answer.

    Defaults are the paper's (section 6.2): context 2048, 512 new tokens, temperature 0.2,
    top-k 40, top-p 0.9, repetition penalty 1.1. ``seed=None`` means a fresh random seed per
    answer; the seed actually used is recorded with the answer.
    """

    n_ctx: int = 2048
    max_tokens: int = 512
    temperature: float = 0.2
    top_k: int = 40
    top_p: float = 0.9
    repeat_penalty: float = 1.1
    seed: int | None = None

    def __post_init__(self) -> None:
        for name, rng in RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ParameterError(f"{name} must be a number, got {value!r}.")
            if rng.is_int and int(value) != value:
                raise ParameterError(f"{name} must be a whole number, got {value!r}.")
            if not rng.low <= value <= rng.high:
                raise ParameterError(
                    f"{name} = {value} is outside its range {fmt(rng.low)}..{fmt(rng.high)}; "
                    f"choose a value in that range."
                )
        if self.max_tokens >= self.n_ctx:
            raise ParameterError(
                f"max_tokens ({self.max_tokens}) must be smaller than the context size "
                f"n_ctx ({self.n_ctx}), or no room is left for the prompt."
            )
        if self.seed is not None and not 0 <= self.seed < 2**32:
            raise ParameterError(f"seed must be between 0 and {2**32 - 1}, got {self.seed}.")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON (store, IPC)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecodingParams:
        """Build from a dict, ignoring unknown keys (older or newer files)."""
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def replace(self, **changes: Any) -> DecodingParams:
        """Return a copy with some fields changed (validated)."""
        return dataclasses.replace(self, **changes)


def fmt(value: float) -> str:
    """Format a range bound without a trailing ``.0`` on whole numbers."""
    return str(int(value)) if float(value).is_integer() else str(value)


# Presets from the paper: single-turn evaluation used temperature 0.2; the multi-turn chat
# setting used 0.5 with otherwise the same values.
PRESETS: dict[str, DecodingParams] = {
    "single-turn (paper)": DecodingParams(),
    "multi-turn chat": DecodingParams(temperature=0.5),
}
DEFAULT_PRESET = "single-turn (paper)"

#: What happens when a conversation outgrows the context: leave the oldest turns out of the
#: prompt (the paper's multi-turn setting), or refuse the message and say so.
CONTEXT_FULL_CHOICES = ("drop_oldest", "stop")
#: Speculative decoding modes the window offers (runtime.chat.speculative): "draft" with the draft
#: model file of the settings' ``draft_model``.
WINDOW_SPECULATIVE_MODES = ("off", "lookup", "auto", "draft")
