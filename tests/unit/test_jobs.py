"""Job processes (runtime.jobs) and the vocabulary jobs (runtime.tokens.vocab_jobs), run as real processes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime import jobs
from runtime.jobs import JobProcess, Outcome, build_command
from runtime.tokens import load_sentencepiece
from tests.unit.conftest import process_is_gone

JOB_TIMEOUT_S = 120
posix_only = pytest.mark.skipif(os.name != "posix", reason="process groups and signals are POSIX here")


@pytest.fixture(scope="module")
def slow_corpus(tmp_path_factory: pytest.TempPathFactory, zh_samples: Path) -> Path:
    """Random Chinese lines: every character pair is new, so BPE training takes seconds."""
    text = zh_samples.read_text(encoding="utf-8")
    chars = sorted({c for c in text if "\u4e00" <= c <= "\u9fff"})
    flat = "".join(random.Random(0).choices(chars, k=30_000 * 60))
    path = tmp_path_factory.mktemp("corpus") / "slow.txt"
    path.write_text("\n".join(flat[i : i + 60] for i in range(0, len(flat), 60)), encoding="utf-8")
    return path


def run(command: list[str]) -> tuple[Outcome, list[dict]]:
    process = JobProcess(command)
    process.start()
    events = list(process.events(timeout=JOB_TIMEOUT_S))
    return process.wait(JOB_TIMEOUT_S), events


def group_is_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


# -- argv ------------------------------------------------------------------------------------------


def test_build_command() -> None:
    argv = build_command("vocab-train", corpus="/data/zh.txt", out=Path("/out/-zh.model"), size=20_000)
    assert argv == [
        sys.executable,
        "-m",
        "runtime.jobs",
        "vocab-train",
        "--corpus=/data/zh.txt",
        "--out=/out/-zh.model",  # a value, even when it starts with "-"
        "--size=20000",
    ]
    merge = build_command("vocab-merge", base="a.model", addition="b.model", out="dir", pad=True, sample=None)
    assert merge[3:] == ["vocab-merge", "--base=a.model", "--addition=b.model", "--out=dir", "--pad"]
    assert "--pad" not in build_command("vocab-merge", base="a", addition="b", out="c", pad=False)
    assert build_command("tokenizer-check", path="x.gguf")[3:] == ["tokenizer-check", "--path=x.gguf"]
    with pytest.raises(ValueError, match="unknown job"):
        build_command("format-disk")
    with pytest.raises(ValueError, match="no option 'sizes'"):
        build_command("vocab-train", corpus="c", out="o", sizes=1)
    with pytest.raises(ValueError, match="needs the option 'out'"):
        build_command("vocab-train", corpus="c")


def test_frozen_build_uses_the_job_subcommand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert build_command("tokenizer-check", path="t.model") == [
        sys.executable,
        "job",
        "tokenizer-check",
        "--path=t.model",
    ]


# -- vocab-train -----------------------------------------------------------------------------------


def test_train_reports_progress_and_a_result(tmp_path: Path, zh_samples: Path) -> None:
    out = tmp_path / "out" / "zh.model"
    corpus = zh_samples
    # 3,000, not 2,000: at 0.9995 coverage this corpus's characters alone need 2,565 pieces.
    outcome, events = run(build_command("vocab-train", corpus=corpus, out=out, size=3000, threads=1))
    assert outcome.ok, outcome.error
    assert events[0]["event"] == "started" and events[-1]["event"] == "result"
    progress = [e for e in events if e["event"] == "progress"]
    stages = [e["stage"] for e in progress]
    assert stages[0] == "starting" and stages[-1] == "done"
    assert {"reading", "training", "saving"} <= set(stages)
    training = [e for e in progress if e["stage"] == "training" and e["done"]]
    assert training and all(0 < e["done"] <= e["total"] for e in training)
    assert [e["done"] for e in training] == sorted(e["done"] for e in training)
    assert outcome.result is not None
    assert outcome.result["vocab_size"] == 3000
    assert outcome.result["sentences"] > 1000
    assert outcome.result["path"] == str(out)
    sp = load_sentencepiece(out)
    assert sp.vocab_size() == 3000
    assert sp.piece_to_id("<0xE4>") != sp.unk_id()  # byte fallback
    assert sorted(p.name for p in out.parent.iterdir()) == ["zh.model", "zh.vocab"]  # no temporary folder left


@posix_only
def test_cancel_mid_training_leaves_nothing(tmp_path: Path, slow_corpus: Path) -> None:
    out_dir = tmp_path / "out"
    process = JobProcess(build_command("vocab-train", corpus=slow_corpus, out=out_dir / "zh.model", size=20_000))
    process.start()
    pgid = os.getpgid(process.pid or 0)
    assert pgid == process.pid  # its own process group
    scratch = None
    for event in process.events(timeout=JOB_TIMEOUT_S):
        if event["event"] == "scratch":
            scratch = Path(event["path"])
        if event["event"] == "progress" and event["stage"] == "training":
            assert scratch is not None and scratch.is_dir()  # sentencepiece is at work
            break
    started = time.monotonic()
    process.cancel()
    outcome = process.wait(JOB_TIMEOUT_S)
    assert time.monotonic() - started < jobs.CANCEL_GRACE_S  # SIGINT was enough
    assert outcome.cancelled and not outcome.ok and outcome.result is None
    assert outcome.returncode == 130
    assert list(out_dir.iterdir()) == []
    assert group_is_gone(pgid)


@posix_only
def test_cancel_escalates_and_ends_the_whole_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jobs.process, "CANCEL_GRACE_S", 0.3)  # where the escalation reads it
    scratch = tmp_path / ".result.partial-x1y2"
    scratch.mkdir()
    # A child that ignores SIGINT and SIGTERM and has a child of its own.
    script = f"""
