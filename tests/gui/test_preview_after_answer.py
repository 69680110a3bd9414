"""The prompt preview follows the conversation: while an answer is written it shows the prompt that
produced it, and once the answer is in, the prompt the next message will produce.

Through the real window, with llama.cpp answering on a tiny real model whose GGUF carries a
ChatML chat template (the issue saw the preview stop at ``<|im_start|>assistant\\n<|im_end|>``:
the answer, empty when the preview was made, and never the answer that followed).
"""

from __future__ import annotations

from pathlib import Path

import gguf
import pytest

from app.main_window import MainWindow
from runtime.chat.templates import Turn, render
from tests.unit.conftest import copy_gguf

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LOAD_TIMEOUT_MS = 30_000
ANSWER_TIMEOUT_MS = 60_000


@pytest.fixture
def chatml_gguf(stories_gguf: Path, tmp_path: Path) -> Path:
    """The stories model with a ChatML template in its file (so "automatic" picks the embedded one)."""
    return copy_gguf(
        stories_gguf,
        tmp_path / "stories-chatml.gguf",
        changes={"tokenizer.chat_template": (CHATML, gguf.GGUFValueType.STRING)},
    )


def expected_preview(window: MainWindow, path: Path, draft: str) -> str:
    """The prompt the next message (``draft``) produces: the stored conversation, answered, then it."""
    assert window.conversation_id is not None
    messages = window.store.messages(window.conversation_id)
    turns = [Turn(q.content, a.content) for q, a in zip(messages[::2], messages[1::2], strict=True)]
    system = window.decoding.system_prompt()
    return render("embedded", [*turns, Turn(draft)], system=system, jinja_source=CHATML, jinja_origin=str(path)).text


def test_preview_after_an_answer_is_the_next_prompt(qtbot, window: MainWindow, chatml_gguf: Path) -> None:
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_model(str(chatml_gguf))
    assert window.decoding.effective_template() == "embedded"
    window.decoding.set_params(window.decoding.params().replace(seed=7, max_tokens=24))

    window.input.setPlainText("Once upon a time")
    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS):
        window.send()
    [question, answer] = window.store.messages(window.conversation_id)
    assert answer.status == "complete" and answer.content
    # An empty input box: the conversation so far and the generation prompt after an empty message.
    expected = expected_preview(window, chatml_gguf, "")
    qtbot.waitUntil(lambda: window.decoding.preview_text() == expected, timeout=30_000)
    assert f"<|im_start|>assistant\n{answer.content}<|im_end|>\n" in expected

    # A message being typed is the newest turn, answered by the generation prompt.
    window.input.setPlainText("And then?")
    expected = expected_preview(window, chatml_gguf, "And then?")
    qtbot.waitUntil(lambda: window.decoding.preview_text() == expected, timeout=30_000)
    assert expected.endswith("<|im_start|>user\nAnd then?<|im_end|>\n<|im_start|>assistant\n")


def test_preview_while_an_answer_is_written_is_the_prompt_that_produced_it(
    qtbot, window: MainWindow, chatml_gguf: Path
) -> None:
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_model(str(chatml_gguf))
    window.decoding.set_params(window.decoding.params().replace(seed=7, max_tokens=24))
    window.input.setPlainText("Once upon a time")
    asked = render("embedded", [Turn("Once upon a time")], jinja_source=CHATML, jinja_origin=str(chatml_gguf)).text
    rendered: list[str] = []
    window.decoding.preview_rendered.connect(rendered.append)
    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS):
        window.send()
    # Every preview shown from the send on is the question's prompt or, once answered, the next one:
    # never one with the answer left empty.
    qtbot.waitUntil(lambda: window.decoding.preview_text() == expected_preview(window, chatml_gguf, ""))
    assert all(text == asked or "<|im_start|>assistant\n<|im_end|>" not in text for text in rendered), rendered
