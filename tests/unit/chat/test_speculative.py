"""Speculative decoding by prompt lookup: the drafter, and the host's answers against plain decoding.

Real llama.cpp throughout: stories260K.gguf through the host process, and SmolLM2-135M-Instruct
(a real instruction model, where copying pays) in a child process. No timing is asserted; the
speed figures are bench/speculative.py's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.chat import speculative
from runtime.chat.client import HostClient
from runtime.chat.speculative import MODES, PromptLookup, check_mode
from runtime.errors import ParameterError
from tests.unit.conftest import EVENT_TIMEOUT_S, answer_text, collect, finished

REPO_ROOT = Path(__file__).resolve().parents[3]

# stories260K continues a story that repeats its own opening: copying pays.
COPY_PROMPT = (
    "Once upon a time, there was a little girl named Lily. She liked to play with her ball in the park. "
    "One day, Lily saw a big dog. Once upon a time, there was a little girl named Lily. She liked to play"
)


# -- the drafter ---------------------------------------------------------------------------------


def test_lookup_copies_what_followed_the_latest_earlier_occurrence() -> None:
    lookup = PromptLookup()
    tokens = [1, 2, 3, 10, 11, 1, 2, 3, 20, 21, 22, 5, 1, 2, 3]
    assert lookup.draft(tokens, 3) == [20, 21, 22]  # the later of the two earlier "1 2 3"


def test_lookup_prefers_the_longest_ngram() -> None:
    lookup = PromptLookup()
    # "3" alone last occurred before 40; "2 3" only before 30.
    tokens = [2, 3, 30, 31, 9, 3, 40, 41, 2, 3]
    assert lookup.draft(tokens, 2) == [30, 31]


def test_lookup_never_finds_its_own_occurrence_and_may_find_nothing() -> None:
    lookup = PromptLookup()
    assert lookup.draft([1, 2, 3, 4], 4) == []
    assert lookup.draft([7], 4) == []


def test_lookup_continues_a_repeating_pattern_past_the_end() -> None:
    lookup = PromptLookup()
    assert lookup.draft([5, 6, 5, 6], 5) == [5, 6, 5, 6, 5]


def test_lookup_indexes_a_growing_list_and_starts_over_on_another() -> None:
    lookup = PromptLookup()
    tokens = [1, 2, 8, 9]
    assert lookup.draft(tokens, 2) == []
    tokens += [1, 2]
    assert lookup.draft(tokens, 2) == [8, 9]
    assert lookup.draft([4, 5, 6, 4], 2) == [5, 6]  # a new answer's list: a fresh index


def test_the_draft_length_grows_with_full_batches_and_falls_to_what_was_kept() -> None:
    length = speculative.FIRST_DRAFT
    grown = []
    for _ in range(4):  # every draft kept: 8, 16, 32, then the most
        length = speculative.next_draft_length(length, drafted=length, accepted=length, most=32)
        grown.append(length)
    assert grown == [16, 32, 32, 32]
    assert speculative.next_draft_length(32, drafted=32, accepted=5, most=32) == 6
    assert speculative.next_draft_length(6, drafted=6, accepted=0, most=32) == speculative.MIN_DRAFT
    # A drafter that had fewer tokens to propose says nothing about a longer batch.
    assert speculative.next_draft_length(16, drafted=3, accepted=3, most=32) == 16
    # A draft model allowed fewer than MIN_DRAFT never gets more than it allows.
    assert speculative.next_draft_length(1, drafted=1, accepted=0, most=1) == 1


def test_modes_are_checked() -> None:
    assert check_mode(None) == "off"
    for mode in MODES:
        assert check_mode(mode) == mode
    with pytest.raises(ParameterError):
        check_mode("fast")


# -- the host, stories260K -----------------------------------------------------------------------


def _answer(host: HostClient, mode: str, **params: object) -> tuple[str, dict[str, object]]:
    events = collect(host, "generate", prompt=COPY_PROMPT, params=params, speculative=mode)
    return answer_text(events), finished(events)


def test_lookup_gives_the_plain_text_at_temperature_zero_and_accepts_drafts(stories_host: HostClient) -> None:
    params = {"max_tokens": 96, "temperature": 0.0, "seed": 1}
    plain, plain_stats = _answer(stories_host, "off", **params)
    text, stats = _answer(stories_host, "lookup", **params)
    assert text == plain
    assert stats["generated_tokens"] == plain_stats["generated_tokens"]
    assert stats["speculative"] == "lookup" and plain_stats["speculative"] == "off"
    assert plain_stats["drafted"] == plain_stats["accepted"] == plain_stats["verifications"] == 0
    assert stats["verifications"] > 0
    assert 0 < stats["accepted"] <= stats["drafted"]


@pytest.mark.parametrize("mode", ["lookup", "auto"])
def test_a_seeded_sampled_answer_is_the_plain_one(stories_host: HostClient, mode: str) -> None:
    # The sampler chain draws once per answer token, in order, in every mode: same seed, same text.
    params = {"max_tokens": 80, "temperature": 0.8, "top_k": 40, "top_p": 0.9, "repeat_penalty": 1.1, "seed": 7}
    plain, _ = _answer(stories_host, "off", **params)
    text, stats = _answer(stories_host, mode, **params)
    assert text == plain
    assert stats["speculative"] == mode


def test_stop_strings_and_length_end_the_answer_as_in_plain_decoding(stories_host: HostClient) -> None:
    params = {"max_tokens": 60, "temperature": 0.0, "seed": 1}
    full, _ = _answer(stories_host, "off", **params)
    stop = full.split()[6]
    for max_tokens in (1, 2, 7, 60):
        runs = {}
        for mode in ("off", "lookup"):
            events = collect(
                stories_host,
                "generate",
                prompt=COPY_PROMPT,
                params={**params, "max_tokens": max_tokens},
                stop=[stop],
                speculative=mode,
            )
            runs[mode] = (answer_text(events), finished(events)["reason"], finished(events)["generated_tokens"])
        assert runs["lookup"] == runs["off"], max_tokens


def test_an_unknown_mode_is_refused(stories_host: HostClient) -> None:
    events = collect(stories_host, "generate", prompt=COPY_PROMPT, params={"max_tokens": 4}, speculative="fast")
    assert events[-1]["event"] == "error" and events[-1]["kind"] == "ParameterError"
    assert finished(collect(stories_host, "generate", prompt=COPY_PROMPT, params={"max_tokens": 4}))


# -- SmolLM2, a real instruction model -----------------------------------------------------------


# The engine in a child, loaded with exact_batches as `chat --speculative` loads it: flash attention
# on, where llama.cpp's batched logits are bit-identical to one-token logits (with it off, the CPU
# default, a batch's rows past the second differ by up to 0.77 on this model, and greedy text can differ).
_SMOLLM2_CHILD = """
import json, sys
from runtime.chat import templates
from runtime.chat.engine import Engine
from runtime.decoding import DecodingParams
threads, max_tokens, modes = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split(",")
engine = Engine()
engine.load(sys.argv[1], n_ctx=2048, n_threads=threads, exact_batches=True)
prompt = templates.render("embedded", [templates.Turn(user=sys.argv[2])], jinja_source=engine.info.chat_template)
tokens = engine.prompt_tokens(prompt)
out = {}
for mode in modes:
    parts = []
    params = DecodingParams(max_tokens=max_tokens, temperature=0.0, seed=1)
    stats = engine.generate(tokens, params, stop=prompt.stop, on_text=parts.append, speculative=mode)
    out[mode] = {"text": "".join(parts), "accepted": stats.accepted, "tokens": stats.generated_tokens}
