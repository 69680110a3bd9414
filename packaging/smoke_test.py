"""Smoke test of the frozen build: run its self-test from a hostile folder, then inspect the bundle.

``python packaging/smoke_test.py [dist/alpaca-desk] [--model FILE]`` (tests/e2e/test_frozen.py does
the same through these functions):

1. A temporary folder is made to look like trouble: a decoy ``llama_cpp/`` package, decoy ``app/``,
   ``runtime/`` and ``PySide6/`` packages, a ``sitecustomize.py`` and a ``usercustomize.py``, a
   ``PYTHONSTARTUP`` script, a fake ``libllama.so``, each of which would write a canary file if
   anything loaded it. ``alpaca-desk --self-test`` runs with that folder as the working directory
   and with ``PYTHONPATH``, ``PYTHONHOME``, ``PYTHONSTARTUP``, ``LLAMA_CPP_LIB_PATH`` and
   ``QT_PLUGIN_PATH`` pointing into it. It must pass, and no canary may appear.
2. The bundle must hold no test data, no virtual-environment leftovers, no test modules, no
   Hugging Face token, and (Linux) no library with a dependency that cannot be found.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = ROOT / "dist" / "alpaca-desk"
DEFAULT_MODEL = ROOT / "tests" / "data" / "stories260K.gguf"
#: File names of the test data (tests/data); none may be bundled.
TEST_DATA_NAMES = {"stories260K.gguf", "zh_samples.txt", "zh_sft_sample.json", "SHA256SUMS"}
#: Training runs on the GPU host with the `train` extra (runtime/training); these never enter the
#: desktop bundle (bundle_rules.EXCLUDES), neither as modules in the archive nor as files.
TRAINING_ONLY = ("torch", "transformers", "peft", "accelerate", "deepspeed", "functorch", "torchgen")
#: Tokenizer files are bundled on purpose, but only as the app's assets (assets/tokenizers).
TOKENIZER_NAMES = {"tokenizer.model", "chinese_sp.model"}
SHIPPED_TOKENIZERS = ("_internal", "assets", "tokenizers")
# A Hugging Face access token: "hf_" and 30 or more letters and digits, as a word of its own (Rust
# symbol names in hf_xet's library such as "6hf_xet14PyXetTaskState..." are not tokens).
HF_TOKEN = re.compile(rb"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{30,}(?![A-Za-z0-9_])")
CANARY_PREFIX = "CANARY-"
_TEXT_SUFFIXES = {".txt", ".json", ".cfg", ".conf", ".ini", ".toml", ".desktop", ".sh", ".md", ".py", ".pth", ""}


def _canary_code(label: str) -> str:
    return (
        "import os\n"
        f"open(os.path.join({{folder!r}}, {CANARY_PREFIX + label!r}), 'w').write('loaded from outside the bundle')\n"
    )


def make_hostile_folder(folder: Path) -> dict[str, str]:
    """Fill ``folder`` with decoys; return the environment variables that point at them."""
    folder.mkdir(parents=True, exist_ok=True)
    decoys = {
        "llama_cpp/__init__.py": "llama_cpp",
        "llama_cpp/llama_cpp.py": "llama_cpp.llama_cpp",
        "app/__init__.py": "app",
        "runtime/__init__.py": "runtime",
        "PySide6/__init__.py": "PySide6",
        "sentencepiece/__init__.py": "sentencepiece",
        "sitecustomize.py": "sitecustomize",
        "usercustomize.py": "usercustomize",
        "startup.py": "PYTHONSTARTUP",
        "home/lib/python3/site.py": "PYTHONHOME",
    }
    for relative, label in decoys.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_canary_code(label).format(folder=str(folder)) + "__version__ = 'decoy'\n", encoding="utf-8")
    (folder / "lib").mkdir(exist_ok=True)
    (folder / "lib" / "libllama.so").write_bytes(b"not a library: a decoy for LLAMA_CPP_LIB_PATH\n")
    (folder / "plugins" / "platforms").mkdir(parents=True, exist_ok=True)
    return {
        "PYTHONPATH": str(folder),
        "PYTHONHOME": str(folder / "home"),
        "PYTHONSTARTUP": str(folder / "startup.py"),
        "PYTHONUSERBASE": str(folder / "userbase"),
        "LLAMA_CPP_LIB_PATH": str(folder / "lib"),
        "QT_PLUGIN_PATH": str(folder / "plugins"),
    }


def canaries(folder: Path) -> list[str]:
    """Canary files the decoys wrote (none, if nothing was loaded from ``folder``)."""
    return sorted(p.name for p in folder.glob(CANARY_PREFIX + "*"))


def executable(bundle: Path) -> Path:
    """The app's executable inside a one-folder bundle."""
    return bundle / ("alpaca-desk.exe" if sys.platform == "win32" else "alpaca-desk")


