"""Test set-up shared by unit, gui and e2e tests.

Qt is told to render offscreen before anything can import it, every user directory and the
Hugging Face cache point into the test's tmp_path, and the network is never used.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA_ENV = "ALPACA_DESK_SHARED_DATA"


def shared_data_dir() -> Path:
    """``../shared/data`` beside the repository, or ``$ALPACA_DESK_SHARED_DATA``."""
    return Path(os.environ.get(SHARED_DATA_ENV) or REPO_ROOT.parent / "shared" / "data")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The shared test data folder; skips (with the reason) only when it is absent."""
    path = shared_data_dir()
    if not path.is_dir():
        pytest.skip(f"shared test data not found at {path} (set {SHARED_DATA_ENV} to its location)")
    return path


@pytest.fixture(scope="session")
def stories_gguf(shared_data: Path) -> Path:
    """The real tiny LLaMA model (stories260K.gguf): English text, 512-piece vocabulary."""
    return shared_data / "models" / "stories260K.gguf"


@pytest.fixture(scope="session")
def llama_tokenizer(shared_data: Path) -> Path:
    """The original LLaMA SentencePiece model (32,000 pieces)."""
    return shared_data / "tokenizers" / "llama" / "tokenizer.model"


@pytest.fixture(scope="session")
def chinese_sp_model(shared_data: Path) -> Path:
    """The paper's 20,000-piece Chinese SentencePiece model."""
    return shared_data / "tokenizers" / "chinese_sp.model"


@pytest.fixture(autouse=True)
def isolated_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point every Alpaca Desk directory and the HF cache at a fresh temporary tree."""
    home = tmp_path / "alpaca-home"
    monkeypatch.setenv("ALPACA_DESK_HOME", str(home))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    for key in ("CONFIG", "DATA", "CACHE", "LOG", "MODELS"):
        monkeypatch.delenv(f"ALPACA_DESK_{key}_DIR", raising=False)
    return home


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses Qt as ``gui`` so ``-m 'not gui'`` runs the fast suite."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "qtbot" in fixtures or "qapp" in fixtures or "gui" in item.nodeid.split("/"):
            item.add_marker(pytest.mark.gui)
