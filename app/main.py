"""Start-up: command line, logging, the QApplication, translations and the main window."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from runtime.paths import app_paths, set_base_dir

log = logging.getLogger("app")
CLI_COMMANDS = ("chat", "host")


def build_parser() -> argparse.ArgumentParser:
    """Arguments of the desktop app."""
    parser = argparse.ArgumentParser(prog="alpaca-desk", description="Alpaca Desk desktop app")
    parser.add_argument("--model", help="open this .gguf model at start")
    parser.add_argument("--data-dir", help="keep settings, conversations and models under DIR")
    parser.add_argument("--temp-basedir", action="store_true", help="use a fresh temporary data directory (tests)")
    parser.add_argument("--no-err-windows", action="store_true", help="log errors instead of showing dialogs (tests)")
    parser.add_argument("--lang", choices=["system", "en", "zh_CN"], help="interface language for this run")
    return parser


def _setup_logging(no_err_windows: bool) -> None:
    paths = app_paths().ensure()
    handlers: list[logging.Handler] = [logging.FileHandler(paths.logs / "alpaca-desk.log", encoding="utf-8")]
    if sys.stderr is not None:
        handlers.append(logging.StreamHandler())
    else:
        # A frozen windowed build has no stderr; native libraries and warnings still write
        # there, so give them the log file (pyinstaller#7782).
        sys.stderr = open(paths.logs / "stderr.log", "a", encoding="utf-8")  # noqa: SIM115
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=handlers)

    def excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.critical("uncaught exception", exc_info=(kind, value, tb))
        if no_err_windows:
            return
        from PySide6.QtWidgets import QApplication, QMessageBox

        if QApplication.instance() is not None:
            details = "".join(traceback.format_exception(kind, value, tb))
            box = QMessageBox(QMessageBox.Icon.Critical, "Alpaca Desk", str(value))
            box.setDetailedText(details)
            box.exec()

    sys.excepthook = excepthook


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app; returns the exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.temp_basedir:
        set_base_dir(tempfile.mkdtemp(prefix="alpaca-desk-"))
    elif args.data_dir:
        set_base_dir(args.data_dir)
    _setup_logging(args.no_err_windows)

    from PySide6.QtWidgets import QApplication

    from app.i18n import install_translators
    from app.main_window import AppContext, MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0]])
    app.setApplicationName("Alpaca Desk")
    app.setOrganizationName("AlpacaDesk")
    context = AppContext.open(show_errors=not args.no_err_windows)
    if args.lang:
        context.settings.language = args.lang
    install_translators(context.settings.language)
    window = MainWindow(context)
    window.show()
    if args.model:
        window.open_model(str(Path(args.model).expanduser()))
    code = app.exec()
    context.close()
    return int(code)


def entry(argv: Sequence[str] | None = None) -> int:
    """The ``alpaca-desk`` console script: ``chat``/``host`` go to the command line, the rest to the GUI."""
    args = list(sys.argv[1:] if argv is None else argv)
    words = [a for a in args if not a.startswith("-")]
    if words and words[0] in CLI_COMMANDS:
        from runtime.cli import main as cli_main

        return cli_main(args)
    return main(args)