@dataclass
class SelfTestRun:
    """What ``--self-test`` printed and left behind."""

    returncode: int
    result: dict[str, Any] | None
    stdout: str
    stderr: str
    canaries: list[str] = field(default_factory=list)


def run_self_test(bundle: Path, model: Path | None, folder: Path, timeout: float = 300) -> SelfTestRun:
    """Run the bundle's self-test from the hostile ``folder`` (made here)."""
    env = {**os.environ, **make_hostile_folder(folder)}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test must choose offscreen by itself
    command = [str(executable(bundle)), "--self-test"]
    if model is not None:
        command += ["--model", str(model)]
    proc = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    result = None
    lines = [line for line in proc.stdout.splitlines() if line.strip()]
    if lines:
        try:
            result = json.loads(lines[-1])
        except ValueError:
            result = None
    return SelfTestRun(proc.returncode, result, proc.stdout, proc.stderr, canaries(folder))


def bundle_size(bundle: Path) -> int:
    """Bytes of the bundle's regular files (links counted once, as links)."""
    return sum(p.lstat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink())


def _archive_modules(bundle: Path) -> list[tuple[str, bool, bytes]]:
    """(module name, is a package, marshalled code) of every module in the executable's PYZ archive."""
    try:
        from PyInstaller.archive.readers import CArchiveReader
    except ImportError:  # PyInstaller is in the dev extra; without it the archive is not inspected
        return []
    package = CArchiveReader(str(executable(bundle)))
    import marshal

    modules: list[tuple[str, bool, bytes]] = []
    for name, entry in package.toc.items():
        if entry[-1] != "z":  # the PYZ archive
            continue
        pyz = package.open_embedded_archive(name)
        for module, (kind, *_rest) in pyz.toc.items():
            data = pyz.extract(module)  # a code object (None for namespace packages)
            if data is not None and not isinstance(data, bytes | bytearray):
                data = marshal.dumps(data)
            modules.append((module, kind == 1, bytes(data or b"")))  # kind 1: package
    return modules


def _code_filenames(code: Any) -> list[str]:
    found = [code.co_filename]
    for const in code.co_consts:
        if hasattr(const, "co_filename"):
            found += _code_filenames(const)
    return found


def _is_test_path(parts: tuple[str, ...]) -> bool:
    return any(part in ("tests", "test", "testing_data", "conftest.py") for part in parts) or any(
        part.startswith("test_") and part.endswith((".py", ".pyc")) for part in parts
    )


def _left_to_the_system(library: str) -> bool:
    """Libraries that are deliberately not bundled: PyInstaller's exclusions (C library, graphics
    stack, libxcb and Wayland, which every desktop using them has) and bundle_rules.SYSTEM_LIBRARIES."""
    sys.path.insert(0, str(ROOT / "packaging"))
    from bundle_rules import SYSTEM_LIBRARIES

    if library in SYSTEM_LIBRARIES:
        return True
    try:
        from PyInstaller.depend.dylib import include_library
    except ImportError:
        return False
    return not include_library(library)


