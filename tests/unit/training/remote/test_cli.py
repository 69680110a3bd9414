"""``alpaca-desk hosts`` and ``alpaca-desk remote`` as real processes against a real sshd."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from runtime.training.remote import RemoteJobSpec, add_host, load_hosts, start_job
from runtime.training.remote.records import mirror_path, read_mirror
from runtime.training.remote.runner import parse_line
from tests.sshd import Sshd, fingerprint

from .conftest import host_for, wait_for

REPO_ROOT = Path(__file__).resolve().parents[4]
CLI_TIMEOUT_S = 120


def cli_env(home: Path) -> dict[str, str]:
    return {**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"}


def run_cli(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env=cli_env(home),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def test_hosts_add_list_test_remove(sshd: Sshd, remote_root: Path, isolated_dirs: Path) -> None:
    added = run_cli(
        "hosts", "add", "实验室 gpu", "127.0.0.1", "--port", str(sshd.port), "--user", sshd.user,
        "--key", str(sshd.client_key), "--no-agent", "--python", sys.executable, "--remote-dir", str(remote_root),
        home=isolated_dirs,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    listed = run_cli("hosts", "list", "--json", home=isolated_dirs)
    assert json.loads(listed.stdout)[0]["name"] == "实验室 gpu"

    unknown = run_cli("hosts", "test", "实验室 gpu", home=isolated_dirs)
    expected = fingerprint(sshd.host_key.with_suffix(".pub"))
    assert unknown.returncode == 3
    assert expected in unknown.stderr and "--accept" in unknown.stderr

    wrong = run_cli("hosts", "test", "实验室 gpu", "--accept", "SHA256:not-this-one", home=isolated_dirs)
    assert wrong.returncode == 2 and "nothing was accepted" in wrong.stderr

    tested = run_cli("hosts", "test", "实验室 gpu", "--accept", expected, "--json", home=isolated_dirs)
    assert tested.returncode == 0, tested.stderr
    report = json.loads(tested.stdout.splitlines()[-1])
    assert report["python"] == ".".join(map(str, sys.version_info[:3]))
    assert report["free_bytes"] > 0
    again = run_cli("hosts", "test", "实验室 gpu", home=isolated_dirs)  # accepted now: no question
    assert again.returncode == 0 and "Python: " in again.stdout, again.stderr

    assert run_cli("hosts", "remove", "实验室 gpu", home=isolated_dirs).returncode == 0
    assert load_hosts().hosts == []
    gone = run_cli("hosts", "test", "实验室 gpu", home=isolated_dirs)
    assert gone.returncode == 2 and "No saved host" in gone.stderr


def test_bad_host_values_are_refused(isolated_dirs: Path) -> None:
    result = run_cli("hosts", "add", "box", "-oProxyCommand=touch x", home=isolated_dirs)
    assert result.returncode == 2 and "address" in result.stderr


def test_a_killed_client_reattaches_without_gap_or_repeat(
    trusted_host, sshd: Sshd, job_code: Path, isolated_dirs: Path
) -> None:
    spec = RemoteJobSpec(module="jobpkg.count", script_spec={"count": 120, "delay": 0.04}, code=(job_code,))
    run = start_job(trusted_host, spec)
    first = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "remote", "attach", run.job_id],
        cwd=REPO_ROOT, env=cli_env(isolated_dirs), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        wait_for(lambda: mirror_path(run.job_id).exists() and len(read_mirror(run.job_id)) >= 20, what="20 lines")
    finally:
        first.send_signal(signal.SIGKILL)  # the app killed mid-run
        first.communicate(timeout=30)
    time.sleep(0.3)  # the job goes on meanwhile
    second = run_cli("remote", "attach", run.job_id, home=isolated_dirs)
    assert second.returncode == 0, second.stderr
    shown = [parse_line(line) for line in second.stdout.splitlines()]
    assert [event["n"] for event in shown if event["event"] == "tick"] == list(range(120))
    assert [event["n"] for event in map(parse_line, read_mirror(run.job_id)) if event["event"] == "tick"] == list(
        range(120)
    )
    status = run_cli("remote", "status", "--json", home=isolated_dirs)
    assert json.loads(status.stdout)[0]["state"] == "finished"


def test_remote_stop_and_status(trusted_host, job_code: Path, isolated_dirs: Path) -> None:
    spec = RemoteJobSpec(module="jobpkg.count", script_spec={"count": 100000, "delay": 0.05}, code=(job_code,))
    run = start_job(trusted_host, spec)
    running = run_cli("remote", "status", run.job_id, home=isolated_dirs)
    assert running.returncode == 0 and "running" in running.stdout, running.stderr
    stopped = run_cli("remote", "stop", run.job_id, home=isolated_dirs)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout, stopped.stderr
    unknown = run_cli("remote", "status", "no-such-job", home=isolated_dirs)
    assert unknown.returncode == 2 and "no-such-job" in unknown.stderr


def test_hosts_list_tells_of_a_damaged_file(isolated_dirs: Path, tmp_path: Path, sshd: Sshd) -> None:
    add_host(host_for(sshd, tmp_path))
    hosts_json = isolated_dirs / "config" / "hosts.json"
    hosts_json.write_text("{not json", encoding="utf-8")
    result = run_cli("hosts", "list", home=isolated_dirs)
    assert result.returncode == 0 and "not JSON" in result.stderr and "No saved hosts" in result.stdout
    assert list(hosts_json.parent.glob("hosts.json.bad-*"))


def test_a_passphrase_from_stdin(tmp_path: Path, remote_root: Path, isolated_dirs: Path) -> None:
    from tests.sshd import keygen, make_sshd

    locked = keygen(tmp_path / "locked", passphrase="口令 pass")
    server = make_sshd(tmp_path / "sshd-locked", client_key=locked).start()
    try:
        add_host(host_for(server, remote_root))
        accept = fingerprint(server.host_key.with_suffix(".pub"))
        without = run_cli("hosts", "test", "gpu-box", "--accept", accept, home=isolated_dirs)
        assert without.returncode == 2 and "passphrase" in without.stderr
        given = run_cli(
            "hosts",
            "test",
            "gpu-box",
            "--accept",
            accept,
            "--passphrase-stdin",
            home=isolated_dirs,
            stdin="口令 pass\n",
        )
        assert given.returncode == 0, given.stderr
        assert "口令" not in (isolated_dirs / "config" / "hosts.json").read_text(encoding="utf-8")
    finally:
        server.stop()


def test_remote_run_and_follow(trusted_host, job_code: Path, isolated_dirs: Path, tmp_path: Path) -> None:
    canary = tmp_path / "CANARY"
    spec_file = tmp_path / "job.json"
    spec_file.write_text(json.dumps({"count": 3}), encoding="utf-8")
    nasty = [f"$(touch {canary})", "a b; touch {canary}", "中文\n第二行"]
    result = run_cli(
        "remote", "run", "gpu-box", "jobpkg.count", "--script-spec", str(spec_file), "--code", str(job_code),
        *(word for arg in nasty for word in ("--arg", arg)), "--follow",
        home=isolated_dirs,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Started ")
    events = [parse_line(line) for line in lines[1:]]
    assert events[0]["argv"] == nasty
    assert [event["n"] for event in events if event["event"] == "tick"] == [0, 1, 2]
    assert not canary.exists()


def tiny_wheel(folder: Path) -> Path:
    """A real, installable wheel of a one-module package (written by hand: no build backend, no network)."""
    import base64
    import hashlib
    import zipfile

    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "tinypkg/__init__.py": b"ANSWER = '\xe7\xbe\x8a\xe9\xa9\xbc'\n",
        "tinypkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
        "tinypkg-1.0.dist-info/WHEEL": (
            b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("tinypkg-1.0.dist-info/RECORD,,")
    wheel = folder / "tinypkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
        archive.writestr("tinypkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return wheel


def test_hosts_setup_makes_a_venv_and_uses_it(
    trusted_host, job_code: Path, isolated_dirs: Path, tmp_path: Path
) -> None:
    wheels = tiny_wheel(tmp_path / "wheels").parent
    venv = tmp_path / "host venv"
    result = run_cli(
        "hosts", "setup", "gpu-box", "tinypkg", "--venv", str(venv),
        "--pip-arg=--no-index", "--pip-arg=--find-links", f"--pip-arg={wheels}",
        home=isolated_dirs,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tinypkg" in result.stdout
    host = load_hosts().hosts[0]
    assert host.python == str(venv / "bin" / "python")
    # Later jobs run with the environment's packages.
    probe = tmp_path / "probe.json"
    probe.write_text("{}", encoding="utf-8")
    (job_code / "check.py").write_text(
        "import json, tinypkg\nprint(json.dumps({'event': 'result', 'answer': tinypkg.ANSWER}, ensure_ascii=False))\n",
        encoding="utf-8",
    )
    ran = run_cli(
        "remote", "run", "gpu-box", "jobpkg.check", "--script-spec", str(probe), "--code", str(job_code), "--follow",
        home=isolated_dirs,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert parse_line(ran.stdout.splitlines()[-1])["answer"] == "羊驼"


TRAIN_LIKE_JOB = """
import os
FILES = (("out/adapter", "adapter_model.safetensors", 3000), ("out/checkpoint-2", "optimizer.pt", 5000))
for folder, name, size in FILES:
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(b"w" * size)
with open("out/adapter/adapter_config.json", "w") as handle:
    handle.write("{}")
