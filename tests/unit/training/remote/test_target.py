"""Training on an SSH host through the launcher's interface: a tiny CPU ``sft`` run on the real sshd.

The "remote" host is this machine behind sshd, its Python this interpreter (which has the train
extra): the job folder gets the ``runtime`` package, the model, the data and the rewritten spec by
SFTP, and the script runs detached under the agent, exactly as on a GPU box.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.training import registry
from runtime.training.launcher import JobSpec, RunState, TrainingLaunchError, parse_progress
from runtime.training.remote import Host, add_host, records
from runtime.training.remote.target import RemoteTarget, available_targets, remote_job
from tests.conftest import TEST_DATA, data_file
from tests.sshd import Sshd
from tests.unit.training.conftest import run_script

from .conftest import host_for, server_key, wait_for

REPO_ROOT = Path(__file__).resolve().parents[4]
#: A safety net for a tiny run on a busy two-core machine, not a measurement.
RUN_TIMEOUT_S = 900


def _sft_spec(model: Path, tmp_path: Path, **changes: object) -> JobSpec:
    records_ = json.loads(data_file(TEST_DATA / "zh_sft_sample.json").read_text(encoding="utf-8"))[:8]
    dataset = tmp_path / "指令 data" / "sft.jsonl"  # a space and Chinese in the path: only JSON carries it
    dataset.parent.mkdir(parents=True, exist_ok=True)
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records_), encoding="utf-8")
    values: dict[str, object] = {
        "kind": "sft",
        "model": str(model),
        "dataset": str(dataset),
        "block_size": 64,
        "batch_size": 4,
        "max_steps": 3,
        "learning_rate": 1e-2,
        "lora_rank": 4,
        "lora_alpha": 8,
        "seed": 7,
        "tiny_test": True,
    }
    values.update(changes)
    return JobSpec(**values)  # type: ignore[arg-type]


def _weights(folder: Path) -> dict[str, object]:
    from safetensors.torch import load_file

    tensors: dict[str, object] = {}
    for shard in sorted(folder.glob("*.safetensors")):
        tensors.update(load_file(str(shard)))
    return tensors


def test_the_remote_job_carries_the_files_and_a_spec_relative_to_its_folder(tiny_llama: Path, tmp_path: Path) -> None:
    spec = _sft_spec(tiny_llama, tmp_path, tokenizer=str(tiny_llama / "tokenizer.model"))
    on_host, job = remote_job(spec)
    assert (on_host.model, on_host.dataset, on_host.tokenizer, on_host.output_dir) == (
        "data/model",
        "data/dataset/sft.jsonl",
        "data/tokenizer/tokenizer.model",
        "out",
    )
    assert job.module == "runtime.training.sft" and job.script_spec == on_host.to_dict()
    names = {name for _, name in job.files}
    assert "data/model/config.json" in names and "data/dataset/sft.jsonl" in names
    assert job.code == () and "runtime/training/sft.py" in {name for _, name in job.code_files}
    with pytest.raises(TrainingLaunchError) as missing:
        remote_job(spec.replace(dataset=str(tmp_path / "nowhere.json")))
    assert missing.value.params["field"] == "dataset"


def test_a_remote_sft_run_finishes_and_its_adapter_merges_to_the_local_runs_weights(
    trusted_host: Host, tiny_llama: Path, tmp_path: Path
) -> None:
    import torch

    from runtime.training.merge import merge_lora

    spec = _sft_spec(tiny_llama, tmp_path)
    assert [t.name for t in available_targets()] == ["local", trusted_host.name]

    handle = RemoteTarget(trusted_host).start(spec)
    events = list(handle.events(timeout=RUN_TIMEOUT_S))
    outcome = handle.wait(RUN_TIMEOUT_S)
    assert outcome.state is RunState.FINISHED, [e for e in events if e.get("event") in ("error", "log")][-5:]
    uploads = [e for e in events if e["event"] == "upload"]
    assert uploads and uploads[-1]["done"] == uploads[-1]["total"] > 0
    phases = [e["phase"] for e in events if e["event"] == "remote"]
    assert phases == ["running", "finished"]
    assert [p.step for e in events if (p := parse_progress(e))] == [1, 2, 3]
    record = registry.load_run(handle.job_id)
    assert (record.target, record.state, record.last_step) == (trusted_host.name, "finished", 3)

    fetched = handle.fetch_adapter(tmp_path / "fetched adapter")
    assert (fetched / "adapter_config.json").is_file()

    local = run_script(spec.replace(output_dir=str(tmp_path / "local")), tmp_path / "local-spec.json")
    assert local.returncode == 0, local.events[-3:]
    remote_merged = merge_lora(tiny_llama, [fetched], tmp_path / "merged-remote")
    local_merged = merge_lora(tiny_llama, [tmp_path / "local" / "adapter"], tmp_path / "merged-local")
    remote_weights, local_weights = _weights(Path(remote_merged.out)), _weights(Path(local_merged.out))
    base = _weights(tiny_llama)
    assert remote_weights.keys() == local_weights.keys()
    changed = 0
    for name, tensor in local_weights.items():
        assert torch.allclose(remote_weights[name], tensor, atol=1e-6), name  # type: ignore[arg-type]
        changed += not torch.equal(tensor, base[name])  # type: ignore[arg-type]
    assert changed > 0  # the adapter did change the weights that were compared


def test_a_client_killed_mid_run_re_attaches_with_no_gap_and_no_repeated_line(
    trusted_host: Host, tiny_llama: Path, tmp_path: Path, isolated_dirs: Path, remote_root: Path
) -> None:
    spec_path = tmp_path / "job.json"
    _sft_spec(tiny_llama, tmp_path, max_steps=40).write(spec_path)
    client = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "train", "sft", "--spec", str(spec_path), "--host", trusted_host.name],
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_DESK_HOME": str(isolated_dirs), "PYTHONIOENCODING": "utf-8"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        run = wait_for(lambda: next(iter(records.list_runs()), None), timeout=120, what="the run's record")
        # Killed (as the app would be) once this computer's copy has some progress, the job half done.
        wait_for(
            lambda: any('"progress"' in line for line in records.read_mirror(run.job_id)),
            timeout=RUN_TIMEOUT_S,
            what="the first progress line here",
        )
        os.killpg(client.pid, signal.SIGKILL)
        client.wait(30)
    finally:
        if client.poll() is None:
            os.killpg(client.pid, signal.SIGKILL)
            client.wait(30)
    job_dir = remote_root / run.job_id
    assert not (job_dir / "exit.json").exists(), "the job ended before the client was killed: make it longer"
    before = records.read_mirror(run.job_id)

    handle = RemoteTarget(trusted_host).attach(run.job_id)
    events = list(handle.events(timeout=RUN_TIMEOUT_S))
    assert handle.wait(RUN_TIMEOUT_S).state is RunState.FINISHED
    assert [e["phase"] for e in events if e["event"] == "remote"] == ["re-attached", "finished"]
    steps = [p.step for e in events if (p := parse_progress(e))]
    assert steps == list(range(1, 41))  # the copy's lines, then the rest: each step once, in order
    mirror = records.mirror_path(run.job_id).read_bytes()
    assert mirror == (job_dir / "log.jsonl").read_bytes()
    assert mirror.decode("utf-8").splitlines()[: len(before)] == before
    assert registry.load_run(run.job_id).state == "finished"


def test_an_unaccepted_host_key_fails_the_run_with_its_fingerprint_and_sends_nothing(
    sshd: Sshd, remote_root: Path, tiny_llama: Path, tmp_path: Path
) -> None:
    host = host_for(sshd, remote_root)
    add_host(host)
    handle = RemoteTarget(host.name).start(_sft_spec(tiny_llama, tmp_path))
    events = list(handle.events(timeout=120))
    outcome = handle.wait(120)
    assert outcome.state is RunState.FAILED and outcome.code == "ssh_host_key_unknown"
    assert server_key(sshd).fingerprint in (outcome.error or "")
    assert [e["event"] for e in events if e["event"] in ("upload", "progress")] == []
    assert not remote_root.exists()  # nothing reached the host
    assert registry.load_run(handle.job_id).state == "failed"


def _cli(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
        check=False,
    )


def test_train_status_and_stop_reach_a_remote_run_which_saves_a_checkpoint(
    trusted_host: Host, tiny_llama: Path, tmp_path: Path, isolated_dirs: Path
) -> None:
    handle = RemoteTarget(trusted_host).start(_sft_spec(tiny_llama, tmp_path, max_steps=5000))
    for event in handle.events(timeout=RUN_TIMEOUT_S):
        if parse_progress(event) is not None:
            break
    status = _cli("train", "status", handle.job_id, home=isolated_dirs)
    assert status.returncode == 0, status.stderr
    assert f"target: {trusted_host.name}" in status.stdout and f"on {trusted_host.name}: running" in status.stdout

    stopped = _cli("train", "stop", handle.job_id, home=isolated_dirs)
    assert stopped.returncode == 0, stopped.stderr
    assert f"{handle.job_id} on {trusted_host.name}: stopped" in stopped.stdout
    outcome = handle.wait(RUN_TIMEOUT_S)
    assert outcome.state is RunState.STOPPED
    # SIGINT first, with the training grace: the script saved a checkpoint before it ended.
    cancelled = [e for e in handle.poll() if e.get("event") == "cancelled"]
    assert cancelled and str(cancelled[0]["checkpoint"]).endswith(f"checkpoint-{cancelled[0]['step']}")
    assert registry.load_run(handle.job_id).state == "stopped"
    listed = _cli("train", "status", home=isolated_dirs)
    assert f"{handle.job_id}  {trusted_host.name}  stopped" in listed.stdout
