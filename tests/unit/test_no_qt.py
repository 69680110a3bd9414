"""runtime/ is the Qt-free core: the host process and the CLI must never load PySide6 or app/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

# Runs in a fresh interpreter, so nothing this test process already imported can hide an import.
PROBE = """
import json, pkgutil, sys
import runtime
names = []
for module in pkgutil.walk_packages(runtime.__path__, "runtime."):
    __import__(module.name)
    names.append(module.name)
loaded = sorted(sys.modules)
print(json.dumps({
    "imported": names,
    "qt": [m for m in loaded if m == "PySide6" or m.startswith(("PySide6.", "shiboken6"))],
    "app": [m for m in loaded if m == "app" or m.startswith("app.")],
}))
"""


def test_runtime_imports_neither_qt_nor_app() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    expected = {f"runtime.{path.stem}" for path in (REPO_ROOT / "runtime").glob("*.py") if path.stem != "__init__"}
    # Every module was really imported (the walk did not silently skip any).
    assert expected <= set(report["imported"])
    assert {"runtime.host", "runtime.client", "runtime.cli", "runtime.streaming"} <= set(report["imported"])
    assert report["qt"] == []
    assert report["app"] == []
