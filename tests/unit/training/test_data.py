"""Training data: build_dataset.py's prompts, the pad token, labels only on the answer, bounded and
checked reading (pre-training blocks: test_token_cache.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import sentencepiece

from runtime.tokens import merge_sentencepiece, write_merged
from runtime.training import data, prepare
from tests.conftest import SHIPPED_TOKENIZERS, data_file


@pytest.fixture(scope="module")
def tokenizer_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Chinese-LLaMA's 49,953-piece tokenizer, merged from the shipped models."""
    folder = tmp_path_factory.mktemp("tok")
    merged = merge_sentencepiece(
        data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"), data_file(SHIPPED_TOKENIZERS / "chinese_sp.model")
    )
    write_merged(merged, folder)
    return folder


@pytest.fixture(scope="module")
def processor(tokenizer_folder: Path):  # noqa: ANN201 - a sentencepiece processor
    return data.load_processor(tokenizer_folder)


# The authors' build_dataset.py PROMPT_TEMPLATE, copied here so that the test does not read the code under test.
GENERATION_1_PROMPT = (
    "Below is an instruction that describes a task. Write a response that appropriately completes the request."
    "\n\n### Instruction:\n{instruction}\n\n### Response: "
)
GENERATION_2_PROMPT = (
    "[INST] <<SYS>>\nYou are a helpful assistant. 你是一个乐于助人的助手。\n<</SYS>>\n\n{instruction} [/INST]"
)


def _as_build_dataset(model: Path, template: str, record: dict[str, str], max_length: int) -> tuple[list, list]:
    """input_ids and labels as build_dataset.py makes them, from sentencepiece and the template alone."""
    sp = sentencepiece.SentencePieceProcessor(model_file=str(model))
    instruction = record["instruction"] + ("\n" + record["input"] if record["input"] else "")
    source = [sp.bos_id(), *sp.encode(template.replace("{instruction}", instruction))]
    target = [*sp.encode(record["output"]), sp.eos_id()]
    return (source + target)[:max_length], ([-100] * len(source) + target)[:max_length]


RECORD = {"instruction": "把这句话翻译成英文", "input": "今天天气很好", "output": "The weather is nice today."}


def test_a_generation_1_example_is_built_as_build_dataset_builds_it(processor, tokenizer_folder: Path) -> None:  # noqa: ANN001
    record = data.SftRecord(**RECORD)
    example = data.sft_example(processor, record, block_size=512, generation=1)
    ids, labels = _as_build_dataset(tokenizer_folder / "tokenizer.model", GENERATION_1_PROMPT, RECORD, 512)
    assert (list(example.input_ids), list(example.labels)) == (ids, labels)
    assert data.training_prompt(record, 1).endswith("今天天气很好\n\n### Response: ")
    # Cut to the maximum length like the script: the end of the answer (and EOS) goes.
    short = data.sft_example(processor, record, block_size=len(ids) - 3, generation=1)
    assert (list(short.input_ids), list(short.labels)) == (ids[:-3], labels[:-3])
    without_input = {**RECORD, "input": ""}
    example = data.sft_example(processor, data.SftRecord(**without_input), block_size=512, generation=1)
    expected = _as_build_dataset(tokenizer_folder / "tokenizer.model", GENERATION_1_PROMPT, without_input, 512)
    assert (list(example.input_ids), list(example.labels)) == expected


def test_a_generation_2_example_is_built_as_build_dataset_builds_it() -> None:
    model = data_file(SHIPPED_TOKENIZERS / "chinese-llama-2" / "tokenizer.model")
    processor = data.load_processor(model)
    record = data.SftRecord(**RECORD)
    example = data.sft_example(processor, record, block_size=1024, generation=2)
    ids, labels = _as_build_dataset(model, GENERATION_2_PROMPT, RECORD, 1024)
    assert (list(example.input_ids), list(example.labels)) == (ids, labels)
    learned = [label for label in labels if label != data.IGNORE_INDEX]
    assert learned[-1] == processor.eos_id() and ids[0] == processor.bos_id()


def test_the_inference_template_chat_uses_is_not_the_training_prompt() -> None:
    from runtime.chat.templates import Turn, render

    chat = "".join(p for p in render("chinese-alpaca", [Turn(user="你好")]).parts if isinstance(p, str))
    assert "### Instruction:\n\n你好\n\n### Response:\n\n" in chat  # chat's template is unchanged
    assert data.training_prompt(data.SftRecord("你好", "", "x"), 1).endswith("### Instruction:\n你好\n\n### Response: ")