print(json.dumps(out))
"""


_LIGHTHOUSE = (
    "The old lighthouse stood at the edge of the cliff for more than a hundred years. Every night "
    "its keeper climbed the narrow stairs, lit the lamp, and watched the ships pass safely through "
    "the rocky strait."
)
_PYTHON = (
    "Python is a programming language that lets you work quickly and integrate systems more "
    "effectively. It has a large standard library, a friendly community, and runs on every major "
    "operating system. Many scientists use it for data analysis, and many companies use it to build "
    "web services and automate their daily work."
)


# "off" evaluates the whole prompt, "lookup" and "auto" reuse its cache and evaluate only the last
# prompt token: the proofreading answer's text changed with that before the engine evaluated the
# last prompt token alone every time.
@pytest.mark.parametrize(
    ("prompt", "copied"),
    [
        ("Repeat the following text exactly, then add one sentence at the end:\n\n" + _LIGHTHOUSE, "narrow stairs"),
        ("Proofread this paragraph and return the corrected version:\n\n" + _PYTHON, "standard library"),
    ],
    ids=["repeat", "proofread"],
)
def test_smollm2_lookup_gives_the_plain_text_and_accepts_copies(smollm2_gguf: Path, prompt: str, copied: str) -> None:
    out = _smollm2_answers(smollm2_gguf, prompt, threads=1, max_tokens=96, modes=("off", "lookup", "auto"))
    assert out["lookup"]["text"] == out["off"]["text"]
    assert out["auto"]["text"] == out["off"]["text"]
    assert copied in out["off"]["text"]  # the model did copy
    assert out["lookup"]["accepted"] > 0


def _smollm2_answers(
    model: Path, prompt: str, *, threads: int, max_tokens: int, modes: tuple[str, ...]
) -> dict[str, dict[str, object]]:
    child = subprocess.run(
        [sys.executable, "-c", _SMOLLM2_CHILD, str(model), prompt, str(threads), str(max_tokens), ",".join(modes)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=10 * EVENT_TIMEOUT_S,
        check=False,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    return json.loads(child.stdout.strip().splitlines()[-1])


def test_smollm2_lookup_with_two_threads_past_256_tokens_gives_the_plain_text(smollm2_gguf: Path) -> None:
    # From position 256 on, llama.cpp's CPU flash attention splits a lone token's attention
    # across threads and sums it in another order than a batch row: this answer (300 tokens after
    # a 40-token prompt) then differed from plain decoding at two threads, until such tokens
    # were decoded on one thread (engine.SPLIT_ATTENTION_FROM).
    prompt = "How do I start running if I have never exercised before?"
    out = _smollm2_answers(smollm2_gguf, prompt, threads=2, max_tokens=300, modes=("off", "lookup"))
    assert out["off"]["tokens"] == 300  # the answer did reach past position 256
    assert out["lookup"]["text"] == out["off"]["text"]
    assert out["lookup"]["accepted"] > 0


def test_chat_json_reports_the_speculative_counts(stories_gguf: Path, tmp_path: Path) -> None:
    base = ["chat", str(stories_gguf), "--prompt", COPY_PROMPT, "--template", "raw", "--json"]
    base += ["--max-tokens", "48", "--temperature", "0", "--seed", "1", "--threads", "1"]
    answers = {}
    for mode in ("off", "lookup"):
        result = subprocess.run(
            [sys.executable, "-m", "runtime.cli", *base, "--speculative", mode],
            cwd=REPO_ROOT,
            env={**os.environ, "ALPACA_DESK_HOME": str(tmp_path), "PYTHONIOENCODING": "utf-8"},
            capture_output=True,
            text=True,
            encoding="utf-8",
            timeout=10 * EVENT_TIMEOUT_S,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        answers[mode] = json.loads(result.stdout)
    assert answers["lookup"]["answer"] == answers["off"]["answer"]
    stats = answers["lookup"]["stats"]
    assert stats["speculative"] == "lookup"
    assert stats["verifications"] > 0 and 0 < stats["accepted"] <= stats["drafted"]
    assert answers["off"]["stats"]["drafted"] == 0
