"""Start-up: command line, logging, the QApplication, translations and the main window.

In the frozen (PyInstaller) build the same executable is also the inference host
(``alpaca-desk host``), the job runner (``alpaca-desk job ...``) and the template sandbox
(``alpaca-desk template-sandbox``); :func:`entry` first makes
sure that process uses nothing from outside the bundle (see :mod:`app.isolation`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from app import isolation
from runtime.errors import Notice
from runtime.paths import app_paths, assets_dir, set_base_dir, unwritable_reason

if TYPE_CHECKING:
    from PySide6.QtCore import QCoreApplication
    from PySide6.QtWidgets import QWidget

log = logging.getLogger("app")
CLI_COMMANDS = (
    "chat",
    "conversations",
    "convert",
    "download",
    "host",
    "hosts",
    "job",
    "merge-lora",
    "models",
    "plan",
    "quantize",
    "remote",
    "report",
    "serve",
    "template-sandbox",
    "tokens",
    "train",
    "verify",
    "vocab",
)
#: Exit status when a folder the app needs cannot be used (the message names it and what to do).
FOLDER_EXIT_CODE = 4
#: The desktop entry's name (packaging/alpaca-desk.desktop) and the Wayland app id.
DESKTOP_FILE_NAME = "alpaca-desk"


def build_parser() -> argparse.ArgumentParser:
    """Arguments of the desktop app."""
    parser = argparse.ArgumentParser(prog="alpaca-desk", description="Alpaca Desk desktop app")
    parser.add_argument("--model", help="open this .gguf model at start")
    parser.add_argument("--data-dir", help="keep settings, conversations and models under DIR")
    parser.add_argument("--temp-basedir", action="store_true", help="use a fresh temporary data directory (tests)")
    parser.add_argument("--no-err-windows", action="store_true", help="log errors instead of showing dialogs (tests)")
    parser.add_argument("--lang", choices=["system", "en", "zh_CN"], help="interface language for this run")
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check this installation: load a tiny model (--model, or one built on the fly), generate, "
        "count tokens with sentencepiece, open the window offscreen; print one JSON line and exit",
    )
    # bench/startup.py: print the seconds from process start to the first paint of the main window
    # as one JSON line on stdout, then quit.
    parser.add_argument("--exit-when-shown", action="store_true", help=argparse.SUPPRESS)
    return parser


def seconds_since_process_start() -> float | None:
    """Wall time since this process was created (Linux: /proc), or None where unknown."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat:
            # Field 22 (starttime, clock ticks after boot) follows the parenthesised command name.
            fields = stat.read().rsplit(")", 1)[1].split()
        start_ticks = int(fields[19])
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def _exit_when_shown(app: QCoreApplication, window: QWidget) -> None:
    """Quit right after the window's first paint, printing how long start-up took."""
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QWidget

    class FirstPaint(QObject):
        """Application-wide filter: the first paint of any widget of ``window`` (the main window
        itself may get none when its children cover it)."""

        done = False

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt override
            if (
                not self.done
                and event.type() == QEvent.Type.Paint
                and isinstance(watched, QWidget)
                and watched.window() is window
            ):
                self.done = True
                since_start = seconds_since_process_start()
                line = {"shown_after_s": round(since_start, 4) if since_start is not None else None}
                sys.stdout.write(json.dumps(line) + "\n")
                sys.stdout.flush()
                QTimer.singleShot(0, window.close)
            return False

    app.installEventFilter(FirstPaint(window))


