"""Helpers shared by the benchmarks in ``bench/``: where the data and the cache live, logging, stats.

Benchmarks print their figures as one JSON line on stdout and their progress on stderr, so that
``python bench/x.py > result.json`` keeps only the figures.
"""

from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
#: The real files the benchmarks use are the repository's own: the test data and the shipped tokenizers.
TEST_DATA = REPO_ROOT / "tests" / "data"
STORIES_GGUF = TEST_DATA / "stories260K.gguf"
ZH_SAMPLES = TEST_DATA / "zh_samples.txt"
LLAMA_TOKENIZER = REPO_ROOT / "assets" / "tokenizers" / "llama" / "tokenizer.model"
CHINESE_SP_MODEL = REPO_ROOT / "assets" / "tokenizers" / "chinese_sp.model"
BENCH_CACHE_ENV = "ALPACA_DESK_BENCH_CACHE"

# `python bench/x.py` puts bench/ first on sys.path, not the repository: make `runtime` importable
# even when the package is not installed in the interpreter that runs the benchmark.
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

_T0 = time.perf_counter()


def log(message: str) -> None:
    """Progress line on stderr, with the seconds since the benchmark started."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {message}", file=sys.stderr, flush=True)


def shown_path(path: Path) -> str:
    """``path`` relative to the repository when it is inside it, else absolute (for the report)."""
    resolved = path.resolve()
    return str(resolved.relative_to(REPO_ROOT)) if resolved.is_relative_to(REPO_ROOT) else str(resolved)


def cache_dir(*parts: str) -> Path:
    """A folder under the benchmark cache (``$ALPACA_DESK_BENCH_CACHE`` or ``<repo>/.cache/bench``,
    which .gitignore excludes), created if needed."""
    base = Path(os.environ.get(BENCH_CACHE_ENV) or REPO_ROOT / ".cache" / "bench")
    folder = base.joinpath(*parts)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def median(values: Iterable[float]) -> float | None:
    """Median of the values, or None when there are none."""
    items = [v for v in values if v is not None]
    return statistics.median(items) if items else None


def rounded(value: float | None, digits: int = 2) -> float | None:
    """``round`` that lets None through (a figure that could not be measured)."""
    return None if value is None else round(value, digits)


def cpu_model() -> str:
    """The CPU's marketing name where the platform tells it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info() -> dict[str, Any]:
    """What a reader needs to compare figures between machines."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 1
    info: dict[str, Any] = {
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "cpu_model": cpu_model(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }
    if hasattr(os, "getloadavg"):
        info["loadavg_1m_at_start"] = round(os.getloadavg()[0], 2)
    return info
