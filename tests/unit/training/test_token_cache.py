"""The tokenized dataset cache: pre-training sequences as run_clm_pt_with_peft.py builds them (lines with
BOS, concatenated, cut into blocks), reused while the corpus is unchanged, rebuilt when it changes, and
never left half-written by a killed run."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sentencepiece

from runtime.training import data, prepare, token_cache
from runtime.training.evaluation import held_out_count
from runtime.training.launcher import JobSpec
from tests.conftest import SHIPPED_TOKENIZERS, TEST_DATA, data_file

REPO_ROOT = Path(__file__).resolve().parents[3]
LLAMA = SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"


def _as_run_clm_pt(model: Path, files: list[Path], block_size: int) -> list[list[int]]:
    """The blocks of run_clm_pt_with_peft.py, from sentencepiece alone: each line (universal newlines,
    no line break; an empty line too) tokenized with BOS, each file's lines concatenated and cut into
    blocks, the remainder dropped (a file shorter than a block is one shorter sequence)."""
    sp = sentencepiece.SentencePieceProcessor(model_file=str(model))
    blocks = []
    for file in files:
        with file.open(encoding="utf-8", newline=None) as handle:  # text mode, as datasets' loader reads
            lines = [line.removesuffix("\n") for line in handle]
        ids = [token for line in lines for token in [sp.bos_id(), *sp.encode(line)]]
        full = len(ids) // block_size * block_size if len(ids) >= block_size else len(ids)
        blocks += [ids[begin : begin + block_size] for begin in range(0, full, block_size)]
    return blocks


def _build(dataset: Path, cache: Path, *, block_size: int = 64, kind: str = "pretrain") -> token_cache.TokenDataset:
    return token_cache.load_or_build(
        kind, dataset, data.load_processor(data_file(LLAMA)), cache, block_size=block_size, generation=1
    )


def test_pretraining_sequences_are_lines_with_bos_concatenated_into_blocks(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_bytes(data_file(TEST_DATA / "zh_samples.txt").read_bytes())
    # Windows and old Mac line ends, empty lines, and a last line without a line break.
    (corpus / "b.txt").write_bytes("第一行\r\n\r\nsecond line\rthird 第三行\n\n最后一行".encode() * 40)
    (corpus / "c.txt").write_text("一个很短的文件\n", encoding="utf-8")  # fewer tokens than a block
    files = sorted(corpus.glob("*.txt"))
    expected = _as_run_clm_pt(data_file(LLAMA), files, 64)
    sequences = _build(corpus, tmp_path / "cache")
    assert [list(example.input_ids) for example in sequences] == expected
    assert all(list(example.labels) == list(example.input_ids) for example in sequences)
    assert sequences.token_count == sum(len(block) for block in expected)
    assert len(expected[-1]) < 64 and len(expected[-2]) == 64  # c.txt, whole, after b.txt's last whole block
    # A single file: the same as its share of the folder.
    alone = _build(corpus / "b.txt", tmp_path / "cache")
    assert [list(e.input_ids) for e in alone] == _as_run_clm_pt(data_file(LLAMA), [corpus / "b.txt"], 64)
    # Selections (a validation share) read the same sequences.
    chosen = sequences.select([5, 0])
    assert [list(e.input_ids) for e in chosen] == [expected[5], expected[0]]
    assert chosen.token_count == 128


def test_the_sft_cache_holds_build_datasets_examples(tmp_path: Path) -> None:
    processor = data.load_processor(data_file(LLAMA))
    records = data.read_sft_records(data_file(TEST_DATA / "zh_sft_sample.json"))
    expected = data.sft_examples(processor, records, 128)
    left_out = [n for n, r in enumerate(records, 1) if not data.sft_example(processor, r, 128).learned_tokens]
    sequences = _build(data_file(TEST_DATA / "zh_sft_sample.json"), tmp_path / "cache", block_size=128, kind="sft")
    assert [(list(e.input_ids), list(e.labels)) for e in sequences] == [
        (list(e.input_ids), list(e.labels)) for e in expected
    ]
    assert (sequences.left_out, sequences.first_left_out) == (len(left_out), left_out)


def test_the_cache_is_reused_while_the_corpus_is_unchanged_and_rebuilt_when_it_changes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(data_file(TEST_DATA / "zh_samples.txt").read_bytes())
    cache = tmp_path / "cache"
    caplog.set_level(logging.INFO, logger="runtime.training.token_cache")
    first = _build(corpus, cache)
    tokens = first.folder / "tokens.bin"
    written = tokens.stat().st_mtime_ns
    assert sum("tokenizing into" in r.message for r in caplog.records) == 1

    caplog.clear()
    again = _build(corpus, cache)
    assert again.folder == first.folder and tokens.stat().st_mtime_ns == written
    assert not any("tokenizing into" in r.message for r in caplog.records)
    assert any("reusing its tokens" in r.message for r in caplog.records)
    assert [list(e.input_ids) for e in again] == [list(e.input_ids) for e in first]

    # Another block size is another entry; both stay.
    other = _build(corpus, cache, block_size=32)
    assert other.folder != first.folder and first.folder.is_dir()

    # The corpus changes (same size: one character for another): tokenized again, the old entry removed.
    text = corpus.read_text(encoding="utf-8")
    corpus.write_text(text.replace("如何", "怎样", 1), encoding="utf-8")
    assert corpus.stat().st_size == len(text.encode())
    caplog.clear()
    changed = _build(corpus, cache)
    assert changed.folder != first.folder and not first.folder.exists() and other.folder.is_dir()
    assert any("tokenizing into" in r.message for r in caplog.records)
    expected = _as_run_clm_pt(data_file(LLAMA), [corpus], 64)
    assert [list(e.input_ids) for e in changed] == expected and expected[0] != list(first[0].input_ids)

    # Another tokenizer is another entry too.
    llama2 = token_cache.load_or_build(
        "pretrain",
        corpus,
        data.load_processor(data_file(SHIPPED_TOKENIZERS / "chinese-llama-2" / "tokenizer.model")),
        cache,
        block_size=64,
        generation=2,
    )
    assert llama2.folder not in (changed.folder, other.folder) and llama2.meta["dtype"] == "uint16"


#: Builds a cache in a child, as a run would; the test kills it while it writes.
_BUILD = """
import sys
from runtime.training import data, token_cache
processor = data.load_processor(sys.argv[3])
token_cache.load_or_build("pretrain", sys.argv[1], processor, sys.argv[2], block_size=64, generation=1)
"""


def test_a_run_killed_while_tokenizing_leaves_no_entry_and_the_next_run_cleans_up(tmp_path: Path) -> None:
    sample = data_file(TEST_DATA / "zh_samples.txt").read_bytes()
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(sample * 300)  # 100 MB: many seconds of tokenizing, killed after its first writes
    cache = tmp_path / "cache"
    child = subprocess.Popen(
        [sys.executable, "-c", _BUILD, str(corpus), str(cache), str(data_file(LLAMA))],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    try:
        partial = None
        deadline = time.monotonic() + 300
        while partial is None and time.monotonic() < deadline and child.poll() is None:
            found = [p for p in cache.glob(".*.partial-*") if (p / "tokens.bin").is_file()]
            if found and found[0].joinpath("tokens.bin").stat().st_size > 0:
                partial = found[0]
            time.sleep(0.01)
        assert partial is not None, "the child wrote no tokens"
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait()
    assert not list(cache.glob("*.tokens"))  # nothing a later run could take for a whole entry
    assert partial.is_dir()

    small = tmp_path / "small.txt"
    small.write_bytes(sample)
    rebuilt = _build(small, cache)
    assert not partial.exists()  # its process is gone: removed by the next build in that folder
    assert len(rebuilt) == len(_as_run_clm_pt(data_file(LLAMA), [small], 64))


def test_train_preview_and_the_run_read_the_cache(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(data_file(TEST_DATA / "zh_samples.txt").read_bytes())
    spec = JobSpec(
        kind="pretrain",
        model=str(tmp_path / "no-model"),
        tokenizer=str(data_file(LLAMA)),
        dataset=str(corpus),
        output_dir=str(tmp_path / "out"),
        block_size=64,
        batch_size=4,
    )
    expected = _as_run_clm_pt(data_file(LLAMA), [corpus], 64)
    result = prepare.run_preview(spec, cache_dir=tmp_path / "preview-cache", examples=2)
    assert [e["input_ids"] for e in result["examples"]] == expected[:2]
    # The held-out share (the recipe's 0.001, at least one sequence) does not train.
    trained = len(expected) - held_out_count(len(expected), result["resolved"]["validation_split_percentage"])
    assert result["resolved"]["total_steps"] == -(-trained // 4)
    resolved, tokenizer = prepare.resolve_spec(spec)
    sequences = prepare.run_sequences(resolved, tokenizer)
    assert sequences.folder.parent == tmp_path / "out" / token_cache.RUN_CACHE_DIR and len(sequences) == len(expected)
    assert json.loads((sequences.folder / "meta.json").read_text(encoding="utf-8"))["files"][0]["name"] == "corpus.txt"


def test_the_tabs_quick_preview_counts_each_line_with_its_bos(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("第一行\n\n  \nsecond line\r\n第三行", encoding="utf-8")
    sp = sentencepiece.SentencePieceProcessor(model_file=str(data_file(LLAMA)))
    rows = prepare.preview("pretrain", corpus, data_file(LLAMA), rows=5)
    assert [(r.text, r.tokens, r.learned) for r in rows] == [
        (line, 1 + len(sp.encode(line)), 1 + len(sp.encode(line))) for line in ("第一行", "second line", "第三行")
    ]


def test_a_crafted_meta_file_is_not_an_entry_and_is_built_again(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus.txt"
    corpus.write_bytes(data_file(TEST_DATA / "zh_samples.txt").read_bytes())
    cache = tmp_path / "cache"
    first = _build(corpus, cache)
    expected = [list(e.input_ids) for e in first]
    # Written by someone else: 100,000 levels deep (json.loads would raise RecursionError).
    (first.folder / "meta.json").write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    again = _build(corpus, cache)
    assert [list(e.input_ids) for e in again] == expected
    assert isinstance(json.loads((again.folder / "meta.json").read_text(encoding="utf-8")), dict)
