"""Tokenizer panel: time to count and segment Chinese text, and the GUI thread's longest stall on a paste.

Runtime half (Qt-free, :func:`measure_counting`): 10,000 and 100,000 characters of
``zh_samples.txt`` compared under the original LLaMA and the Chinese-LLaMA tokenizers
(``runtime.tokens.compare``) and segmented with exact spans under both
(``LoadedTokenizer.segment``); the best and median of several runs. Target (issue 3):
100,000 characters, counted and segmented under two tokenizers, in under 200 ms.

GUI half (:func:`measure_gui_stall`): the real ``app.views.tokenizer_panel.TokenizerPanel``,
offscreen, is given a 1 MB text as a paste would; a 16 ms QTimer on the GUI thread records the
longest gap between ticks (minus the interval) until the panel has shown the new counts.
Target: no stall over 50 ms. Skipped (with the reason) where the panel or Qt is not available.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any

from _common import ZH_SAMPLES, log, machine_info

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RUNS = 7
SIZES = (10_000, 100_000)
TARGET_MS = 200.0
STALL_TARGET_MS = 50.0
PASTE_BYTES = 1_000_000
TICK_MS = 16


def _text_of(corpus: str, n_chars: int) -> str:
    repeats = n_chars // len(corpus) + 1
    return (corpus * repeats)[:n_chars]


def _one_megabyte(corpus: str) -> str:
    """About :data:`PASTE_BYTES` of the corpus (UTF-8), repeated as needed."""
    chars_per_byte = len(corpus) / len(corpus.encode("utf-8"))
    return _text_of(corpus, int(PASTE_BYTES * chars_per_byte))


def _timed(function: Any) -> float:
    started = time.perf_counter()
    function()
    return (time.perf_counter() - started) * 1000.0


def measure_counting(corpus: str) -> dict[str, Any]:
    """The runtime half: loading, counting and segmenting under LLaMA and Chinese-LLaMA."""
    from runtime import tokens as tk

    started = time.perf_counter()
    pair = [tk.load_tokenizer(tk.resolve_tokenizer(name)) for name in ("llama", "chinese-llama")]
    figures: dict[str, Any] = {"load_ms_first": round((time.perf_counter() - started) * 1000.0, 1)}
    for n_chars in SIZES:
        text = _text_of(corpus, n_chars)
        tk.compare(text, pair)  # warm-up: first-call costs are not what a user waits for each keystroke
        count_ms, segment_ms, total_ms = [], [], []
        for _ in range(RUNS):
            count = _timed(lambda text=text: tk.compare(text, pair))
            segment = _timed(lambda text=text: [tokenizer.segment(text) for tokenizer in pair])
            count_ms.append(count)
            segment_ms.append(segment)
            total_ms.append(count + segment)
        counts = tk.compare(text, pair)
        figures[f"chars_{n_chars}"] = {
            "tokens": [c.n_tokens for c in counts],
            "count_ms_median": round(statistics.median(count_ms), 1),
            "segment_ms_median": round(statistics.median(segment_ms), 1),
            "total_ms_median": round(statistics.median(total_ms), 1),
            "total_ms_best": round(min(total_ms), 1),
        }
        log(f"{n_chars:,} characters: {figures[f'chars_{n_chars}']}")
    big = figures[f"chars_{SIZES[-1]}"]
    figures["target_ms"] = TARGET_MS
    figures["meets_target"] = big["total_ms_median"] < TARGET_MS
    paste = _one_megabyte(corpus)
    figures["count_1mb_ms"] = round(_timed(lambda: tk.compare(paste, pair)), 1)
    return figures


def measure_gui_stall(corpus: str) -> dict[str, Any]:
    """The GUI half: the longest GUI-thread stall while the real panel counts a 1 MB paste."""
    try:
        from PySide6.QtCore import QEventLoop
        from PySide6.QtWidgets import QApplication

        from app.views.tokenizer_panel import TokenizerPanel
    except ImportError as exc:
        return {"skipped": f"the tokenizer panel cannot be imported: {exc}"}

    app = QApplication.instance() or QApplication([sys.argv[0]])
    panel = TokenizerPanel()
    panel.resize(480, 720)
    panel.show()  # loads the default pair (off the GUI thread)
    deadline = time.monotonic() + 60
    while len(panel.tokenizer_keys()) < 2 and time.monotonic() < deadline:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)
    if len(panel.tokenizer_keys()) < 2:
        return {"skipped": "the panel did not load its default tokenizers within 60 s"}

    paste = _one_megabyte(corpus)
    from _stall import measure_stall

    worst, elapsed = measure_stall(lambda: panel.set_text(paste), panel.updated, tick_ms=TICK_MS)
    counts = panel.counts()
    panel.close()
    app.processEvents()
    return {
        "paste_chars": len(paste),
        "paste_bytes": len(paste.encode("utf-8")),
        "tokens": [c.n_tokens for c in counts],
        "update_ms": round(elapsed, 1),
        "max_stall_ms": round(worst, 1),
        "stall_target_ms": STALL_TARGET_MS,
        "meets_stall_target": worst < STALL_TARGET_MS,
    }


def main() -> int:
    """Run the measurements and print the JSON line."""
    from runtime.paths import set_base_dir

    set_base_dir(tempfile.mkdtemp(prefix="alpaca-desk-bench-"))  # the merged tokenizer is cached there
    corpus = ZH_SAMPLES.read_text(encoding="utf-8")
    log("counting and segmenting")
    counting = measure_counting(corpus)
    log("GUI stall on a 1 MB paste")
    gui = measure_gui_stall(corpus)
    print(
        json.dumps(
            {
                "bench": "tokenizer_panel",
                "tokenizers": ["llama", "chinese-llama"],
                "runs": RUNS,
                "counting": counting,
                "gui": gui,
                "machine": machine_info(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
