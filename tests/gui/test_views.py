"""The decoding side panel and the conversation list, driven offscreen with pytest-qt."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.views.conversation_list import ConversationListView
from app.views.decoding_panel import DecodingPanel
from runtime.chat.templates import Turn
from runtime.decoding import PRESETS, DecodingParams

PAPER = DecodingParams(n_ctx=2048, max_tokens=512, temperature=0.2, top_k=40, top_p=0.9, repeat_penalty=1.1, seed=None)


@pytest.fixture
def panel(qtbot) -> DecodingPanel:
    widget = DecodingPanel()
    qtbot.addWidget(widget)
    widget.resize(320, 800)
    return widget


@pytest.fixture
def conversations(qtbot) -> ConversationListView:
    widget = ConversationListView()
    qtbot.addWidget(widget)
    widget.resize(280, 500)
    return widget


# --- DecodingPanel --------------------------------------------------------------------------


def test_panel_starts_with_paper_defaults(panel: DecodingPanel) -> None:
    assert panel.params() == PAPER
    assert panel._preset.currentData() == "single-turn (paper)"
    assert not panel._seed.isEnabled()


def test_slider_moves_spinbox_and_back(panel: DecodingPanel, qtbot) -> None:
    temperature = panel._controls["temperature"]
    with qtbot.waitSignal(panel.params_changed) as blocker:
        temperature.slider.setValue(14)  # 14 steps of 0.05
    assert temperature.spin.value() == pytest.approx(0.7)
    assert blocker.args[0].temperature == pytest.approx(0.7)

    temperature.set_value(1.5)
    assert temperature.slider.value() == 30

    n_ctx = panel._controls["n_ctx"]
    n_ctx.slider.setValue(n_ctx.slider.value() + 1)
    assert panel.params().n_ctx == 2048 + 256
    # A typed value between two steps is kept; the slider shows the nearest step.
    n_ctx.spin.setValue(3000)
    assert panel.params().n_ctx == 3000
    assert n_ctx.slider.value() == round((3000 - 256) / 256)


def test_wheel_over_unfocused_slider_changes_nothing(panel: DecodingPanel) -> None:
    # Scrolling the panel past a slider must not change the value under the pointer.
    slider = panel._controls["temperature"].slider
    before = slider.value()
    event = QWheelEvent(
        QPointF(5, 5),
        QPointF(5, 5),
        QPoint(0, 0),
        QPoint(0, -120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(slider, event)
    assert slider.value() == before
    assert panel.params() == PAPER


def test_preset_applies_and_editing_shows_custom(panel: DecodingPanel, qtbot) -> None:
    index = panel._preset.findData("multi-turn chat")
    with qtbot.waitSignal(panel.params_changed) as blocker:
        panel._preset.activated.emit(index)
    assert panel.params().temperature == 0.5
    assert blocker.args[0] == PRESETS["multi-turn chat"]
    assert panel._preset.currentIndex() == index

    panel._controls["top_k"].spin.setValue(50)
    assert panel._preset.currentText() == "Custom"
    # Going back to the preset's values names the preset again.
    panel._controls["top_k"].spin.setValue(40)
    assert panel._preset.currentData() == "multi-turn chat"


def test_preset_keeps_a_fixed_seed(panel: DecodingPanel) -> None:
    panel._random_seed.setChecked(False)
    panel._seed.setValue(1234)
    assert panel._seed.isEnabled()
    panel._preset.activated.emit(panel._preset.findData("multi-turn chat"))
    assert panel.params() == PRESETS["multi-turn chat"].replace(seed=1234)


def test_reset_restores_paper_defaults(panel: DecodingPanel, qtbot) -> None:
    panel.set_params(DecodingParams(n_ctx=4096, max_tokens=1000, temperature=1.3, top_k=5, seed=7))
    assert panel.params().seed == 7
    with qtbot.waitSignal(panel.params_changed):
        qtbot.mouseClick(panel._reset, Qt.MouseButton.LeftButton)
    assert panel.params() == PAPER
    assert (panel.params().n_ctx, panel.params().max_tokens) == (2048, 512)
    assert panel._random_seed.isChecked()


def test_small_context_clamps_max_tokens(panel: DecodingPanel, qtbot) -> None:
    panel.set_params(DecodingParams(n_ctx=4096, max_tokens=3000))
    with qtbot.waitSignal(panel.params_changed) as blocker:
        panel._controls["n_ctx"].spin.setValue(512)
    params = panel.params()
    assert isinstance(params, DecodingParams)
    assert params.n_ctx == 512
    assert params.max_tokens == 511
    assert blocker.args[0] == params
    assert panel._controls["max_tokens"].spin.maximum() == 511
    assert panel._controls["max_tokens"].slider.maximum() == 510
    # The bound follows the context back up.
    panel._controls["n_ctx"].spin.setValue(8192)
    assert panel._controls["max_tokens"].spin.maximum() == 8191


def test_clamping_emits_one_signal(panel: DecodingPanel, qtbot) -> None:
    panel.set_params(DecodingParams(n_ctx=4096, max_tokens=3000))
    seen: list[DecodingParams] = []
    panel.params_changed.connect(seen.append)
    panel._controls["n_ctx"].spin.setValue(1024)
    assert seen == [panel.params()]


def test_set_params_round_trip_and_quiet_when_unchanged(panel: DecodingPanel, qtbot) -> None:
    wanted = DecodingParams(
        n_ctx=1024, max_tokens=256, temperature=0.75, top_k=0, top_p=0.5, repeat_penalty=1.3, seed=99
    )
    with qtbot.waitSignal(panel.params_changed):
        panel.set_params(wanted)
    assert panel.params() == wanted
    with qtbot.assertNotEmitted(panel.params_changed):
        panel.set_params(wanted)


def test_template_choice_and_auto(panel: DecodingPanel, qtbot) -> None:
    assert panel.template_choice() is None
    assert panel.effective_template() == "raw"
    panel.set_auto_template("chinese-alpaca-2")
    assert panel.effective_template() == "chinese-alpaca-2"
    assert panel._template.itemText(0).startswith("Automatic: Chinese-Alpaca-2")
    with qtbot.waitSignal(panel.template_changed) as blocker:
        panel.set_template_choice("chinese-alpaca")
    assert blocker.args == ["chinese-alpaca"]
    assert panel.template_choice() == "chinese-alpaca"
    assert panel.effective_template() == "chinese-alpaca"
    with qtbot.waitSignal(panel.template_changed) as blocker:
        panel.set_template_choice(None)
    assert blocker.args == [None]
    panel.set_template_choice("no-such-template")
    assert panel.template_choice() is None


def test_system_prompt(panel: DecodingPanel, qtbot) -> None:
    panel.set_template_choice("chinese-alpaca")
    assert panel.system_prompt() is None
    assert "Below is an instruction" in panel._system.placeholderText()
    with qtbot.waitSignal(panel.system_prompt_changed) as blocker:
        panel.set_system_prompt("Answer briefly.")
    assert blocker.args == ["Answer briefly."]
    assert panel.system_prompt() == "Answer briefly."
    with qtbot.waitSignal(panel.system_prompt_changed) as blocker:
        panel.set_system_prompt(None)
    assert blocker.args == [None]


def test_preview_renders_template_and_draft(panel: DecodingPanel, qtbot) -> None:
    panel.set_template_choice("chinese-alpaca")
    panel.set_preview_turns([Turn("第一个问题", "第一个回答")], "请介绍一下北京")
    qtbot.waitUntil(lambda: "请介绍一下北京" in panel.preview_text(), timeout=30_000)
    text = panel.preview_text()
    assert "### Instruction:" in text
    assert "第一个回答" in text
    assert text.startswith("<s>Below is an instruction")
    assert text.endswith("### Response:\n\n")

    panel.set_system_prompt("You are terse.")
    qtbot.waitUntil(lambda: panel.preview_text().startswith("<s>You are terse."), timeout=30_000)


def test_preview_shows_template_errors(panel: DecodingPanel, qtbot) -> None:
    # "embedded" needs the model's Jinja source, which no model has given yet.
    panel.set_template_choice("embedded")
    panel.set_preview_turns([], "hello")
    qtbot.waitUntil(lambda: "no embedded chat template" in panel.preview_text(), timeout=30_000)
    panel.set_jinja_source("{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}{% endfor %}")
    qtbot.waitUntil(lambda: panel.preview_text() == "<user>hello", timeout=30_000)


# --- ConversationListView -------------------------------------------------------------------

ITEMS = [(3, "Trip to Yunnan", 1_700_000_000.0), (5, "", 1_690_000_000.0), (8, "Python help", 1.6e9)]


def test_untitled_and_order(conversations: ConversationListView) -> None:
    conversations.set_conversations(ITEMS)
    texts = [conversations._list.item(i).text() for i in range(conversations._list.count())]
    assert texts == ["Trip to Yunnan", "Untitled", "Python help"]
    assert conversations.current_id() is None


def test_selected_emitted_on_user_choice_only(conversations: ConversationListView, qtbot) -> None:
    conversations.set_conversations(ITEMS)
    with qtbot.waitSignal(conversations.selected) as blocker:
        conversations._list.setCurrentRow(2)
    assert blocker.args == [8]
    assert conversations.current_id() == 8
    with qtbot.assertNotEmitted(conversations.selected):
        conversations.select(5)
        # A refresh keeps the selection without reporting it again.
        conversations.set_conversations(list(reversed(ITEMS)))
    assert conversations.current_id() == 5
    conversations.select(None)
    assert conversations.current_id() is None


def test_new_and_import_buttons(conversations: ConversationListView, qtbot) -> None:
    with qtbot.waitSignal(conversations.new_requested):
        qtbot.mouseClick(conversations._new, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(conversations.import_requested):
        qtbot.mouseClick(conversations._import, Qt.MouseButton.LeftButton)


def test_search_is_debounced(conversations: ConversationListView, qtbot) -> None:
    seen: list[str] = []
    conversations.search_changed.connect(seen.append)
    qtbot.keyClicks(conversations._search, "alp")
    assert seen == []
    qtbot.waitUntil(lambda: seen == ["alp"], timeout=30_000)
    qtbot.wait(300)
    assert seen == ["alp"]


def test_rename_in_place(conversations: ConversationListView, qtbot) -> None:
    conversations.set_conversations(ITEMS)
    item = conversations._list.item(1)
    with qtbot.waitSignal(conversations.rename_requested) as blocker:
        item.setText("  Named now ")
    assert blocker.args == [5, "Named now"]
    # An empty title is refused and the old text comes back.
    with qtbot.assertNotEmitted(conversations.rename_requested):
        conversations._list.item(0).setText("   ")
    assert conversations._list.item(0).text() == "Trip to Yunnan"


def test_context_menu_export_and_delete(conversations: ConversationListView, qtbot, monkeypatch) -> None:
    conversations.set_conversations(ITEMS)
    menu = conversations._build_context_menu(conversations._list.item(0))
    actions = {a.text(): a for a in menu.actions() if a.text()}
    assert set(actions) == {"Rename", "Export as Markdown…", "Export as JSON…", "Delete…"}
    with qtbot.waitSignal(conversations.export_requested) as blocker:
        actions["Export as Markdown…"].trigger()
    assert blocker.args == [3, "markdown"]
    with qtbot.waitSignal(conversations.export_requested) as blocker:
        actions["Export as JSON…"].trigger()
    assert blocker.args == [3, "json"]

    monkeypatch.setattr(conversations, "_confirm_delete", lambda title: False)
    with qtbot.assertNotEmitted(conversations.delete_requested):
        actions["Delete…"].trigger()
    monkeypatch.setattr(conversations, "_confirm_delete", lambda title: True)
    with qtbot.waitSignal(conversations.delete_requested) as blocker:
        actions["Delete…"].trigger()
    assert blocker.args == [3]
    menu.deleteLater()


def test_empty_state(conversations: ConversationListView, qtbot) -> None:
    conversations.show()
    qtbot.waitExposed(conversations)
    assert conversations._empty.isVisible()
    assert not conversations._list.isVisible()
    conversations.set_conversations(ITEMS)
    assert conversations._list.isVisible()
    assert not conversations._empty.isVisible()


def test_threads_control_is_automatic_by_default_and_shows_the_count_in_use(qtbot) -> None:
    from app.views.decoding_panel import DecodingPanel

    panel = DecodingPanel()
    qtbot.addWidget(panel)
    assert panel.threads() is None
    assert panel._threads.text() == "Automatic"
    panel.show_threads_in_use(1)
    assert panel._threads.text() == "Automatic (1 in use)"
    with qtbot.waitSignal(panel.threads_changed) as blocker:
        panel.set_threads(1)
    assert blocker.args == [1] and panel.threads() == 1 and panel._threads.text() == "1"
    panel.set_threads(10_000)  # more than the cores: capped
    assert panel.threads() == panel._threads.maximum()
    with qtbot.waitSignal(panel.threads_changed) as blocker:
        panel.set_threads(None)
    assert blocker.args == [None]
