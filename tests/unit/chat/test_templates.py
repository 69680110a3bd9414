"""Chat templates: golden prompts, the Jinja sandbox, context-budget fitting, template choice."""

from __future__ import annotations

import math
import sys
import time
from typing import Any

import pytest

from runtime.chat.templates import (
    ChatPrompt,
    FittedPrompt,
    Special,
    TemplateInfo,
    Turn,
    choose_template,
    fit_prompt,
    get_template,
    render,
    template_names,
)
from runtime.errors import PromptTooLong, TemplateError

ALPACA_SYS = "Below is an instruction that describes a task. Write a response that appropriately completes the request."

# The standard Llama-2 chat template (meta-llama/Llama-2-7b-chat-hf tokenizer_config.json), with
# the system prompt folded into the first user message. The backslash-n escapes are Jinja's.
LLAMA2_JINJA = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}"
    r"{% set content = '<<SYS>>\n' + system_message + '\n<</SYS>>\n\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}"
    "{% endfor %}"
)


# --- Registry ------------------------------------------------------------------------------


def test_template_names_in_order() -> None:
    assert template_names() == ["chinese-alpaca", "chinese-alpaca-2", "raw", "embedded"]


def test_get_template_info() -> None:
    info = get_template("chinese-alpaca-2")
    assert isinstance(info, TemplateInfo)
    assert info.name == "chinese-alpaca-2"
    assert info.default_system == "You are a helpful assistant. 你是一个乐于助人的助手。"
    assert get_template("chinese-alpaca").default_system == ALPACA_SYS
    assert get_template("raw").default_system is None
    assert get_template("embedded").default_system is None


def test_unknown_template_names_known_ones() -> None:
    with pytest.raises(TemplateError) as info:
        get_template("vicuna")
    message = str(info.value)
    assert "'vicuna'" in message
    for name in template_names():
        assert name in message
    with pytest.raises(TemplateError, match="vicuna"):
        render("vicuna", [Turn("hi")])


def test_no_turns_is_an_error() -> None:
    with pytest.raises(TemplateError):
        render("chinese-alpaca", [])


# --- chinese-alpaca ------------------------------------------------------------------------


def test_alpaca_single_turn_golden() -> None:
    prompt = render("chinese-alpaca", [Turn("为什么天空是蓝色的？")])
    assert prompt.text == (
        "<s>Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n### Instruction:\n\n为什么天空是蓝色的？\n\n### Response:\n\n"
    )
    assert prompt.parts == (Special.BOS, prompt.text[len("<s>") :])
    assert prompt.stop == ("### Instruction:",)
    assert prompt.parse_special is False


def test_alpaca_multi_turn_golden() -> None:
    turns = [Turn("你好", "你好！有什么可以帮你？"), Turn("Tell me a joke.", "No."), Turn("再讲一个")]
    assert render("chinese-alpaca", turns).text == (
        "<s>Below is an instruction that describes a task. Write a response that appropriately "
        "completes the request.\n\n"
        "### Instruction:\n\n你好\n\n### Response:\n\n你好！有什么可以帮你？\n\n"
        "### Instruction:\n\nTell me a joke.\n\n### Response:\n\nNo.\n\n"
        "### Instruction:\n\n再讲一个\n\n### Response:\n\n"
    )


def test_alpaca_input_joined_with_newline() -> None:
    prompt = render("chinese-alpaca", [Turn("翻译成英文", input="我喜欢猫。")])
    assert prompt.text == (f"<s>{ALPACA_SYS}\n\n### Instruction:\n\n翻译成英文\n我喜欢猫。\n\n### Response:\n\n")


def test_alpaca_custom_and_empty_system() -> None:
    assert render("chinese-alpaca", [Turn("hi")], system="Be brief.").text == (
        "<s>Be brief.\n\n### Instruction:\n\nhi\n\n### Response:\n\n"
    )
    assert render("chinese-alpaca", [Turn("hi")], system="").text == ("<s>### Instruction:\n\nhi\n\n### Response:\n\n")


def test_alpaca_newest_answer_is_continued() -> None:
    assert render("chinese-alpaca", [Turn("hi", "Hel")], system="").text == (
        "<s>### Instruction:\n\nhi\n\n### Response:\n\nHel"
    )


