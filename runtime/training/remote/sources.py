"""The Python sources a job on an SSH host runs, found the same way from a checkout and a frozen build.

A remote job needs source files, not this process's modules: the training script with every
``runtime`` module it imports (uploaded to the job's ``code/``), the job agent and the set-up script.
They are looked up as files under :data:`SOURCE_ROOT`, the folder that holds the ``runtime``
package: a checkout or an installation, or in the PyInstaller build ``sys._MEIPASS``. The build
keeps its modules in an archive, not as files, so packaging/alpaca-desk.spec ships exactly
:func:`shipped_sources` as data files at the same relative paths; one lookup then serves both
layouts (rather than one that asks which layout it is in).

Which ``runtime`` modules a script imports is found by the standard library's :mod:`modulefinder`
on the sources (imports inside functions count too), never following an import out of the
``runtime`` package: torch and the other libraries are the host's, and are not read here.
"""

from __future__ import annotations

import functools
import modulefinder
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import runtime
from runtime.errors import RemoteError
from runtime.training.launcher import SCRIPTS

#: The folder holding the ``runtime`` package (a checkout's root, site-packages, or the bundle's _internal).
SOURCE_ROOT = Path(runtime.__file__).resolve().parent.parent
#: The job agent and the virtual-environment set-up script, relative to :data:`SOURCE_ROOT`.
AGENT = "runtime/training/remote/agent.py"
ENVSETUP = "runtime/training/remote/envsetup.py"


def source_file(relative: str) -> Path:
    """The source file ``relative`` (to :data:`SOURCE_ROOT`), e.g. :data:`AGENT`.

    Raises:
        RemoteError: ``remote_agent_missing``: this installation lacks it (a broken install or build).
    """
    path = SOURCE_ROOT / relative
    if not path.is_file():
        raise missing(path)
    return path


class _RuntimeOnlyFinder(modulefinder.ModuleFinder):
    """A module finder that reads source files under :data:`SOURCE_ROOT` and looks nowhere else.

    Its own lookup replaces ModuleFinder's, which asks the import system's path hooks: in the
    frozen build those answer from the archive (no file to read), so the closure would stop at the
    first package.
    """

    def find_module(self, name: str, path: Any, parent: Any = None) -> Any:
        if path is None:  # a top-level name: anything but runtime is another project's module
            if name != "runtime":
                raise ImportError(name)
            path = [str(SOURCE_ROOT)]
        for folder in path:
            if Path(folder, name, "__init__.py").is_file():
                return None, str(Path(folder, name)), ("", "", modulefinder._PKG_DIRECTORY)  # type: ignore[attr-defined]
            module = Path(folder, f"{name}.py")
            if module.is_file():
                return module.open("rb"), str(module), (".py", "rb", modulefinder._PY_SOURCE)  # type: ignore[attr-defined]
        raise ImportError(name)


def module_sources(modules: Iterable[str]) -> list[tuple[Path, str]]:
    """(file, path relative to :data:`SOURCE_ROOT`) of ``modules`` and every ``runtime`` module they
    import at any depth, with their packages' ``__init__.py``; sorted, no ``__pycache__``.

    Raises:
        RemoteError: ``remote_agent_missing``: one of ``modules`` has no source here.
    """
    return list(_closure(tuple(sorted(modules))))


@functools.lru_cache(maxsize=8)
def _closure(wanted: tuple[str, ...]) -> tuple[tuple[Path, str], ...]:
    # Cached: the sources do not change while the app runs, and a start may ask twice (0.2 s each).
    finder = _RuntimeOnlyFinder(path=[str(SOURCE_ROOT)])
    for name in wanted:
        try:
            finder.import_hook(name)
        except ImportError:
            pass  # reported below, by name
    for name in wanted:
        if name not in finder.modules:
            raise missing(SOURCE_ROOT.joinpath(*name.split(".")).with_suffix(".py"))
    found = set()
    for name, module in finder.modules.items():
        file = getattr(module, "__file__", None)  # modulefinder.Module sets it; typeshed omits it
        if name.split(".")[0] == "runtime" and file:
            path = Path(file).resolve()
            found.add((path, path.relative_to(SOURCE_ROOT).as_posix()))
    return tuple(sorted(found, key=lambda item: item[1]))


def shipped_sources() -> list[tuple[Path, str]]:
    """Every source file a remote job may need: the training scripts' closure, the agent and the
    set-up script. The frozen build carries these (and only these) as files."""
    extra = [(source_file(name), name) for name in (AGENT, ENVSETUP)]
    return sorted({*module_sources(SCRIPTS.values()), *extra}, key=lambda item: item[1])


def missing(path: Path) -> RemoteError:
    """The error for a source file this installation lacks."""
    return RemoteError(
        f"{path} is missing from this installation, so no job can be started on a host. Reinstall Alpaca Desk.",
        code="remote_agent_missing",
        params={"path": str(path)},
    )
