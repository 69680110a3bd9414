"""Largest stall of the GUI thread while an answer streams at full speed and while a model loads.

A 16 ms QTimer ticks on the GUI thread; the longest gap between two ticks, minus the
interval, is how long the event loop was blocked. Measured with the real main window, the
real host and the real store, offscreen. Target (issue #2): < 50 ms.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile

from _common import CHINESE_SP_MODEL, LLAMA_TOKENIZER, STORIES_GGUF, cache_dir, log, machine_info

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TICK_MS = 16


def main() -> int:
    """Run the measurements and print the JSON line."""
    from runtime.paths import set_base_dir

    set_base_dir(tempfile.mkdtemp(prefix="alpaca-desk-bench-"))
    from _stall import measure_stall
    from PySide6.QtWidgets import QApplication

    from app.main_window import AppContext, MainWindow
    from runtime.models.tiny import build_bench_model

    stories = STORIES_GGUF
    big = build_bench_model(cache_dir("models"), LLAMA_TOKENIZER, CHINESE_SP_MODEL)

    app = QApplication.instance() or QApplication([sys.argv[0]])
    context = AppContext.open(show_errors=False)
    window = MainWindow(context)
    window._replaced = True
    window.resize(1280, 800)
    window.show()

    def measure(start, done_signal) -> float:
        return measure_stall(start, done_signal, tick_ms=TICK_MS)[0]

    results: dict[str, object] = {}
    window.decoding.set_template_choice("raw")
    window.decoding.set_params(window.decoding.params().replace(max_tokens=1024, seed=3))
    for label, model in (("stories260K", stories), ("bench160M_q8_0", big)):
        log(f"loading {model.name}")
        load_stall = measure(lambda m=model: window.open_model(str(m)), window.client.loaded)
        tokens = [0]

        def count(_text: str, tokens: list[int] = tokens) -> None:
            tokens[0] += 1

        window.client.token.connect(count)
        stats: dict = {}
        window.client.finished.connect(stats.update)
        log(f"streaming on {model.name}")

        def send() -> None:
            window.new_conversation()
            window.input.setPlainText("Once upon a time")
            window.send()

        stream_stall = measure(send, window.client.finished)
        window.client.token.disconnect(count)
        results[label] = {
            "max_stall_ms_loading": round(load_stall, 1),
            "max_stall_ms_streaming": round(stream_stall, 1),
            "tokens_streamed": int(stats.get("generated_tokens", 0)),
            "tokens_per_s": stats.get("tokens_per_s"),
        }
    worst = max(max(r["max_stall_ms_loading"], r["max_stall_ms_streaming"]) for r in results.values())  # type: ignore[index]
    window.close()
    context.close()
    app.processEvents()
    print(
        json.dumps(
            {
                "bench": "gui_latency",
                "tick_ms": TICK_MS,
                "worst_stall_ms": worst,
                "target_ms": 50,
                "meets_target": worst < 50,
                **results,
                "machine": machine_info(),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