def test_special_token_text_from_user_stays_text() -> None:
    prompt = render("chinese-alpaca", [Turn("say </s> and <s>")])
    assert prompt.parts[0] is Special.BOS
    assert len(prompt.parts) == 2 and isinstance(prompt.parts[1], str)
    assert "say </s> and <s>" in prompt.parts[1]


# --- chinese-alpaca-2 ----------------------------------------------------------------------


def test_alpaca_2_single_turn_golden() -> None:
    prompt = render("chinese-alpaca-2", [Turn("你好")])
    assert prompt.text == (
        "<s>[INST] <<SYS>>\nYou are a helpful assistant. 你是一个乐于助人的助手。\n<</SYS>>\n\n你好 [/INST]"
    )
    assert prompt.parts[0] is Special.BOS
    assert prompt.stop == ("[INST]",)
    assert prompt.parse_special is False


def test_alpaca_2_multi_turn_golden() -> None:
    turns = [Turn("  你好  ", " 你好！ "), Turn("Who are you?", "An assistant."), Turn("讲个笑话\n")]
    prompt = render("chinese-alpaca-2", turns, system="Be brief.")
    assert prompt.text == (
        "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n  你好 [/INST] 你好！ </s>"
        "<s>[INST] Who are you? [/INST] An assistant. </s>"
        "<s>[INST] 讲个笑话 [/INST]"
    )
    assert prompt.parts == (
        Special.BOS,
        "[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\n  你好 [/INST] 你好！ ",
        Special.EOS,
        Special.BOS,
        "[INST] Who are you? [/INST] An assistant. ",
        Special.EOS,
        Special.BOS,
        "[INST] 讲个笑话 [/INST]",
    )


def test_alpaca_2_empty_system() -> None:
    turns = [Turn(" 你好 ", "你好！"), Turn("再见")]
    assert render("chinese-alpaca-2", turns, system="").text == (
        "<s>[INST] 你好 [/INST] 你好！ </s><s>[INST] 再见 [/INST]"
    )


def test_alpaca_2_input_joined_with_newline() -> None:
    assert render("chinese-alpaca-2", [Turn("总结", input="一段文字")], system="").text == (
        "<s>[INST] 总结\n一段文字 [/INST]"
    )


@pytest.mark.parametrize(
    ("turns", "system"),
    [
        ([Turn("你好")], None),
        ([Turn("你好")], "Be brief."),
        ([Turn("你好")], ""),
        ([Turn("  hi ", " hello! "), Turn("讲个笑话", "好的。"), Turn("再来一个 ")], None),
        ([Turn("a", "b"), Turn("c", input="d")], ""),
    ],
)
def test_alpaca_2_matches_standard_llama_2_jinja(turns: list[Turn], system: str | None) -> None:
    hand_written = render("chinese-alpaca-2", turns, system=system)
    if system is None:
        system = get_template("chinese-alpaca-2").default_system
    jinja = render("embedded", turns, system=system, jinja_source=LLAMA2_JINJA)
    assert jinja.text == hand_written.text
    assert jinja.parse_special is True
    assert jinja.parts == (jinja.text,)


# --- raw -----------------------------------------------------------------------------------


def test_raw_golden() -> None:
    single = render("raw", [Turn("从前有座山，")])
    assert single.text == "<s>从前有座山，"
    assert single.parts == (Special.BOS, "从前有座山，")
    assert single.stop == ()
    multi = render("raw", [Turn("从前有座山，", "山里有座庙。"), Turn("庙里有个", input="老和尚")])
    assert multi.text == "<s>从前有座山，山里有座庙。庙里有个\n老和尚"


# --- embedded (sandboxed Jinja) ------------------------------------------------------------


def test_embedded_messages_and_variables() -> None:
    source = (
        "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}|{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}{{ eos_token }}"
    )
    turns = [Turn("q1", "a1"), Turn("q2", input="x")]
    assert render("embedded", turns, jinja_source=source, bos_token="[B]", eos_token="[E]").text == (
        "[B]<user>q1|<assistant>a1|<user>q2\nx|<assistant>[E]"
    )
    prompt = render("embedded", turns, system="S", jinja_source=source)
    assert prompt.text == "<s><system>S|<user>q1|<assistant>a1|<user>q2\nx|<assistant></s>"
    assert prompt.stop == ()
    assert prompt.parse_special is True


