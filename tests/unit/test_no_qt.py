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
    if module.name.endswith(".__main__"):  # runs a command when imported
        continue
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
    runtime_dir = REPO_ROOT / "runtime"
    expected = {
        ".".join(("runtime", *path.relative_to(runtime_dir).with_suffix("").parts))
        for path in runtime_dir.rglob("*.py")
        if path.stem not in ("__init__", "__main__")
    }
    # Every module was really imported (the walk did not silently skip any).
    assert expected <= set(report["imported"])
    assert {"runtime.chat.host", "runtime.chat.client", "runtime.cli.parser", "runtime.chat.streaming"} <= set(
        report["imported"]
    )
    assert report["qt"] == []
    assert report["app"] == []
