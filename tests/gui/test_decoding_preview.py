"""The prompt preview renders off the GUI thread: a model file's runaway template never blocks the window."""

from __future__ import annotations

import time
from typing import Any

import pytest
from PySide6.QtCore import QEventLoop, QTimer

from app.views import decoding_panel as panel_module
from app.views.decoding_panel import DecodingPanel
from runtime.chat.templates import Turn
from tests.gui.stall import stall_meter

# "Not on the GUI thread", not a speed target: the window's own budget is 50 ms
# (bench/gui_latency.py); a render on the GUI thread would stall it for a second or more.
STALL_BOUND_MS = 500.0


@pytest.fixture
def panel(qtbot) -> DecodingPanel:
    widget = DecodingPanel()
    qtbot.addWidget(widget)
    widget.resize(320, 800)
    return widget


def _largest_stall_until_rendered(panel: DecodingPanel, start: Any, *, timeout_ms: int = 60_000) -> tuple[float, float]:
    """Call ``start()`` and run the event loop until the preview shows a new render.

    Returns:
        The longest time the event loop could not run (gap between ticks of a 16 ms timer, less
        the interval), and the elapsed time, both in ms.
    """
    loop = QEventLoop()
    panel.preview_rendered.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    started = time.perf_counter()
    with stall_meter() as stall:
        start()
        loop.exec()
    elapsed = (time.perf_counter() - started) * 1000.0
    panel.preview_rendered.disconnect(loop.quit)
    return stall.worst, elapsed


def test_runaway_template_preview_keeps_the_event_loop_responsive(panel: DecodingPanel, qtbot) -> None:
    # Runs until the sandbox's time limit ends it (unique text: the sandbox remembers refusals).
    runaway = "{# preview stall #}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
    panel.set_template_choice("embedded")
    panel.set_preview_turns([], "hello")
    qtbot.waitUntil(lambda: "no embedded chat template" in panel.preview_text(), timeout=30_000)

    stall, elapsed = _largest_stall_until_rendered(panel, lambda: panel.set_jinja_source(runaway, "runaway.gguf"))
    text = panel.preview_text()
    assert "runaway.gguf" in text and "Chinese-Alpaca-2" in text, text
    assert elapsed > 900  # the template really ran for its second...
    # ...and not on this thread.
    assert stall < STALL_BOUND_MS, f"the GUI thread worked {stall:.0f} ms without a turn of the event loop"

    # Once refused, the same template is refused again without another wait.
    stall, _ = _largest_stall_until_rendered(panel, lambda: panel.set_preview_turns([], "hello again"))
    assert "runaway.gguf" in panel.preview_text()
    assert stall < STALL_BOUND_MS


def test_preview_shows_the_newest_state_when_changes_arrive_during_a_render(
    panel: DecodingPanel, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_render = panel_module.render
    renders: list[str] = []

    def slow_first_render(name: str, turns: Any, **kwargs: Any) -> Any:
        # The real render, held back for the first draft so that later changes arrive during it.
        renders.append(turns[-1].user)
        if turns[-1].user == "first":
            time.sleep(0.5)
        return real_render(name, turns, **kwargs)

    monkeypatch.setattr(panel_module, "render", slow_first_render)
    panel.set_template_choice("raw")
    qtbot.waitUntil(lambda: not panel._preview.is_rendering(), timeout=30_000)
    renders.clear()
    panel.set_preview_turns([], "first")
    qtbot.waitUntil(lambda: renders == ["first"], timeout=30_000)
    for draft in ("second", "third", "newest"):
        panel.set_preview_turns([Turn("q", "a")], draft)
        qtbot.wait(200)  # past the debounce, while the first render still runs
    qtbot.waitUntil(lambda: panel.preview_text() == "<s>qanewest", timeout=30_000)
    # The first render's result was dropped, and the drafts typed meanwhile were not queued up:
    # one render of the newest state followed it.
    assert renders[0] == "first" and renders[-1] == "newest"
    assert len(renders) <= 3, renders
    assert "first" not in panel.preview_text()


def test_every_refusal_has_a_translated_message(qapp) -> None:
    from app.messages import _messages
    from runtime.chat import _jinja_sandbox

    # The codes are built from the reason (embedded_template_<reason>), so the check in
    # test_messages.py, which looks for code="..." in the source, cannot find them.
    codes = {f"embedded_template_{reason}" for reason in _jinja_sandbox.REFUSAL_REASONS}
    codes |= {"embedded_template_missing", "template_sandbox_failed"}
    assert codes <= set(_messages())