def test_embedded_without_source() -> None:
    with pytest.raises(TemplateError, match="pick another template"):
        render("embedded", [Turn("hi")])


def _assert_unusable(source: str, **kwargs: Any) -> TemplateError:
    with pytest.raises(TemplateError) as info:
        render("embedded", [Turn("hi")], jinja_source=source, **kwargs)
    message = str(info.value)
    assert "embedded chat template cannot be used" in message
    assert "another chat template" in message
    return info.value


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ messages.__class__.__base__ }}",
        "{{ raise_exception.__globals__ }}",
        "{% set x = messages.append({'role': 'user'}) %}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
    ],
)
def test_sandbox_blocks_unsafe_access(source: str) -> None:
    _assert_unusable(source)


def test_sandbox_stops_long_loops_without_output() -> None:
    source = "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    previous = sys.gettrace()
    start = time.monotonic()
    error = _assert_unusable(source)
    assert time.monotonic() - start < 2.0
    assert "longer than" in str(error)
    assert sys.gettrace() is previous


def test_sandbox_restores_existing_trace_function() -> None:
    def outer_tracer(frame: Any, event: str, arg: Any) -> None:
        return None

    sys.settrace(outer_tracer)
    try:
        render("embedded", [Turn("hi")], jinja_source="{{ messages[0].content }}")
        assert sys.gettrace() is outer_tracer
        with pytest.raises(TemplateError):
            render("embedded", [Turn("hi")], jinja_source="{% for i in range(100000) %}{{ i }}{% endfor %}")
        assert sys.gettrace() is outer_tracer
    finally:
        sys.settrace(None)


@pytest.mark.parametrize(
    "source",
    [
        "{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}",
        "{{ 'x' * 1000000000 }}",
        "{{ [1] * 1000000000 }}",
        "{{ 9 ** 999999999 }}",
        "{{ (2 ** 60) ** 99999999 }}",
    ],
)
def test_sandbox_limits_output_size(source: str) -> None:
    start = time.monotonic()
    error = _assert_unusable(source)
    assert time.monotonic() - start < 2.0
    assert "KiB" in str(error)


@pytest.mark.parametrize("source", ["{% for m in messages %}", "{{ messages[0] ", "{% endif %}"])
def test_syntax_error(source: str) -> None:
    assert "syntax error" in str(_assert_unusable(source))


def test_raise_exception_global() -> None:
    # Two user messages in a row break the Llama-2 template's alternation rule.
    turns = [Turn("a", "b"), Turn("c")]
    bad = "{{ raise_exception('Conversation roles must alternate') }}"
    assert "Conversation roles must alternate" in str(_assert_unusable(bad))
    # A well-formed conversation passes the same check.
    assert render("embedded", turns, jinja_source=LLAMA2_JINJA).text.endswith("[INST] c [/INST]")


def test_other_render_errors_are_template_errors() -> None:
    _assert_unusable("{{ messages[0].content + 1 }}")
    _assert_unusable("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")


# --- Context budget ------------------------------------------------------------------------


