"""Render the app's main views offscreen into PNGs (``make screenshots``): every size, scale,
language and colour scheme, for people to look at what changed.

One child process per (scale, language, scheme): Qt's scale factor is read once per process
(``QT_SCALE_FACTOR``), and the child renders every view at every size with one window, which is
what keeps the whole set fast. Each child gets an offscreen screen large enough for the largest
size at its scale, so no window is cut down to a small default screen. Data lives in a temporary
folder: the user's conversations are never touched; the conversation is staged (typed in here,
not generated), the hub dialog shows the shipped catalogue snapshot in offline mode, and the
report's figures are staged too. Files are named ``VIEW-WxH-LANG-SCHEME@SCALEx.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runtime.paths import set_base_dir

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = REPO_ROOT / "tests" / "data" / "stories260K.gguf"
SIZES = ("800x600", "1280x800", "1920x1080")
SCALES = ("1.0", "2.0")
LANGUAGES = ("en", "zh_CN")
SCHEMES = ("light", "dark")
VIEWS = ("chat", "tokenizer", "hub", "convert", "report", "training")

CONVERSATION = [
    ("user", "What does the Chinese-LLaMA paper add to LLaMA? 请用中文和英文各说一遍。"),
    (
        "assistant",
        "**简而言之：** 它为 LLaMA 扩充了中文词表，并用中文语料继续预训练。\n\n"
        "In short, the paper:\n\n"
        "1. extends the vocabulary with 20,000 Chinese pieces (49,953 in all);\n"
        "2. pre-trains further on Chinese text with LoRA;\n"
        "3. fine-tunes on instructions (Chinese-Alpaca).\n\n"
        "| 模型 Model | 词表 Vocabulary | 上下文 Context |\n"
        "|---|---:|---:|\n"
        "| LLaMA | 32,000 | 2,048 |\n"
        "| Chinese-LLaMA | 49,953 | 2,048 |\n"
        "| Chinese-Alpaca | 49,954 | 2,048 |\n\n"
        "Paper: https://arxiv.org/abs/2304.08177?utm_source=alpaca-desk&a-very-long-query-string="
        "that-keeps-going-and-going-without-a-single-space-to-break-at\n",
    ),
    ("user", "Show me how to count tokens with both tokenizers. 给一段代码。"),
    (
        "assistant",
        "可以用 SentencePiece 直接比较：\n\n"
        "```python\n"
        "import sentencepiece as spm\n\n"
        "text = '白日依山尽，黄河入海流。'\n"
        "for name in ('llama.model', 'chinese_llama.model'):\n"
        "    sp = spm.SentencePieceProcessor(model_file=name)\n"
        "    print(name, len(sp.encode(text)))  # the Chinese tokenizer needs far fewer pieces\n"
        "```\n\n"
        "- 中文词表：每个汉字约 **0.7** 个词元\n"
        "- LLaMA: about **1.5** tokens per Chinese character (many are byte pieces)",
    ),
]
TOKENIZER_TEXT = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。The sun sets behind the mountains."
#: Staged rows for the report window (sizes of a 7B model's files, perplexities of the kind the
#: paper's table 9 reports); the real report measures them.
REPORT = {
    "n_ctx": 512,
    "text": "zh_samples.txt",
    "rows": [
        {
            "file": f"chinese-alpaca-7b-{q.lower()}.gguf",
            "quantization": q,
            "bytes": b,
            "bits_per_weight": w,
            "perplexity": p,
            "tokens_per_second": t,
        }
        for q, b, w, p, t in (
            ("F16", 13_770_000_000, 16.0, 9.171, 4.1),
            ("Q8_0", 7_320_000_000, 8.5, 9.177, 7.9),
            ("Q5_K", 4_780_000_000, 5.67, 9.241, 10.8),
            ("Q4_K", 4_080_000_000, 4.84, 9.402, 12.6),
            ("Q4_0", 3_830_000_000, 4.5, 9.632, 13.4),
        )
    ],
}


def main(argv: list[str] | None = None) -> int:
    """Render every combination asked for, one child process per scale, language and scheme."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/screens", help="folder for the PNGs")
    parser.add_argument("--sizes", default=",".join(SIZES), help="window sizes WxH, comma-separated")
    parser.add_argument("--scales", default=",".join(SCALES), help="QT_SCALE_FACTOR values, comma-separated")
    parser.add_argument("--langs", default=",".join(LANGUAGES), help="interface languages, comma-separated")
    parser.add_argument("--schemes", default=",".join(SCHEMES), help="light, dark, comma-separated")
    parser.add_argument("--views", default=",".join(VIEWS), help=f"views, comma-separated ({', '.join(VIEWS)})")
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="GGUF model to load ('' for none)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _render(args)
    failed = 0
    started = time.monotonic()
    for scale in args.scales.split(","):
        for lang in args.langs.split(","):
            for scheme in args.schemes.split(","):
                failed += _run_child(args, scale, lang, scheme)
    print(f"{'failed' if failed else 'done'} in {time.monotonic() - started:.0f} s")  # noqa: T201 - tool output
    return 1 if failed else 0


