"""Issue 20, item 2: deeply nested, huge and broken JSON in every file the app reads.

Each crafted file is real, on disk, and read through the function the app uses; the command-line
tests run ``alpaca-desk models`` and ``hosts list`` as real child processes. What is checked: a
message naming the file, no traceback, the file kept (aside where the caller keeps bad files).
"""

from __future__ import annotations

import json
import os
import resource
import sys
from pathlib import Path

import pytest

from runtime.errors import RemoteError, UntrustedJsonError
from runtime.untrusted_json import MAX_DEPTH, nesting_depth, parse_json, read_json_file
from tests.measure import Measured, run_measured

REPO_ROOT = Path(__file__).resolve().parents[2]
DEEP = 100_000
#: A safety net for a child that hangs, not a speed limit.
CLI_TIMEOUT_S = 120


def deep_array(depth: int = DEEP) -> str:
    return "[" * depth + "]" * depth


def deep_settings() -> str:
    return '{"language": "zh_CN", "params": ' + deep_array() + "}"


# -- the reader ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("", 0),
        ("3", 0),
        ("[]", 1),
        ('{"a": [1, {"b": "]]]"}]}', 3),
        ('"[[[["', 0),
        (r'["\"[[[["]', 1),
        (r'["\\", [["x"]]]', 3),
        ('[[[ "never closed', 3),
        ('{"a": "\\u005b[", "b": {}}', 2),
    ],
)
def test_nesting_is_counted_outside_strings(text: str, depth: int) -> None:
    assert nesting_depth(text) == depth


def test_deep_nesting_is_refused_before_decoding() -> None:
    limit = sys.getrecursionlimit()
    with pytest.raises(UntrustedJsonError) as caught:
        parse_json(deep_array(), source="settings.json", max_bytes=10**6)
    assert caught.value.code == "json_too_deep"
    assert caught.value.params == {"path": "settings.json", "limit": MAX_DEPTH}
    assert "settings.json" in str(caught.value) and "nested more than 64 levels" in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert sys.getrecursionlimit() == limit


def test_the_deepest_allowed_document_is_read() -> None:
    assert parse_json(deep_array(MAX_DEPTH), source="x", max_bytes=1000) == json.loads(deep_array(MAX_DEPTH))
    with pytest.raises(UntrustedJsonError):
        parse_json(deep_array(MAX_DEPTH + 1), source="x", max_bytes=1000)


def test_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"note": "[" * 10_000, "quote": '"\\' + "{" * 500})
    assert parse_json(text, source="x", max_bytes=10**6)["note"] == "[" * 10_000


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"\xff\xfe{}", "json_invalid"),
        (b'{"a": ', "json_invalid"),
        (b"1" * 5000, "json_invalid"),  # more digits than Python converts
        (b"[" * 70, "json_too_deep"),  # not JSON, but refused for its depth first
    ],
)
def test_broken_documents_are_one_error(data: bytes, code: str) -> None:
    with pytest.raises(UntrustedJsonError) as caught:
        parse_json(data, source="f.json", max_bytes=10**6)
    assert caught.value.code == code
    assert caught.value.params["path"] == "f.json"