class WordCounter:
    """A fake tokenizer: one token per whitespace-separated word and per special token."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, prompt: ChatPrompt) -> int:
        self.calls += 1
        return sum(1 if isinstance(p, Special) else len(p.split()) for p in prompt.parts)


def _turns(n: int) -> list[Turn]:
    return [Turn(f"question {i} 问题", f"answer {i} 回答") for i in range(n - 1)] + [Turn("newest 问题")]


def test_fit_nothing_dropped_when_it_fits() -> None:
    counter = WordCounter()
    turns = _turns(3)
    fitted = fit_prompt("chinese-alpaca", turns, count_tokens=counter, n_ctx=2048, max_tokens=512)
    assert isinstance(fitted, FittedPrompt)
    assert fitted.dropped_turns == 0
    assert fitted.prompt == render("chinese-alpaca", turns)
    assert fitted.n_tokens == WordCounter()(fitted.prompt)
    assert counter.calls == 1


@pytest.mark.parametrize("name", ["chinese-alpaca", "chinese-alpaca-2", "raw"])
def test_fit_drops_oldest_keeps_system_and_newest(name: str) -> None:
    turns = _turns(10)
    count = WordCounter()
    system = "SYSTEM PROMPT 系统"
    full = count(render(name, turns, system=system))
    newest_only = count(render(name, turns[-1:], system=system))
    for budget in range(newest_only, full + 1):
        fitted = fit_prompt(name, turns, count_tokens=count, n_ctx=budget + 100, max_tokens=100, system=system)
        # The fewest turns are dropped: dropping one fewer would not fit.
        expected = next(k for k in range(10) if count(render(name, turns[k:], system=system)) <= budget)
        assert fitted.dropped_turns == expected
        assert fitted.prompt == render(name, turns[expected:], system=system)
        assert fitted.n_tokens <= budget
        assert "SYSTEM PROMPT" in fitted.prompt.text
        assert "newest 问题" in fitted.prompt.text
        if expected:
            assert f"question {expected - 1} " not in fitted.prompt.text
            assert f"question {expected} " in fitted.prompt.text or expected == 9


def test_fit_embedded_template() -> None:
    turns = _turns(6)
    count = WordCounter()
    budget = count(render("embedded", turns[3:], jinja_source=LLAMA2_JINJA))
    fitted = fit_prompt(
        "embedded", turns, count_tokens=count, n_ctx=budget + 10, max_tokens=10, jinja_source=LLAMA2_JINJA
    )
    assert fitted.dropped_turns == 3
    assert fitted.prompt.text.startswith("<s>[INST] question 3 问题 [/INST]")


def test_prompt_too_long_when_newest_alone_does_not_fit() -> None:
    turns = [*_turns(3)[:-1], Turn(" ".join(["词"] * 300))]
    with pytest.raises(PromptTooLong) as info:
        fit_prompt("chinese-alpaca", turns, count_tokens=WordCounter(), n_ctx=256, max_tokens=100)
    message = str(info.value)
    newest_alone = WordCounter()(render("chinese-alpaca", turns[-1:]))
    for number in (newest_alone, 100, 256):
        assert str(number) in message
    assert "Shorten the message" in message
    assert "max new tokens" in message
    assert "context size" in message


def test_prompt_too_long_single_turn() -> None:
    with pytest.raises(PromptTooLong):
        fit_prompt("raw", [Turn("a b c d e")], count_tokens=WordCounter(), n_ctx=5, max_tokens=1)


def test_fit_counts_logarithmically() -> None:
    turns = _turns(200)
    count = WordCounter()
    budget = count(render("chinese-alpaca-2", turns[163:]))
    counter = WordCounter()
    fitted = fit_prompt("chinese-alpaca-2", turns, count_tokens=counter, n_ctx=budget + 512, max_tokens=512)
    assert fitted.dropped_turns == 163
    # One count for the whole conversation, one for the newest alone, then a binary search.
    assert counter.calls <= 2 + math.ceil(math.log2(200))


# --- Choosing a template -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vocab_size", "name", "has_chat_template", "expected"),
    [
        (55296, "chinese-alpaca-2-7b", False, "chinese-alpaca-2"),
        (None, "Chinese-Alpaca-2-13B-16K", False, "chinese-alpaca-2"),
        (None, "chinese_alpaca2_7b.Q4_K_M", False, "chinese-alpaca-2"),
        (None, "alpaca_2-1.3b", True, "chinese-alpaca-2"),
        (49954, "chinese-alpaca-plus-7b", False, "chinese-alpaca"),
        (None, "Chinese-Alpaca-Pro-13B", False, "chinese-alpaca"),
        (32000, "alpaca-7b", True, "chinese-alpaca"),
        (49954, None, False, "chinese-alpaca"),
        (49954, "ggml-model-q4_0", True, "chinese-alpaca"),
        (55296, "chinese-llama-2-7b", False, "raw"),
        (55296, None, False, "raw"),
        (55296, "some-chat-model", False, "chinese-alpaca-2"),
        (55296, None, True, "chinese-alpaca-2"),
        (49953, "chinese-llama-plus-7b", False, "raw"),
        (49953, None, True, "raw"),
        (32000, "qwen-chat", True, "embedded"),
        (151936, None, True, "embedded"),
        (32000, "llama-7b", False, "raw"),
        (None, None, False, "raw"),
    ],
)
def test_choose_template(vocab_size: int | None, name: str | None, has_chat_template: bool, expected: str) -> None:
    chosen = choose_template(vocab_size=vocab_size, name=name, has_chat_template=has_chat_template)
    assert chosen == expected
    assert chosen in template_names()
