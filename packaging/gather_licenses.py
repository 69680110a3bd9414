"""Build-time half of THIRD_PARTY_LICENSES: which distributions and system libraries were bundled.

alpaca-desk.spec calls :func:`write_licenses` with PyInstaller's analysis, after the bundle rules
have been applied; the text itself is assembled by :mod:`app.licenses` (which the About dialog
also uses when run from source).

* Python distributions: every top-level module or package PyInstaller collected, mapped to its
  distribution with ``importlib.metadata.packages_distributions()``; each gets its name, version,
  licence (expression, field or classifier) and the licence files its ``.dist-info`` ships.
* Native libraries PyInstaller took from the system (``libgomp``, ``libffi``, ...): on Debian-like
  systems the owning package's ``/usr/share/doc/PACKAGE/copyright``.
"""

from __future__ import annotations

import importlib.metadata as metadata
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterable
from pathlib import Path

from app.licenses import APP_DISTRIBUTION, Component, gather

Toc = Iterable[tuple[str, str, str]]


def bundled_distributions(pure: Toc, binaries: Toc, datas: Toc) -> list[str]:
    """Distribution names of the bundled top-level modules (the app's own left out)."""
    top: set[str] = {name.split(".")[0] for name, _src, _kind in pure}
    for dest, _src, _kind in [*binaries, *datas]:
        parts = Path(dest).parts
        if len(parts) > 1:
            first = parts[0]
            top.add(first.removesuffix(".libs"))  # numpy.libs/, sentencepiece.libs/ (auditwheel)
        elif parts:
            top.add(parts[0].split(".")[0])  # top-level extension modules such as _cffi_backend
    by_module = metadata.packages_distributions()
    names = {dist for module in top for dist in by_module.get(module, [])}
    names.discard(APP_DISTRIBUTION)
    return sorted(names, key=str.lower)


def _python_roots() -> list[Path]:
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve()}
    for key in ("purelib", "platlib", "stdlib", "platstdlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            roots.add(Path(path).resolve())
    return sorted(roots)


def system_libraries(binaries: Toc) -> list[Path]:
    """Bundled native libraries that come neither from Python nor from a Python distribution."""
    roots = _python_roots()
    found = []
    for _dest, src, _kind in binaries:
        path = Path(src).resolve()
        if not any(root == path or root in path.parents for root in roots):
            found.append(path)
    return sorted(set(found))


def debian_components(libraries: Iterable[Path]) -> list[Component]:
    """One component per Debian package owning ``libraries`` (empty without dpkg)."""
    if shutil.which("dpkg") is None:
        return []
    packages: dict[str, list[str]] = {}
    for library in libraries:
        owner = None
        for candidate in dict.fromkeys((library, Path(str(library).replace("/usr/lib/", "/lib/", 1)))):
            result = subprocess.run(["dpkg", "-S", str(candidate)], capture_output=True, text=True, check=False)
            if result.returncode == 0 and ":" in result.stdout:
                owner = result.stdout.split(":")[0].strip()
                break
        packages.setdefault(owner or "(unknown package)", []).append(library.name)
    components = []
    for package, names in sorted(packages.items()):
        version = ""
        texts_found: tuple[tuple[str, str], ...] = ()
        if package != "(unknown package)":
            query = subprocess.run(
                ["dpkg-query", "-W", "-f=${Version}", package], capture_output=True, text=True, check=False
            )
            version = query.stdout.strip()
            copyright_file = Path("/usr/share/doc") / package.split(":")[0] / "copyright"
            if copyright_file.is_file():
                texts_found = (("copyright", copyright_file.read_text(encoding="utf-8", errors="replace")),)
        components.append(
            Component(
                f"{package} (system library)",
                version,
                "see the copyright file below",
                texts_found,
                note="Bundled files: " + ", ".join(sorted(names)),
            )
        )
    return components


def write_licenses(pure: Toc, binaries: Toc, datas: Toc, out: Path) -> tuple[Path, list[str]]:
    """Write THIRD_PARTY_LICENSES for this analysis to ``out``; returns it and the distributions."""
    pure, binaries, datas = list(pure), list(binaries), list(datas)
    distributions = bundled_distributions(pure, binaries, datas)
    text = gather(distributions, extra=debian_components(system_libraries(binaries)))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    return out, distributions