def test_generation_1_instruction_tuning_adds_the_pad_token(tokenizer_folder: Path, tmp_path: Path) -> None:
    sft = prepare.training_tokenizer(tokenizer_folder, "sft", 1)
    assert (sft.size, sft.pad, sft.added, sft.pad_added) == (49_954, 49_953, {"[PAD]": 49_953}, True)
    pretrain = prepare.training_tokenizer(tokenizer_folder, "pretrain", 1)
    assert pretrain.size == 49_953 and not pretrain.pad_added
    # Chinese-Alpaca's own folder already has it (added_tokens.json): counted, not added again.
    alpaca = tmp_path / "alpaca"
    alpaca.mkdir()
    (alpaca / "tokenizer.model").write_bytes((tokenizer_folder / "tokenizer.model").read_bytes())
    (alpaca / "added_tokens.json").write_text(json.dumps({"[PAD]": 49_953}), encoding="utf-8")
    assert prepare.tokenizer_size(alpaca) == 49_954
    again = prepare.training_tokenizer(alpaca, "sft", 1)
    assert (again.size, again.pad, again.pad_added) == (49_954, 49_953, False)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (json.dumps({"[PAD]": 49_960}), "has the id 49960, not 49,953"),  # a gap after the pieces
        (json.dumps({"[PAD]": 7}), "has the id 7, not 49,953"),  # an id taken by a piece
        ("[" * 10_000 + "]" * 10_000, "nested"),
        ('{"[PAD]": "' + "x" * (2 * 1024 * 1024) + '"}', "larger"),
    ],
)
def test_added_tokens_that_do_not_follow_the_pieces_are_refused_with_the_file_named(
    tokenizer_folder: Path, tmp_path: Path, content: str, reason: str
) -> None:
    from runtime.tokens import TokenizerError

    folder = tmp_path / "tok"
    folder.mkdir()
    (folder / "tokenizer.model").write_bytes((tokenizer_folder / "tokenizer.model").read_bytes())
    (folder / "added_tokens.json").write_text(content, encoding="utf-8")
    with pytest.raises(TokenizerError) as caught:
        prepare.training_tokenizer(folder, "sft", 1)
    assert caught.value.code == "training_added_tokens_bad"
    assert caught.value.params["path"] == str(folder / "added_tokens.json")
    assert reason in caught.value.params["reason"], caught.value.params["reason"]


def test_generation_2_instruction_tuning_takes_only_the_chinese_llama_2_tokenizer(tokenizer_folder: Path) -> None:
    from runtime.tokens import TokenizerError

    llama2 = prepare.training_tokenizer(data_file(SHIPPED_TOKENIZERS / "chinese-llama-2" / "tokenizer.model"), "sft", 2)
    assert (llama2.size, llama2.pad, llama2.pad_added) == (55_296, 32_000, False)  # its own <pad>
    with pytest.raises(TokenizerError) as caught:
        prepare.training_tokenizer(tokenizer_folder, "sft", 2)
    assert caught.value.code == "tokenizer_wrong_size" and caught.value.params["size"] == 49_953


def test_only_the_answer_and_eos_are_learned(processor) -> None:  # noqa: ANN001
    record = data.SftRecord(instruction="介绍一下北京", input="", output="北京是中国的首都。")
    example = data.sft_example(processor, record, block_size=512)
    assert example.input_ids[0] == processor.bos_id() and example.input_ids[-1] == processor.eos_id()
    answer = processor.encode(record.output)
    learned = [label for label in example.labels if label != data.IGNORE_INDEX]
    assert learned == [*answer, processor.eos_id()]
    prompt_length = len(example.input_ids) - len(learned)
    assert example.labels[:prompt_length] == [data.IGNORE_INDEX] * prompt_length
    assert processor.decode(example.input_ids[1:prompt_length]) == data.training_prompt(record)
    # Cut to the block size; a record whose answer is cut off entirely is left out.
    assert len(data.sft_example(processor, record, block_size=prompt_length + 2).input_ids) == prompt_length + 2
    assert data.sft_examples(processor, [record], block_size=prompt_length) == []


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


# -- huge records (issue #20, item 5): streamed, cut, named; memory independent of their size --------

REPO_ROOT = Path(__file__).resolve().parents[3]
HUGE = 50 * 1024 * 1024
#: What the child measures: read the dataset as the scripts do, print the outcome and its peak RSS.
_MEASURE = """
import json, sys
from runtime.training import data, token_cache
kind, path, tokenizer = sys.argv[1:4]
try:
    if kind == "sft":
        outcome = {"records": len(data.read_sft_records(path))}
    else:
        processor = data.load_processor(tokenizer)
        blocks = token_cache.load_or_build("pretrain", path, processor, sys.argv[4], block_size=64, generation=1)
        outcome = {"blocks": len(blocks), "first": list(blocks[0].input_ids) if len(blocks) else []}
except data.DatasetError as exc:
    outcome = {"code": exc.code, "message": str(exc)}
status = open("/proc/self/status").read()
outcome["peak_kb"] = int(next(l for l in status.splitlines() if l.startswith("VmHWM")).split()[1])
print(json.dumps(outcome))
"""


