"""Third-party licences: what the About dialog shows and ``THIRD_PARTY_LICENSES`` holds.

A frozen build carries ``THIRD_PARTY_LICENSES``, written at build time by packaging/build.py from the
metadata of exactly the distributions PyInstaller bundled (:func:`render`) plus the native libraries
it took from the system. Run from source, :func:`third_party_licenses_text` gathers the same from
the installed distributions the app depends on.

Only the dialog helper at the end uses Qt.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LICENSES_FILE = "THIRD_PARTY_LICENSES"
APP_DISTRIBUTION = "alpaca-desk"
_LICENSE_NAME = re.compile(r"(LICEN[CS]E|COPYING|NOTICE|AUTHORS)", re.IGNORECASE)
# Texts for SPDX ids whose distributions ship no licence file (PySide6 and shiboken6 wheels have
# none; sentencepiece's neither), from Debian's /usr/share/common-licenses where present.
_COMMON_LICENSES = Path("/usr/share/common-licenses")
_SPDX_TEXTS = {
    "LGPL-3.0-only": ("LGPL-3", "GPL-3"),  # the LGPL is a set of additions to the GPL: ship both
    "LGPL-3.0-or-later": ("LGPL-3", "GPL-3"),
    "GPL-3.0-only": ("GPL-3",),
    "GPL-2.0-only": ("GPL-2",),
    "Apache-2.0": ("Apache-2.0",),
    "MPL-2.0": ("MPL-2.0",),
}

MIT_TEXT = """Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


@dataclass(frozen=True)
class Component:
    """One bundled component: its name, version, licence and the licence files' texts."""

    name: str
    version: str
    license: str
    texts: tuple[tuple[str, str], ...] = ()  # (file name, text)
    note: str = ""
    spdx_appendix: tuple[str, ...] = field(default=())  # common licence texts to append once


