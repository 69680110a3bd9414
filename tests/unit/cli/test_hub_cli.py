"""``alpaca-desk models``, ``download`` and ``verify`` against the fake hub, in a child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.settings import Settings, save_settings
from tests.fakehub import FakeHub, random_bytes

REPO_ROOT = Path(__file__).resolve().parents[3]
GUARD = REPO_ROOT / "tests" / "netguard"
REPO = "hfl/chinese-alpaca-2-1.3b-gguf"
NAME = "ggml-model-q4_0.gguf"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def cli(*args: str, home: Path, net_log: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["ALPACA_DESK_HOME"] = str(home)
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    env["PYTHONPATH"] = str(REPO_ROOT)
    if net_log is not None:
        env["ALPACA_DESK_NET_LOG"] = str(net_log)
        env["PYTHONPATH"] = os.pathsep.join([str(GUARD), str(REPO_ROOT)])
        env.pop("HF_HUB_OFFLINE", None)
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip


def test_download_resumes_prints_paths_and_verify_rechecks(home: Path) -> None:
    data = random_bytes(2_000_000, seed=51)
    with FakeHub() as hub:
        hub.add(REPO, NAME, data)
        # What an earlier, interrupted run left.
        part = home / "models" / "hfl" / "chinese-alpaca-2-1.3b-gguf" / (NAME + ".part")
        part.parent.mkdir(parents=True)
        part.write_bytes(data[:1_500_000])
        done = cli("download", REPO, NAME, "--endpoint", hub.url, "--json", home=home)
        assert done.returncode == 0, done.stderr
        target = part.with_name(NAME)
        assert json.loads(done.stdout) == {"repo": REPO, "files": [str(target)]}
        assert "MB/s" in done.stderr
        assert hub.served_bytes(REPO, NAME) == 500_000, "resumed from the bytes on disk"
        assert target.read_bytes() == data

    listed = cli("models", "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    catalogue = json.loads(listed.stdout)
    entry = next(e for e in catalogue["entries"] if e["repo"] == REPO)
    assert entry["on_disk"] == [str(target)]
    assert any(e["needs_merge"] for e in catalogue["entries"])
    text = cli("models", home=home)
    assert "[on disk]" in text.stdout and "hfl/chinese-alpaca-pro-lora-7b" in text.stdout
    # The Plus/Pro Alpaca adapters name the adapter merged before them (the paper's recipe).
    pro = next(e for e in catalogue["entries"] if e["repo"] == "hfl/chinese-alpaca-pro-lora-7b")
    assert pro["merge_after"] == "hfl/chinese-llama-plus-lora-7b"
    assert "(merged after hfl/chinese-llama-plus-lora-7b)" in text.stdout

    ok = cli("verify", str(target.parent), "--json", home=home)
    assert ok.returncode == 0 and json.loads(ok.stdout)["files"][0]["status"] == "ok"
    damaged = bytearray(data)
    damaged[12345] ^= 0x01
    target.write_bytes(bytes(damaged))
    bad = cli("verify", str(target), home=home)
    assert bad.returncode == 1 and "checksum mismatch" in bad.stdout


def test_download_errors_are_sentences(home: Path) -> None:
    with FakeHub() as hub:
        hub.add(REPO, NAME, b"x" * 100)
        missing = cli("download", REPO, "nope.gguf", "--endpoint", hub.url, home=home)
        assert missing.returncode == 2 and "has no file 'nope.gguf'" in missing.stderr
        escape = cli("download", "../etc", "--endpoint", hub.url, home=home)
        assert escape.returncode == 2 and "not a repository name" in escape.stderr


def test_offline_the_catalogue_and_a_download_make_no_network_attempt(home: Path, tmp_path: Path) -> None:
    settings = Settings()
    settings.hub_offline = True
    save_settings(settings, home / "config" / "settings.json")
    net_log = tmp_path / "net.log"
    listed = cli("models", "--json", home=home, net_log=net_log)
    assert listed.returncode == 0, listed.stderr
    refused = cli("download", REPO, NAME, home=home, net_log=net_log)
    assert refused.returncode == 2 and "Offline mode is on" in refused.stderr
    assert not net_log.exists() or net_log.read_text(encoding="utf-8") == ""


def test_download_from_a_hub_whose_file_list_never_ends(home: Path) -> None:
    # Issue 20, item 3: a Link rel="next" to the same page, on pages of folders only, was followed
    # 1,291 times in 60 s. Now the repeated page stops the listing at once, with a message.
    from tests.measure import run_measured

    with FakeHub() as hub:
        hub.add(REPO, NAME, random_bytes(1000, seed=52))
        hub.faults.tree_endless = "same"
        env = {**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONPATH": str(REPO_ROOT)}
        env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
        argv = [sys.executable, "-m", "runtime.cli", "download", REPO, "--endpoint", hub.url]
        proc = run_measured(argv, env=env, cwd=REPO_ROOT, timeout=120)
        listed = [r for r in hub.requests if "/tree/" in r.path]
    assert proc.returncode != 0
    assert "Traceback" not in proc.output
    assert f"kept sending the list for {REPO} with no end (it sent the same page again" in proc.stderr
    assert "Try again later, or another hub address" in proc.stderr
    assert len(listed) == 1
    assert proc.left_behind == [] and proc.peak_kib < 1024 * 1024
    assert not (home / "models" / "hfl").exists() or not any((home / "models" / "hfl").rglob("*.part"))
