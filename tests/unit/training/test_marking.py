"""The preview's marks: a training sequence cut into masked and learned text, as its labels say."""

from __future__ import annotations

from pathlib import Path

from runtime.training.data import SftRecord, load_processor, sft_example, training_prompt
from runtime.training.launcher import JobSpec
from runtime.training.marking import Segment, learned_segments, marked_examples
from tests.conftest import SHIPPED_TOKENIZERS, TEST_DATA, data_file


def test_an_sft_sequence_is_its_masked_prompt_then_its_learned_answer_and_end() -> None:
    processor = load_processor(data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"))
    record = SftRecord(instruction="Say hello", input="to the world", output="Hello, world!")
    example = sft_example(processor, record, block_size=512, generation=1)
    segments = learned_segments(processor, example.input_ids, example.labels)
    assert [s.learned for s in segments] == [False, True]
    assert segments[0].text == "<s>" + training_prompt(record, 1)
    assert segments[1].text.strip() == "Hello, world!</s>"


def test_a_cut_answer_and_an_added_pad_are_shown_as_they_train() -> None:
    processor = load_processor(data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"))
    record = SftRecord(instruction="Say hello", input="", output="Hello, world! " * 20)
    example = sft_example(processor, record, block_size=48, generation=1)
    segments = learned_segments(processor, example.input_ids, example.labels)
    assert not segments[-1].text.endswith("</s>") and segments[-1].learned  # cut: no end token learned
    padded = learned_segments(processor, [*example.input_ids, 32_000], [*example.labels, -100], {32_000: "[PAD]"})
    assert padded[-1] == Segment("[PAD]", False)


def test_the_first_sequences_of_a_spec_are_marked_as_the_run_builds_them(tmp_path: Path) -> None:
    spec = JobSpec(
        kind="pretrain",
        model=str(SHIPPED_TOKENIZERS / "llama"),
        dataset=str(data_file(TEST_DATA / "zh_samples.txt")),
        block_size=32,
    )
    blocks = marked_examples(spec, examples=2)
    assert len(blocks) == 2 and all(len(b) == 1 and b[0].learned for b in blocks)  # every token of a block learns
