"""Endpoint, token, offline mode and the network log (issue 11)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from runtime.errors import HubError
from runtime.hub.catalogue import files_on_disk, load_catalogue, recommend
from runtime.hub.client import HubClient, HubConfig, HubOffline, hub_config_from_settings, read_network_log
from runtime.hub.download import download_files
from runtime.hub.token import load_token, save_token
from runtime.settings import Settings
from tests.fakehub import FakeHub, random_bytes

REPO = "hfl/chinese-alpaca-2-1.3b-gguf"
NAME = "ggml-model-q4_0.gguf"
_WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}
_attempts: list[str] = []
_recording = False


def _hook(event: str, args: tuple) -> None:
    if _recording and event in _WATCHED:
        if event == "socket.connect" and getattr(args[0], "family", None) == socket.AF_UNIX:
            return
        _attempts.append(f"{event} {args!r}"[:200])


sys.addaudithook(_hook)  # audit hooks cannot be removed; it records only while _recording is set


def settings_for(endpoint: str, **kwargs: object) -> Settings:
    settings = Settings()
    settings.hub_endpoint = endpoint
    for key, value in kwargs.items():
        setattr(settings, key, value)
    return settings


def authorizations(hub: FakeHub) -> list[str | None]:
    return [r.headers.get("authorization") for r in hub.requests]


def test_every_request_goes_to_the_endpoint_and_is_logged(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    hub.add(REPO, NAME, random_bytes(100_000, seed=41))
    config = hub_config_from_settings(settings_for(hub.url), logs=tmp_path / "logs")
    download_files(config, REPO, [NAME], models_dir)
    logged = read_network_log(tmp_path / "logs" / "network.log")
    assert [(e["method"], e["status"]) for e in logged] == [("GET", 200), ("HEAD", 200), ("GET", 200)]
    assert all(e["url"].startswith(hub.url + "/") for e in logged)
    assert len(hub.requests) == 3


def test_the_token_goes_only_to_the_endpoint_it_was_saved_for(
    hub: FakeHub, models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub.add(REPO, NAME, random_bytes(50_000, seed=42))
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment")  # never read: the user did not approve it
    save_token("https://huggingface.co", "hf_saved_for_the_official_hub")
    assert load_token("https://huggingface.co/") == "hf_saved_for_the_official_hub"
    mirror = hub_config_from_settings(settings_for(hub.url))
    assert mirror.token is None
    download_files(mirror, REPO, [NAME], models_dir)
    assert authorizations(hub) == [None, None, None]

    save_token(hub.url, "hf_approved_here")
    hub.requests.clear()
    approved = hub_config_from_settings(settings_for(hub.url))
    HubClient(approved).list_files(REPO)
    HubClient(approved).file_metadata(REPO, NAME)
    assert authorizations(hub) == ["Bearer hf_approved_here"] * 2
    save_token(hub.url, "")
    assert load_token(hub.url) is None


def test_a_redirect_to_another_origin_does_not_carry_the_token(models_dir: Path, tmp_path: Path) -> None:
    with FakeHub() as cdn, FakeHub(cdn=cdn) as hub:
        data = random_bytes(200_000, seed=43)
        hub.add(REPO, NAME, data)
        save_token(hub.url, "hf_approved_here")
        config = hub_config_from_settings(settings_for(hub.url))
        [path] = download_files(config, REPO, [NAME], models_dir)
        assert path.read_bytes() == data
        assert "Bearer hf_approved_here" in authorizations(hub)
        assert cdn.requests and authorizations(cdn) == [None] * len(cdn.requests)


def test_offline_mode_makes_no_connection_at_all(hub: FakeHub, models_dir: Path, tmp_path: Path) -> None:
    global _recording
    hub.add(REPO, NAME, random_bytes(1000, seed=44))
    save_token(hub.url, "hf_x")
    _attempts.clear()
    _recording = True
    try:
        config = hub_config_from_settings(settings_for(hub.url, hub_offline=True), logs=tmp_path / "logs")
        assert config.offline and config.token is None
        catalogue = load_catalogue()  # browsing the snapshot
        for entry in catalogue.entries:
            files_on_disk(entry, models_dir)
        recommend(catalogue, ram=16_000_000_000, free=100_000_000_000)
        for attempt in (
            lambda: HubClient(config).list_files(REPO),
            lambda: HubClient(config).file_metadata(REPO, NAME),
            lambda: HubClient(config).search_gguf("alpaca"),
            lambda: download_files(config, REPO, [NAME], models_dir),
        ):
            with pytest.raises(HubOffline) as refused:
                attempt()
            assert refused.value.code == "hub_offline"
    finally:
        _recording = False
    assert _attempts == []
    assert hub.requests == []
    assert not (tmp_path / "logs" / "network.log").exists()


def test_the_hub_answers_are_translated_into_errors(hub: FakeHub, tmp_path: Path) -> None:
    config = HubConfig(endpoint=hub.url)
    with pytest.raises(HubError) as missing:
        HubClient(config).list_files("hfl/no-such-repo")
    assert missing.value.code == "hub_not_found"
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(HubError) as unreachable:
        HubClient(HubConfig(endpoint=closed)).file_metadata(REPO, NAME)
    assert unreachable.value.code == "hub_unreachable"
    with pytest.raises(HubError) as bad:
        hub_config_from_settings(settings_for("ftp://example.org"))
    assert bad.value.code == "hub_bad_endpoint"


def test_the_network_log_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime.hub import client

    monkeypatch.setattr(client, "NETWORK_LOG_MAX_BYTES", 20_000)
    log = tmp_path / "network.log"
    for index in range(1000):
        client.log_request(log, "GET", f"https://example.org/f{index}?X-Amz-Signature=secret", 200)
    assert log.stat().st_size <= client.NETWORK_LOG_MAX_BYTES + 200
    entries = read_network_log(log, limit=50)
    assert len(entries) == 50 and entries[-1]["url"] == "https://example.org/f999"
    assert "secret" not in log.read_text(encoding="utf-8")


# -- issue 20, item 3: a file list that never ends -------------------------------------------------


def tree_requests(hub: FakeHub) -> list[str]:
    return [r.path for r in hub.requests if "/tree/" in r.path]


def test_a_file_list_in_pages_is_read_whole(hub: FakeHub) -> None:
    names = [f"part-{i}.gguf" for i in range(5)]
    for index, name in enumerate(names):
        hub.add(REPO, name, random_bytes(1000, seed=index))
    hub.faults.tree_page = 2
    listed = HubClient(HubConfig(endpoint=hub.url)).list_files(REPO)
    assert [f.path for f in listed] == names
    assert len(tree_requests(hub)) == 3


def test_a_next_link_to_the_same_page_is_not_followed(hub: FakeHub) -> None:
    hub.add(REPO, NAME, random_bytes(1000, seed=45))
    hub.faults.tree_endless = "same"
    with pytest.raises(HubError) as caught:
        HubClient(HubConfig(endpoint=hub.url)).list_files(REPO)
    assert caught.value.code == "hub_listing_endless"
    assert caught.value.params["repo"] == REPO and "the same page again" in caught.value.params["reason"]
    assert "Try again later, or another hub address" in str(caught.value)
    assert len(tree_requests(hub)) == 1


def test_pages_of_folders_with_new_cursors_stop_at_the_page_bound(hub: FakeHub) -> None:
    from runtime.hub.client import MAX_LISTING_PAGES

    hub.add(REPO, NAME, random_bytes(1000, seed=46))
    hub.faults.tree_endless = "new"
    with pytest.raises(HubError) as caught:
        HubClient(HubConfig(endpoint=hub.url)).list_files(REPO)
    assert caught.value.code == "hub_listing_endless"
    assert f"more than {MAX_LISTING_PAGES} pages" in caught.value.params["reason"]
    assert len(tree_requests(hub)) == MAX_LISTING_PAGES


def test_entries_are_bounded_across_pages(hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    from runtime.hub import client

    monkeypatch.setattr(client, "MAX_LISTED_ENTRIES", 250)  # 100 folders a page: the third page passes it
    hub.add(REPO, NAME, random_bytes(1000, seed=47))
    hub.faults.tree_endless = "new"
    with pytest.raises(HubError) as caught:
        HubClient(HubConfig(endpoint=hub.url)).list_files(REPO)
    assert "more than 250 entries" in caught.value.params["reason"]
    assert len(tree_requests(hub)) == 3


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested more than 64 levels deep"),
        (b'[{"type": "file", "path": "a"}' + b" " * (9 * 1024 * 1024) + b"]", "larger than 8,388,608 bytes"),
        (b'{"error": "not a list"}', "not a list"),
    ],
    ids=["deep", "huge", "object"],
)
def test_a_hostile_file_list_is_named(hub: FakeHub, body: bytes, reason: str) -> None:
    hub.add(REPO, NAME, random_bytes(1000, seed=48))
    hub.faults.tree_body = body
    with pytest.raises(HubError) as caught:
        HubClient(HubConfig(endpoint=hub.url)).list_files(REPO)
    assert caught.value.code == "hub_bad_listing"
    assert REPO in str(caught.value) and reason in str(caught.value)


def test_a_next_page_on_another_origin_is_not_followed(hub: FakeHub) -> None:
    hub.add(REPO, NAME, random_bytes(1000, seed=49))
    hub.faults.tree_endless = "new"  # its next links name 127.0.0.1; the endpoint is called localhost
    config = HubConfig(endpoint=hub.url.replace("127.0.0.1", "localhost"), token="hf_approved_here")
    with pytest.raises(HubError) as caught:
        HubClient(config).list_files(REPO)
    assert caught.value.code == "hub_bad_listing"
    assert "is not followed" in str(caught.value)
    assert len(tree_requests(hub)) == 1
    assert authorizations(hub) == ["Bearer hf_approved_here"]
