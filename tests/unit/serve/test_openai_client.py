"""The official ``openai`` client against ``alpaca-desk serve`` (a real process over stories260K)."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import openai
import pytest

from tests.unit.serve.conftest import KEY, REPO_ROOT, SERVER_CTX, Server, cli_command

PROMPT = "Once upon a time"


def client_for(server: Server, *, key: str = KEY) -> openai.OpenAI:
    # No retries: a refused request must show as it is, not be repeated.
    return openai.OpenAI(api_key=key, base_url=server.url, max_retries=0, timeout=300)


def test_models_lists_the_loaded_model(server: Server) -> None:
    models = client_for(server).models.list()
    assert [m.id for m in models.data] == ["stories260K.gguf"]
    assert models.data[0].owned_by == "alpaca-desk"


def test_streamed_chat_joins_to_the_whole_answer(server: Server) -> None:
    client = client_for(server)
    messages = [
        {"role": "system", "content": "Tell a story."},
        {"role": "user", "content": PROMPT},
    ]
    whole = client.chat.completions.create(model="stories260K.gguf", messages=messages, temperature=0, max_tokens=40)
    text = whole.choices[0].message.content
    assert text and whole.choices[0].finish_reason == "length"
    assert whole.choices[0].message.role == "assistant"
    assert whole.usage is not None
    assert whole.usage.completion_tokens == 40
    assert whole.usage.total_tokens == whole.usage.prompt_tokens + 40

    chunks = list(
        client.chat.completions.create(
            model="stories260K.gguf",
            messages=messages,
            temperature=0,
            max_tokens=40,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "length"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.model_dump() == whole.usage.model_dump()
    assert len({c.id for c in chunks}) == 1


def test_temperature_0_gives_the_command_line_chat_answer(server: Server, isolated_dirs: Path) -> None:
    answer = client_for(server).chat.completions.create(
        model="any", messages=[{"role": "user", "content": PROMPT}], temperature=0, max_tokens=30
    )
    model = server.banner[0]  # the same file the CLI chat loads
    assert "stories260K.gguf" in model
    cli = subprocess.run(
        cli_command("chat", "--prompt", PROMPT, "--temperature", "0", "--max-tokens", "30")
        + ["--ctx", str(SERVER_CTX), "--json"],
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_DESK_HOME": str(isolated_dirs), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )
    assert cli.returncode == 0, cli.stderr
    assert answer.choices[0].message.content == json.loads(cli.stdout)["answer"]


def test_completions_continue_a_raw_prompt_and_stop_at_a_stop_string(server: Server) -> None:
    client = client_for(server)
    result = client.completions.create(model="stories260K.gguf", prompt=PROMPT, max_tokens=12, temperature=0)
    assert result.choices[0].text.startswith(",")
    assert result.usage is not None
    assert (result.usage.prompt_tokens, result.usage.completion_tokens) == (5, 12)  # BOS + 4 pieces

    stopped = client.completions.create(
        model="stories260K.gguf", prompt=PROMPT, max_tokens=60, temperature=0, stop=["little"]
    )
    assert "little" not in stopped.choices[0].text
    assert stopped.choices[0].finish_reason == "stop"
    assert result.choices[0].text.startswith(stopped.choices[0].text)

    streamed = client.completions.create(
        model="stories260K.gguf", prompt=PROMPT, max_tokens=12, temperature=0, stream=True
    )
    assert "".join(c.choices[0].text for c in streamed) == result.choices[0].text


def test_a_prompt_over_the_context_is_refused_with_context_length_exceeded(server: Server) -> None:
    client = client_for(server)
    long_text = "Once upon a time there was a cat. " * 600  # well over 4,096 tokens
    with pytest.raises(openai.BadRequestError) as chat:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": long_text}])
    assert chat.value.code == "context_length_exceeded"
    assert chat.value.status_code == 400
    with pytest.raises(openai.BadRequestError) as completion:
        client.completions.create(model="m", prompt=long_text)
    assert completion.value.code == "context_length_exceeded"
    # A conversation too long as a whole is refused too, not shortened behind the client's back.
    turns = [{"role": r, "content": "Once upon a time there was a cat. " * 40} for r in ("user", "assistant") * 10]
    with pytest.raises(openai.BadRequestError) as conversation:
        client.chat.completions.create(model="m", messages=[*turns, {"role": "user", "content": "And then?"}])
    assert conversation.value.code == "context_length_exceeded"


def test_max_tokens_is_capped_by_the_context(server: Server) -> None:
    result = client_for(server).completions.create(
        model="m", prompt="Once upon a time there was a cat. " * 400, max_tokens=8000, temperature=0
    )
    assert result.usage is not None
    assert result.usage.prompt_tokens + result.usage.completion_tokens <= SERVER_CTX


def test_refused_features_name_their_field(server: Server) -> None:
    client = client_for(server)
    cases = [
        ({"n": 2}, "n"),
        ({"presence_penalty": 0.5}, "presence_penalty"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]}, "tools"),
    ]
    for extra, field in cases:
        with pytest.raises(openai.BadRequestError) as refused:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}], **extra)
        assert field in str(refused.value)
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="m", messages=[{"role": "user", "content": [image]}])
    assert "image_url" in str(refused.value)


def test_six_concurrent_streams_all_finish(server: Server) -> None:
    client = client_for(server)
    results: dict[int, tuple[str, str | None]] = {}
    errors: list[BaseException] = []

    def ask(seed: int) -> None:
        try:
            stream = client.chat.completions.create(
                model="m",
                messages=[{"role": "user", "content": PROMPT}],
                max_tokens=24,
                temperature=0.8,
                seed=seed,
                stream=True,
            )
            parts: list[str] = []
            reason = None
            for chunk in stream:
                parts.append(chunk.choices[0].delta.content or "")
                reason = chunk.choices[0].finish_reason or reason
            results[seed] = ("".join(parts), reason)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sorted(results) == list(range(6))
    assert all(text and reason == "length" for text, reason in results.values())


def test_a_client_that_leaves_mid_stream_cancels_its_answer_and_the_next_is_served(server: Server) -> None:
    client = client_for(server)
    before = server.log().count("cancelled answer stopped after")
    stream = client.chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": PROMPT}],
        max_tokens=4000,  # minutes of decoding if the cancel were lost
        temperature=0.8,
        stream=True,
    )
    for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            break
    stream.close()  # the connection is closed mid-answer

    after = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": PROMPT}], max_tokens=5, temperature=0
    )
    assert after.usage is not None and after.usage.completion_tokens == 5
    stopped = server.wait_for_log(r"cancelled answer stopped after (\d+) tokens", before + 1)
    assert int(stopped[-1].group(1)) < 4000


def test_a_wrong_key_is_refused(server: Server) -> None:
    with pytest.raises(openai.AuthenticationError):
        client_for(server, key="not-the-key").models.list()


def test_the_banner_says_a_key_is_required(server: Server) -> None:
    assert any(line.startswith("API key: required") for line in server.banner)


def test_serve_with_prompt_lookup_gives_the_plain_text_and_reports_its_drafts(
    server: Server, own_server: Callable[..., Server]
) -> None:
    # A prompt that repeats itself, so that copying from it pays; the shared server decodes plainly.
    prompt = "Once upon a time, there was a little girl named Lily. " * 4 + "Once upon a time,"
    speculative = own_server("--ctx", str(SERVER_CTX), "--speculative", "lookup")
    assert "Speculative decoding: lookup" in speculative.banner
    plain = client_for(server).completions.create(model="m", prompt=prompt, max_tokens=60, temperature=0)
    drafted = client_for(speculative).completions.create(model="m", prompt=prompt, max_tokens=60, temperature=0)
    assert drafted.choices[0].text == plain.choices[0].text
    assert plain.usage is not None and drafted.usage is not None
    assert plain.usage.completion_tokens_details is None
    details = drafted.usage.completion_tokens_details
    assert details is not None and details.accepted_prediction_tokens
    assert details.rejected_prediction_tokens is not None
