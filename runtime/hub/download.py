"""Downloading a repository's files into the models folder, and the ``hub-download`` job.

:func:`download_files` plans the whole download before the first byte (every name from the
listing checked against path escapes, the total checked against the free disk space), then
fetches each file with :func:`runtime.hub.transfer.transfer` and records it in the manifest only
after its checksum matched. A file already recorded with the same hash is not fetched again.

The job (``python -m runtime.jobs hub-download --repo=... --files=[...]``) runs it in a child
process, so a download survives a frozen window, and reports JSON lines::

    {"event": "progress", "done": 1048576, "total": 4100000000, "stage": "download",
     "file": "ggml-model-q4_k.gguf", "file_done": ..., "file_total": ..., "speed": 5.1e6, "eta": 802.0}
    {"event": "verified", "file": "ggml-model-q4_k.gguf", "path": "/.../ggml-model-q4_k.gguf"}
    {"event": "result", "repo": "hfl/...", "files": ["/.../ggml-model-q4_k.gguf"]}

Its ``.part`` files are not scratch output: a cancelled (paused) or killed job leaves them for
the next run to resume. Removing them is the caller's choice (:func:`discard_partial`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtime.errors import DownloadError, HubError
from runtime.hub.client import HubClient, HubConfig, RemoteFile, http_client
from runtime.hub.endpoint import normalize_endpoint
from runtime.hub.manifest import (
    check_repo_id,
    expected_digest,
    local_path,
    new_entry,
    part_path,
    read_manifest,
    record,
    safe_repo_path,
)
from runtime.hub.transfer import TransferProgress, check_space, transfer
from runtime.untrusted_json import parse_json

#: Progress events are sent at most this often (a fast local transfer would flood the pipe).
PROGRESS_INTERVAL_S = 0.2


@dataclass(frozen=True)
class DownloadProgress:
    """How far a whole download is (all its files) and the file in transfer."""

    repo: str
    file: str
    done: int
    total: int
    file_done: int
    file_total: int
    speed: float
    eta: float | None


@dataclass(frozen=True)
class PlannedFile:
    """A file to fetch: its listing entry and where it goes."""

    remote: RemoteFile
    target: Path


def plan(client: HubClient, repo: str, files: Sequence[str], models_dir: Path) -> list[PlannedFile]:
    """The files to fetch (``files``, or every file of the repository), checked before any byte.

    Raises:
        HubError: an unsafe name in the listing, a requested file that is not there, offline, ...
    """
    listed = client.list_files(repo)
    for remote in listed:
        safe_repo_path(remote.path)  # any escaping name makes the whole listing suspect
    by_name = {remote.path: remote for remote in listed}
    wanted = list(files) or [remote.path for remote in listed]
    planned = []
    for name in wanted:
        safe_repo_path(name)
        found = by_name.get(name)
        if found is None:
            raise HubError(
                f"{repo} has no file {name!r}. Its files are: {', '.join(sorted(by_name)[:20])}.",
                code="hub_file_not_found",
                params={"repo": repo, "name": name},
            )
        planned.append(PlannedFile(found, local_path(models_dir, repo, name)))
    return planned


def already_there(models_dir: Path, repo: str, remote: RemoteFile) -> Path | None:
    """The file if the manifest records it with the listing's size and hash, and it is there."""
    for entry in read_manifest(models_dir):
        if entry.repo != repo or entry.path != remote.path or entry.size != remote.size:
            continue
        same = (remote.sha256 and entry.sha256 == remote.sha256) or (remote.blob_id and entry.blob_id == remote.blob_id)
        path = models_dir / entry.local
        if same and path.is_file() and path.stat().st_size == remote.size:
            return path
    return None


