"""The hub-download job: killed at 25%, 50% and 75% and started again, it resumes (issue 11)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

from runtime.jobs import JobProcess, build_command
from tests.fakehub import FakeHub, random_bytes

REPO = "hfl/chinese-alpaca-2-1.3b-gguf"
NAME = "ggml-model-q4_0.gguf"
MB = 1024 * 1024


def command(hub: FakeHub, models_dir: Path, tmp_path: Path) -> list[str]:
    return build_command(
        "hub-download", repo=REPO, files=json.dumps([NAME]), endpoint=hub.url, models_dir=str(models_dir),
        network_log=str(tmp_path / "network.log"),
    )  # fmt: skip


def test_killed_at_25_50_75_percent_resumes_and_serves_at_most_110_percent(
    hub: FakeHub, models_dir: Path, tmp_path: Path
) -> None:
    data = random_bytes(16 * MB, seed=21)
    hub.add(REPO, NAME, data)
    hub.faults.rate = 12 * MB  # slow enough to be caught at each quarter
    for share in (0.25, 0.50, 0.75):
        reached = threading.Event()

        def watch(event: dict[str, Any], share: float = share, reached: threading.Event = reached) -> None:
            if event.get("event") == "progress" and event["done"] >= share * len(data):
                reached.set()

        job = JobProcess(command(hub, models_dir, tmp_path), on_event=watch)
        job.start()
        assert reached.wait(60), f"the job never reached {share:.0%}"
        assert job.pid is not None
        os.killpg(job.pid, signal.SIGKILL)  # no clean-up: as if the app crashed or the power failed
        outcome = job.wait(30)
        assert not outcome.ok
        part = models_dir / "hfl" / "chinese-alpaca-2-1.3b-gguf" / (NAME + ".part")
        assert part.stat().st_size >= share * len(data) * 0.9, "the bytes on disk are kept for the next run"
    events: list[dict[str, Any]] = []
    job = JobProcess(command(hub, models_dir, tmp_path), on_event=events.append)
    job.start()
    outcome = job.wait(120)
    assert outcome.ok, outcome.error
    target = models_dir / "hfl" / "chinese-alpaca-2-1.3b-gguf" / NAME
    assert hashlib.sha256(target.read_bytes()).hexdigest() == hashlib.sha256(data).hexdigest()
    assert outcome.result == {"repo": REPO, "files": [str(target)]}
    served = hub.served_bytes(REPO, NAME)
    assert served <= 1.1 * len(data), f"served {served / len(data):.2f} times the file"
    assert sorted(p.name for p in target.parent.iterdir()) == [NAME], "no stray partial files"
    # Its progress says bytes, speed and time left.
    progress = [e for e in events if e["event"] == "progress"]
    assert progress and {"done", "total", "speed", "eta", "file"} <= set(progress[-1])
    assert any(e["event"] == "verified" and e["file"] == NAME for e in events)


def test_a_cancelled_job_keeps_its_partial_file(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    hub.add(REPO, NAME, random_bytes(8 * MB, seed=22))
    hub.faults.rate = 4 * MB
    started = threading.Event()

    def watch(event: dict[str, Any]) -> None:
        if event.get("event") == "progress" and event["done"] > MB:
            started.set()

    job = JobProcess(command(hub, models_dir, tmp_path), on_event=watch)
    job.start()
    assert started.wait(60)
    job.cancel()
    outcome = job.wait(30)
    assert outcome.cancelled
    assert [p.name for p in models_dir.rglob("*.part")] == [NAME + ".part"], "a pause keeps the bytes"
