"""Training data: the Alpaca prompt, labels only on the answer, pretraining blocks, bounded and checked reading."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.tokens import merge_sentencepiece, write_merged
from runtime.training import data
from tests.conftest import SHIPPED_TOKENIZERS, data_file


@pytest.fixture(scope="module")
def processor(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201 - a sentencepiece processor
    folder = tmp_path_factory.mktemp("tok")
    merged = merge_sentencepiece(
        data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"), data_file(SHIPPED_TOKENIZERS / "chinese_sp.model")
    )
    write_merged(merged, folder)
    return data.load_processor(folder)


def test_the_prompt_is_the_chinese_alpaca_template_with_instruction_and_input_joined() -> None:
    record = data.SftRecord(instruction="把这句话翻译成英文", input="今天天气很好", output="The weather is nice today.")
    assert data.alpaca_prompt(record) == (
        "Below is an instruction that describes a task. Write a response that appropriately completes the request."
        "\n\n### Instruction:\n\n把这句话翻译成英文\n今天天气很好\n\n### Response:\n\n"
    )
    without_input = data.alpaca_prompt(data.SftRecord("你好", "", "你好！"))
    assert "### Instruction:\n\n你好\n\n### Response:\n\n" in without_input


def test_only_the_answer_and_eos_are_learned(processor) -> None:  # noqa: ANN001
    record = data.SftRecord(instruction="介绍一下北京", input="", output="北京是中国的首都。")
    example = data.sft_example(processor, record, block_size=512)
    assert example.input_ids[0] == processor.bos_id() and example.input_ids[-1] == processor.eos_id()
    answer = processor.encode(record.output)
    learned = [label for label in example.labels if label != data.IGNORE_INDEX]
    assert learned == [*answer, processor.eos_id()]
    prompt_length = len(example.input_ids) - len(learned)
    assert example.labels[:prompt_length] == [data.IGNORE_INDEX] * prompt_length
    assert processor.decode(example.input_ids[1:prompt_length]) == data.alpaca_prompt(record)
    # Cut to the block size; a record whose answer is cut off entirely is left out.
    assert len(data.sft_example(processor, record, block_size=prompt_length + 2).input_ids) == prompt_length + 2
    assert data.sft_examples(processor, [record], block_size=prompt_length) == []


def test_pretraining_blocks_are_full_and_labelled_with_themselves(processor) -> None:  # noqa: ANN001
    paragraphs = list(data.iter_paragraphs(data_file(Path(__file__).parents[2] / "data" / "zh_samples.txt")))
    blocks = data.pretrain_examples(processor, paragraphs, 64, limit=10)
    assert len(blocks) == 10 and all(len(b.input_ids) == 64 and b.labels == b.input_ids for b in blocks)
    assert processor.eos_id() in blocks[0].input_ids  # paragraphs end with EOS


def test_bad_instruction_files_are_named_with_the_record(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"instruction": "a", "output": "b"}, {"instruction": "c"}]), encoding="utf-8")
    with pytest.raises(data.DatasetError) as caught:
        data.read_sft_records(bad)
    assert caught.value.code == "training_dataset_bad_record" and caught.value.params["index"] == 2
    lines = tmp_path / "bad.jsonl"
    lines.write_text('{"instruction": "a", "output": "b"}\n{oops\n', encoding="utf-8")
    with pytest.raises(data.DatasetError) as not_json:
        data.read_sft_records(lines)
    assert not_json.value.code == "training_dataset_not_json" and not_json.value.params["line"] == 2
    with pytest.raises(data.DatasetError) as missing:
        data.read_sft_records(tmp_path / "missing.json")
    assert missing.value.code == "training_dataset_unreadable"


def test_the_preview_reads_only_the_start_of_a_large_file(tmp_path: Path, processor) -> None:  # noqa: ANN001
    records = [{"instruction": f"问题{i}", "input": "", "output": "回答" * 50} for i in range(60_000)]
    big = tmp_path / "big.json"
    big.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    assert big.stat().st_size > data.PREVIEW_BYTES
    rows = data.read_sft_records(big, limit=5, limit_bytes=data.PREVIEW_BYTES)
    assert [r.instruction for r in rows] == [f"问题{i}" for i in range(5)]
    few = data.read_sft_records(big, limit_bytes=4096)  # a cut array yields its whole records
    assert 0 < len(few) < 60 and few[-1].output == "回答" * 50
