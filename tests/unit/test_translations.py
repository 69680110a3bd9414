"""The Simplified Chinese translation is complete, keeps every placeholder and compiles.

Plain file tests (no QApplication): they run the venv's pyside6-lupdate / pyside6-lrelease.
A ``tr()`` string added to app/ without a translation fails :func:`test_every_app_string_is_translated`.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
TS_FILE = REPO_ROOT / "assets" / "translations" / "alpaca_desk_zh_CN.ts"
HOW_TO_FIX = (
    "Run `make lupdate` (or `.venv/bin/python tools/translate_zh.py`, which also sees app/ files not yet "
    "added to git), then translate the new messages in assets/translations/alpaca_desk_zh_CN.ts: in Qt "
    'Linguist (.venv/bin/pyside6-linguist), by hand (remove type="unfinished"), or by adding them to ZH '
    "in tools/translate_zh.py and running it again."
)


def _tool(name: str) -> Path | None:
    """A PySide6 tool of the running venv (next to sys.executable), else on PATH."""
    bindir = Path(sys.executable).parent
    for candidate in (bindir / name, bindir / f"{name}.exe"):
        if candidate.is_file():
            return candidate
    found = shutil.which(name)
    return Path(found) if found else None


LUPDATE = _tool("pyside6-lupdate")
LRELEASE = _tool("pyside6-lrelease")
needs_lupdate = pytest.mark.skipif(LUPDATE is None, reason="pyside6-lupdate not found next to sys.executable")
needs_lrelease = pytest.mark.skipif(LRELEASE is None, reason="pyside6-lrelease not found next to sys.executable")


@dataclass(frozen=True)
class Message:
    context: str
    source: str
    comment: str | None
    numerus: bool
    kind: str | None  # the translation's type attribute: None (finished), "unfinished", ...
    forms: tuple[str, ...]  # the translation, or its numerus forms

    @property
    def unfinished(self) -> bool:
        return self.kind == "unfinished" or not self.forms or any(not form.strip() for form in self.forms)

    def __str__(self) -> str:
        return f"[{self.context}] {self.source!r}"


def read_ts(path: Path) -> list[Message]:
    """The live messages of a .ts file (vanished and obsolete ones left out)."""
    root = ET.parse(path).getroot()
    messages = []
    for context in root.iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            translation = message.find("translation")
            kind = translation.get("type") if translation is not None else "unfinished"
            if kind in ("vanished", "obsolete"):
                continue
            numerus = message.get("numerus") == "yes"
            if translation is None:
                forms: tuple[str, ...] = ()
            elif numerus:
                forms = tuple(form.text or "" for form in translation.findall("numerusform"))
            else:
                forms = (translation.text or "",)
            messages.append(
                Message(name, message.findtext("source") or "", message.findtext("comment"), numerus, kind, forms)
            )
    return messages


def app_sources() -> list[str]:
    """Every .py file under app/, tracked by git or not (a new file counts before `git add`)."""
    return sorted(p.relative_to(REPO_ROOT).as_posix() for p in (REPO_ROOT / "app").rglob("*.py"))


def _untranslated_report(untranslated: list[Message]) -> str:
    lines = "\n".join(f"  {m}" for m in untranslated)
    return f"{len(untranslated)} user-visible string(s) have no Simplified Chinese translation:\n{lines}\n{HOW_TO_FIX}"


def test_ts_file_is_simplified_chinese() -> None:
    root = ET.parse(TS_FILE).getroot()
    assert root.tag == "TS"
    assert root.get("language") == "zh_CN"
    assert read_ts(TS_FILE), "the .ts file has no messages"


def test_committed_ts_has_no_unfinished_message() -> None:
    untranslated = [m for m in read_ts(TS_FILE) if m.unfinished]
    assert not untranslated, _untranslated_report(untranslated)


@needs_lupdate
def test_every_app_string_is_translated(tmp_path: Path) -> None:
    """lupdate over the current app/ sources finds nothing the .ts file does not translate."""
    copy = tmp_path / TS_FILE.name
    shutil.copyfile(TS_FILE, copy)
    result = subprocess.run(
        [str(LUPDATE), *app_sources(), "-ts", str(copy), "-no-obsolete"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"pyside6-lupdate failed:\n{result.stdout}\n{result.stderr}"
    messages = read_ts(copy)
    assert messages, f"pyside6-lupdate found no tr() strings in app/:\n{result.stdout}\n{result.stderr}"
    untranslated = [m for m in messages if m.unfinished]
    assert not untranslated, _untranslated_report(untranslated)


# What must survive translation unchanged (as a multiset; the order may change in Chinese).
_PLACEHOLDERS = {
    "format field": re.compile(r"\{[^{}]*\}"),  # {0}, {name}, {0:.1f}
    "Qt argument": re.compile(r"%(?:n|L?\d+)"),  # %n, %1
    "HTML tag": re.compile(r"</?[A-Za-z][^<>]*>"),
    "file filter": re.compile(r"\(\*[^()]*\)"),  # (*.gguf)
    "line break": re.compile(r"\n"),
}
# A mnemonic: "&" before a letter or digit, not "&&" (a literal ampersand) or an entity (&amp;).
_ACCELERATOR = re.compile(r"(?<!&)&(?![&\s])(?!\w+;)")


def _placeholder_problems(message: Message) -> list[str]:
    problems = []
    for form in message.forms:
        for what, pattern in _PLACEHOLDERS.items():
            want, got = Counter(pattern.findall(message.source)), Counter(pattern.findall(form))
            if what == "HTML tag":
                want = Counter(tag.lower() for tag in want.elements())
                got = Counter(tag.lower() for tag in got.elements())
            if want != got:
                problems.append(
                    f"{message}: {what}s {sorted(want.elements())} became {sorted(got.elements())} in {form!r}"
                )
        want_acc = len(_ACCELERATOR.findall(message.source))
        got_acc = len(_ACCELERATOR.findall(form))
        if want_acc != got_acc:
            problems.append(f"{message}: {want_acc} accelerator(s) (&) in the source, {got_acc} in {form!r}")
    if message.numerus and len(message.forms) != 1:
        problems.append(f"{message}: Chinese has one plural form, found {len(message.forms)}")
    return problems


def test_translations_keep_placeholders() -> None:
    problems = [p for m in read_ts(TS_FILE) if not m.unfinished for p in _placeholder_problems(m)]
    assert not problems, "translations that changed a placeholder:\n" + "\n".join(problems)


@needs_lrelease
def test_lrelease_compiles_every_translation(tmp_path: Path) -> None:
    from PySide6.QtCore import QTranslator

    qm = tmp_path / "alpaca_desk_zh_CN.qm"
    result = subprocess.run([str(LRELEASE), str(TS_FILE), "-qm", str(qm)], capture_output=True, text=True, timeout=120)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"pyside6-lrelease failed:\n{output}"
    assert re.search(r"\b0 unfinished\b", output), f"lrelease reports unfinished translations:\n{output}"
    assert qm.is_file() and qm.stat().st_size > 0

    # The compiled file answers every message with its translation (no QApplication needed).
    translator = QTranslator()
    assert translator.load(str(qm)), f"QTranslator cannot load {qm}"
    wrong = []
    for message in read_ts(TS_FILE):
        got = translator.translate(message.context, message.source, message.comment, 2 if message.numerus else -1)
        if got != message.forms[0]:
            wrong.append(f"{message}: {got!r} instead of {message.forms[0]!r}")
    assert not wrong, "the .qm file does not give these translations:\n" + "\n".join(wrong)