def _missing_libraries(bundle: Path) -> list[str]:
    """Linux: bundled ELF files with a dependency that resolves nowhere, on this machine."""
    if not sys.platform.startswith("linux") or shutil.which("ldd") is None:
        return []
    problems = []
    for path in sorted(bundle.rglob("*")):
        if not path.is_file() or path.is_symlink():
            continue
        if not (".so" in path.name or path == executable(bundle)):
            continue
        with path.open("rb") as handle:
            if handle.read(4) != b"\x7fELF":
                continue
        out = subprocess.run(["ldd", str(path)], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            library = line.split("=>")[0].strip()
            if "not found" in line and not _left_to_the_system(library):
                problems.append(f"{path.relative_to(bundle)} needs {library}, which is not found")
    return problems


def bundle_problems(bundle: Path) -> list[str]:
    """Everything in ``bundle`` that should not be there."""
    import marshal

    problems: list[str] = []
    if not executable(bundle).is_file():
        return [f"{executable(bundle)} does not exist"]
    for path in sorted(bundle.rglob("*")):
        rel = path.relative_to(bundle)
        parts = rel.parts
        if path.is_dir():
            continue
        if any(part in TRAINING_ONLY or part.startswith(("libtorch", "torch-")) for part in parts):
            problems.append(f"training-only library: {rel}")
        if path.suffix == ".gguf" or path.name in TEST_DATA_NAMES:
            problems.append(f"test data: {rel}")
        if path.name in TOKENIZER_NAMES and parts[: len(SHIPPED_TOKENIZERS)] != SHIPPED_TOKENIZERS:
            problems.append(f"tokenizer outside the shipped assets: {rel}")
        if _is_test_path(parts):
            problems.append(f"test file: {rel}")
        if any(".venv" in part or part == "site-packages" for part in parts) or path.name == "pyvenv.cfg":
            problems.append(f"virtual environment leftover: {rel}")
        if path.suffix == ".pth":
            problems.append(f"path configuration file: {rel}")
        if path.is_symlink():
            target = Path(os.path.realpath(path))
            if bundle.resolve() not in target.parents:
                problems.append(f"link leaving the bundle: {rel} -> {target}")
            continue
        data = path.read_bytes()
        if HF_TOKEN.search(data):
            problems.append(f"Hugging Face token in {rel}")
        if path.suffix in _TEXT_SUFFIXES and path.stat().st_size < 50_000_000 and b"/.venv/" in data:
            problems.append(f"mentions a .venv path: {rel}")
    try:
        modules = _archive_modules(bundle)
    except Exception as exc:  # noqa: BLE001 - PyInstaller's ArchiveReadError and OSError alike
        problems.append(f"cannot read the archive in {executable(bundle).name}: {exc}")
        modules = []
    for module, is_package, data in modules:
        parts = tuple(module.split("."))
        # A test suite: our tests/ or bench/, pytest, any package named tests, any test_*.py module.
        # (jinja2.tests is the template engine's tests such as "is defined", not a test suite.)
        if (
            parts[0] in ("tests", "bench", "conftest", "pytest", "_pytest")
            or (is_package and parts[-1] == "tests")
            or any(part.startswith("test_") or part == "conftest" for part in parts)
        ):
            problems.append(f"test module in the archive: {module}")
        if parts[0] in TRAINING_ONLY:
            problems.append(f"training-only module in the archive: {module}")
        if HF_TOKEN.search(data):
            problems.append(f"Hugging Face token in module {module}")
        try:
            code = marshal.loads(data)
        except (ValueError, EOFError, TypeError):
            continue
        leaked = [name for name in _code_filenames(code) if ".venv" in name or os.path.isabs(name)]
        if leaked:
            problems.append(f"module {module} records the build machine's path {leaked[0]}")
    problems += _missing_libraries(bundle)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bundle", nargs="?", default=str(DEFAULT_BUNDLE), help="the one-folder build")
    parser.add_argument("--model", default=str(DEFAULT_MODEL) if DEFAULT_MODEL.is_file() else None)
    args = parser.parse_args(argv)
    bundle = Path(args.bundle).resolve()
    with tempfile.TemporaryDirectory(prefix="alpaca-desk-hostile-") as tmp:
        run = run_self_test(bundle, Path(args.model) if args.model else None, Path(tmp) / "cwd")
    problems = bundle_problems(bundle)
    report = {
        "self_test_ok": run.returncode == 0 and bool(run.result and run.result.get("ok")) and not run.canaries,
        "returncode": run.returncode,
        "canaries": run.canaries,
        "bundle_mb": round(bundle_size(bundle) / 1e6, 1),
        "problems": problems,
        "self_test": run.result,
    }
    print(json.dumps(report, ensure_ascii=False))
    if not report["self_test_ok"]:
        sys.stderr.write(run.stderr[-4000:])
    return 0 if report["self_test_ok"] and not problems else 1


if __name__ == "__main__":
    raise SystemExit(main())
