"""Downloads against the fake hub: faults, integrity, disk space, path escapes (issue 11)."""

from __future__ import annotations

import errno
import hashlib
import threading
from pathlib import Path
from typing import IO

import pytest

from runtime.errors import DownloadError, HubError
from runtime.hub import transfer as transfer_module
from runtime.hub.client import HubConfig, http_client
from runtime.hub.download import download_files
from runtime.hub.manifest import expected_digest, read_manifest, verify
from runtime.hub.transfer import transfer
from tests.fakehub import FakeFile, FakeHub, random_bytes

REPO = "hfl/chinese-alpaca-2-test-gguf"
NAME = "ggml-model-q4_k.gguf"
MB = 1024 * 1024


def config(hub: FakeHub, tmp_path: Path, **kwargs: object) -> HubConfig:
    return HubConfig(endpoint=hub.url, network_log=tmp_path / "network.log", **kwargs)  # type: ignore[arg-type]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.name.endswith((".part", ".tmp")) or ".partial-" in p.name)


def test_a_clean_download_is_verified_and_recorded(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    data = random_bytes(3 * MB, seed=1)
    hub.add(REPO, NAME, data)
    hub.add(REPO, "README.md", "# 中文说明\n".encode(), lfs=False)  # a git file: checked by its blob id
    hub.add(REPO, "empty.txt", b"", lfs=False)
    paths = download_files(config(hub, tmp_path), REPO, [], models_dir)
    assert sorted(p.name for p in paths) == ["README.md", "empty.txt", NAME]
    target = models_dir / "hfl" / "chinese-alpaca-2-test-gguf" / NAME
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    recorded = {e.path: e for e in read_manifest(models_dir)}
    assert recorded[NAME].sha256 == hashlib.sha256(data).hexdigest()
    assert recorded["README.md"].blob_id and not recorded["README.md"].sha256
    assert [r.status for r in verify(target.parent, models_dir=models_dir)] == ["ok", "ok", "ok"]
    assert leftovers(models_dir) == []
    # A second run finds both files in place and fetches nothing.
    served = hub.served_bytes(REPO, NAME)
    download_files(config(hub, tmp_path), REPO, [NAME], models_dir)
    assert hub.served_bytes(REPO, NAME) == served


def test_connection_dropped_every_megabyte_completes_in_one_run(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    data = random_bytes(6 * MB, seed=2)
    hub.add(REPO, NAME, data)
    hub.faults.drop_after = MB
    [path] = download_files(config(hub, tmp_path), REPO, [NAME], models_dir)
    assert path.read_bytes() == data
    ranged = [r for r in hub.requests if r.method == "GET" and "range" in r.headers]
    assert len(ranged) >= 5, "each drop is resumed with a Range request"
    assert hub.served_bytes(REPO, NAME) == len(data), "resumed, never restarted"


def test_a_stall_is_retried_from_the_bytes_on_disk(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    data = random_bytes(2 * MB, seed=3)
    hub.add(REPO, NAME, data)
    hub.faults.stall_after, hub.faults.stall_seconds = MB, 3.0
    [path] = download_files(config(hub, tmp_path, stall_timeout=0.5), REPO, [NAME], models_dir)
    assert path.read_bytes() == data
    assert any("range" in r.headers for r in hub.requests if r.method == "GET")


def test_a_server_that_ignores_range_starts_again_and_still_verifies(
    hub: FakeHub, models_dir: Path, tmp_path: Path
) -> None:
    data = random_bytes(3 * MB, seed=4)
    hub.add(REPO, NAME, data)
    part = models_dir / "hfl" / "chinese-alpaca-2-test-gguf" / (NAME + ".part")
    part.parent.mkdir(parents=True)
    part.write_bytes(data[:MB])  # an earlier run's bytes
    hub.faults.ignore_range = True
    [path] = download_files(config(hub, tmp_path), REPO, [NAME], models_dir)
    assert path.read_bytes() == data
    assert hub.served_bytes(REPO, NAME) == len(data), "the 200 answer was taken whole, from byte 0"


def test_a_flipped_byte_is_rejected_removed_and_not_registered(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    hub.add(REPO, NAME, random_bytes(2 * MB, seed=5))
    hub.faults.flip_byte = 1_234_567
    with pytest.raises(DownloadError, match="[Cc]hecksum mismatch") as failed:
        download_files(config(hub, tmp_path), REPO, [NAME], models_dir)
    assert failed.value.code == "checksum_mismatch"
    assert list(models_dir.rglob("*.gguf*")) == []
    assert read_manifest(models_dir) == []


def test_missing_checksum_headers_fall_back_to_the_listing(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    data = random_bytes(MB, seed=6)
    hub.add(REPO, NAME, data)
    hub.faults.missing_headers = True
    [path] = download_files(config(hub, tmp_path), REPO, [NAME], models_dir)
    assert path.read_bytes() == data


def test_a_file_without_any_checksum_is_not_downloaded(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    hub.add(REPO, "notes.txt", b"no hash anywhere", lfs=False)
    hub.faults.missing_headers = True
    hub.extra_listing[REPO] = []
    # The git blob id of the listing is not an ETag: without headers nothing can be compared.
    with pytest.raises(DownloadError) as failed:
        download_files(config(hub, tmp_path), REPO, ["notes.txt"], models_dir)
    assert failed.value.code == "hub_no_checksum"
    assert hub.served_bytes(REPO, "notes.txt") == 0


def test_a_wrong_announced_length_ends_in_an_error_not_a_loop(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    hub.add(REPO, NAME, random_bytes(MB, seed=7))
    hub.faults.wrong_length = 1000
    with pytest.raises(DownloadError) as failed:
        download_files(config(hub, tmp_path), REPO, [NAME], models_dir)
    assert failed.value.code in {"download_failed", "size_mismatch"}
    assert read_manifest(models_dir) == []


def test_not_enough_space_is_refused_before_the_first_byte(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    huge = 1 << 50  # a petabyte: no test machine has it free
    hub.add(REPO, NAME, FakeFile(huge, "a" * 64, "b" * 40, lambda offset, n: b"\0" * n))
    with pytest.raises(DownloadError) as failed:
        download_files(config(hub, tmp_path), REPO, [NAME], models_dir)
    assert failed.value.code == "not_enough_space"
    assert hub.served_bytes(REPO, NAME) == 0
    assert not [r for r in hub.requests if "/resolve/" in r.path]


class _FullDisk:
    """Opens the .part file for real, but its writes fail with ENOSPC past ``limit`` bytes of the file."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def __call__(self, path: Path, mode: str) -> IO[bytes]:
        handle = path.open(mode)
        limit = self.limit
        real_write = handle.write

        def write(data: bytes) -> int:  # type: ignore[override]
            if handle.tell() + len(data) > limit:
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_write(data)

        handle.write = write  # type: ignore[method-assign]
        return handle


def test_a_full_disk_midway_keeps_the_partial_file_and_the_next_try_resumes(
    hub: FakeHub, models_dir: Path, tmp_path: Path
) -> None:
    data = random_bytes(3 * MB, seed=8)
    file = hub.add(REPO, NAME, data)
    cfg = config(hub, tmp_path)
    target = models_dir / "hfl" / "x" / NAME
    with http_client(cfg) as client:
        url = f"{hub.url}/{REPO}/resolve/main/{NAME}"
        kwargs = {"name": NAME, "size": file.size, "digest": expected_digest(file.sha256), "client": client}
        with pytest.raises(DownloadError, match="disk is full") as failed:
            transfer(url, target, opener=_FullDisk(MB + 5), **kwargs)  # type: ignore[arg-type]
        assert failed.value.code == "disk_full"
        part = target.with_name(NAME + ".part")
        kept = part.stat().st_size
        assert 0 < kept <= MB + 5 and not target.exists()
        # Space was freed: the next download (no restart of anything) resumes from the kept bytes.
        served = hub.served_bytes(REPO, NAME)
        transfer(url, target, **kwargs)  # type: ignore[arg-type]
    assert target.read_bytes() == data and not part.exists()
    assert hub.served_bytes(REPO, NAME) - served == len(data) - kept


def test_an_escaping_file_name_in_a_listing_is_refused(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    hub.add(REPO, NAME, random_bytes(1000, seed=9))
    for evil in ("../x", "/etc/passwd", "a/../../x", "C:/x", "a\\..\\x"):
        hub.extra_listing[REPO] = [{"type": "file", "oid": "0" * 40, "size": 10, "path": evil}]
        with pytest.raises(HubError) as refused:
            download_files(config(hub, tmp_path), REPO, [], models_dir)
        assert refused.value.code == "hub_unsafe_name"
    assert not [r for r in hub.requests if "/resolve/" in r.path], "nothing was fetched"
    assert list(tmp_path.rglob("x")) == [] and list(models_dir.rglob("*")) == []


def test_cancel_keeps_the_partial_file(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    hub.add(REPO, NAME, random_bytes(4 * MB, seed=10))
    hub.faults.rate = 4 * MB
    cancel = threading.Event()

    def stop_at_a_quarter(progress: object) -> None:
        if progress.file_done > MB:  # type: ignore[attr-defined]
            cancel.set()

    with pytest.raises(DownloadError) as stopped:
        download_files(config(hub, tmp_path), REPO, [NAME], models_dir, on_progress=stop_at_a_quarter, cancel=cancel)
    assert stopped.value.code == "cancelled"
    assert [p.name for p in models_dir.rglob("*.part")] == [NAME + ".part"]


def test_backoff_grows_when_no_byte_arrives(hub: FakeHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    file = hub.add(REPO, NAME, random_bytes(1000, seed=11))
    hub.faults.status = 503
    waits: list[float] = []
    monkeypatch.setattr(transfer_module.random, "uniform", lambda a, b: 1.0)
    with http_client(config(hub, tmp_path)) as client, pytest.raises(DownloadError) as failed:
        transfer(
            f"{hub.url}/{REPO}/resolve/main/{NAME}", tmp_path / "out" / NAME, name=NAME, size=file.size,
            digest=expected_digest(file.sha256), client=client, max_failures=4, sleep=waits.append,
        )  # fmt: skip
    assert failed.value.code == "download_failed"
    assert waits == [0.5, 1.0, 2.0]
