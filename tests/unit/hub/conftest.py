"""Fixtures of the hub tests: a fake hub on 127.0.0.1, a test keyring, a models folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from tests.fakehub import FakeHub
from tests.hubkeyring import FileKeyring


@pytest.fixture(autouse=True)
def test_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FileKeyring]:
    """Every hub test (and the jobs it starts) uses a keyring file in tmp_path."""
    monkeypatch.setenv("ALPACA_DESK_TEST_KEYRING", str(tmp_path / "keyring.json"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests.hubkeyring.FileKeyring")
    previous = keyring.get_keyring()
    backend = FileKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    """A running fake hub."""
    with FakeHub() as server:
        yield server


@pytest.fixture
def models_dir(tmp_path: Path) -> Path:
    """An empty models folder."""
    folder = tmp_path / "models"
    folder.mkdir()
    return folder