def test_a_large_file_is_not_read_whole(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(3 * 1024**3)  # sparse: 3 GiB of zeros on no disk
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(UntrustedJsonError) as caught:
        read_json_file(big, max_bytes=1024 * 1024)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert caught.value.code == "json_too_large"
    assert caught.value.params == {"path": str(big), "size": 3 * 1024**3, "limit": 1024 * 1024}
    assert grown_kib < 100 * 1024, "at most the cap was read"


def test_a_byte_order_mark_is_allowed(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json_file(path, max_bytes=100) == {"a": 1}


def test_a_missing_file_is_the_callers_business(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_json_file(tmp_path / "none.json", max_bytes=100)


# -- the files the app reads -------------------------------------------------------------------------


def test_deep_settings_are_kept_aside_and_the_defaults_used(tmp_path: Path) -> None:
    from runtime.settings import Settings, load_settings

    path = tmp_path / "settings.json"
    path.write_text(deep_settings(), encoding="utf-8")
    settings, notices = load_settings(path)
    assert settings == Settings()
    [notice] = notices
    assert notice.code == "settings_kept_aside"
    assert "nested more than 64 levels deep" in notice.params["reason"]
    [kept] = tmp_path.glob("settings.json.bad-*")
    assert kept.read_text(encoding="utf-8") == deep_settings()
    assert not path.exists()


def test_deep_hosts_file_is_kept_aside(tmp_path: Path) -> None:
    from runtime.training.remote import load_hosts

    path = tmp_path / "hosts.json"
    path.write_text('{"hosts": ' + deep_array() + "}", encoding="utf-8")
    hosts, notices = load_hosts(path)
    assert hosts == []
    [notice] = notices
    assert notice.code == "hosts_file_bad" and str(path) in notice.message
    assert "nested more than 64 levels deep" in notice.message
    [kept] = tmp_path.glob("hosts.json.bad-*")
    assert kept.stat().st_size == len('{"hosts": ') + 2 * DEEP + 1


def test_deep_manifest_gives_no_entries_and_stays(tmp_path: Path) -> None:
    from runtime.hub.manifest import MANIFEST_NAME, read_manifest

    path = tmp_path / MANIFEST_NAME
    path.write_text('{"version": 1, "files": ' + deep_array() + "}", encoding="utf-8")
    assert read_manifest(tmp_path) == []
    assert path.stat().st_size > 2 * DEEP


def test_deep_catalogue_is_named(tmp_path: Path) -> None:
    from runtime.errors import HubError
    from runtime.hub.catalogue import load_catalogue

    path = tmp_path / "catalogue.json"
    path.write_text('{"entries": ' + deep_array() + "}", encoding="utf-8")
    with pytest.raises(HubError) as caught:
        load_catalogue(path)
    assert caught.value.code == "catalogue_invalid"
    assert "nested more than 64 levels deep" in caught.value.params["reason"]


def test_deep_job_spec_is_named(tmp_path: Path) -> None:
    from runtime.training.launcher import JobSpec, SpecError

    path = tmp_path / "job.json"
    path.write_text('{"kind": "sft", "model": ' + deep_array() + "}", encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        JobSpec.read(path)
    assert caught.value.code == "training_spec_file_invalid"
    assert caught.value.params["path"] == str(path)
    assert "nested more than 64 levels deep" in caught.value.params["reason"]


def test_deep_training_registry_record_is_damaged(isolated_dirs: Path) -> None:
    from runtime.training import registry
    from runtime.training.registry import RunNotFound

    folder = registry.runs_dir() / "sft-20260101-000000-abcd"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(deep_array(), encoding="utf-8")
    with pytest.raises(RunNotFound) as caught:
        registry.load_run(folder.name)
    assert caught.value.code == "training_run_damaged"
    assert registry.list_runs() == []


def test_deep_remote_record_is_left_out(isolated_dirs: Path) -> None:
    from runtime.training.remote import records

    path = records.runs_dir() / "20260101-000000-abcdef.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(deep_array(), encoding="utf-8")
    assert records.list_runs() == []
    with pytest.raises(RemoteError) as caught:
        records.load_run("20260101-000000-abcdef")
    assert caught.value.code == "remote_job_not_found"


def test_deep_remote_log_line_is_text() -> None:
    from runtime.training.remote.runner import parse_line

    line = "[" * DEEP
    assert parse_line(line) == {"event": "log", "line": line}


def test_deep_conversation_import_is_named(tmp_path: Path) -> None:
    from runtime.errors import ImportFormatError
    from runtime.store.transfer import read_import_file

    path = tmp_path / "export.json"
    path.write_text('{"format": ' + deep_array() + "}", encoding="utf-8")
    with pytest.raises(ImportFormatError) as caught:
        read_import_file(path)
    assert caught.value.code == "import_format"
    assert "nested too deeply" in str(caught.value)


def test_deep_sft_dataset_is_named(tmp_path: Path) -> None:
    from runtime.training.data import DatasetError, read_sft_records

    lines = tmp_path / "data.jsonl"
    lines.write_text('{"instruction": "a", "output": "b"}\n' + deep_array() + "\n", encoding="utf-8")
    array = tmp_path / "data.json"
    array.write_text("[" + deep_array() + "]", encoding="utf-8")
    for path, limit_bytes in ((lines, 10**7), (array, 10**7), (array, 1000)):
        with pytest.raises(DatasetError) as caught:
            read_sft_records(path, limit_bytes=limit_bytes)
        assert caught.value.code == "training_dataset_not_json"
        assert str(path) in str(caught.value) and "nested more than 64 levels deep" in str(caught.value)


# -- the command line, as a user runs it ---------------------------------------------------------------


def run_cli(*args: str, home: Path) -> Measured:
    env = {**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return run_measured([sys.executable, "-m", "runtime.cli", *args], env=env, cwd=REPO_ROOT, timeout=CLI_TIMEOUT_S)


def test_models_command_with_deep_settings(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = home / "config" / "settings.json"
    settings.parent.mkdir(parents=True)
    settings.write_text(deep_settings(), encoding="utf-8")
    proc = run_cli("models", home=home)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.output
    assert f"The settings file {settings} could not be read" in proc.stderr
    assert "nested more than 64 levels deep" in proc.stderr and "settings.json.bad-" in proc.stderr
    [kept] = settings.parent.glob("settings.json.bad-*")
    assert kept.read_text(encoding="utf-8") == deep_settings()
    assert "hfl/" in proc.stdout  # the catalogue was listed with the default settings
    assert proc.peak_kib < 1024 * 1024 and proc.left_behind == []


def test_hosts_list_with_deep_hosts_file(tmp_path: Path) -> None:
    home = tmp_path / "home"
    hosts = home / "config" / "hosts.json"
    hosts.parent.mkdir(parents=True)
    hosts.write_text('{"version": 1, "hosts": ' + deep_array() + "}", encoding="utf-8")
    proc = run_cli("hosts", "list", home=home)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.output
    assert f"The saved SSH hosts file {hosts} was not read" in proc.stderr
    assert "nested more than 64 levels deep" in proc.stderr
    assert "No saved hosts" in proc.stdout
    [kept] = hosts.parent.glob("hosts.json.bad-*")
    assert kept.stat().st_size > 2 * DEEP
    assert proc.peak_kib < 1024 * 1024 and proc.left_behind == []
