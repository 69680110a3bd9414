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
CONTEXT_PLAN = re.compile(r"^about (\d+\.\d) GB of memory, KV cache (\d+\.\d) GB$")


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
    return {
        n: write_llama_gguf(
            tmp_path / f"ctx{n}.gguf", tokenizer=llama_tokenizer, hidden=128, layers=8, heads=4, ffn=128, context_length=n
        )
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
    kv_2048, kv_16k = (float(CONTEXT_PLAN.match(t).group(2)) for t in (at_2048, at_16k))  # type: ignore[union-attr]
    # 8 layers x 2 x 128 values x 2 bytes = 4 KiB per token in f16: 0.07 GB at 16K, 0.01 GB at 2K.
    assert (kv_2048, kv_16k) == (0.0, 0.1), (at_2048, at_16k)
    assert float(CONTEXT_PLAN.match(at_16k).group(1)) > float(CONTEXT_PLAN.match(at_2048).group(1))  # type: ignore[union-attr]
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
    assert float(CONTEXT_PLAN.match(at_64k).group(2)) == 0.3, at_64k  # type: ignore[union-attr]

    # Without a model the usual bound comes back, but the 64K chosen is not cut to it.
    window.models_controller.unload_model()
    assert panel.context_plan_text() == "" and not panel._context_plan.isVisible()
    assert panel.context_limit() == 65536 and panel.params().n_ctx == 65536
