"""The models folder: where downloaded files go, the manifest that records them, and verification.

Layout (one other tools understand: a repository's files under ``ORG/NAME``, as ``huggingface-cli
download --local-dir`` writes them)::

    models/
      manifest.json                       every verified download: repo, file, commit, size, SHA-256
      hfl/chinese-alpaca-2-7b-gguf/
        ggml-model-q4_k.gguf
        ggml-model-q8_0.gguf.part         a download in progress (resumed from its size)

File names come from hub listings, which are untrusted: :func:`safe_repo_path` refuses a name
that would land outside the repository's folder (``../x``, absolute paths, drive letters,
backslashes, control characters) before it names anything on disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from runtime.errors import HubError, UntrustedJsonError
from runtime.paths import write_atomic
from runtime.untrusted_json import read_json_file

MANIFEST_NAME = "manifest.json"
MANIFEST_VERSION = 1
#: The manifest is read up to this size (a few thousand entries); a larger file is not ours.
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
PART_SUFFIX = ".part"
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}/[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_HEX40 = re.compile(r"^[0-9a-f]{40}$")
#: Files are hashed in pieces of this size.
HASH_CHUNK = 1024 * 1024


def check_repo_id(repo_id: str) -> str:
    """``repo_id`` if it is ``ORG/NAME`` in the hub's characters.

    Raises:
        HubError: it is not (``hub_bad_repo``).
    """
    if not isinstance(repo_id, str) or not _REPO_ID.match(repo_id) or ".." in repo_id:
        shown = str(repo_id)[:100]
        raise HubError(
            f"{shown!r} is not a repository name: write it as ORGANISATION/NAME, e.g. hfl/chinese-alpaca-2-7b-gguf.",
            code="hub_bad_repo",
            params={"repo": shown},
        )
    return repo_id


def safe_repo_path(name: str) -> PurePosixPath:
    """The relative path ``name`` (from a hub listing) if it stays inside its repository's folder.

    Raises:
        HubError: absolute, ``..``, empty parts, backslashes, drive letters or control characters
            (``hub_unsafe_name``).
    """
    text = name if isinstance(name, str) else ""
    path = PurePosixPath(text)
    bad = (
        not text
        or len(text) > 1000
        or text.startswith("/")
        or "\\" in text
        or any(ord(ch) < 32 or ch == "\x7f" for ch in text)
        or re.match(r"^[A-Za-z]:", text) is not None
        or any(part in ("", ".", "..") for part in text.split("/"))
        or path.is_absolute()
    )
    if bad:
        shown = str(name)[:100]
        raise HubError(
            f"The hub listed a file named {shown!r}, which would be written outside the model's folder. "
            f"It was refused; nothing was written. Check the hub address in Settings → Model hub.",
            code="hub_unsafe_name",
            params={"name": shown},
        )
    return path


def repo_folder(models_dir: Path, repo_id: str) -> Path:
    """Where ``repo_id``'s files go."""
    org, name = check_repo_id(repo_id).split("/")
    return models_dir / org / name


def local_path(models_dir: Path, repo_id: str, name: str) -> Path:
    """Where file ``name`` of ``repo_id`` goes; refused if the name escapes the repository's folder."""
    folder = repo_folder(models_dir, repo_id)
    target = folder.joinpath(*safe_repo_path(name).parts)
    # Belt and braces: symlinks inside the models folder must not lead out of it either.
    real_folder = os.path.realpath(folder)
    if os.path.commonpath([real_folder, os.path.realpath(target)]) != real_folder:
        raise HubError(
            f"The file {name!r} of {repo_id} would be written outside {folder}; it was refused.",
            code="hub_unsafe_name",
            params={"name": name[:100]},
        )
    return target


def part_path(target: Path) -> Path:
    """The partial download beside ``target`` (``NAME.part``), kept between runs for resuming."""
    return target.with_name(target.name + PART_SUFFIX)


