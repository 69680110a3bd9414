"""Start-up time: from launching the process to the first paint of the main window (offscreen).

Measured for ``python -m app`` (from source, the venv's interpreter) and for the one-folder build
``dist/alpaca-desk/alpaca-desk``, each with ``--exit-when-shown`` (the app prints a line at its
first paint and quits). The figure is the wall time from ``Popen`` to that line, the median of
``--runs`` runs after one warm-up run each (which is not counted: the first start after a build
reads everything from disk). Each run gets a fresh data folder and config folder. Also reports
the bundle's size. Targets (issue #4): frozen start <= 2 s and <= 1.2 x the source start;
bundle <= 350 MB.

Prints one JSON line; progress goes to stderr. ``python bench/startup.py [--bundle DIR] [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_BUNDLE = REPO_ROOT / "dist" / "alpaca-desk"
TARGET_FROZEN_S = 2.0
TARGET_RATIO = 1.2
TARGET_BUNDLE_MB = 350.0


def log(message: str) -> None:
    print(f"[startup] {message}", file=sys.stderr, flush=True)


def bundle_size_mb(bundle: Path) -> float:
    """Megabytes (10^6 bytes) of the bundle's regular files."""
    return sum(p.lstat().st_size for p in bundle.rglob("*") if p.is_file() and not p.is_symlink()) / 1e6


def start_once(command: list[str], cwd: Path, timeout: float = 60.0) -> tuple[float, float | None]:
    """Launch ``command`` with ``--exit-when-shown``; seconds until it reported the window shown."""
    scratch = Path(tempfile.mkdtemp(prefix="alpaca-desk-startup-"))
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(scratch / "xdg-config"),  # QSettings (window geometry) goes there
        "HF_HUB_OFFLINE": "1",
    }
    full = [*command, "--exit-when-shown", "--no-err-windows", "--data-dir", str(scratch / "data")]
    started = time.perf_counter()
    proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    shown_wall = shown_inside = None
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            if '"shown_after_s"' in line:
                shown_wall = time.perf_counter() - started
                shown_inside = json.loads(line).get("shown_after_s")
                break
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if shown_wall is None:
        raise RuntimeError(f"{full[0]} never reported its window (exit code {proc.returncode})")
    return shown_wall, shown_inside


def measure(name: str, command: list[str], cwd: Path, runs: int) -> dict[str, Any]:
    """Median start-up of ``runs`` runs after a warm-up."""
    log(f"{name}: warm-up")
    start_once(command, cwd)
    walls: list[float] = []
    inside: list[float] = []
    for i in range(runs):
        wall, in_process = start_once(command, cwd)
        walls.append(wall)
        if in_process is not None:
            inside.append(in_process)
        log(f"{name}: run {i + 1}/{runs}: {wall:.3f} s")
    return {
        "median_s": round(statistics.median(walls), 3),
        "min_s": round(min(walls), 3),
        "max_s": round(max(walls), 3),
        "in_process_median_s": round(statistics.median(inside), 3) if inside else None,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--bundle", default=str(DEFAULT_BUNDLE), help="the one-folder build (default: dist/alpaca-desk)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--python", default=sys.executable, help="interpreter for `python -m app`")
    args = parser.parse_args(argv)

    source = measure("source", [args.python, "-m", "app"], REPO_ROOT, args.runs)
    bundle = Path(args.bundle)
    executable = bundle / ("alpaca-desk.exe" if sys.platform == "win32" else "alpaca-desk")
    frozen = None
    size_mb = None
    if executable.is_file():
        with tempfile.TemporaryDirectory(prefix="alpaca-desk-startup-cwd-") as cwd:
            frozen = measure("frozen", [str(executable)], Path(cwd), args.runs)
        size_mb = round(bundle_size_mb(bundle), 1)
    else:
        log(f"no build at {bundle}: run `make package` to measure the frozen start-up")

    ratio = round(frozen["median_s"] / source["median_s"], 3) if frozen else None
    result: dict[str, Any] = {
        "bench": "startup",
        "runs": args.runs,
        "source_start_s": source["median_s"],
        "frozen_start_s": frozen["median_s"] if frozen else None,
        "frozen_over_source": ratio,
        "bundle_mb": size_mb,
        "targets": {
            "frozen_start_s": TARGET_FROZEN_S,
            "frozen_over_source": TARGET_RATIO,
            "bundle_mb": TARGET_BUNDLE_MB,
        },
        "meets_targets": (
            frozen is not None
            and size_mb is not None
            and frozen["median_s"] <= TARGET_FROZEN_S
            and ratio is not None
            and ratio <= TARGET_RATIO
            and size_mb <= TARGET_BUNDLE_MB
        ),
        "source": source,
        "frozen": frozen,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "loadavg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
