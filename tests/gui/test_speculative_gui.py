"""Speculative decoding in the window (issue 25): the decoding panel's choice is kept, applies
from the next load (the model is then opened with flash attention), and an answer's details give
the share of drafted tokens accepted."""

from __future__ import annotations

from pathlib import Path

from app.main_window import MainWindow
from tests.gui.clicks import choose_in_combo, click
from tests.gui.model_steps import LOAD_TIMEOUT_MS, answer, load


def test_prompt_lookup_is_chosen_reloaded_and_its_acceptance_shown(
    qtbot, local_window: MainWindow, stories_gguf: Path
) -> None:
    window = local_window
    panel = window.decoding
    assert panel.speculative() == "off" and window.ctx.settings.speculative == "off"
    panel.set_params(panel.params().replace(temperature=0.0, max_tokens=60))
    load(qtbot, window, stories_gguf)
    plain = answer(qtbot, window)
    assert plain["speculative"] == "off" and plain["drafted"] == 0
    assert "drafted tokens accepted" not in window.chat.messages()[-1].detail_label.text()

    # Chosen while the model is loaded: kept, and it asks for a reload (flash attention).
    choose_in_combo(qtbot, panel._speculative, "lookup")
    assert window.ctx.settings.speculative == "lookup"
    banner = window.banner
    assert banner.isVisible() and "speculative decoding" in banner.label.text()
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        click(qtbot, banner.action_button)
    assert window.client.model_info["speculative"] == "lookup"

    drafted = answer(qtbot, window)
    assert drafted["speculative"] == "lookup"
    assert 0 < drafted["accepted"] <= drafted["drafted"]
    share = drafted["accepted"] / drafted["drafted"]
    assert f"{share:.0%} of drafted tokens accepted" in window.chat.messages()[-1].detail_label.text()
