"""Render the main window with a short conversation offscreen to a PNG (``make screenshot``).

A reviewer without a display can look at the app this way. It uses a temporary data
directory (the user's conversations are never touched) and loads a model when one is given
(default: the tiny ``tests/data/stories260K.gguf``) so the status bar is real. The conversation
is staged: typed in here, not generated, so its answers name no model and no speed.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from runtime.paths import set_base_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO_ROOT / "tests" / "data" / "stories260K.gguf"

SAMPLE = [
    ("user", "用 Python 写一个函数，判断一个数是不是素数。"),
    (
        "assistant",
        "可以用试除法：只需检查到 **平方根** 为止。\n\n"
        "```python\n"
        "def is_prime(n: int) -> bool:\n"
        "    if n < 2:\n"
        "        return False\n"
        "    i = 2\n"
        "    while i * i <= n:\n"
        "        if n % i == 0:\n"
        "            return False\n"
        "        i += 1\n"
        "    return True\n"
        "```\n\n"
        "- 时间复杂度：O(√n)\n"
        "- 对于很大的数，可以改用 Miller–Rabin 测试。",
    ),
    ("user", "再用一句话解释一下为什么只需要检查到平方根？"),
    (
        "assistant",
        "因为如果 n = a × b 且 a ≤ b，那么 a 一定不超过 √n，所以在 √n 之前找不到因数就说明 n 是素数。",
    ),
]


def main(argv: list[str] | None = None) -> int:
    """Write the screenshot; returns 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screenshot.png", help="PNG file to write")
    parser.add_argument("--lang", default="en", choices=["en", "zh_CN"], help="interface language")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="GGUF model to load (optional)")
    parser.add_argument("--size", default="1280x800", help="window size WxH")
    parser.add_argument(
        "--tokenizer-panel", action="store_true", help="show the tokenizer panel (instead of the decoding panel)"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    set_base_dir(tempfile.mkdtemp(prefix="alpaca-desk-shot-"))

    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.context import AppContext
    from app.i18n import install_translators
    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Alpaca Desk")
    context = AppContext.open(show_errors=False)
    context.settings.language = args.lang
    install_translators(args.lang)

    conversation = context.store.create_conversation(template="chinese-alpaca")
    context.store.create_conversation("Translate a poem / 翻译一首诗")
    context.store.create_conversation("LoRA 训练参数")
    for role, text in SAMPLE:
        context.store.add_message(conversation.id, role, text)

    window = MainWindow(context)
    width, height = (int(v) for v in args.size.split("x"))
    window.resize(width, height)
    window.show()
    window.refresh_conversations()
    window.open_conversation(conversation.id)
    window.input.setPlainText("再举一个例子")
    if args.tokenizer_panel:
        window.panel_action.setChecked(False)
        window.tokens_action.setChecked(True)
        window.input.setPlainText("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。")

    loop = QEventLoop()
    if args.model and Path(args.model).is_file():
        window.client.loaded.connect(lambda _info: loop.quit())
        window.client.failed.connect(lambda _msg: loop.quit())
        window.open_model(args.model)
        QTimer.singleShot(30000, loop.quit)
        loop.exec()
    # Let layouts settle and the debounced preview (and token counts) render.
    if args.tokenizer_panel:
        window.tokenizer_panel.updated.connect(lambda _counts: QTimer.singleShot(200, loop.quit))
        QTimer.singleShot(30000, loop.quit)
    else:
        QTimer.singleShot(400, loop.quit)
    loop.exec()

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    ok = window.grab().save(str(out))
    window.close()
    context.close()
    print(out if ok else f"could not write {out}")  # noqa: T201 - command-line tool output
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
