"""Test set-up shared by unit, gui and e2e tests.

Qt is told to render offscreen before anything can import it, every user directory and the
Hugging Face cache point into the test's tmp_path, and the network is never used.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"

REPO_ROOT = Path(__file__).resolve().parent.parent
TEST_DATA = REPO_ROOT / "tests" / "data"
SHIPPED_TOKENIZERS = REPO_ROOT / "assets" / "tokenizers"

#: Every data file the tests use, with its SHA-256 (see tests/data/README.md and
#: assets/tokenizers/README.md for origin and licence). A missing or changed file fails the run:
#: a suite that skips what it cannot find proves little.
DATA_FILES = {
    TEST_DATA / "stories260K.gguf": "270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d",
    TEST_DATA / "zh_samples.txt": "50ba06becb8282ff5dfc9d60262fb163ff9fb3fae259f1faa9ca708816029c0c",
    TEST_DATA / "zh_sft_sample.json": "ce0830005315785e50ead29293b356da2e1a3aa6c6c4a61dd44d3c13e21f80dc",
    SHIPPED_TOKENIZERS
    / "llama"
    / "tokenizer.model": "9e556afd44213b6bd1be2b850ebbbd98f5481437a8021afaf58ee7fb1818d347",
    SHIPPED_TOKENIZERS / "chinese_sp.model": "0f5f6f717181694ec2e1c9be4398e2db2e40a3902932325b06e12ad4cd64ac09",
    SHIPPED_TOKENIZERS / "chinese-llama-2" / "tokenizer.model": (
        "a3b8844863b200dfcca971db228e96ce388290dfcf72c15d7a9d2f604bac787c"
    ),
}


#: How long a GUI test waits, unless it says otherwise, for something that must happen (a signal,
#: a condition). pytest-qt's 5 s is tight for work that starts a process (a template render in
#: the sandbox, a job, a training run stopping) on a 2-core machine that is also busy; a wait
#: ends as soon as its condition holds, so a passing test costs nothing for a longer bound.
PATIENT_WAIT_MS = 30_000


def _patient_waits() -> None:
    from pytestqt.qtbot import QtBot

    def patient(method: Any) -> Any:
        def wait(self: QtBot, *args: Any, timeout: int = PATIENT_WAIT_MS, **kwargs: Any) -> Any:
            return method(self, *args, timeout=timeout, **kwargs)

        wait.__doc__ = method.__doc__
        return wait

    for name in ("waitUntil", "waitSignal", "waitSignals", "waitCallback", "waitExposed", "waitActive"):
        setattr(QtBot, name, patient(getattr(QtBot, name)))


_patient_waits()


def _event_loops_return_at_once() -> bool:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(0, lambda: loop.exit(1))
    return loop.exec() == -1


@pytest.fixture(autouse=True)
def _qt_event_loops_work_after_the_test() -> Iterator[None]:
    """Leave Qt able to run event loops for the next test.

    A test that runs the app as a user starts it (``app.main.main``, which runs ``app.exec()``) can
    leave Qt's per-thread "quit now" flag set when the app is told to exit while an inner loop
    runs: from then on every ``QEventLoop.exec()`` returns at once, so pytest-qt's waits never let
    a timer fire, and whichever GUI tests come next (in a random order, any of them) fail on a
    timeout. ``app.exec()`` clears the flag; it is run once, quitting at its first turn, only when
    the flag was left set."""
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None or not _event_loops_return_at_once():
        return
    QTimer.singleShot(0, app.quit)
    app.exec()
    assert not _event_loops_return_at_once(), "Qt's event loops still return at once after app.exec()"


def data_file(path: Path) -> Path:
    """``path`` after checking it against :data:`DATA_FILES`; a missing or changed file fails the test."""
    if not path.is_file():
        pytest.fail(f"test data file {path} is missing; restore it from git (see tests/data/README.md)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != DATA_FILES[path]:
        pytest.fail(f"test data file {path} has SHA-256 {digest}, expected {DATA_FILES[path]}")
    return path


@pytest.fixture(scope="session")
def stories_gguf() -> Path:
    """The real tiny LLaMA model (stories260K.gguf): English text, 512-piece vocabulary."""
    return data_file(TEST_DATA / "stories260K.gguf")


@pytest.fixture(scope="session")
def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct, Q4_1 (98 MB): a real trained model with a BPE vocabulary that adds no
    BOS. Not committed: the test set-up fetches it into ``.cache/models/`` (tests/smollm2.py)."""
    from tests import smollm2

    path = smollm2.model_path()
    if not smollm2.is_valid(path):
        state = "is not the expected file" if path.exists() else "is missing"
        pytest.fail(
            f"{path} {state}; fetch it with `{smollm2.FETCH_COMMAND}` (`make test` does so first; "
            "see tests/data/README.md)"
        )
    return path