# -- the manifest ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestEntry:
    """One verified file in the models folder."""

    repo: str
    path: str
    local: str
    size: int
    sha256: str
    blob_id: str
    revision: str
    endpoint: str
    downloaded: float

    @classmethod
    def from_dict(cls, data: Any) -> ManifestEntry | None:
        """The entry, or None when ``data`` is not a well-formed one (the manifest is untrusted)."""
        if not isinstance(data, dict):
            return None
        try:
            entry = cls(
                repo=check_repo_id(data["repo"]),
                path=str(safe_repo_path(data["path"])),
                local=str(data["local"]),
                size=int(data["size"]),
                sha256=str(data.get("sha256") or ""),
                blob_id=str(data.get("blob_id") or ""),
                revision=str(data.get("revision") or "")[:64],
                endpoint=str(data.get("endpoint") or "")[:300],
                downloaded=float(data.get("downloaded") or 0),
            )
        except (KeyError, TypeError, ValueError, HubError):
            return None
        if entry.size < 0 or (entry.sha256 and not _HEX64.match(entry.sha256)):
            return None
        return entry


@contextlib.contextmanager
def _locked(models_dir: Path) -> Iterator[None]:
    """One writer of the manifest at a time (several download jobs may finish together)."""
    models_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(models_dir / ".manifest.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # Windows: msvcrt locks a byte range instead
            import msvcrt

            msvcrt.locking(fd, msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
        yield
    finally:
        os.close(fd)


def read_manifest(models_dir: Path) -> list[ManifestEntry]:
    """The manifest's well-formed entries (a damaged or foreign manifest gives what can be read)."""
    try:
        data = read_json_file(models_dir / MANIFEST_NAME, max_bytes=MAX_MANIFEST_BYTES)
    except (OSError, UntrustedJsonError):
        return []
    files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(files, list):
        return []
    entries = [ManifestEntry.from_dict(item) for item in files[:20_000]]
    return [entry for entry in entries if entry is not None]


def _write_manifest(models_dir: Path, entries: list[ManifestEntry]) -> None:
    data = {"version": MANIFEST_VERSION, "files": [asdict(entry) for entry in entries]}
    write_atomic(models_dir / MANIFEST_NAME, json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8"))


def record(models_dir: Path, entry: ManifestEntry) -> None:
    """Add or replace ``entry`` (by its local path) in the manifest."""
    with _locked(models_dir):
        entries = [e for e in read_manifest(models_dir) if e.local != entry.local]
        entries.append(entry)
        _write_manifest(models_dir, entries)


def forget(models_dir: Path, local: str) -> None:
    """Remove the entry of the file at ``local`` (it was deleted or failed verification)."""
    with _locked(models_dir):
        entries = read_manifest(models_dir)
        kept = [e for e in entries if e.local != local]
        if len(kept) != len(entries):
            _write_manifest(models_dir, kept)


def new_entry(
    models_dir: Path, *, repo: str, path: str, size: int, sha256: str, blob_id: str, revision: str, endpoint: str
) -> ManifestEntry:
    """A manifest entry for a file just verified (``local`` relative to the models folder)."""
    local = local_path(models_dir, repo, path).relative_to(models_dir).as_posix()
    return ManifestEntry(
        repo=repo,
        path=path,
        local=local,
        size=size,
        sha256=sha256,
        blob_id=blob_id,
        revision=revision,
        endpoint=endpoint,
        downloaded=time.time(),
    )


# -- hashes and verification -----------------------------------------------------------------------


def expected_digest(etag: str) -> tuple[str, str]:
    """(kind, hex) of what a hub ETag promises: ``sha256`` (an LFS file), ``git-sha1`` (a small file
    in git), or ("", "") when the tag is neither and the file cannot be verified."""
    tag = (etag or "").strip().strip('"').lower()
    if tag.startswith("w/"):
        tag = tag[2:].strip('"')
    if _HEX64.match(tag):
        return "sha256", tag
    if _HEX40.match(tag):
        return "git-sha1", tag
    return "", ""


class Hasher:
    """The digest a hub promises, fed piece by piece (``git-sha1`` is git's blob hash)."""

    def __init__(self, kind: str, size: int) -> None:
        self.kind = kind
        if kind == "git-sha1":
            self._hash: Any = hashlib.sha1(usedforsecurity=False)
            self._hash.update(b"blob %d\0" % size)
        else:
            self._hash = hashlib.sha256()

    def update(self, data: bytes | memoryview) -> None:
        """Add bytes."""
        self._hash.update(data)

    def hexdigest(self) -> str:
        """The digest so far."""
        return str(self._hash.hexdigest())


def hash_file(
    path: Path,
    kind: str = "sha256",
    *,
    limit: int | None = None,
    size: int | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> Hasher:
    """Hash the first ``limit`` bytes (all when None) of ``path``; ``size`` is the git blob's size."""
    hasher = Hasher(kind, size if size is not None else path.stat().st_size)
    done = 0
    with path.open("rb") as handle:
        while limit is None or done < limit:
            want = HASH_CHUNK if limit is None else min(HASH_CHUNK, limit - done)
            chunk = handle.read(want)
            if not chunk:
                break
            hasher.update(chunk)
            done += len(chunk)
            if on_progress is not None:
                on_progress(done)
    return hasher


@dataclass(frozen=True)
class VerifyResult:
    """What :func:`verify` found for one file.

    Attributes:
        path: The file.
        status: ``ok`` (its hash is the recorded one), ``mismatch`` (it is not: damaged or changed),
            ``missing`` (recorded, but not there), ``unknown`` (not downloaded by Alpaca Desk: no
            recorded hash; its SHA-256 is given so it can be compared with the source).
        expected: The recorded SHA-256 (or git blob id), "" when unknown.
        actual: The file's hash of the same kind, "" when missing.
    """

    path: str
    status: str
    expected: str
    actual: str


def verify(path: Path, *, models_dir: Path, on_progress: Callable[[int], None] | None = None) -> list[VerifyResult]:
    """Re-check a downloaded model: a file, or every recorded file under a folder.

    Raises:
        HubError: ``path`` does not exist (``verify_not_found``).
    """
    path = Path(os.path.abspath(path))
    entries = read_manifest(models_dir)
    by_path = {Path(os.path.abspath(models_dir / entry.local)): entry for entry in entries}
    if path.is_dir():
        targets = sorted(p for p in by_path if p == path or path in p.parents)
    elif path.exists():
        targets = [path]
    else:
        raise HubError(
            f"{path} does not exist. Give the path of a downloaded model file or its folder.",
            code="verify_not_found",
            params={"path": str(path)},
        )
    results = []
    for target in targets:
        entry = by_path.get(target)
        if not target.exists():
            results.append(VerifyResult(str(target), "missing", entry.sha256 if entry else "", ""))
            continue
        if entry is None:
            results.append(VerifyResult(str(target), "unknown", "", hash_file(target).hexdigest()))
            continue
        kind, expected = ("sha256", entry.sha256) if entry.sha256 else ("git-sha1", entry.blob_id)
        actual = hash_file(target, kind, size=target.stat().st_size, on_progress=on_progress).hexdigest()
        ok = actual == expected and target.stat().st_size == entry.size
        results.append(VerifyResult(str(target), "ok" if ok else "mismatch", expected, actual))
    return results


# -- what is on disk -------------------------------------------------------------------------------


def find_gguf_files(models_dir: Path, *, max_depth: int = 4, limit: int = 1000) -> list[Path]:
    """GGUF files under the models folder (downloaded or put there by hand), by name."""
    found: list[Path] = []
    root_depth = len(models_dir.parts)
    for folder, dirs, files in os.walk(models_dir):
        depth = len(Path(folder).parts) - root_depth
        if depth >= max_depth:
            dirs[:] = []
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.lower().endswith(".gguf"):
                found.append(Path(folder) / name)
                if len(found) >= limit:
                    return sorted(found)
    return sorted(found)
