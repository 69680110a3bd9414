"""Speculative decoding with a draft model: a second GGUF in the host that drafts for the model.

Real llama.cpp throughout, through the host process: stories260K drafting for itself (a model
drafting for itself is sure where the model is, and its drafts are what the model draws), SmolLM2
with a 2-layer cut of itself (its embeddings, output and first two blocks: the same vocabulary,
another model), and stories260K's 512-piece vocabulary refused as SmolLM2's drafter. No timing is
asserted; the speed figures are bench/speculative.py's.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gguf
import pytest

from runtime.chat.client import HostClient
from tests.draft_pair import cut_layers
from tests.unit.conftest import EVENT_TIMEOUT_S, TEST_THREADS, answer_text, collect, copy_gguf, finished

REPO_ROOT = Path(__file__).resolve().parents[3]

STORY = "Once upon a time, there was a little girl named Lily. She liked to"
GREEDY = {"temperature": 0.0, "seed": 1, "repeat_penalty": 1.0}


@pytest.fixture(scope="module")
def self_drafting_host(stories_gguf: Path) -> Iterator[HostClient]:
    """stories260K loaded as `chat --speculative draft` loads it, with itself as the draft model."""
    client = HostClient()
    try:
        client.call(
            "load",
            path=str(stories_gguf),
            n_ctx=1024,
            n_threads=TEST_THREADS,
            exact_batches=True,
            draft=str(stories_gguf),
            timeout=EVENT_TIMEOUT_S,
        )
        yield client
    finally:
        client.stop()


def _answer(host: HostClient, mode: str, prompt: str = STORY, **params: object) -> tuple[str, dict[str, object]]:
    events = collect(host, "generate", prompt=prompt, params=params, speculative=mode)
    return answer_text(events), finished(events)


def test_a_model_drafting_for_itself_gives_the_plain_text_and_is_accepted(self_drafting_host: HostClient) -> None:
    plain, plain_stats = _answer(self_drafting_host, "off", max_tokens=96, **GREEDY)
    text, stats = _answer(self_drafting_host, "draft", max_tokens=96, **GREEDY)
    assert text == plain
    assert stats["generated_tokens"] == plain_stats["generated_tokens"]
    assert stats["speculative"] == "draft" and plain_stats["drafted"] == 0
    assert stats["verifications"] > 0 and stats["drafted"] >= 2 * stats["verifications"]
    assert stats["accepted"] > 0.9 * stats["drafted"]


def test_the_drafter_follows_a_new_prompt_and_a_longer_conversation(self_drafting_host: HostClient) -> None:
    # Its KV cache is brought in step with each prompt: a prefix shared with the last one is kept,
    # the rest evaluated again. The text stays the plain one whichever came before.
    prompts = [STORY, "One day, a boy named Tom went to the park.", STORY + " play in the park. One day"]
    for prompt in prompts:
        plain, _ = _answer(self_drafting_host, "off", prompt, max_tokens=40, **GREEDY)
        text, stats = _answer(self_drafting_host, "draft", prompt, max_tokens=40, **GREEDY)
        assert text == plain, prompt
        assert stats["accepted"] > 0


def test_a_seeded_sampled_answer_is_the_plain_one(self_drafting_host: HostClient) -> None:
    params = {"max_tokens": 60, "temperature": 0.8, "top_k": 40, "top_p": 0.9, "repeat_penalty": 1.1, "seed": 7}
    plain, _ = _answer(self_drafting_host, "off", **params)
    text, _ = _answer(self_drafting_host, "draft", **params)
    assert text == plain


def test_draft_mode_without_a_draft_model_is_refused(stories_host: HostClient) -> None:
    events = collect(stories_host, "generate", prompt=STORY, params={"max_tokens": 4}, speculative="draft")
    assert events[-1]["event"] == "error" and events[-1]["code"] == "draft_model_missing"


def test_an_incompatible_drafter_is_refused_naming_both_files(smollm2_gguf: Path, stories_gguf: Path) -> None:
    client = HostClient()
    try:
        events = collect(
            client, "load", path=str(smollm2_gguf), n_ctx=512, n_threads=TEST_THREADS, draft=str(stories_gguf)
        )
        error = events[-1]
        assert error["event"] == "error" and error["kind"] == "DraftModelIncompatible"
        assert error["code"] == "draft_model_incompatible"
        # The model asked for is the one loaded (not the previous one): it answers without drafts.
        assert error["draft_refused"] is True and error["loaded"]["path"] == str(smollm2_gguf.resolve())
        assert error["params"]["draft"] == stories_gguf.name and error["params"]["model"] == smollm2_gguf.name
        assert "vocabulary" in error["params"]["difference"]
        assert stories_gguf.name in error["message"] and smollm2_gguf.name in error["message"]
        # The model stays loaded, without a drafter.
        assert collect(client, "info")[-1]["event"] == "result"
        refused = collect(client, "generate", prompt="Hi", params={"max_tokens": 2}, speculative="draft")
        assert refused[-1]["code"] == "draft_model_missing"
    finally:
        client.stop()


def _swapped_tokens(src: Path, dst: Path) -> Path:
    tokens = list(gguf.GGUFReader(src).fields["tokenizer.ggml.tokens"].contents())
    tokens[300], tokens[301] = tokens[301], tokens[300]
    array = gguf.GGUFValueType.ARRAY, gguf.GGUFValueType.STRING
    return copy_gguf(src, dst, changes={"tokenizer.ggml.tokens": (tokens, *array)})


def _other_eos(src: Path, dst: Path) -> Path:
    return copy_gguf(src, dst, changes={"tokenizer.ggml.eos_token_id": (5, gguf.GGUFValueType.UINT32)})


@pytest.mark.parametrize(
    ("make", "difference"), [(_swapped_tokens, "token 300 is"), (_other_eos, "EOS token 2 vs 5")], ids=["text", "eos"]
)
def test_a_drafter_with_another_token_text_or_eos_is_refused(
    stories_host: HostClient, stories_gguf: Path, tmp_path: Path, make: object, difference: str
) -> None:
    drafter = make(stories_gguf, tmp_path / "other.gguf")  # type: ignore[operator]
    error = collect(stories_host, "load_draft", path=str(drafter))[-1]
    assert error["event"] == "error" and error["code"] == "draft_model_incompatible"
    assert error["params"]["difference"].startswith(difference)
    # The same file, unchanged, is accepted; a null path unloads it again.
    assert collect(stories_host, "load_draft", path=str(stories_gguf))[-1]["event"] == "loaded"
    assert finished(collect(stories_host, "generate", prompt=STORY, params={"max_tokens": 8}, speculative="draft"))
    assert collect(stories_host, "load_draft", path=None)[-1]["event"] == "unloaded"


@pytest.fixture(scope="module")
def smollm2_cut(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_layers(smollm2_gguf, tmp_path_factory.mktemp("draft") / "smollm2-2-layers.gguf", keep=2)


def test_smollm2_with_a_cut_of_itself_gives_the_plain_text(smollm2_gguf: Path, smollm2_cut: Path) -> None:
    # Both answers from one host loaded with exact_batches, as `chat --speculative` loads: flash
    # attention on for plain decoding too (with it off, the CPU default, near ties can turn).
    client = HostClient()
    try:
        client.call(
            "load",
            path=str(smollm2_gguf),
            n_ctx=512,
            n_threads=TEST_THREADS,
            exact_batches=True,
            draft=str(smollm2_cut),
            timeout=EVENT_TIMEOUT_S,
        )
        turns = [{"user": "Repeat exactly: The old lighthouse stood at the edge of the cliff for a hundred years."}]
        answers = {}
        for mode in ("off", "draft"):
            events = collect(
                client,
                "chat",
                template="embedded",
                turns=turns,
                params={"max_tokens": 40, **GREEDY},
                speculative=mode,
            )
            answers[mode] = (answer_text(events), finished(events))
    finally:
        client.stop()
    assert answers["draft"][0] == answers["off"][0]
    assert "lighthouse" in answers["off"][0]
    stats = answers["draft"][1]
    assert stats["speculative"] == "draft"
    assert 0 <= stats["accepted"] <= stats["drafted"]


def test_chat_json_reports_the_draft_counts(stories_gguf: Path, tmp_path: Path) -> None:
    base = ["chat", str(stories_gguf), "--prompt", STORY, "--template", "raw", "--json"]
    base += ["--max-tokens", "48", "--temperature", "0", "--seed", "1", "--threads", str(TEST_THREADS)]
    answers = {}
    for mode in ("off", "draft"):
        extra = ["--speculative", mode] + (["--draft", str(stories_gguf)] if mode == "draft" else [])
        result = subprocess.run(
            [sys.executable, "-m", "runtime.cli", *base, *extra],
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
    assert answers["draft"]["answer"] == answers["off"]["answer"]
    stats = answers["draft"]["stats"]
    assert stats["speculative"] == "draft"
    assert stats["verifications"] > 0 and 0 < stats["accepted"] <= stats["drafted"]
    assert answers["off"]["stats"]["drafted"] == 0


def test_chat_refuses_draft_mode_without_a_draft_file(stories_gguf: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "runtime.cli", "chat", str(stories_gguf), "--prompt", "Hi", "--speculative", "draft"],
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_DESK_HOME": str(tmp_path), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=10 * EVENT_TIMEOUT_S,
        check=False,
    )
    assert result.returncode != 0
    assert "--draft FILE" in result.stderr
