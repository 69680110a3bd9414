"""The frozen app's start-up isolation: only its own Python modules and native libraries.

A one-folder build must not pick up anything from the machine it runs on: a ``PYTHONPATH`` left by
another tool, a ``llama_cpp/`` folder in the current directory, ``LLAMA_CPP_LIB_PATH`` pointing at
another build of llama.cpp, a ``sitecustomize.py``. PyInstaller's bootloader already starts the
interpreter without the environment's Python variables, ``site`` or the current directory on
``sys.path``; this module is the second line: :func:`scrub_environment` removes the variables that
would redirect this process's later imports and every child it starts (the inference host and the
job processes inherit ``os.environ``), and :func:`find_problems` checks that every module and every
bundled native library in use was loaded from inside the bundle. ``app.main`` refuses to start when
it finds one (exit code :data:`ISOLATION_EXIT_CODE`).

Qt-free and standard-library only, so it can run before anything else is imported.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import ModuleType

#: Exit code of a frozen app that refused to start because something came from outside the bundle.
ISOLATION_EXIT_CODE = 3

#: Variables that would make Python, llama-cpp-python or Qt load code from outside the bundle.
#: QT_QPA_PLATFORM stays: it only picks one of the bundled platform plugins (tests use offscreen).
SCRUBBED_ENV = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "LLAMA_CPP_LIB_PATH",
    "QT_QPA_PLATFORM_PLUGIN_PATH",
)
#: Path lists kept only while every entry is inside the bundle: PyInstaller's PySide6 run-time hook
#: sets QT_PLUGIN_PATH to the bundle's plugins before any of our code runs.
BUNDLE_ONLY_ENV = ("QT_PLUGIN_PATH",)

#: Packages whose import location is checked even before they are imported.
KEY_PACKAGES = ("app", "runtime", "llama_cpp", "PySide6", "shiboken6", "sentencepiece", "numpy", "gguf")

# Native libraries whose loaded copy is compared with the bundle's (Linux /proc/self/maps).
_NATIVE_PREFIXES = ("libllama", "libggml", "libQt6", "libpyside6", "libshiboken6", "libpython", "libicu")


def is_frozen() -> bool:
    """Whether this is the PyInstaller build."""
    return bool(getattr(sys, "frozen", False)) and hasattr(sys, "_MEIPASS")


def bundle_roots() -> list[Path]:
    """The folders that make up the bundle: ``sys._MEIPASS`` and the executable's folder.

    On macOS the ``.app``'s ``Contents`` folder is the root (Frameworks and Resources both hold
    bundled files).
    """
    roots = [Path(os.path.realpath(sys._MEIPASS))]  # type: ignore[attr-defined]
    exe_dir = Path(os.path.realpath(sys.executable)).parent
    if sys.platform == "darwin" and exe_dir.name == "MacOS":
        exe_dir = exe_dir.parent
    if exe_dir not in roots:
        roots.append(exe_dir)
    return roots


def scrub_environment(
    environ: os._Environ[str] | dict[str, str] | None = None, roots: Iterable[Path] | None = None
) -> list[str]:
    """Remove :data:`SCRUBBED_ENV`, and :data:`BUNDLE_ONLY_ENV` that leave ``roots`` (default: the
    bundle), from the environment; returns the names removed."""
    env = os.environ if environ is None else environ
    removed = [name for name in SCRUBBED_ENV if name in env]
    if roots is None:
        roots = bundle_roots() if is_frozen() else []
    roots = list(roots)
    for name in BUNDLE_ONLY_ENV:
        entries = [e for e in env.get(name, "").split(os.pathsep) if e]
        if name in env and (not roots or any(not _inside(e, roots) for e in entries)):
            removed.append(name)
    for name in removed:
        del env[name]
    return removed


def _inside(path: str, roots: Iterable[Path]) -> bool:
    real = Path(os.path.realpath(path))
    return any(real == root or root in real.parents for root in roots)


def _module_file(module: ModuleType) -> str | None:
    """The file a module was read from, or None for modules that have no place on disk.

    Python makes every file it imports through ``sys.path`` absolute (``''`` becomes the current
    directory), so a relative ``__file__`` is a name a loader made up: PyInstaller's bootstrap
    modules (``pyimod01_archive.py``) and shiboken's embedded ``shibokensupport`` package.
    """
    file = getattr(module, "__file__", None)
    if isinstance(file, str) and os.path.isabs(file):
        return file
    return None


def clean_sys_path(roots: Iterable[Path]) -> list[str]:
    """Drop ``sys.path`` entries outside the bundle (the current directory, ``''``); returns them."""
    roots = list(roots)
    dropped = [entry for entry in sys.path if not entry or not _inside(entry, roots)]
    sys.path[:] = [entry for entry in sys.path if entry and _inside(entry, roots)]
    return dropped


def find_problems(
    roots: Iterable[Path],
    *,
    modules: Mapping[str, ModuleType] | None = None,
    packages: Iterable[str] = KEY_PACKAGES,
    maps_file: str | None = "/proc/self/maps",
) -> list[str]:
    """Everything that was (or would be) loaded from outside ``roots``, as readable lines.

    Checks every imported module that has a file, where each of ``packages`` would be imported
    from (without importing it), and on Linux which copy of each bundled native library is mapped.
    """
    roots = [Path(os.path.realpath(root)) for root in roots]
    problems: list[str] = []
    loaded = sys.modules if modules is None else modules
    for name, module in sorted(loaded.items()):
        file = _module_file(module) if module is not None else None
        if file is not None and not _inside(file, roots):
            problems.append(f"module {name} was loaded from {file}")
    for name in packages:
        if name in loaded:
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError) as exc:
            problems.append(f"package {name} cannot be found: {exc}")
            continue
        if spec is None:
            problems.append(f"package {name} is missing from the bundle")
        elif spec.origin and spec.has_location and not _inside(spec.origin, roots):
            problems.append(f"package {name} would be imported from {spec.origin}")
    if maps_file and os.path.exists(maps_file):
        problems.extend(_foreign_native_libraries(roots, maps_file))
    return problems


def _foreign_native_libraries(roots: list[Path], maps_file: str) -> list[str]:
    """Mapped copies of libraries the bundle ships that do not come from the bundle."""
    shipped: set[str] = set()
    for root in roots:
        for _folder, _dirs, files in os.walk(root):
            shipped.update(name for name in files if name.startswith(_NATIVE_PREFIXES))
    problems = []
    seen: set[str] = set()
    with open(maps_file, encoding="utf-8", errors="replace") as maps:
        for line in maps:
            parts = line.split(maxsplit=5)
            if len(parts) < 6 or not parts[5].startswith("/"):
                continue
            path = parts[5].strip()
            if path in seen:
                continue
            seen.add(path)
            name = os.path.basename(path)
            if name.startswith(_NATIVE_PREFIXES) and name in shipped and not _inside(path, roots):
                problems.append(f"native library {name} was loaded from {path}")
    return problems


def refusal_message(problems: list[str], roots: Iterable[Path]) -> str:
    """What the user reads when the app refuses to start."""
    lines = "\n".join(f"  - {p}" for p in problems[:20])
    more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
    where = ", ".join(str(r) for r in roots)
    return (
        "Alpaca Desk cannot start: parts of it would come from outside its own folder "
        f"({where}):\n{lines}{more}\n"
        "Something on this computer (a PYTHONPATH or other Python setting, LD_PRELOAD, or files in the "
        "current folder) is interfering. Start Alpaca Desk from its own folder or its menu entry; if this "
        "persists, unpack a fresh copy of the application."
    )


def enforce(stage: str) -> None:
    """In a frozen build, exit with :data:`ISOLATION_EXIT_CODE` when :func:`find_problems` finds any."""
    if not is_frozen():
        return
    roots = bundle_roots()
    problems = find_problems(roots)
    if not problems:
        return
    message = refusal_message(problems, roots) + f"\n(check: {stage})\n"
    if sys.stderr is not None:
        sys.stderr.write(message)
        sys.stderr.flush()
    raise SystemExit(ISOLATION_EXIT_CODE)


def isolate_at_start() -> None:
    """First thing a frozen process does: scrub the environment, clean ``sys.path``, check."""
    if not is_frozen():
        return
    scrub_environment()
    clean_sys_path(bundle_roots())
    enforce("start-up")