import json, signal, subprocess, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(json.dumps({{"event": "scratch", "path": {str(scratch)!r}}}), flush=True)
print(json.dumps({{"event": "started", "grandchild": grandchild.pid}}), flush=True)
time.sleep(60)
"""
    process = JobProcess([sys.executable, "-c", script, f"--out={tmp_path / 'result'}"])
    process.start()
    events = process.events(timeout=JOB_TIMEOUT_S)
    grandchild = next(e for e in events if e["event"] == "started")["grandchild"]
    process.cancel()
    outcome = process.wait(JOB_TIMEOUT_S)
    assert outcome.cancelled and outcome.returncode == -signal.SIGKILL
    assert not scratch.exists()  # announced temporary output is removed after a hard kill
    deadline = time.monotonic() + 5
    while not process_is_gone(grandchild):
        if time.monotonic() > deadline:
            pytest.fail("the grandchild survived the cancel")
        time.sleep(0.05)


def test_training_errors_are_clear(tmp_path: Path, zh_samples: Path) -> None:
    corpus = zh_samples
    outcome, events = run(build_command("vocab-train", corpus=corpus, out=tmp_path / "small.model", size=2000))
    assert not outcome.ok and not outcome.cancelled
    assert outcome.code == "vocab_size_too_small" and outcome.params["required"] > 2000
    assert str(corpus) in (outcome.error or "")
    assert events[-1]["event"] == "error"
    assert list(tmp_path.iterdir()) == []

    missing = tmp_path / "absent.txt"
    outcome, _ = run(build_command("vocab-train", corpus=missing, out=tmp_path / "x.model"))
    assert outcome.code == "corpus_not_found" and str(missing) in (outcome.error or "")
    with pytest.raises(jobs.JobError) as info:
        outcome.raise_for_error()
    assert info.value.code == "corpus_not_found"


# -- vocab-merge -----------------------------------------------------------------------------------


def test_merge_job_reports_the_numbers(
    tmp_path: Path, llama_tokenizer: Path, chinese_sp_model: Path, zh_samples: Path
) -> None:
    sample = zh_samples
    out = tmp_path / "chinese-alpaca"
    command = build_command(
        "vocab-merge", base=llama_tokenizer, addition=chinese_sp_model, out=out, pad=True, sample=sample
    )
    outcome, events = run(command)
    assert outcome.ok, outcome.error
    result = outcome.result or {}
    assert (result["base_size"], result["added"], result["final_size"]) == (32_000, 17_953, 49_954)
    assert result["pad_token"] == "<pad>"
    assert result["sample"]["tokens_after"] < 0.6 * result["sample"]["tokens_before"]
    assert result["sample"]["chars"] > 100_000
    assert [e["stage"] for e in events if e["event"] == "progress"][-1] == "done"
    assert sorted(p.name for p in out.iterdir()) == [
        "special_tokens_map.json",
        "tokenizer.model",
        "tokenizer_config.json",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chinese-alpaca"]
    assert load_sentencepiece(out / "tokenizer.model").vocab_size() == 49_954
    config = json.loads((out / "special_tokens_map.json").read_text(encoding="utf-8"))
    assert config["pad_token"] == "<pad>"


def test_merge_in_process_into_an_existing_folder(
    tmp_path: Path, llama_tokenizer: Path, chinese_sp_model: Path
) -> None:
    from runtime.tokens.vocab_jobs import merge_vocabulary

    out = tmp_path / "existing"
    out.mkdir()
    (out / "README.md").write_text("keep me", encoding="utf-8")
    stages: list[str] = []
    result = merge_vocabulary(llama_tokenizer, chinese_sp_model, out, on_progress=lambda p: stages.append(p.stage))
    assert (result["final_size"], result["pad_token"], "sample" in result) == (49_953, None, False)
    assert stages == ["reading", "merging", "writing", "done"]
    assert (out / "README.md").read_text(encoding="utf-8") == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["existing"]


# -- tokenizer-check -------------------------------------------------------------------------------


def test_tokenizer_check(tmp_path: Path, llama_tokenizer: Path) -> None:
    outcome, _ = run(build_command("tokenizer-check", path=llama_tokenizer))
    assert outcome.ok
    assert outcome.result is not None
    assert (outcome.result["kind"], outcome.result["n_vocab"]) == ("sentencepiece", 32_000)

    bad = tmp_path / "bad.model"
    bad.write_bytes(b"\x00" * 100)
    outcome, _ = run(build_command("tokenizer-check", path=bad))
    assert not outcome.ok and outcome.code == "tokenizer_invalid"
    assert str(bad) in (outcome.error or "")


@posix_only
def test_a_job_that_dies_is_reported() -> None:
    script = (
        "import os, signal, sys; sys.stderr.write('about to crash\\n'); sys.stderr.flush(); "
        "os.kill(os.getpid(), signal.SIGSEGV)"
    )
    outcome, _ = run([sys.executable, "-c", script])
    assert not outcome.ok and not outcome.cancelled
    assert outcome.code == "job_crashed" and outcome.returncode == -signal.SIGSEGV
    assert "SIGSEGV" in (outcome.error or "") and "about to crash" in (outcome.error or "")


def test_events_are_also_delivered_to_a_callback(llama_tokenizer: Path) -> None:
    seen: list[dict] = []
    outcome = jobs.run_job("tokenizer-check", on_event=seen.append, timeout=JOB_TIMEOUT_S, path=str(llama_tokenizer))
    assert outcome.ok
    assert [e["event"] for e in seen] == ["started", "progress", "result"]


def test_only_the_jobs_own_temporary_output_is_removed(tmp_path: Path) -> None:
    """A child announcing someone else's files as scratch cannot make the parent delete them."""
    out = tmp_path / "jobs" / "result"
    out.parent.mkdir()
    own = out.parent / ".result.partial-abc"
    victims = [tmp_path / "precious", out.parent / "other.partial-abc", tmp_path / ".result.partial-abc"]
    link = out.parent / ".result.partial-link"
    for folder in [own, *victims]:
        folder.mkdir()
        (folder / "keep.txt").write_text("mine", encoding="utf-8")
    link.symlink_to(victims[0], target_is_directory=True)
    announced = [own, *victims, link]
    lines = "".join(f"print(json.dumps({{'event': 'scratch', 'path': {str(p)!r}}}))\n" for p in announced)
    script = f"import json, sys\n{lines}sys.exit(3)\n"
    outcome, _ = run([sys.executable, "-c", script, f"--out={out}"])
    assert not outcome.ok
    assert not own.exists()  # its own temporary output, left by a failed job: removed
    for folder in victims:
        assert (folder / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert link.is_symlink() and (victims[0] / "keep.txt").is_file()


# The window or command line: starts a training job, says where it is once the job trains,
# and is then killed.
JOB_PARENT = """
import json, sys
from runtime.jobs import JobProcess
process = JobProcess(json.loads(sys.argv[1]))
process.start()
for event in process.events(timeout=120):
    if event["event"] == "scratch":
        scratch = event["path"]
    if event["event"] == "progress" and event["stage"] == "training":
        print(json.dumps({"pid": process.pid, "scratch": scratch}), flush=True)
        break
sys.stdin.read()
"""


@posix_only
def test_job_stops_when_its_parent_is_killed(tmp_path: Path, slow_corpus: Path) -> None:
    out_dir = tmp_path / "out"
    command = build_command("vocab-train", corpus=slow_corpus, out=out_dir / "zh.model", size=20_000)
    parent = subprocess.Popen(
        [sys.executable, "-c", JOB_PARENT, json.dumps(command)],
        cwd=Path(jobs.__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    job_pid = None
    try:
        assert parent.stdout is not None
        where = json.loads(parent.stdout.readline())
        job_pid, scratch = int(where["pid"]), Path(where["scratch"])
        assert scratch.exists()  # sentencepiece is at work
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while not process_is_gone(job_pid):
            assert time.monotonic() < deadline, "the job outlived its parent"
            time.sleep(0.05)
        # Stopped as if cancelled: nothing half-written is left, and no model was finished.
        assert not scratch.exists()
        assert not out_dir.exists() or list(out_dir.iterdir()) == []
    finally:
        parent.kill()
        parent.wait()
        if job_pid is not None and not process_is_gone(job_pid):
            os.kill(job_pid, signal.SIGKILL)


# A job child whose work keeps Python's lock in one C call that lasts minutes (what compiling
# `{{ 9 ** (10**9) }}` did): its SIGTERM handler and the watchdog thread never run.
STUCK_CHILD = """
import os, signal, sys
from pathlib import Path
from runtime._exit import end_with_parent
from runtime.jobs import CANCEL_GRACE_S

def stop(_signum, _frame):
    raise SystemExit(130)

signal.signal(signal.SIGTERM, stop)
end_with_parent(death_signal=signal.SIGTERM, kill_after_s=CANCEL_GRACE_S)
Path(sys.argv[1]).write_text(str(os.getpid()))
9 ** (10**9)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guard is Linux's (pidfd, PR_SET_PDEATHSIG)")
def test_a_job_stuck_in_one_c_call_still_ends_with_its_parent(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    parent_code = (
        "import subprocess, sys; subprocess.Popen([sys.executable, '-c', sys.argv[1], sys.argv[2]]); sys.stdin.read()"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", parent_code, STUCK_CHILD, str(ready)],
        cwd=Path(jobs.__file__).resolve().parents[2],
        stdin=subprocess.PIPE,
    )
    child_pid = None
    try:
        deadline = time.monotonic() + 60
        while not ready.exists() or not ready.read_text():
            assert parent.poll() is None and time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child_pid = int(ready.read_text())
        guards = [int(p) for p in Path(f"/proc/{child_pid}/task/{child_pid}/children").read_text().split()]
        assert len(guards) == 1  # the guard, forked by end_with_parent
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 30  # the guard's grace is CANCEL_GRACE_S
        while not (process_is_gone(child_pid) and process_is_gone(guards[0])):
            assert time.monotonic() < deadline, "the stuck child outlived its parent"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
        if child_pid is not None and not process_is_gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the guard is Linux's; /proc")
def test_a_guarded_child_that_ends_takes_its_guard_along(tmp_path: Path) -> None:
    code = (
        "import signal\n"
        "from runtime._exit import end_with_parent\n"
        "end_with_parent(death_signal=signal.SIGTERM, kill_after_s=3.0)\n"
        "import os; print(os.getpid(), flush=True)\n"
    )
    child = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(jobs.__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    # The guard held none of the child's pipes (else run() would wait for it), and no process
    # whose parent was the child is left.
    child_pid = int(child.stdout)
    deadline = time.monotonic() + 10
    while any(_parent_of(pid) == child_pid for pid in _all_pids()):
        assert time.monotonic() < deadline, "the guard outlived its child"
        time.sleep(0.05)


def _all_pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_remove_stale_scratch_removes_only_what_ended_processes_left(tmp_path: Path) -> None:
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(ended.stdout)
    stale_file = tmp_path / f".m-q8_0.gguf.partial-{dead}"
    stale_folder = tmp_path / f".m-f16.gguf.partial-{dead}"
    live = tmp_path / f".m-q4_0.gguf.partial-{os.getpid()}"
    not_a_model = tmp_path / f".notes.txt.partial-{dead}"
    not_a_pid = tmp_path / ".m-q2_k.gguf.partial-abc"
    link = tmp_path / f".m-q6_k.gguf.partial-{dead}"
    stale_file.write_bytes(b"x")
    stale_folder.mkdir()
    (stale_folder / "part").write_bytes(b"x")
    for path in (live, not_a_model, not_a_pid):
        path.write_bytes(b"x")
    link.symlink_to(live)
    removed = jobs.remove_stale_scratch(tmp_path, names_ending=".gguf")
    assert sorted(removed) == sorted([stale_file, stale_folder])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in (live, not_a_model, not_a_pid, link))


def test_remove_stale_scratch_sees_a_reused_process_id(tmp_path: Path) -> None:
    # This process started long before the file was written: it is not its writer... unless the
    # file is older than the process, which then cannot have written it (its id was reused).
    partial = tmp_path / f".m.gguf.partial-{os.getpid()}"
    partial.write_bytes(b"x")
    assert jobs.remove_stale_scratch(tmp_path, names_ending=".gguf") == []
    os.utime(partial, (1_000_000_000, 1_000_000_000))  # written in 2001
    assert jobs.remove_stale_scratch(tmp_path, names_ending=".gguf") == [partial]