def download_files(
    config: HubConfig,
    repo: str,
    files: Sequence[str],
    models_dir: Path,
    *,
    on_progress: Callable[[DownloadProgress], None] | None = None,
    on_verified: Callable[[str, Path], None] | None = None,
    cancel: threading.Event | None = None,
    max_failures: int | None = None,
) -> list[Path]:
    """Fetch ``files`` of ``repo`` (all when empty) into ``models_dir``; return their paths.

    Raises:
        HubError: offline, unreachable, not found, unsafe names.
        DownloadError: see :func:`runtime.hub.transfer.transfer`.
    """
    check_repo_id(repo)
    config.check_online(f"the download of {repo}")
    config.check_resolvable(f"the download of {repo}")
    client = HubClient(config)
    planned = plan(client, repo, files, models_dir)
    todo = [p for p in planned if already_there(models_dir, repo, p.remote) is None]
    # The whole download must fit, not only its first file: refuse before the first byte.
    remaining = sum(p.remote.size - _partial_size(p.target) for p in todo)
    models_dir.mkdir(parents=True, exist_ok=True)
    check_space(models_dir, remaining, name=repo)
    total = sum(p.remote.size for p in planned)
    finished = sum(p.remote.size for p in planned if p not in todo)
    results = [p.target for p in planned if p not in todo]
    http = http_client(config)
    try:
        for item in todo:
            name = item.remote.path
            meta = client.file_metadata(repo, name)
            kind, expected = expected_digest(meta.etag)
            if not kind:
                kind, expected = ("sha256", item.remote.sha256) if item.remote.sha256 else ("", "")
            elif kind == "sha256" and item.remote.sha256 and item.remote.sha256 != expected:
                raise DownloadError(
                    f"The hub describes {name} with two different checksums; it was not downloaded. Try again "
                    f"later (the repository may be changing).",
                    code="checksum_mismatch",
                    params={"name": name, "expected": item.remote.sha256, "actual": expected},
                )
            size = meta.size or item.remote.size
            last = [0.0]
            base = finished

            def report(progress: TransferProgress, base: int = base, last: list[float] = last) -> None:
                now = time.monotonic()
                if on_progress is None or (now - last[0] < PROGRESS_INTERVAL_S and progress.done < progress.total):
                    return
                last[0] = now
                on_progress(
                    DownloadProgress(
                        repo,
                        progress.name,
                        base + progress.done,
                        total,
                        progress.done,
                        progress.total,
                        progress.speed,
                        progress.eta,
                    )  # fmt: skip
                )

            token = config.token_for(meta.url)
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            kwargs: dict[str, Any] = {} if max_failures is None else {"max_failures": max_failures}
            transfer(
                meta.url, item.target, name=name, size=size, digest=(kind, expected), client=http,
                headers=headers, on_progress=report, cancel=cancel, **kwargs,
            )  # fmt: skip
            record(
                models_dir,
                new_entry(
                    models_dir,
                    repo=repo,
                    path=name,
                    size=size,
                    sha256=expected if kind == "sha256" else "",
                    blob_id=expected if kind == "git-sha1" else "",
                    revision=meta.commit,
                    endpoint=config.endpoint,
                ),  # fmt: skip
            )
            finished += size
            results.append(item.target)
            if on_verified is not None:
                on_verified(name, item.target)
    finally:
        http.close()
    return results


def _partial_size(target: Path) -> int:
    part = part_path(target)
    return part.stat().st_size if part.exists() else 0


def discard_partial(models_dir: Path, repo: str, files: Sequence[str]) -> None:
    """Remove the ``.part`` files of a cancelled download (a pause keeps them)."""
    for name in files:
        try:
            part_path(local_path(models_dir, repo, name)).unlink(missing_ok=True)
        except (HubError, OSError):
            continue


# -- the job ---------------------------------------------------------------------------------------


def parse_files_option(text: str | None) -> list[str]:
    """The ``--files`` option: a JSON list of names (names may hold commas)."""
    if not text:
        return []
    try:
        names = parse_json(text, source="--files", max_bytes=1024 * 1024)
    except ValueError:
        names = None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) > 1000:
        raise ValueError("--files must be a JSON list of file names")
    return names


def download_job(
    context: Any,
    *,
    repo: str,
    files: str | None = None,
    endpoint: str | None = None,
    proxy: str | None = None,
    models_dir: str | None = None,
    network_log: str | None = None,
    stall_timeout: float | None = None,
) -> dict[str, Any]:
    """The ``hub-download`` job (see the module's docstring for its events)."""
    from runtime.hub.token import load_token
    from runtime.paths import app_paths

    paths = app_paths()
    config = HubConfig(
        endpoint=normalize_endpoint(endpoint or "https://huggingface.co"),
        proxy=proxy or "",
        network_log=Path(network_log) if network_log else paths.logs / "network.log",
        stall_timeout=stall_timeout or 30.0,
    )
    # The token is read here, in the child, for this endpoint only: it is never on a command line.
    config = config.with_token(load_token(config.endpoint))
    folder = Path(models_dir) if models_dir else paths.models

    def progress(p: DownloadProgress) -> None:
        context.emit(
            "progress", done=p.done, total=p.total, stage="download", file=p.file, file_done=p.file_done,
            file_total=p.file_total, speed=round(p.speed, 1), eta=None if p.eta is None else round(p.eta, 1),
        )  # fmt: skip

    def verified(name: str, path: Path) -> None:
        context.emit("verified", file=name, path=str(path))

    paths_done = download_files(
        config, repo, parse_files_option(files), folder, on_progress=progress, on_verified=verified,
        cancel=context.cancelled,
    )  # fmt: skip
    return {"repo": repo, "files": [str(p) for p in paths_done]}