def _setup_logging(no_err_windows: bool) -> Notice | None:
    """Log to the log file and stderr; without a log file if it cannot be written.

    Returns:
        A notice for the user when there is no log file (a read-only folder must not stop the
        app before it can say what is wrong).
    """
    logs = app_paths().logs
    handlers: list[logging.Handler] = []
    reason = unwritable_reason(logs)
    if reason is None:
        try:
            handlers.append(logging.FileHandler(logs / "alpaca-desk.log", encoding="utf-8"))
        except OSError as exc:
            reason = exc.strerror or str(exc)
    if sys.stderr is not None:
        handlers.append(logging.StreamHandler())
    else:
        # A frozen windowed build has no stderr; native libraries and warnings still write
        # there, so give them the log file (pyinstaller#7782), or nothing.
        try:
            sys.stderr = open(logs / "stderr.log", "a", encoding="utf-8")  # noqa: SIM115
        except OSError:
            sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
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
    if reason is None:
        return None
    notice = Notice(
        f"The log folder {logs} cannot be written ({reason}); Alpaca Desk runs without a log file.",
        code="log_unwritable",
        params={"path": str(logs), "reason": reason},
    )
    log.warning("%s", notice)
    return notice


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app; returns the exit code."""
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    if args.self_test:
        from app.self_test import main as self_test_main

        return self_test_main(model=args.model, data_dir=args.data_dir, lang=args.lang or "zh_CN")
    if args.temp_basedir:
        set_base_dir(tempfile.mkdtemp(prefix="alpaca-desk-"))
    elif args.data_dir:
        set_base_dir(args.data_dir)
    log_notice = _setup_logging(args.no_err_windows)

    from PySide6.QtWidgets import QApplication

    from app.context import AppContext
    from app.i18n import install_translators
    from app.main_window import MainWindow
    from app.notices import show_startup_notices

    app = QApplication.instance() or QApplication([sys.argv[0]])
    isolation.enforce("after loading Qt and its platform plugin")
    app.setApplicationName("Alpaca Desk")
    app.setOrganizationName("AlpacaDesk")
    set_desktop_identity()
    # The settings (and their language) are not read yet: a message before the window comes in
    # the language asked for, or the system's.
    install_translators(args.lang or "system")
    paths = app_paths()
    problem = paths.startup_problem()
    if problem is not None:
        return _refuse_folder(*problem, no_err_windows=args.no_err_windows)
    # One app per data folder: a second one would share the conversation file and mark the
    # first one's answer in progress as interrupted.
    from PySide6.QtCore import QLockFile

    lock = QLockFile(str(paths.data / "alpaca-desk.lock"))
    if not lock.tryLock(200):
        if lock.error() != QLockFile.LockError.LockFailedError:
            # Not another Alpaca Desk: the lock file could not be written at all.
            return _refuse_folder(paths.data, "cannot create the lock file", no_err_windows=args.no_err_windows)
        text = QApplication.translate(
            "Startup", "Alpaca Desk is already running with this data folder. Switch to its window."
        )
        log.error("%s (%s)", text, lock.fileName())
        if not args.no_err_windows:
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.information(None, "Alpaca Desk", text)
        return 1
    context = AppContext.open(show_errors=not args.no_err_windows)
    if args.lang:
        context.settings.language = args.lang
    install_translators(context.settings.language)
    window = MainWindow(context)
    # Every notice queues in the banner, the offer of models last: none replaces another.
    show_startup_notices(window, [log_notice] if log_notice else [], offer_models=not args.model)
    # Downloads that were running or waiting when the app last closed (or crashed) go on from
    # the bytes on disk.
    context.downloads.resume_pending()
    if args.exit_when_shown:
        _exit_when_shown(app, window)
    window.show()
    if args.model:
        window.open_model(str(Path(args.model).expanduser()))
    code = app.exec()
    context.close()
    lock.unlock()
    return int(code)


def _refuse_folder(folder: Path, reason: str, *, no_err_windows: bool) -> int:
    """Say which folder cannot be used, why and what to do (a dialog, and the log); the exit status."""
    from PySide6.QtWidgets import QApplication

    text = QApplication.translate(
        "Startup",
        "Alpaca Desk cannot use the folder {path}: {reason}. Make the folder writable (or move away the "
        "file in its place), or start Alpaca Desk with --data-dir pointing to a folder you can write to.",
    ).format(path=folder, reason=reason)
    log.error("%s", text)
    if not no_err_windows:
        from PySide6.QtWidgets import QMessageBox

        QMessageBox.critical(None, "Alpaca Desk", text)
    return FOLDER_EXIT_CODE


def set_desktop_identity() -> None:
    """The desktop entry's name (Wayland app id, taskbar grouping) and the icon of every window
    (assets/icons; PNG support is built into QtGui)."""
    from PySide6.QtGui import QGuiApplication, QIcon

    QGuiApplication.setDesktopFileName(DESKTOP_FILE_NAME)
    icon = QIcon()
    for png in sorted((assets_dir() / "icons").glob("alpaca-desk-*.png")):
        icon.addFile(str(png))
    if not icon.isNull():
        QGuiApplication.setWindowIcon(icon)


def _positional(args: list[str]) -> list[str]:
    """The words of ``args`` that are not options or an option's value (``--data-dir DIR``)."""
    words: list[str] = []
    skip = False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--data-dir":
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
    return words


def entry(argv: Sequence[str] | None = None) -> int:
    """The ``alpaca-desk`` console script: ``chat``/``host``/``job`` go to the command line, the rest to the GUI.

    A frozen build first scrubs the environment and refuses to run with anything loaded from
    outside the bundle (:func:`app.isolation.isolate_at_start`; exit code 3).
    """
    isolation.isolate_at_start()
    args = list(sys.argv[1:] if argv is None else argv)
    words = _positional(args)
    if words and words[0] in CLI_COMMANDS:
        if words[0] == "host" and isolation.is_frozen():
            # The host loads llama.cpp anyway; loading it now lets the check see which native
            # libraries were mapped before the host answers anything.
            import llama_cpp  # noqa: F401

            isolation.enforce("after loading llama.cpp")
        from runtime.cli import main as cli_main

        return cli_main(args)
    return main(args)
