"""The catalogue: the shipped snapshot, hostile catalogues, refresh, on-disk detection, recommendation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.errors import HubError
from runtime.hub.catalogue import (
    MAX_CATALOGUE_BYTES,
    best_quant,
    files_on_disk,
    gguf_entry,
    load_catalogue,
    parse_catalogue,
    quant_of,
    recommend,
    refresh_entry,
)
from runtime.hub.client import HubClient, HubConfig
from runtime.hub.download import download_files
from runtime.hub.manifest import safe_repo_path
from tests.fakehub import FakeHub, random_bytes

GB = 1_000_000_000


def test_the_shipped_snapshot_holds_the_family_of_the_issue() -> None:
    catalogue = load_catalogue()
    assert catalogue.problems == ()
    repos = {e.repo: e for e in catalogue.entries}
    for repo in (
        "hfl/chinese-alpaca-2-1.3b-gguf", "hfl/chinese-alpaca-2-7b-gguf", "hfl/chinese-alpaca-2-13b-gguf",
        "hfl/chinese-llama-2-1.3b-gguf", "hfl/chinese-llama-2-7b-gguf", "hfl/chinese-alpaca-2-7b-16k-gguf",
        "hfl/chinese-alpaca-2-7b-64k-gguf", "hfl/chinese-alpaca-2-7b-rlhf-gguf", "hfl/chinese-alpaca-2-7b",
        "hfl/chinese-alpaca-pro-lora-7b", "hfl/chinese-llama-plus-lora-7b",
    ):  # fmt: skip
        assert repo in repos, repo
    alpaca = repos["hfl/chinese-alpaca-2-7b-gguf"]
    assert (alpaca.format, alpaca.role, alpaca.generation, alpaca.context) == ("gguf", "instruct", 2, 4096)
    assert alpaca.template == "chinese-alpaca-2" and "Llama 2" in alpaca.licence
    assert {f.quant for f in alpaca.files} >= {"Q4_0", "Q4_K", "Q8_0", "F16"}
    assert repos["hfl/chinese-alpaca-2-7b-64k-gguf"].context == 65536
    lora = repos["hfl/chinese-alpaca-pro-lora-7b"]
    assert lora.needs_merge and lora.generation == 1 and lora.format == "lora"
    assert repos["hfl/chinese-alpaca-2-7b"].format == "full"
    assert not any(e.needs_merge for e in catalogue.entries if e.format != "lora")


def test_a_hostile_catalogue_is_bounded_and_checked_entry_by_entry() -> None:
    with pytest.raises(HubError) as too_big:
        parse_catalogue(b" " * (MAX_CATALOGUE_BYTES + 1))
    assert too_big.value.code == "catalogue_invalid"
    for raw in (b"not json", b"[]", b'{"entries": 5}'):
        with pytest.raises(HubError):
            parse_catalogue(raw)
    good = json.loads(Path(load_catalogue.__globals__["shipped_catalogue_path"]()).read_text(encoding="utf-8"))
    first = good["entries"][0]
    bad = [
        {**first, "repo": "../../etc"},
        {**first, "repo": "hfl/ok-1", "files": [{"name": "../evil.gguf", "quant": "Q4_0", "size": 1}]},
        {**first, "repo": "hfl/ok-2", "context": "4096"},
        {**first, "repo": "hfl/ok-3", "files": [{"name": "a.gguf", "quant": "Q4_0", "size": -1}]},
        {**first, "repo": "hfl/ok-4", "needs_merge": "yes"},
        "not an object",
        first,
        first,  # twice
    ]
    catalogue = parse_catalogue(json.dumps({"entries": bad}).encode())
    assert [e.repo for e in catalogue.entries] == [first["repo"]]
    assert len(catalogue.problems) == 7


def test_quantization_from_file_names() -> None:
    assert quant_of("ggml-model-q4_k.gguf") == "Q4_K"
    assert quant_of("chinese-alpaca-2-7b.Q5_K_M.gguf") == "Q5_K_M"
    assert quant_of("ggml-model-f16.gguf") == "F16"
    assert quant_of("README.md") == ""


def test_recommendation_follows_memory_and_disk() -> None:
    catalogue = load_catalogue()
    small = recommend(catalogue, ram=4 * GB, free=100 * GB)
    big = recommend(catalogue, ram=32 * GB, free=100 * GB)
    tight_disk = recommend(catalogue, ram=32 * GB, free=3 * GB)
    assert small is not None and small.repo == "hfl/chinese-alpaca-2-1.3b-gguf"
    assert big is not None and big.repo == "hfl/chinese-alpaca-2-13b-gguf" and "Q6_K" in big.file.upper()
    assert tight_disk is not None
    assert tight_disk.repo in {"hfl/chinese-alpaca-2-1.3b-gguf", "hfl/chinese-alpaca-2-7b-gguf"}
    assert recommend(catalogue, ram=512_000_000, free=100 * GB) is None
    seven = catalogue.entry("hfl/chinese-alpaca-2-7b-gguf")
    assert seven is not None
    assert best_quant(seven, ram=8 * GB, free=100 * GB) == "Q4_K"
    assert best_quant(seven, ram=32 * GB, free=100 * GB) == "Q6_K"
    assert best_quant(seven, ram=2 * GB, free=100 * GB) == ""


def test_refresh_and_on_disk_detection(tmp_path: Path) -> None:
    catalogue = load_catalogue()
    entry = catalogue.entry("hfl/chinese-alpaca-2-1.3b-gguf")
    assert entry is not None
    models = tmp_path / "models"
    with FakeHub() as hub:
        q4 = random_bytes(200_000, seed=31)
        hub.add(entry.repo, "ggml-model-q4_0.gguf", q4)
        hub.add(entry.repo, "ggml-model-q8_0.gguf", random_bytes(300_000, seed=32))
        hub.add(entry.repo, "README.md", b"readme", lfs=False)
        config = HubConfig(endpoint=hub.url)
        fresh = refresh_entry(entry, HubClient(config))
        assert fresh.exact and [(f.name, f.quant, f.size) for f in fresh.files] == [
            ("ggml-model-q4_0.gguf", "Q4_0", 200_000),
            ("ggml-model-q8_0.gguf", "Q8_0", 300_000),
        ]
        assert files_on_disk(fresh, models) == {}
        download_files(config, entry.repo, ["ggml-model-q4_0.gguf"], models)
        assert list(files_on_disk(fresh, models)) == ["ggml-model-q4_0.gguf"]
        # A GGUF copied there by hand under the same name and size counts too.
        by_hand = models / "hfl" / "chinese-alpaca-2-1.3b-gguf" / "ggml-model-q8_0.gguf"
        by_hand.write_bytes(b"\0" * 300_000)
        assert sorted(files_on_disk(fresh, models)) == ["ggml-model-q4_0.gguf", "ggml-model-q8_0.gguf"]
        # Any GGUF repository found by a search becomes an entry.
        hub.add("someone/other-gguf", "model.Q4_K_M.gguf", b"x" * 10)
        assert HubClient(config).search_gguf("other") == ["someone/other-gguf"]
        other = gguf_entry("someone/other-gguf", HubClient(config))
        assert [f.quant for f in other.files] == ["Q4_K_M"]


@pytest.mark.parametrize("name", ["../x", "/abs", "a//b", "./a", "a/..", "C:x", "a\\b", "a\x00b", "", "a/./b"])
def test_unsafe_names(name: str) -> None:
    with pytest.raises(HubError) as refused:
        safe_repo_path(name)
    assert refused.value.code == "hub_unsafe_name"


@pytest.mark.parametrize("name", ["ggml-model-q4_k.gguf", "sub/dir/file.bin", "中文.gguf", "a..b.gguf"])
def test_safe_names(name: str) -> None:
    assert str(safe_repo_path(name)) == name


def test_the_7b_and_13b_of_the_second_generation_pair_with_their_1_3b_drafter() -> None:
    catalogue = load_catalogue()

    def drafter(repo: str) -> str | None:
        entry = catalogue.entry(repo)
        assert entry is not None, repo
        found = catalogue.drafter_for(entry)
        return found.repo if found else None

    assert drafter("hfl/chinese-alpaca-2-7b-gguf") == "hfl/chinese-alpaca-2-1.3b-gguf"
    assert drafter("hfl/chinese-alpaca-2-13b-16k-gguf") == "hfl/chinese-alpaca-2-1.3b-gguf"
    assert drafter("hfl/chinese-llama-2-13b-gguf") == "hfl/chinese-llama-2-1.3b-gguf"
    assert drafter("hfl/chinese-alpaca-2-7b") == "hfl/chinese-alpaca-2-1.3b"  # full weights: full weights
    assert drafter("hfl/chinese-alpaca-2-1.3b-gguf") is None  # nothing smaller drafts for it
    first = next(e for e in catalogue.entries if e.generation == 1)
    assert catalogue.drafter_for(first) is None  # another vocabulary
