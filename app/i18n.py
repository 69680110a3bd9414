"""Translations: the app's own (assets/translations/*.qm) and Qt's for standard dialogs."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from runtime.paths import assets_dir

log = logging.getLogger(__name__)

# Languages the app ships, by code, with their names as shown in the language menu (each
# in its own language, so a user who cannot read the current one still finds theirs).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
_installed: list[QTranslator] = []


def resolve_language(setting: str) -> str:
    """``system`` becomes the system locale's language when shipped, else English."""
    if setting in LANGUAGES:
        return setting
    name = QLocale.system().name()  # e.g. "zh_CN", "zh_TW", "en_US"
    if name.startswith("zh"):
        return "zh_CN"
    return "en"


def install_translators(language: str) -> str:
    """Replace the installed translators with those for ``language``; return the language used."""
    app = QCoreApplication.instance()
    for translator in _installed:
        QCoreApplication.removeTranslator(translator)
    _installed.clear()
    code = resolve_language(language)
    QLocale.setDefault(QLocale(code))
    if code == "en" or app is None:
        return code
    own = QTranslator(app)
    path = assets_dir() / "translations" / f"alpaca_desk_{code}.qm"
    if own.load(str(path)):
        QCoreApplication.installTranslator(own)
        _installed.append(own)
    else:
        log.warning("translation %s not found; run `make translations`", path)
    qt = QTranslator(app)
    if qt.load(QLocale(code), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        QCoreApplication.installTranslator(qt)
        _installed.append(qt)
    return code
