"""Long contexts in the window (issue 24): the context control goes up to the loaded model's trained
length, shows the memory it plans for the context chosen, and a full conversation either leaves its
oldest turns out or, by choice, is refused with the typed text kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.main_window import MainWindow
from runtime.decoding import DEFAULT_MAX_CONTEXT
from runtime.models.tiny import write_llama_gguf
from tests.gui.clicks import choose_in_combo, type_text

LOAD_TIMEOUT_MS = 30_000
ANSWER_TIMEOUT_MS = 60_000
CONTEXT_PLAN = re.compile(r"^about (\d+(?:\.\d)?) ([GM]B) of memory, KV cache (\d+(?:\.\d)?) ([GM]B)$")


def _planned_mb(text: str) -> tuple[float, float]:
    """(memory, KV cache) of a planned-memory text, in MB."""
    found = CONTEXT_PLAN.match(text)
    assert found, text
    scale = {"GB": 1000.0, "MB": 1.0}
    return float(found.group(1)) * scale[found.group(2)], float(found.group(3)) * scale[found.group(4)]


def _choose_context(qtbot, window: MainWindow, n_ctx: int) -> None:
    """Type ``n_ctx`` into the context size box, as a user does, and confirm it with Enter."""
    spin = window.decoding._controls["n_ctx"].spin
    type_text(qtbot, spin, str(n_ctx), replace=True)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def _context_to_the_end(qtbot, window: MainWindow) -> None:
    """Move the context size slider to its end with the keyboard (End)."""
    slider = window.decoding._controls["n_ctx"].slider
    slider.setFocus()
    qtbot.keyClick(slider, Qt.Key.Key_End)


def _load(qtbot, window: MainWindow, path: Path) -> None:
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_model(str(path))


@pytest.fixture
def long_models(tmp_path: Path, llama_tokenizer: Path) -> dict[int, Path]:
    """Two tiny models trained (as their headers say) for 16K and 64K tokens; 8 layers of 4 heads,
    so that the KV cache of a long context is tenths of a gigabyte and the plan's text shows it."""
    shape = {"hidden": 128, "layers": 8, "heads": 4, "ffn": 128}
    return {
        n: write_llama_gguf(tmp_path / f"ctx{n}.gguf", tokenizer=llama_tokenizer, context_length=n, **shape)
        for n in (16384, 65536)
    }


def test_the_context_control_goes_up_to_the_models_trained_length_and_plans_its_memory(
    qtbot, local_window: MainWindow, long_models: dict[int, Path]
) -> None:
    window = local_window
    panel = window.decoding
    assert panel.context_limit() == DEFAULT_MAX_CONTEXT and panel.context_plan_text() == ""

    _load(qtbot, window, long_models[16384])
    assert panel.context_limit() == 16384
    # The planned memory appears once the header is read (off the GUI thread), for the context shown.
    qtbot.waitUntil(lambda: panel.context_plan_text() != "", timeout=LOAD_TIMEOUT_MS)
    at_2048 = panel.context_plan_text()
    assert CONTEXT_PLAN.match(at_2048), at_2048
    assert panel._context_plan.isVisible()

    # The slider ends at the trained length, and the spin box takes no more (Qt refuses the key
    # that would pass its maximum: "20000" stops at "2000"); the plan follows the context chosen.
    _choose_context(qtbot, window, 20000)
    assert panel.params().n_ctx == 2000
    _context_to_the_end(qtbot, window)
    assert panel.params().n_ctx == 16384
    at_16k = panel.context_plan_text()
    (total_2048, kv_2048), (total_16k, kv_16k) = _planned_mb(at_2048), _planned_mb(at_16k)
    # 8 layers x 2 x 128 values x 2 bytes = 4 KiB per token in f16: 67 MB at 16K, 8 MB at 2K.
    assert (kv_2048, kv_16k) == (8.0, 67.0), (at_2048, at_16k)
    assert total_16k > total_2048
    # A smaller KV cache type plans less memory for the same context.
    choose_in_combo(qtbot, panel._kv_type, "q4_0")
    assert panel.context_plan_text() != at_16k
    choose_in_combo(qtbot, panel._kv_type, "f16")
    assert panel.context_plan_text() == at_16k

    # The 64K model: the control goes past the app's usual 32K, to 64K.
    _choose_context(qtbot, window, 2048)
    _load(qtbot, window, long_models[65536])
    assert panel.context_limit() == 65536
    _choose_context(qtbot, window, 40000)
    assert panel.params().n_ctx == 40000
    _context_to_the_end(qtbot, window)
    assert panel.params().n_ctx == 65536
    assert window.ctx.settings.params["n_ctx"] == 65536
    at_64k = panel.context_plan_text()
    assert _planned_mb(at_64k)[1] == 300.0, at_64k  # 0.27 GB

    # Without a model the usual bound comes back, but the 64K chosen is not cut to it.
    window.models_controller.unload_model()
    assert panel.context_plan_text() == "" and not panel._context_plan.isVisible()
    assert panel.context_limit() == 65536 and panel.params().n_ctx == 65536


