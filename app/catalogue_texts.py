"""The model catalogue's notes in the interface's language.

The catalogue (``assets/hub/catalogue.json``, read by Qt-free :mod:`runtime.hub.catalogue`) holds
its notes in English, and that English text is the key: it is translated here, in the
``Catalogue`` context, like every other string of the app. :data:`NOTES` lists every note so that
lupdate finds them (``QT_TRANSLATE_NOOP``); a test checks that it covers the shipped catalogue and
that each has a translation.
"""

from __future__ import annotations

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale

__all__ = ["CONTEXT", "NOTES", "catalogue_text"]

CONTEXT = "Catalogue"

#: Every note the catalogue shows: the licences of the shipped snapshot's entries and of a
#: repository found by a search.
NOTES = (
    QT_TRANSLATE_NOOP(
        "Catalogue",
        "Llama 2 Community License (Meta) plus the Chinese-LLaMA-Alpaca-2 project's terms; the project's "
        "code is Apache-2.0. Commercial use is allowed within Llama 2's licence.",
    ),
    QT_TRANSLATE_NOOP(
        "Catalogue",
        "LoRA weights only (Apache-2.0 code). Merging needs the original LLaMA weights from Meta, and the "
        "merged model inherits LLaMA's non-commercial research licence.",
    ),
    QT_TRANSLATE_NOOP("Catalogue", "See the repository's page on the hub."),
)


def catalogue_text(english: str, chinese: str = "") -> str:
    """``english``, a note of the catalogue, in the interface's language.

    Args:
        english: The note as the catalogue has it (the translation's key).
        chinese: The catalogue's own Chinese text, used with the Chinese interface for a note
            that this version's translations do not have (a catalogue newer than the app).
    """
    translated = QCoreApplication.translate(CONTEXT, english)
    if translated != english or not chinese:
        return translated
    return chinese if QLocale().language() == QLocale.Language.Chinese else english
