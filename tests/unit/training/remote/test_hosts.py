"""The saved hosts file: checked when loaded (it is untrusted), written atomically, no secrets in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.errors import RemoteError
from runtime.training.remote import Host, add_host, get_host, load_hosts, remove_host
from runtime.training.remote.hosts import hosts_file


def test_round_trip_and_lookup() -> None:
    first = Host("实验室 A100", "gpu.example.org", port=2222, user="alice", key_file="~/.ssh/id_ed25519")
    second = Host("box-2", "10.0.0.5", user="bob", use_agent=True, python="/opt/venv/bin/python")
    add_host(first)
    add_host(second)
    assert load_hosts().hosts == [first, second]
    assert get_host("box-2") == second
    assert first.known_hosts_name == "[gpu.example.org]:2222" and second.known_hosts_name == "10.0.0.5"
    with pytest.raises(RemoteError) as exists:
        add_host(first)
    assert exists.value.code == "host_exists"
    add_host(Host("box-2", "10.0.0.6", user="bob"), replace=True)
    assert get_host("box-2").address == "10.0.0.6"
    remove_host("box-2")
    with pytest.raises(RemoteError) as gone:
        get_host("box-2")
    assert gone.value.code == "host_not_found"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", ""),
        ("name", "a/b"),
        ("name", " padded"),
        ("address", "-oProxyCommand=x"),
        ("address", "host name"),
        ("address", "a\nb"),
        ("port", 0),
        ("port", 70000),
        ("user", "-l"),
        ("user", "bob smith"),
        ("python", ""),
        ("python", "python3\nrm -rf /"),
        ("remote_dir", "jobs\x00"),
    ],
)
def test_bad_values_are_refused(field: str, value: object) -> None:
    values: dict[str, object] = {"name": "box", "address": "127.0.0.1", "user": "alice", field: value}
    with pytest.raises(RemoteError) as refused:
        Host(**values)  # type: ignore[arg-type]
    assert refused.value.code == "host_invalid" and refused.value.params["field"] == field


def test_a_damaged_file_is_kept_aside() -> None:
    path = hosts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xfe not json")
    loaded = load_hosts()
    assert loaded.hosts == [] and loaded.notices[0].code == "hosts_file_bad"
    assert not path.exists() and len(list(path.parent.glob("hosts.json.bad-*"))) == 1


def test_bad_entries_are_left_out_with_a_notice() -> None:
    path = hosts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    good = {"name": "good", "address": "10.0.0.1", "user": "u"}
    entries = [
        good,
        {"name": "port-text", "address": "10.0.0.2", "user": "u", "port": "22"},
        {"name": "no-address", "user": "u"},
        "not an object",
        {"name": "evil", "address": "-oProxyCommand=sh", "user": "u"},
        dict(good, address="10.0.0.9"),
        {**good, "name": "newer", "future_field": [1, 2]},
    ]
    path.write_text(json.dumps({"version": 1, "hosts": entries}), encoding="utf-8")
    loaded = load_hosts()
    assert [host.name for host in loaded.hosts] == ["good", "newer"]
    assert len(loaded.notices) == 5
    assert all(notice.code == "host_invalid" for notice in loaded.notices)


def test_an_oversized_file_is_not_read(tmp_path: Path) -> None:
    path = hosts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b" " * (1024 * 1024 + 10))
    loaded = load_hosts()
    assert loaded.hosts == [] and "larger than" in loaded.notices[0].message
