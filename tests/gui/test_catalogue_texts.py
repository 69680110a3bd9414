"""The catalogue's notes in the interface's language: each note of the shipped catalogue has a
Chinese translation, and the hub dialog shows it with the Chinese interface, also when that
language comes from the system's locale (the "system" setting) rather than a choice."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from app.catalogue_texts import CONTEXT, NOTES, catalogue_text
from app.context import AppContext
from app.i18n import install_translators
from app.main_window import MainWindow
from runtime.hub.catalogue import SEARCH_RESULT_LICENCE, load_catalogue
from tests.fakehub import FakeHub

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def chinese(qapp) -> Iterator[None]:
    install_translators("zh_CN")
    yield
    install_translators("en")


def test_every_note_of_the_catalogue_is_listed_for_translation() -> None:
    notes = {entry.licence for entry in load_catalogue().entries if entry.licence} | {SEARCH_RESULT_LICENCE}
    assert notes <= set(NOTES), f"add to app/catalogue_texts.NOTES: {sorted(notes - set(NOTES))}"


def test_every_note_has_a_chinese_translation(chinese: None) -> None:
    from PySide6.QtCore import QCoreApplication

    untranslated = [note for note in NOTES if not CJK.search(QCoreApplication.translate(CONTEXT, note))]
    assert untranslated == [], "translate these in the Catalogue context (tools/translate_zh.py)"


def test_a_note_without_a_translation_falls_back_to_the_catalogues_chinese(chinese: None) -> None:
    assert catalogue_text("A note from a newer catalogue.", "较新目录中的说明。") == "较新目录中的说明。"
    install_translators("en")
    assert catalogue_text("A note from a newer catalogue.", "较新目录中的说明。") == "A note from a newer catalogue."


def test_hub_dialog_shows_the_licence_in_chinese(qtbot, hub: FakeHub, chinese: None) -> None:
    context = AppContext.open(show_errors=False)
    assert context.settings.language == "system"  # Chinese from the locale, not from the setting
    context.settings.hub_endpoint = hub.url
    context.settings.hub_offline = True  # the shipped catalogue's entries, as they are
    window = MainWindow(context)
    window._replaced = True  # closing it in a test must not quit the shared QApplication
    qtbot.addWidget(window)
    try:
        dialog = window.hub_controller.open_dialog()
        entry = next(e for e in load_catalogue().entries if e.format == "lora")
        dialog.select_repo(entry.repo)
        qtbot.waitUntil(lambda: entry.repo in dialog.details.text())
        text = dialog.details.text()
        assert "合并后的模型沿用 LLaMA 的非商业研究许可" in text, text
        assert entry.licence not in text
        dialog.close()
    finally:
        context.close()
