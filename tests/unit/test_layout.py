"""The house rules of runtime/ and app/: capability packages meet only through public names, no
import cycles, and no file over ~600 lines without a reason at its top.

runtime/ holds shared modules (errors, paths, settings, the process-exit helper), the shared jobs
package, and one package per capability (chat, store, tokens, models, cli, ...). A module outside a
capability package may import that package and its public modules, never a private module
(``runtime.tokens._loading``) or a private name (``from runtime.tokens import _x``): a package's
insides can then be rearranged without touching its users. Imports inside functions count too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
RUNTIME = REPO_ROOT / "runtime"
CAPABILITIES = sorted(p.parent.name for p in RUNTIME.glob("*/__init__.py"))


def _module_name(path: Path, root: Path = REPO_ROOT) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _source_files() -> list[Path]:
    return sorted([*RUNTIME.rglob("*.py"), *(REPO_ROOT / "app").rglob("*.py")])


def _imports(path: Path) -> Iterator[tuple[str, str | None, int]]:
    """(module, imported name or None, line) for every import statement in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                yield node.module, alias.name, node.lineno


def _capability(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "runtime" and parts[1] in CAPABILITIES:
        return parts[1]
    return None


def test_capability_packages_exist() -> None:
    assert {"chat", "store", "tokens", "models", "cli"} <= set(CAPABILITIES)
    shared = sorted(p.stem for p in RUNTIME.glob("*.py") if p.stem != "__init__")
    assert shared == ["_exit", "decoding", "errors", "gguf_header", "paths", "settings", "untrusted_json"]


def test_no_private_names_across_packages() -> None:
    offences = []
    for path in _source_files():
        importer = _module_name(path)
        own = _capability(importer)
        for module, name, line in _imports(path):
            target = _capability(module)
            if target is None or target == own:
                continue
            private_module = any(part.startswith("_") for part in module.split(".")[2:])
            private_name = name is not None and name.startswith("_")
            if private_module or private_name:
                shown = module if name is None else f"{module}.{name}"
                offences.append(f"{path.relative_to(REPO_ROOT)}:{line} imports {shown}")
    assert offences == []


def test_package_exports_exist() -> None:
    """Every name a capability package lists in ``__all__`` is really there."""
    import importlib

    for name in CAPABILITIES:
        package = importlib.import_module(f"runtime.{name}")
        for exported in getattr(package, "__all__", []):
            assert hasattr(package, exported), f"runtime.{name} lists {exported} but has no such name"


def _unit(module: str) -> str:
    """The node of the dependency graph: a capability package, or a shared module."""
    capability = _capability(module)
    return f"runtime.{capability}" if capability else module


def _dependency_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in RUNTIME.rglob("*.py"):
        source = _unit(_module_name(path))
        edges = graph.setdefault(source, set())
        for module, _name, _line in _imports(path):
            if module.split(".")[0] != "runtime" or module == "runtime":
                continue
            target = _unit(module)
            if target != source:
                edges.add(target)
    return graph


def _find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    visiting: list[str] = []
    done: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            cycles.append([*visiting[visiting.index(node) :], node])
            return
        visiting.append(node)
        for target in sorted(graph.get(node, ())):
            visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)
    return cycles


def test_no_import_cycles_between_packages() -> None:
    graph = _dependency_graph()
    # The graph is the real one: the host reads model files, and nothing below the CLI uses it.
    assert "runtime.models" in graph["runtime.chat"]
    assert all("runtime.cli" not in targets for node, targets in graph.items() if node != "runtime.cli")
    assert _find_cycles(graph) == []


def test_cycle_check_finds_a_back_edge() -> None:
    graph = {node: set(targets) for node, targets in _dependency_graph().items()}
    graph["runtime.models"].add("runtime.chat")
    assert ["runtime.chat", "runtime.models", "runtime.chat"] in _find_cycles(graph)


# -- modules: no cycles, and a shared floor that uses no capability ---------------------------------