print('{"event": "result", "adapter": "out/adapter"}', flush=True)
"""


def test_remote_download_fetches_the_adapter_and_the_checkpoints_only_when_asked(
    trusted_host, job_code: Path, isolated_dirs: Path, tmp_path: Path
) -> None:
    (job_code / "trainlike.py").write_text(TRAIN_LIKE_JOB, encoding="utf-8")
    started = run_cli(
        "remote", "run", "gpu-box", "jobpkg.trainlike", "--code", str(job_code), "--follow", home=isolated_dirs
    )
    assert started.returncode == 0, started.stderr
    job_id = started.stdout.split()[1]

    adapter = run_cli("remote", "download", job_id, "--out", str(tmp_path / "adapter"), home=isolated_dirs)
    assert adapter.returncode == 0, adapter.stderr
    assert sorted(p.name for p in (tmp_path / "adapter").rglob("*")) == [
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    assert "out/adapter" in adapter.stdout and "(0.0 MB)" in adapter.stdout

    everything = run_cli(
        "remote", "download", job_id, "--out", str(tmp_path / "all"), "--with-checkpoints", home=isolated_dirs
    )
    assert everything.returncode == 0, everything.stderr
    assert sorted(str(p.relative_to(tmp_path / "all")) for p in (tmp_path / "all").rglob("*") if p.is_file()) == [
        "adapter/adapter_config.json",
        "adapter/adapter_model.safetensors",
        "checkpoint-2/optimizer.pt",
    ]