@pytest.fixture(scope="session")
def zh_samples() -> Path:
    """About 120,000 characters of Chinese prompts and answers, paragraphs split by blank lines."""
    return data_file(TEST_DATA / "zh_samples.txt")


@pytest.fixture(scope="session")
def zh_sft_sample() -> Path:
    """339 Chinese instruction records in Alpaca format (instruction, input, output)."""
    return data_file(TEST_DATA / "zh_sft_sample.json")


@pytest.fixture(scope="session")
def llama_tokenizer() -> Path:
    """The original LLaMA SentencePiece model (32,000 pieces), as the app ships it."""
    return data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model")


@pytest.fixture(scope="session")
def chinese_sp_model() -> Path:
    """The paper's 20,000-piece Chinese SentencePiece model, as the app ships it."""
    return data_file(SHIPPED_TOKENIZERS / "chinese_sp.model")


@pytest.fixture(scope="session")
def chinese_llama2_tokenizer() -> Path:
    """The Chinese-LLaMA-2 tokenizer (55,296 pieces), as the app ships it."""
    return data_file(SHIPPED_TOKENIZERS / "chinese-llama-2" / "tokenizer.model")


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every Alpaca Desk directory and the HF cache at a fresh temporary tree."""
    home = tmp_path / "alpaca-home"
    monkeypatch.setenv("ALPACA_DESK_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for key in ("CONFIG", "DATA", "CACHE", "LOG", "MODELS"):
        monkeypatch.delenv(f"ALPACA_DESK_{key}_DIR", raising=False)
    return home


#: pytest-timeout's limit (300 s, pyproject.toml) for the tests whose own safety net is longer: a
#: training run (900 s, tests/unit/training/conftest.py and remote/test_target.py; a session
#: fixture that trains may set up under whichever test comes first in a random order), a training
#: job or command (600 s). Each gets room for its net and its fixtures, so the net, with its
#: clearer message, ends a hung test first.
LONG_TIMEOUTS_S = {
    "tests/unit/training/": 2 * 900 + 300,
    "tests/unit/cli/test_training_cli.py": 900 + 600 + 300,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses Qt as ``gui`` so ``-m 'not gui'`` runs the fast suite; give the
    long tests their timeouts (:data:`LONG_TIMEOUTS_S`)."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures or "gui" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.gui)
        for prefix, seconds in LONG_TIMEOUTS_S.items():
            if item.nodeid.startswith(prefix) and item.get_closest_marker("timeout") is None:
                item.add_marker(pytest.mark.timeout(seconds))


def _random_order_line(config: pytest.Config) -> str | None:
    seed = getattr(config.option, "randomly_seed", None)
    if isinstance(seed, int) and config.pluginmanager.has_plugin("randomly"):
        return f"random order: --randomly-seed={seed} (pytest -p randomly --randomly-seed={seed} repeats it)"
    return None


def pytest_sessionstart(session: pytest.Session) -> None:
    """Say which random order runs before the first test too: a run that dies (a crash in a
    native library ends pytest before its summary) must still be repeatable."""
    line = _random_order_line(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if line and reporter is not None:
        reporter.write_line(line)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Say which random order ran (pytest-randomly), even under ``-q``, which hides the header."""
    line = _random_order_line(config)
    if line:
        terminalreporter.write_line(line)