#: About 95 tokens of stories260K's vocabulary: one such message fits a 256-token context with
#: room for a 100-token answer (156 for the prompt), two do not.
LONG_MESSAGE = "Once upon a time there was a little girl named Lily who loved to play in the park with her dog. " * 3


def _send(qtbot, window: MainWindow, text: str) -> None:
    type_text(qtbot, window.input, text.strip())
    window.send()


def test_a_full_context_stops_with_a_message_when_chosen_and_keeps_the_typed_text(
    qtbot, local_window: MainWindow, stories_gguf: Path
) -> None:
    window = local_window
    panel = window.decoding
    # Leaving the oldest turns out is what a full context did before the choice existed.
    assert panel.context_full() == "drop_oldest" and window.ctx.settings.context_full == "drop_oldest"
    choose_in_combo(qtbot, panel._context_full, "stop")
    assert window.ctx.settings.context_full == "stop"
    panel.set_params(panel.params().replace(n_ctx=256, max_tokens=100))
    _load(qtbot, window, stories_gguf)

    with qtbot.waitSignal(window.client.finished, timeout=ANSWER_TIMEOUT_MS):
        _send(qtbot, window, LONG_MESSAGE)
    conversation = window.chat_controller.conversation_id
    assert conversation is not None
    assert [m.role for m in window.store.messages(conversation)] == ["user", "assistant"]

    # The second long message would leave the first turn out: refused, and nothing is lost.
    second = "The next day " + LONG_MESSAGE.strip()
    with qtbot.waitSignal(window.client.context_full, timeout=ANSWER_TIMEOUT_MS):
        _send(qtbot, window, second)
    assert window.input.toPlainText() == second
    assert [m.role for m in window.store.messages(conversation)] == ["user", "assistant"]
    assert [w.role for w in window.chat.messages()] == ["user", "assistant"]
    banner = window.banner
    assert banner.isVisible()
    assert "context of 256 tokens is full" in banner.label.text() and "Your message is kept" in banner.label.text()
    assert not window.client.is_generating

    # Choosing to leave the oldest turns out sends the same text: the first turn is left out.
    choose_in_combo(qtbot, panel._context_full, "drop_oldest")
    assert window.ctx.settings.context_full == "drop_oldest"
    with qtbot.waitSignal(window.client.prompt_ready, timeout=ANSWER_TIMEOUT_MS) as prompt:
        window.send()
    assert prompt.args[1] == 1  # one turn left out
    qtbot.waitUntil(lambda: not window.client.is_generating, timeout=ANSWER_TIMEOUT_MS)
    assert window.input.toPlainText() == ""
    messages = window.store.messages(conversation)
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[2].content == second
    assert "1 earlier turn(s) left out to fit the context" in window.chat.messages()[-1].detail_label.text()


def test_a_long_context_saved_for_a_64k_model_is_shown_at_start_without_a_model(qtbot, context) -> None:
    context.settings.params = {**context.settings.params, "n_ctx": 65536, "max_tokens": 512}
    window = MainWindow(context)
    window._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(window)
    assert window.client.model_info is None
    assert window.decoding.params().n_ctx == 65536 and window.decoding.context_limit() == 65536
    assert window.ctx.settings.params["n_ctx"] == 65536
