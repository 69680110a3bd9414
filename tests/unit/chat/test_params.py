"""Decoding parameters: the paper's defaults (section 6.2), ranges and presets."""

from __future__ import annotations

import json

import pytest

from runtime.decoding import PRESETS, RANGES, DecodingParams
from runtime.errors import ParameterError


def test_defaults_are_the_papers() -> None:
    """Chinese-LLaMA paper, section 6.2: context 2048, 512 new tokens, T 0.2, top-k 40, top-p 0.9,
    repetition penalty 1.1."""
    p = DecodingParams()
    assert (p.n_ctx, p.max_tokens, p.temperature, p.top_k, p.top_p, p.repeat_penalty) == (
        2048,
        512,
        0.2,
        40,
        0.9,
        1.1,
    )
    assert p.seed is None
    assert PRESETS["multi-turn chat"].temperature == 0.5
    assert PRESETS["multi-turn chat"].replace(temperature=0.2) == DecodingParams()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_ctx", 128),
        ("n_ctx", (1 << 20) + 256),
        ("max_tokens", 0),
        ("max_tokens", 9000),
        ("temperature", -0.1),
        ("temperature", 2.5),
        ("top_k", -1),
        ("top_k", 201),
        ("top_p", 1.01),
        ("top_p", -0.5),
        ("repeat_penalty", 0.9),
        ("repeat_penalty", 2.01),
        ("n_ctx", 1000.5),  # not a whole number
        ("top_k", "40"),  # not a number
        ("temperature", True),  # a bool is not a number here
        ("seed", -1),
        ("seed", 2**32),
    ],
)
def test_out_of_range_values_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ParameterError, match=rf"^{field}\b"):
        DecodingParams(**{field: value})  # type: ignore[arg-type]
    # ParameterError is a ValueError too, for callers that only know the standard one.
    with pytest.raises(ValueError):
        DecodingParams().replace(**{field: value})


def test_range_bounds_are_accepted() -> None:
    for name, rng in RANGES.items():
        if name in ("n_ctx", "max_tokens"):
            continue
        assert getattr(DecodingParams(**{name: rng.low}), name) == rng.low
        assert getattr(DecodingParams(**{name: rng.high}), name) == rng.high
    assert DecodingParams(n_ctx=256, max_tokens=255).n_ctx == 256
    assert DecodingParams(n_ctx=32768, max_tokens=8192).max_tokens == 8192
    assert DecodingParams(seed=0).seed == 0 and DecodingParams(seed=2**32 - 1).seed == 2**32 - 1


def test_max_tokens_must_leave_room_for_the_prompt() -> None:
    with pytest.raises(ParameterError, match=r"max_tokens \(512\).*n_ctx \(512\)"):
        DecodingParams(n_ctx=512)


def test_from_dict_ignores_unknown_keys_and_round_trips() -> None:
    params = DecodingParams(temperature=0.7, top_k=20, seed=42)
    data = params.to_dict()
    assert DecodingParams.from_dict({**data, "min_p": 0.05, "mirostat": 2}) == params
    assert DecodingParams.from_dict({}) == DecodingParams()
    assert json.loads(json.dumps(data)) == data