def _run_child(args: argparse.Namespace, scale: str, lang: str, scheme: str) -> int:
    """One child for this scale, language and scheme; 1 if it failed."""
    widest = max(int(size.split("x")[0]) for size in args.sizes.split(","))
    tallest = max(int(size.split("x")[1]) for size in args.sizes.split(","))
    # Physical pixels: the largest window at this scale, and room for the dialogs' frames.
    factor = float(scale)
    screen = {"name": "shots", "x": 0, "y": 0, "logicalDpi": 96, "dpr": 1}
    screen.update(width=int((widest + 100) * factor), height=int((tallest + 100) * factor))
    with tempfile.TemporaryDirectory(prefix="alpaca-desk-screens-") as folder:
        config = Path(folder) / "screens.json"
        config.write_text(json.dumps({"screens": [screen]}), encoding="utf-8")
        env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}", "QT_SCALE_FACTOR": scale}
        command = [
            sys.executable, "-m", "app.screenshots", "--child", "--out", args.out, "--sizes", args.sizes,
            "--scales", scale, "--langs", lang, "--schemes", scheme, "--views", args.views, "--model", args.model,
        ]  # fmt: skip
        result = subprocess.run(command, env=env, check=False)
    return 0 if result.returncode == 0 else 1


def _render(args: argparse.Namespace) -> int:
    """In the child: every view at every size for one scale, language and scheme."""
    set_base_dir(tempfile.mkdtemp(prefix="alpaca-desk-shots-"))
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication, QWidget

    from app.context import AppContext
    from app.i18n import install_translators
    from app.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Alpaca Desk")
    context = AppContext.open(show_errors=False)
    context.settings.language = args.langs
    context.settings.colour_scheme = args.schemes
    context.settings.hub_offline = True  # the shipped snapshot; no network
    context.settings.show_decoding_panel = True
    context.settings.show_tokenizer_panel = False
    install_translators(args.langs)
    conversation = context.store.create_conversation("Chinese-LLaMA 是什么？", template="chinese-alpaca")
    context.store.create_conversation("Translate a poem / 翻译一首诗")
    context.store.create_conversation("LoRA 训练参数")
    for role, text in CONVERSATION:
        context.store.add_message(conversation.id, role, text)

    window = MainWindow(context)
    window._replaced = True  # closing it must not ask about downloads or quit early
    window.show()
    window.refresh_conversations()
    window.open_conversation(conversation.id)
    window.input.setPlainText("再举一个例子，用英文。")

    def wait(ms: int, until: object = None) -> None:
        loop = QEventLoop()
        if until is not None:
            until.connect(lambda *_: QTimer.singleShot(100, loop.quit))  # type: ignore[attr-defined]
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    if args.model and Path(args.model).is_file():
        window.open_model(args.model)
        wait(30_000, window.client.loaded)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    suffix = f"{args.langs}-{args.schemes}@{args.scales}x"
    written = 0
    views = args.views.split(",")
    sizes = [tuple(int(v) for v in size.split("x")) for size in args.sizes.split(",")]

    def shoot(name: str, widget: QWidget, width: int, height: int) -> None:
        nonlocal written
        widget.resize(width, height)
        wait(350)
        path = out / f"{name}-{width}x{height}-{suffix}.png"
        if widget.grab().save(str(path), "PNG", 0):  # 0: the smallest file (zlib's best)
            written += 1
        else:
            print(f"could not write {path}", file=sys.stderr)  # noqa: T201 - tool output

    for width, height in sizes:
        if "chat" in views:
            shoot("chat", window, width, height)
    if "tokenizer" in views:
        window.panel_action.setChecked(False)
        window.tokens_action.setChecked(True)
        panel = window.tokenizer_panel
        deadline = time.monotonic() + 60
        while panel.tokenizer_keys() != ["llama", "chinese-llama"] and time.monotonic() < deadline:
            wait(100)
        panel.set_text(TOKENIZER_TEXT)
        wait(30_000, window.tokenizer_panel.updated)
        for width, height in sizes:
            shoot("tokenizer", window, width, height)
    dialogs: list[tuple[str, QWidget]] = []
    if "hub" in views:
        hub = window.hub_controller.open_dialog()
        from app.views.hub_view import REPO_ROLE

        items = [hub.catalogue.topLevelItem(i) for i in range(hub.catalogue.topLevelItemCount())]
        # The 7B Alpaca-2 GGUF: its files, licence, and the offer of its 1.3B drafter shown.
        chosen = [item for item in items if item.data(0, REPO_ROLE) == "hfl/chinese-alpaca-2-7b-gguf"] or items[:1]
        if chosen:
            hub.catalogue.setCurrentItem(chosen[0])
        dialogs.append(("hub", hub))
    if "convert" in views:
        window.open_convert_wizard()
        dialogs.append(("convert", window._convert_wizard))
    if "report" in views:
        window.open_quantization_report([row["file"] for row in REPORT["rows"]])  # type: ignore[index]
        report = window._report_dialog
        report.controller.finished.emit(REPORT)
        dialogs.append(("report", report))
    if "training" in views:
        window.open_training_tool()
        dialogs.append(("training", window._training_view))
    for name, dialog in dialogs:
        dialog.show()
        for width, height in sizes:
            shoot(name, dialog, width, height)
        dialog.hide()
    window.close()
    context.close()
    print(f"{written} screenshots {suffix} in {out}")  # noqa: T201 - tool output
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