def _measured(*args: str) -> dict:
    """The child's outcome and its own peak RSS (VmHWM starts afresh at exec)."""
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=True
    )
    return json.loads(proc.stdout.splitlines()[-1])


def _sft_files(folder: Path, size: int) -> tuple[Path, Path]:
    big = "很长的指令" * (size // 15)
    records = [{"instruction": "短", "output": "好"}, {"instruction": big, "output": "答"}]
    lines = folder / f"lines-{size}.jsonl"
    lines.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n", encoding="utf-8")
    array = folder / f"array-{size}.json"
    array.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    return lines, array


def test_a_50_mb_instruction_record_is_named_and_never_held(tmp_path: Path) -> None:
    """Before: one 50 MB record took 2.9 GB and ended in a misleading error."""
    small_lines, small_array = _sft_files(tmp_path, 1024)
    huge_lines, huge_array = _sft_files(tmp_path, HUGE)
    before = {p: p.read_bytes() for p in (huge_lines, huge_array)}
    baseline = _measured("sft", str(small_lines), "")
    assert baseline["records"] == 2
    for path, named in ((huge_lines, "Line 2 of"), (huge_array, "Record 2 of")):
        outcome = _measured("sft", str(path), "")
        assert outcome["code"].endswith("_too_large") and outcome["message"].startswith(f"{named} {path}")
        assert "Shorten that record or remove it" in outcome["message"]
        # Memory does not follow the record: a 50 MB record costs what a 1 kB one does, give or take a chunk.
        assert outcome["peak_kb"] - baseline["peak_kb"] < 16 * 1024, (outcome, baseline)
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.slow
def test_a_50_mb_line_of_pretraining_text_is_read_in_pieces(tmp_path: Path, processor) -> None:  # noqa: ANN001
    """Before: a 50 MB single-line text reached 1.45 GB and no training step after 180 s."""
    sentence = "我们今天去公园散步，天气很好。"
    small, huge = tmp_path / "small.txt", tmp_path / "huge.txt"
    small.write_text(sentence * (HUGE // 10 // len(sentence.encode("utf-8"))), encoding="utf-8")
    huge.write_text(sentence * (HUGE // len(sentence.encode("utf-8"))), encoding="utf-8")
    tokenizer = str(SHIPPED_TOKENIZERS / "llama")
    baseline = _measured("pretrain", str(small), tokenizer, str(tmp_path / "cache"))
    outcome = _measured("pretrain", str(huge), tokenizer, str(tmp_path / "cache"))
    assert outcome["blocks"] > 9 * baseline["blocks"] and outcome["first"] == baseline["first"]
    # A line ten times longer, tokenized whole into the cache, costs no more: it is read a piece at a time.
    assert abs(outcome["peak_kb"] - baseline["peak_kb"]) < 8 * 1024, (outcome, baseline)
    # The line comes in pieces of a bounded size, which together hold the whole line; only the first starts it.
    pieces = list(data.iter_lines(huge))
    assert len(pieces) > 1 and max(len(p.text) for p in pieces) <= data.MAX_LINE_CHARS + data.READ_CHUNK_BYTES
    assert [p.starts_line for p in pieces] == [True] + [False] * (len(pieces) - 1)
    assert "".join(p.text for p in pieces) == huge.read_text(encoding="utf-8")


def test_a_long_record_is_cut_before_tokenizing_and_a_prompt_that_fills_the_block_is_named(processor) -> None:  # noqa: ANN001
    record = data.SftRecord(instruction="很长的指令" * 200_000, input="", output="答案")
    example = data.sft_example(processor, record, block_size=64)
    assert len(example.input_ids) == 64 and example.learned_tokens == 0


def test_json_arrays_are_read_record_by_record_across_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    records = [
        {"instruction": 'a "quoted" [x] {y} \\ back', "input": "", "output": "答案 ]}"},
        {"instruction": "b", "output": "c\\\\", "extra": {"nested": [1, {"deep": "]"}]}},
    ]
    array = tmp_path / "a.json"
    array.write_text("\ufeff" + json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    lines = tmp_path / "a.jsonl"
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    expected = data.read_sft_records(lines)
    for chunk in (1, 2, 3, 7, 4096):
        monkeypatch.setattr(data, "READ_CHUNK_BYTES", chunk)
        assert data.read_sft_records(array) == expected, chunk
    for text, code in (
        ('[{"instruction": "a", "output": "b"}', "training_dataset_not_json"),
        ('[{"instruction": "a", "output": "b"}, 3]', "training_dataset_bad_record"),
        ('[{"instruction": "a" "output": "b"}]', "training_dataset_not_json"),
    ):
        array.write_text(text, encoding="utf-8")
        with pytest.raises(data.DatasetError) as caught:
            data.read_sft_records(array)
        assert caught.value.code == code, text
