"""Detached jobs on a real sshd: they survive dropped connections, stop as a group, take any argument
intact, re-attach without gaps or repeats, and bring their results home."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.errors import RemoteError
from runtime.training.remote import (
    Host,
    RemoteJobSpec,
    connect,
    download,
    follow,
    job_status,
    load_run,
    read_mirror,
    start_job,
    stop_job,
)
from runtime.training.remote.connection import host_with
from runtime.training.remote.records import mirror_path
from runtime.training.remote.runner import parse_line, read_log
from tests.sshd import Sshd

from .conftest import host_for, wait_for


def count_spec(job_code: Path, **params: object) -> RemoteJobSpec:
    return RemoteJobSpec(module="jobpkg.count", script_spec=dict(params), code=(job_code,))


def ticks(lines: list[str]) -> list[int]:
    return [event["n"] for event in map(parse_line, lines) if event["event"] == "tick"]


def test_a_job_runs_and_its_results_come_home(trusted_host, job_code: Path, tmp_path: Path) -> None:
    progress = []
    run = start_job(trusted_host, count_spec(job_code, count=3, weights_kb=300), on_progress=progress.append)
    assert run.state == "running" and load_run(run.job_id).state == "running"
    assert progress[-1].done == progress[-1].total > 0 and progress[-1].stage == "uploading"
    ended = follow(run, poll_s=0.1)
    assert ended.state == "finished" and ended.returncode == 0
    lines = read_mirror(run.job_id)
    started = parse_line(lines[0])
    assert started["event"] == "started" and started["cwd"] == run.job_dir
    assert ticks(lines) == [0, 1, 2]
    assert parse_line(lines[1])["text"] == "第0行"
    fetched = []
    with connect(trusted_host) as conn:
        target = download(conn, run, tmp_path / "adapter", on_progress=fetched.append)
    assert (target / "result.txt").read_text(encoding="utf-8") == "适配器 adapter\n"
    assert (target / "sub" / "weights.bin").read_bytes() == bytes(range(256)) * 1200
    assert fetched[-1].done == fetched[-1].total == 1200 * 256 + len("适配器 adapter\n".encode())
    assert load_run(run.job_id).downloaded == str(target)
    assert not list(tmp_path.glob(".adapter.partial-*"))


def test_job_survives_a_dropped_connection_and_the_log_resumes(trusted_host, sshd: Sshd, job_code: Path) -> None:
    run = start_job(trusted_host, count_spec(job_code, count=80, delay=0.05))
    states: list[str] = []
    seen: list[str] = []
    result: dict[str, object] = {}

    def follower() -> None:
        try:
            result["run"] = follow(run, on_lines=seen.extend, on_state=states.append, poll_s=0.05, reconnect_s=(0.2,))
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            result["error"] = exc

    thread = threading.Thread(target=follower)
    thread.start()
    wait_for(lambda: len(ticks(seen)) >= 10, what="ten lines")
    dropped = sshd.drop_connections()
    assert dropped >= 1
    thread.join(120)
    assert "error" not in result, result
    assert result["run"].state == "finished"
    assert "reconnecting" in states
    # Every line exactly once, in order, on screen and in this computer's copy.
    assert ticks(seen) == list(range(80))
    assert ticks(read_mirror(run.job_id)) == list(range(80))
    assert len(read_mirror(run.job_id)) == 82  # started, 80 ticks, result


def test_reading_from_an_offset_gives_whole_lines_only(trusted_host, job_code: Path) -> None:
    run = start_job(trusted_host, count_spec(job_code, count=20))
    follow(run, poll_s=0.05)
    whole = mirror_path(run.job_id).read_bytes()
    with connect(trusted_host) as conn:
        middle = whole.index(b"\n", len(whole) // 2) - 3  # inside a line
        first = read_log(conn, run, 0)
        from_middle = read_log(conn, run, middle)
    assert first.data == whole and first.end == len(whole)
    assert from_middle.data == whole[middle:]  # the job ended: the rest is whole lines again


def test_stop_ends_the_whole_process_group(trusted_host, job_code: Path) -> None:
    run = start_job(trusted_host, count_spec(job_code, count=100000, delay=0.05, child=True))
    with connect(trusted_host) as conn:
        events: list[dict] = []

        def child_started() -> bool:
            events[:] = [parse_line(line) for line in read_log(conn, run, 0).lines]
            return any(event["event"] == "child" for event in events)

        wait_for(child_started, what="the job's child process")
        pgid = events[0]["pgid"]
        child = next(event["pid"] for event in events if event["event"] == "child")
        os.killpg(pgid, 0)  # the group runs
        status = stop_job(conn, run)
    assert status.state == "stopped" and not status.leftover
    with pytest.raises(ProcessLookupError):
        os.killpg(pgid, 0)  # no process of the group is left, the job's own child included
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    assert load_run(run.job_id).state == "stopped"


NASTY = [
    "two words",
    'it\'s "quoted"',
    "$(touch {canary})",
    "`touch {canary}`",
    "; touch {canary}",
    "a\nnew line; touch {canary}",
    "中文参数 羊驼",
    "--spec",
    "",
    "&& touch {canary} || true",
]


def test_arguments_reach_the_script_intact_and_run_nothing(sshd: Sshd, tmp_path: Path, job_code: Path) -> None:
    canary = tmp_path / "CANARY"
    args = [text.format(canary=canary) for text in NASTY]
    # The job folder's own path is as hostile: every word of every command is quoted.
    remote_root = tmp_path / f"jobs $(touch {canary}); 'q' \"d\" 中文"
    host = host_for(sshd, remote_root)
    from runtime.training.remote import accept_host_key

    from .conftest import server_key

    accept_host_key(host, server_key(sshd))
    params = {"count": 1, "prompt": args}
    spec = RemoteJobSpec(
        module="jobpkg.count",
        script_spec=params,
        args=tuple(args),
        code=(job_code,),
        env={"ALPACA_TEST": args[2]},
    )
    run = start_job(host, spec)
    try:
        assert follow(run, poll_s=0.05, host=host).state == "finished"
        started = parse_line(read_mirror(run.job_id)[0])
        assert started["argv"] == args
        assert started["spec"]["prompt"] == args
        assert run.job_dir.startswith(str(remote_root))
        assert not canary.exists()
    finally:
        for agent in remote_root.rglob("agent.json"):
            try:
                os.killpg(json.loads(agent.read_text())["pgid"], 9)
            except ProcessLookupError:
                pass


def test_a_host_without_python(sshd: Sshd, remote_root: Path, job_code: Path) -> None:
    from runtime.training.remote import accept_host_key

    from .conftest import server_key

    host = host_for(sshd, remote_root, python="/nonexistent/python3")
    accept_host_key(host, server_key(sshd))
    with pytest.raises(RemoteError) as refused:
        start_job(host, count_spec(job_code))
    assert refused.value.code == "remote_python_missing"
    assert "/nonexistent/python3" in str(refused.value)
    assert not list(remote_root.rglob("agent.py"))  # nothing was sent before the check


def test_a_job_interpreter_that_is_missing(trusted_host, remote_root: Path, job_code: Path) -> None:
    spec = RemoteJobSpec(module="jobpkg.count", script_spec={}, code=(job_code,), python="/opt/no-venv/bin/python")
    with pytest.raises(RemoteError) as refused:
        start_job(trusted_host, spec)
    assert refused.value.code == "remote_python_missing"
    assert "/opt/no-venv/bin/python" in str(refused.value)
    (job_dir,) = [path.parent for path in remote_root.rglob("spec.json")]
    with connect(trusted_host) as conn:
        status = job_status(conn, load_run(job_dir.name))
    assert status.state == "failed" and "/opt/no-venv/bin/python" in status.error
    assert load_run(job_dir.name).state == "failed"


def test_a_connection_dropped_during_the_upload_restarts_cleanly(
    trusted_host, sshd: Sshd, remote_root: Path, job_code: Path, tmp_path: Path
) -> None:
    big = tmp_path / "corpus.bin"
    big.write_bytes(os.urandom(24 * 1024 * 1024))
    spec = RemoteJobSpec(
        module="jobpkg.count",
        script_spec={"count": 2},
        code=(job_code,),
        files=((job_code / "count.py", "data/first.py"), (big, "data/corpus.bin")),
    )
    dropped = []

    def pull_the_cable(progress) -> None:  # noqa: ANN001
        if not dropped and progress.done > 4 * 1024 * 1024:
            dropped.append(sshd.drop_connections())

    with pytest.raises(RemoteError) as cut:
        start_job(trusted_host, spec, on_progress=pull_the_cable)
    assert cut.value.code == "ssh_connection_lost"
    assert "uploading" in str(cut.value)
    (job_dir,) = [path for path in remote_root.iterdir()]
    run = load_run(job_dir.name)
    assert run.state == "upload_failed"
    assert not (job_dir / "agent.json").exists() and not (job_dir / "spec.json").exists()  # nothing started

    sent = []
    restarted = start_job(trusted_host, spec, job_id=run.job_id, on_progress=sent.append)
    assert restarted.job_id == run.job_id and restarted.state == "running"
    assert follow(restarted, poll_s=0.05).state == "finished"
    assert (
        hashlib.sha256((job_dir / "data" / "corpus.bin").read_bytes()).digest()
        == hashlib.sha256(big.read_bytes()).digest()
    )
    assert not list(job_dir.rglob("*.part"))


def test_a_failing_job_is_reported_failed(trusted_host, job_code: Path) -> None:
    run = start_job(trusted_host, count_spec(job_code, count=1, exit=3))
    ended = follow(run, poll_s=0.05)
    assert ended.state == "failed" and ended.returncode == 3


def test_a_job_started_twice_is_refused(trusted_host, job_code: Path) -> None:
    run = start_job(trusted_host, count_spec(job_code, count=1))
    with pytest.raises(RemoteError) as refused:
        start_job(trusted_host, count_spec(job_code, count=1), job_id=run.job_id)
    assert refused.value.code == "remote_job_started"
    follow(run, poll_s=0.05)


def test_a_saved_host_with_another_port_is_reported(trusted_host) -> None:
    with pytest.raises(RemoteError) as refused:
        start_job(host_with(trusted_host, address="127.0.0.1", port=1), RemoteJobSpec(module="x"))
    assert refused.value.code == "ssh_connect_failed"


def test_an_agent_killed_on_the_host_is_lost_and_its_leftovers_can_be_stopped(trusted_host, job_code: Path) -> None:
    run = start_job(trusted_host, count_spec(job_code, count=100000, delay=0.05))
    agent = json.loads((Path(run.job_dir) / "agent.json").read_text())
    os.kill(agent["pid"], 9)  # the agent dies (out of memory, say); its job goes on
    with connect(trusted_host) as conn:
        status = wait_for(lambda: (s := job_status(conn, run)).state == "lost" and s, what="the lost state")
        assert status.leftover  # something of the job still runs: the user sees it and can stop it
        assert stop_job(conn, run).leftover is False
    with pytest.raises(ProcessLookupError):
        os.killpg(agent["pgid"], 0)


@pytest.fixture
def full_disk_host(sshd: Sshd, tmp_path: Path) -> Iterator[Host]:
    """A saved, trusted host whose jobs folder is a 1 MB tmpfs: a small, real disk to fill.

    Mounting needs root, which `make test` has where it installs openssh-server; elsewhere this
    fails (it never skips) and says why.
    """
    from runtime.training.remote import accept_host_key, add_host

    from .conftest import server_key

    disk = tmp_path / "tiny disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True, text=True, check=False
    )
    assert mounted.returncode == 0, f"the full-disk tests mount a 1 MB tmpfs, which needs root: {mounted.stderr}"
    try:
        host = host_for(sshd, disk)
        add_host(host)
        accept_host_key(host, server_key(sshd))
        yield host
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_job_larger_than_the_hosts_free_disk_is_refused_before_sending(
    full_disk_host: Host, job_code: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus.bin"
    corpus.write_bytes(os.urandom(3 * 1024 * 1024))
    spec = RemoteJobSpec(module="jobpkg.count", script_spec={}, code=(job_code,), files=((corpus, "data/c.bin"),))
    with pytest.raises(RemoteError) as full:
        start_job(full_disk_host, spec)
    assert full.value.code == "remote_disk_full"
    message = str(full.value)
    assert full_disk_host.name in message and "MB free" in message and "another jobs folder" in message
    (job_dir,) = list(Path(full_disk_host.remote_dir).iterdir())
    assert load_run(job_dir.name).state == "upload_failed"
    assert [p for p in job_dir.rglob("*") if p.is_file()] == []  # nothing sent, nothing started


def test_a_disk_that_fills_during_the_upload_is_named_and_the_restart_completes(
    full_disk_host: Host, job_code: Path, tmp_path: Path
) -> None:
    """Something else fills the host's disk while the job is being sent: a real ENOSPC on the host."""
    disk = Path(full_disk_host.remote_dir)
    corpus = tmp_path / "corpus.bin"
    corpus.write_bytes(os.urandom(500 * 1024))
    spec = RemoteJobSpec(
        module="jobpkg.count", script_spec={"count": 1}, code=(job_code,), files=((corpus, "data/c.bin"),)
    )
    filler = disk / "someone else's file"

    def fill_the_disk(progress) -> None:  # noqa: ANN001
        if not filler.exists():
            stats = os.statvfs(disk)
            filler.write_bytes(b"x" * (stats.f_bavail * stats.f_frsize - 64 * 1024))

    with pytest.raises(RemoteError) as full:
        start_job(full_disk_host, spec, on_progress=fill_the_disk)
    assert full.value.code == "remote_disk_full", str(full.value)
    assert full_disk_host.name in str(full.value) and "Free some space" in str(full.value)
    (job_dir,) = [path for path in disk.iterdir() if path != filler]
    assert load_run(job_dir.name).state == "upload_failed"
    assert not list(job_dir.rglob("*.part"))  # the partial file gave its space back
    assert not (job_dir / "agent.json").exists()  # nothing started

    filler.unlink()  # the user frees some space and starts it again
    restarted = start_job(full_disk_host, spec, job_id=job_dir.name)
    assert follow(restarted, poll_s=0.05).state == "finished"
    assert (job_dir / "data" / "c.bin").read_bytes() == corpus.read_bytes()