def _license_of(meta: Any) -> str:
    expression = meta.get("License-Expression")
    if expression:
        return str(expression).strip()
    short = (meta.get("License") or "").strip()
    classifiers = [c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
    if short and "\n" not in short and len(short) <= 120:
        return short
    if classifiers:
        return "; ".join(classifiers)
    return short.splitlines()[0] if short else "unknown"


def distribution_component(name: str) -> Component | None:
    """Name, version, licence and licence file texts of an installed distribution (None if absent)."""
    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return None
    meta = dist.metadata
    texts: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in dist.files or ():
        parts = entry.parts
        # Licence files live in the .dist-info folder (PEP 639: .dist-info/licenses/...).
        if not parts or not parts[0].endswith(".dist-info") or not _LICENSE_NAME.search(entry.name):
            continue
        try:
            text = entry.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if text and text not in seen:
            seen.add(text)
            texts.append(("/".join(parts[1:]), text))
    license_ = _license_of(meta)
    appendix: tuple[str, ...] = ()
    if not texts:
        first = re.split(r"\s+(?:OR|AND|WITH)\s+", license_)[0].strip("() ")
        appendix = _SPDX_TEXTS.get(first, ())
    return Component(meta["Name"], dist.version, license_, tuple(texts), spdx_appendix=appendix)


def _requirement_names(dist: metadata.Distribution) -> list[str]:
    names = []
    for requirement in dist.requires or ():
        if re.search(r"\bextra\s*==", requirement):
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
        if match:
            names.append(match.group(1))
    return names


def requirement_closure(root: str = APP_DISTRIBUTION) -> list[str]:
    """``root``'s run-time dependencies, recursively (installed ones only, extras left out)."""
    try:
        start = metadata.distribution(root)
    except metadata.PackageNotFoundError:
        return []
    found: dict[str, None] = {}
    todo = _requirement_names(start)
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in found:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        found[key] = None
        todo.extend(_requirement_names(dist))
    return sorted(found)


def python_component() -> Component:
    """The Python interpreter and standard library (PSF licence)."""
    version = ".".join(str(v) for v in sys.version_info[:3])
    texts: list[tuple[str, str]] = []
    for candidate in (
        Path(sys.base_prefix) / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "LICENSE.txt",
        Path(sys.base_prefix) / "LICENSE.txt",
    ):
        if candidate.is_file():
            texts.append(("LICENSE.txt", candidate.read_text(encoding="utf-8", errors="replace")))
            break
    return Component("Python", version, "PSF-2.0", tuple(texts))


def llama_cpp_component(bindings_version: str = "") -> Component:
    """llama.cpp and ggml, compiled into llama-cpp-python's native libraries."""
    return Component(
        "llama.cpp / ggml",
        bindings_version,
        "MIT",
        (("LICENSE", "MIT License\n\nCopyright (c) 2023-2024 The ggml authors\n\n" + MIT_TEXT),),
        note="Compiled into llama-cpp-python's native libraries (libllama, libggml*).",
    )


def tokenizer_components() -> list[Component]:
    """The tokenizer files the app ships in ``assets/tokenizers`` (see the README there)."""
    from runtime.paths import assets_dir

    folder = assets_dir() / "tokenizers"

    def text(name: str) -> tuple[tuple[str, str], ...]:
        path = folder / name
        return ((name, path.read_text(encoding="utf-8")),) if path.is_file() else ()

    return [
        Component(
            "LLaMA tokenizer (tokenizer.model, 32,000 pieces)",
            "",
            "LLaMA licence (Meta)",
            text("LICENSE-LLAMA"),
            note="assets/tokenizers/llama/tokenizer.model, unmodified.",
        ),
        Component(
            "Chinese-LLaMA-Alpaca tokenizers (chinese_sp.model; Chinese-LLaMA-2 tokenizer.model)",
            "",
            "Apache-2.0",
            text("LICENSE-Apache-2.0"),
            note="From ymcui/Chinese-LLaMA-Alpaca and ymcui/Chinese-LLaMA-Alpaca-2, unmodified.",
        ),
    ]


def render(components: Sequence[Component], *, header: str = "") -> str:
    """The ``THIRD_PARTY_LICENSES`` text: a summary table, each component's texts, common licences."""
    rule = "=" * 78
    lines = [
        "Alpaca Desk: third-party software",
        "",
        header or "Alpaca Desk includes the following software. Each keeps its own licence, reproduced below.",
        "",
    ]
    width = max((len(c.name) for c in components), default=10) + 2
    for component in components:
        lines.append(f"  {component.name.ljust(width)}{component.version.ljust(17)} {component.license}")
    appendix: dict[str, None] = {}
    for component in components:
        lines += ["", rule, f"{component.name} {component.version}".rstrip(), f"License: {component.license}"]
        if component.note:
            lines.append(component.note)
        lines.append(rule)
        for file_name, text in component.texts:
            lines += ["", f"--- {file_name} ---", "", text.rstrip()]
        for name in component.spdx_appendix:
            if (_COMMON_LICENSES / name).is_file():
                appendix[name] = None
                lines += ["", f"(The text of {name} is at the end of this file.)"]
    for name in appendix:
        lines += ["", rule, f"Licence text: {name}", rule, "", (_COMMON_LICENSES / name).read_text(encoding="utf-8")]
    return "\n".join(lines).rstrip() + "\n"


def gather(distributions: Iterable[str], extra: Iterable[Component] = ()) -> str:
    """Python, llama.cpp and the given distributions (those installed), then ``extra`` components."""
    components = [python_component()]
    by_key: dict[str, Component] = {}
    for name in distributions:
        component = distribution_component(name)
        if component is not None:
            by_key[component.name.lower()] = component
    llama = by_key.get("llama_cpp_python") or by_key.get("llama-cpp-python")
    components += sorted(by_key.values(), key=lambda c: c.name.lower())
    components.append(llama_cpp_component(llama.version if llama else ""))
    components += tokenizer_components()
    components += list(extra)
    return render(components)


def bundled_licenses_file() -> Path | None:
    """``THIRD_PARTY_LICENSES`` inside the frozen bundle, when this is one."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle and (Path(bundle) / LICENSES_FILE).is_file():
        return Path(bundle) / LICENSES_FILE
    return None


def third_party_licenses_text() -> str:
    """The licences of everything Alpaca Desk ships (frozen) or runs on (from source)."""
    bundled = bundled_licenses_file()
    if bundled is not None:
        return bundled.read_text(encoding="utf-8")
    return gather(requirement_closure())


def show_third_party_licenses(parent: Any = None, title: str = "Third-party licences") -> None:
    """A modal, read-only view of :func:`third_party_licenses_text` (pass a translated ``title``)."""
    from PySide6.QtGui import QFontDatabase
    from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QVBoxLayout

    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    dialog.resize(760, 560)
    text = QPlainTextEdit(dialog)
    text.setReadOnly(True)
    text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
    text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
    text.setPlainText(third_party_licenses_text())
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(text)
    layout.addWidget(buttons)
    dialog.exec()
