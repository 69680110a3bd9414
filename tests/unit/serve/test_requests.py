"""Request bodies as the server reads them: messages into the window's turns, fields checked by name."""

from __future__ import annotations

import pytest

from runtime.chat.templates import Turn
from runtime.serve.guard import allowed_hosts
from runtime.serve.requests import ApiError, parse_chat, parse_completion, parse_detokenize
from runtime.serve.server import ServeConfig, is_loopback, url_of


def chat(*messages: tuple[str, object], **fields: object) -> dict[str, object]:
    return {"model": "m", "messages": [{"role": r, "content": c} for r, c in messages], **fields}


def test_messages_become_the_windows_turns() -> None:
    request = parse_chat(
        chat(("system", "Be brief."), ("user", "Hi"), ("assistant", "Hello."), ("user", "Name a city."))
    )
    assert request.system == "Be brief."
    assert request.turns == (Turn(user="Hi", assistant="Hello."), Turn(user="Name a city."))
    assert request.sampling.max_tokens is None and request.sampling.temperature is None


def test_no_system_message_keeps_the_templates_default() -> None:
    assert parse_chat(chat(("user", "Hi"))).system is None
    assert parse_chat(chat(("system", ""), ("user", "Hi"))).system == ""


def test_messages_of_one_role_in_a_row_are_joined_and_text_parts_read() -> None:
    parts = [{"type": "text", "text": "Name "}, {"type": "text", "text": "a city."}]
    request = parse_chat(chat(("user", "Hi"), ("user", parts), ("developer", "Be brief.")))
    assert request.turns == (Turn(user="Hi\n\nName a city."),)
    assert request.system == "Be brief."


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"n": 3}, "n"),
        ({"frequency_penalty": 0.2}, "frequency_penalty"),
        ({"tools": [{"type": "function"}]}, "tools"),
        ({"logprobs": True}, "logprobs"),
        ({"max_tokens": "10"}, "max_tokens"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"temperature": True}, "temperature"),
        ({"stop": [1]}, "stop"),
        ({"response_format": {"type": "json_object"}}, "response_format"),
    ],
)
def test_refusals_name_the_field(fields: dict[str, object], param: str) -> None:
    with pytest.raises(ApiError) as refused:
        parse_chat(chat(("user", "Hi"), **fields))
    assert refused.value.status == 400
    assert refused.value.param == param
    assert param in refused.value.message


def test_zero_penalties_and_one_choice_are_accepted() -> None:
    request = parse_chat(chat(("user", "Hi"), n=1, presence_penalty=0, frequency_penalty=0.0, stop="END"))
    assert request.sampling.stop == ("END",)


def test_images_and_tool_messages_are_refused() -> None:
    image = [{"type": "image_url", "image_url": {"url": "http://x/y.png"}}]
    with pytest.raises(ApiError, match="image_url"):
        parse_chat(chat(("user", image)))
    with pytest.raises(ApiError, match="tool"):
        parse_chat(chat(("user", "Hi"), ("tool", "42")))
    with pytest.raises(ApiError, match="no user message"):
        parse_chat(chat(("system", "Be brief.")))


def test_out_of_range_values_are_refused_before_the_host() -> None:
    sampling = parse_completion({"prompt": "a", "top_p": 1.5}).sampling
    with pytest.raises(ApiError, match="top_p"):
        sampling.params(n_ctx=2048, max_tokens=1)


def test_the_answer_budget_is_capped_by_the_context() -> None:
    sampling = parse_completion({"prompt": "a", "max_tokens": 5000}).sampling
    assert sampling.answer_budget(prompt_tokens=2000, n_ctx=2048) == 48
    assert parse_completion({"prompt": "a"}).sampling.answer_budget(prompt_tokens=10, n_ctx=2048) == 512


def test_detokenize_checks_ids_against_the_vocabulary() -> None:
    assert parse_detokenize({"tokens": [0, 511]}, 512) == [0, 511]
    with pytest.raises(ApiError, match="512"):
        parse_detokenize({"tokens": [512]}, 512)
    with pytest.raises(ApiError):
        parse_detokenize({"tokens": [True]}, 512)


def test_only_loopback_addresses_go_without_a_key() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("my-host")
    ServeConfig(model="m", template="raw").check()
    ServeConfig(model="m", template="raw", host="0.0.0.0", api_key="k").check()
    with pytest.raises(Exception, match="--api-key-file"):
        ServeConfig(model="m", template="raw", host="0.0.0.0").check()


def test_host_names_and_urls() -> None:
    assert allowed_hosts("127.0.0.1", 8080) >= {"127.0.0.1:8080", "localhost:8080"}
    assert "127.0.0.1" not in allowed_hosts("127.0.0.1", 8080)
    assert url_of("0.0.0.0", 8080) == "http://127.0.0.1:8080/v1"
    assert url_of("::1", 9) == "http://[::1]:9/v1"
