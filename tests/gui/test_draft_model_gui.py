"""Speculative decoding with a draft model in the window (issue 25): "Draft model" in the decoding
panel with its file (kept across a restart), a real drafter loaded beside the model in the host
(SmolLM2 with a cut of itself), an incompatible drafter refused with the translated message while
the model answers on, a refused file that leaves the previous model drafting as it was loaded, and
the hub's "Speed up with the 1.3B model" downloading the drafter and making it the draft model."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.context import AppContext
from app.main_window import MainWindow
from app.views.hub_view import FILE_ROLE, REPO_ROLE
from tests.draft_pair import cut_layers
from tests.fakehub import FakeHub
from tests.gui.clicks import answering_file_dialog, choose_in_combo, choose_menu, click, click_item, tree_row
from tests.gui.model_steps import answer, load

#: SmolLM2 repeats a sentence it is asked to: a text its first layers already predict, to draft.
REPEAT = "Repeat exactly: The old lighthouse stood at the edge of the cliff for a hundred years."
TARGET_REPO = "hfl/chinese-alpaca-2-7b-gguf"
DRAFTER_REPO = "hfl/chinese-alpaca-2-1.3b-gguf"


@pytest.fixture(scope="module")
def smollm2_cut(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2 without its last two blocks: its vocabulary, a smaller model that agrees with it often
    enough to have drafts kept (the cut of two blocks tests/unit/chat uses drafts little here)."""
    return cut_layers(smollm2_gguf, tmp_path_factory.mktemp("draft") / "smollm2-cut.gguf", keep=28)


def choose_draft_model(qtbot, window: MainWindow, path: Path) -> None:
    """Speculative decoding: Draft model, then "Draft model…" answered with ``path``."""
    panel = window.decoding
    choose_in_combo(qtbot, panel._speculative, "draft")
    row = panel._draft_row
    with answering_file_dialog(qtbot, str(path)) as seen:
        click(qtbot, row.choose_button)
    assert seen == ["Choose a draft model"]
    assert panel.draft_model() == str(path) and not row.hint.isVisible()


def test_the_draft_model_choice_and_file_are_kept_across_a_restart(
    qtbot, local_window: MainWindow, stories_gguf: Path
) -> None:
    window = local_window
    panel, settings = window.decoding, window.ctx.settings
    row = panel._draft_row
    assert panel.speculative() == "off" and not row.isVisible()
    choose_in_combo(qtbot, panel._speculative, "draft")
    # Chosen without a file: the row under the choice says what to do.
    assert settings.speculative == "draft" and settings.draft_model == ""
    assert row.isVisible() and row.hint.isVisible() and "click Draft model…" in row.hint.text()
    choose_draft_model(qtbot, window, stories_gguf)
    assert settings.draft_model == str(stories_gguf)
    assert row.file_label.text() == stories_gguf.name and row.file_label.toolTip() == str(stories_gguf)

    again = AppContext.open(show_errors=False)  # the settings file read again, as at the next start
    try:
        assert (again.settings.speculative, again.settings.draft_model) == ("draft", str(stories_gguf))
        restarted = MainWindow(again)
        restarted._replaced = True
        qtbot.addWidget(restarted)
        restarted.show()
        assert restarted.decoding.speculative() == "draft"
        assert restarted.decoding.draft_model() == str(stories_gguf)
        assert restarted.decoding._draft_row.isVisible() and not restarted.decoding._draft_row.hint.isVisible()
    finally:
        again.close()


def test_choosing_draft_model_without_a_file_loads_without_drafting_and_says_so(
    qtbot, local_window: MainWindow, stories_gguf: Path
) -> None:
    window = local_window
    choose_in_combo(qtbot, window.decoding._speculative, "draft")
    info = load(qtbot, window, stories_gguf)
    assert (info["speculative"], info["draft"]) == ("off", "")
    assert "no draft model file is chosen" in window.banner.label.text()


def test_a_draft_model_drafts_for_the_model(
    qtbot, local_window: MainWindow, smollm2_gguf: Path, smollm2_cut: Path
) -> None:
    window = local_window
    panel = window.decoding
    panel.set_params(panel.params().replace(temperature=0.0, max_tokens=40))
    choose_draft_model(qtbot, window, smollm2_cut)
    info = load(qtbot, window, smollm2_gguf)
    assert (info["speculative"], info["draft"]) == ("draft", str(smollm2_cut))
    stats = answer(qtbot, window, REPEAT)
    assert "lighthouse" in window.chat.messages()[-1].text
    # Drafts came from the drafter in the host (prompt lookup is not on): it was loaded.
    assert stats["speculative"] == "draft"
    assert 0 < stats["accepted"] <= stats["drafted"]
    share = stats["accepted"] / stats["drafted"]
    assert f"{share:.0%} of drafted tokens accepted" in window.chat.messages()[-1].detail_label.text()

    # Another draft file while this one drafts: a reload is offered.
    assert not window.banner.isVisible() or "speculative decoding" not in window.banner.label.text()
    with answering_file_dialog(qtbot, str(smollm2_gguf)):
        click(qtbot, panel._draft_row.choose_button)
    assert window.ctx.settings.draft_model == str(smollm2_gguf)
    assert window.banner.isVisible() and "speculative decoding" in window.banner.label.text()