def _module_graph(files: list[Path], root: Path = REPO_ROOT) -> dict[str, set[str]]:
    """Module -> the modules of ``files`` it imports (inside functions and TYPE_CHECKING too).

    ``from package import name`` points at the submodule ``package.name`` where there is one,
    else at the package itself. Importing a submodule does run its package's ``__init__``, but
    that is Python's doing, not a dependency the importer chose, so it is not an edge.
    """
    names = {_module_name(path, root): path for path in files}
    graph: dict[str, set[str]] = {}
    for name, path in names.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = graph.setdefault(name, set())
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                edges.update(alias.name for alias in node.names if alias.name in names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    base = ".".join(parts[: len(parts) - node.level + 1] + ([node.module] if node.module else []))
                for alias in node.names:
                    submodule = f"{base}.{alias.name}"
                    if submodule in names:
                        edges.add(submodule)
                    elif base in names:
                        edges.add(base)
        edges.discard(name)
    return graph


def test_no_import_cycles_between_modules() -> None:
    graph = _module_graph(_source_files())
    assert "app.context" in graph["app.controllers.hub"]  # the graph is the real one
    assert _find_cycles(graph) == []


def test_module_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    # The control: two modules that import each other, one of them only inside a function.
    package = tmp_path / "runtime" / "demo"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from runtime.demo.second import helper\n")
    (package / "second.py").write_text("def helper():\n    from runtime.demo import first\n    return first\n")
    cycles = _find_cycles(_module_graph(sorted(package.glob("*.py")), tmp_path))
    assert ["runtime.demo.first", "runtime.demo.second", "runtime.demo.first"] in cycles


def _floor_offences(files: list[Path]) -> list[str]:
    offences = []
    for path in files:
        for module, _name, line in _imports(path):
            if _capability(module) is not None:
                offences.append(f"{path.name}:{line} imports {module}")
    return offences


def test_the_shared_floor_uses_no_capability() -> None:
    floor = sorted(path for path in RUNTIME.glob("*.py") if path.stem != "__init__")
    assert floor and _floor_offences(floor) == []


def test_the_jobs_package_uses_no_capability() -> None:
    """runtime.jobs belongs to the floor too (every capability runs its long work through it): a
    package only for its size, it imports nothing but itself and the floor."""
    files = sorted((RUNTIME / "jobs").glob("*.py"))
    offences = [o for o in _floor_offences(files) if _capability(o.split(" imports ")[1]) != "jobs"]
    assert files and offences == []


def test_the_floor_check_finds_a_capability_import(tmp_path: Path) -> None:
    floor_module = tmp_path / "settings.py"
    floor_module.write_text("def load():\n    from runtime.chat.templates import render\n    return render\n")
    assert _floor_offences([floor_module]) == ["settings.py:2 imports runtime.chat.templates"]


#: The house's guideline: a file over this many lines mixes jobs, unless one idea is long; such a
#: file says so, and why, in its docstring's first line with the words of :data:`LONG_ON_PURPOSE`.
MAX_LINES = 600
LONG_ON_PURPOSE = "long on purpose"


def _long_files(files: list[Path]) -> list[str]:
    offences = []
    for path in files:
        text = path.read_text(encoding="utf-8")
        lines = text.count("\n")
        first_line = text.split("\n", 1)[0]
        if lines > MAX_LINES and LONG_ON_PURPOSE not in first_line:
            offences.append(f"{path.name}: {lines} lines")
    return offences


def test_no_file_is_long_without_a_reason_at_its_top() -> None:
    assert _long_files(_source_files()) == []


def test_the_length_check_finds_a_long_file(tmp_path: Path) -> None:
    body = "x = 1\n" * (MAX_LINES + 1)
    long_file, reasoned = tmp_path / "long.py", tmp_path / "table.py"
    long_file.write_text('"""Many things."""\n' + body)
    reasoned.write_text(f'"""One table ({LONG_ON_PURPOSE}: every code in one place)."""\n' + body)
    assert _long_files([long_file, reasoned]) == [f"long.py: {MAX_LINES + 2} lines"]
