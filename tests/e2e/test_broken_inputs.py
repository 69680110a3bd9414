"""``python -m app`` started on settings it cannot use, as a user would meet them: it starts with
the defaults and never prints a traceback.

The app runs offscreen with ``--no-err-windows`` (its messages go to stderr instead of dialogs)
and ``--exit-when-shown`` (it quits after the window's first paint).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def run_app(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONIOENCODING": "utf-8", **(env or {})}
    environment.pop("ALPACA_DESK_HOME", None)  # --data-dir decides
    return subprocess.run(
        [sys.executable, "-m", "app", "--no-err-windows", "--exit-when-shown", "--lang", "en", *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=180,
        check=False,
    )


@pytest.mark.parametrize(
    "settings",
    [
        {"show_decoding_panel": "yes"},
        {"show_decoding_panel": None},
        {"n_threads": "many", "n_gpu_layers": [1]},
        None,
    ],
    ids=["flag-text", "flag-null", "numbers", "null"],
)
def test_bad_settings_start_the_app(tmp_path: Path, settings: object) -> None:
    config = tmp_path / "home" / "config"
    config.mkdir(parents=True)
    (config / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    proc = run_app("--data-dir", str(tmp_path / "home"))
    assert proc.returncode == 0, proc.stderr
    assert "shown_after_s" in proc.stdout
    assert "Traceback" not in proc.stderr
    # The file saved at exit holds valid values, so the next start is quiet.
    saved = json.loads((config / "settings.json").read_text(encoding="utf-8"))
    assert saved["show_decoding_panel"] is True and saved["n_threads"] is None