def test_an_incompatible_draft_model_is_refused_and_the_model_answers_without_it(
    qtbot, local_window: MainWindow, stories_gguf: Path, smollm2_gguf: Path
) -> None:
    window = local_window
    panel = window.decoding
    panel.set_params(panel.params().replace(max_tokens=16))
    choose_draft_model(qtbot, window, smollm2_gguf)  # 49,152 pieces drafting for a 512-piece model
    info = load(qtbot, window, stories_gguf)
    # The host's refusal, through the messages table (app/messages.py), in the window.
    shown = window.banner.label.text()
    assert window.banner.isVisible()
    assert f"{smollm2_gguf.name} cannot draft for {stories_gguf.name}: their vocabularies differ" in shown
    assert "choose a smaller model of the same family" in shown
    # The model stays loaded, drafting off, and answers.
    assert info["path"] == str(stories_gguf.resolve())
    assert (info["speculative"], info["draft"]) == ("off", "")
    assert window.send_button.isEnabled()
    stats = answer(qtbot, window, "Once upon a time")
    assert stats["speculative"] == "off" and stats["generated_tokens"] > 0
    assert window.chat.messages()[-1].text


def test_a_refused_file_leaves_the_previous_model_drafting_as_it_was_loaded(
    qtbot, local_window: MainWindow, stories_gguf: Path, tmp_path: Path
) -> None:
    window = local_window
    panel = window.decoding
    panel.set_params(panel.params().replace(temperature=0.0, max_tokens=60))
    choose_in_combo(qtbot, panel._speculative, "lookup")
    assert load(qtbot, window, stories_gguf)["speculative"] == "lookup"
    damaged = tmp_path / "damaged.gguf"
    damaged.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 64)  # a header that cannot be read
    kept = load(qtbot, window, damaged)  # refused by the host's checks: the previous model stays
    assert window.banner.isVisible() and "damaged.gguf" in window.banner.label.text()
    assert kept["path"] == str(stories_gguf.resolve())
    assert window.client.model_info["speculative"] == "lookup"
    assert answer(qtbot, window)["speculative"] == "lookup"


def test_the_hub_offers_the_1_3b_drafter_and_makes_its_download_the_draft_model(
    qtbot, window: MainWindow, hub: FakeHub, stories_gguf: Path
) -> None:
    name = "ggml-model-q8_0.gguf"
    hub.add(DRAFTER_REPO, name, stories_gguf.read_bytes())
    hub.add(DRAFTER_REPO, "ggml-model-q4_0.gguf", b"\0" * 4096)
    choose_menu(qtbot, window, "Model", "Get models…")
    controller = window.hub_controller
    dialog = controller.dialog
    assert dialog is not None and dialog.isVisible()
    click_item(qtbot, dialog.catalogue, tree_row(dialog.catalogue, DRAFTER_REPO, role=REPO_ROLE))
    assert not dialog.drafter_button.isVisible()  # nothing smaller drafts for the 1.3B
    click_item(qtbot, dialog.catalogue, tree_row(dialog.catalogue, TARGET_REPO, role=REPO_ROLE))
    # The fake hub does not know the 7B: the snapshot's files stay, once the hub was asked.
    qtbot.waitUntil(lambda: not controller._refreshing, timeout=10_000)
    details = dialog.details.text()
    assert f"{DRAFTER_REPO}, of the same vocabulary, can draft" in details and "alpaca-desk chat" not in details
    # The 7B's Q8_0 chosen: the drafter's Q8_0 is downloaded.
    click_item(qtbot, dialog.files, tree_row(dialog.files, name, role=FILE_ROLE))
    click(qtbot, dialog.drafter_button)
    [item] = window.ctx.downloads.items
    assert (item.repo, item.files) == (DRAFTER_REPO, [name])
    assert f"Downloading {DRAFTER_REPO}" in dialog.drafter_note.text()
    qtbot.waitUntil(lambda: item.state == "done", timeout=30_000)
    assert hub.file_gets(DRAFTER_REPO, name) and not hub.file_gets(DRAFTER_REPO, "ggml-model-q4_0.gguf")
    target = window.ctx.paths.models / "hfl" / "chinese-alpaca-2-1.3b-gguf" / name
    panel = window.decoding
    assert panel.speculative() == "draft" and panel.draft_model() == str(target)
    assert (window.ctx.settings.speculative, window.ctx.settings.draft_model) == ("draft", str(target))
    assert f"{DRAFTER_REPO} is the draft model now" in dialog.drafter_note.text()
