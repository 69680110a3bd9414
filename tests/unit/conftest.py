"""Fixtures shared by the unit tests that talk to the real inference host.

The Chinese fixtures build, once per session, the paper's merged 49,953-piece vocabulary and a
tiny *scripted* LLaMA model that uses it (see :mod:`runtime.models.tiny`): after the last token of
any ``chinese-alpaca`` prompt (a newline byte piece) it answers :data:`ZH_ANSWER`, token for token,
under any sampling settings. Building both takes well under a second.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gguf
import pytest
import sentencepiece

from runtime.chat.client import HostClient, HostEvent
from runtime.models.tiny import script_for_answer, write_llama_gguf
from runtime.tokens import MergeResult, merge_sentencepiece

# 犇 (U+7287) and 🦙 (U+1F999) are not pieces of the merged vocabulary: sentencepiece spells them
# with byte-fallback pieces (<0xE7><0x8A><0x87> and <0xF0><0x9F><0xA6><0x99>), all seven distinct,
# as a bigram-scripted answer requires. The rest are ordinary Chinese pieces.
ZH_ANSWER = "你好，我是羊驼犇🦙。"
# One decode thread: these models are tiny, and with two threads llama.cpp's thread barrier spins
# badly when other processes share a small CI machine (a 40-token answer then takes seconds).
TEST_THREADS = 1
# Every answer timeout: a host that hangs fails the test instead of hanging the run.
EVENT_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class ScriptedZh:
    """The scripted Chinese model and what a test needs to check its output exactly."""

    path: Path
    answer: str
    answer_ids: tuple[int, ...]
    sp: sentencepiece.SentencePieceProcessor


@pytest.fixture(scope="session")
def merged_vocab(llama_tokenizer: Path, chinese_sp_model: Path) -> MergeResult:
    """The Chinese-LLaMA vocabulary: LLaMA's 32,000 pieces plus the paper's Chinese pieces."""
    merged = merge_sentencepiece(llama_tokenizer, chinese_sp_model)
    assert merged.final_size == 49_953
    return merged


@pytest.fixture(scope="session")
def merged_sp(merged_vocab: MergeResult) -> sentencepiece.SentencePieceProcessor:
    """A sentencepiece processor for the merged vocabulary (the reference tokenizer)."""
    return merged_vocab.processor()


@pytest.fixture(scope="session")
def zh_scripted(
    tmp_path_factory: pytest.TempPathFactory,
    merged_vocab: MergeResult,
    merged_sp: sentencepiece.SentencePieceProcessor,
) -> ScriptedZh:
    """A tiny model with the merged vocabulary that answers :data:`ZH_ANSWER` after a newline."""
    # Every chinese-alpaca prompt ends in "### Response:\n\n", so its last token is this one.
    after = merged_sp.piece_to_id("<0x0A>")
    transitions = script_for_answer(merged_sp, after_token=after, answer=ZH_ANSWER)
    chain = [after]
    while chain[-1] in transitions:
        chain.append(transitions[chain[-1]])
    path = write_llama_gguf(
        tmp_path_factory.mktemp("zh") / "zh-scripted.gguf",
        tokenizer=merged_vocab.model_proto_bytes,
        name="zh-scripted",
        weights="scripted",
        transitions=transitions,
    )
    return ScriptedZh(path=path, answer=ZH_ANSWER, answer_ids=tuple(chain[1:-1]), sp=merged_sp)


#: A metadata value for :func:`copy_gguf`: (value, GGUF type) or, for arrays, (values, ARRAY, item type).
MetadataValue = tuple[Any, gguf.GGUFValueType] | tuple[Any, gguf.GGUFValueType, gguf.GGUFValueType]


def copy_gguf(
    src: Path, dst: Path, *, changes: dict[str, MetadataValue] | None = None, remove: tuple[str, ...] = ()
) -> Path:
    """Copy a GGUF file with some metadata fields replaced, added or removed; tensors unchanged.

    How the damaged and hostile model files of the tests are made: any GGUF type can be written
    for any key (a context length as a string, a file type as an array).
    """
    changes = dict(changes or {})
    reader = gguf.GGUFReader(src)
    arch_key = gguf.Keys.General.ARCHITECTURE
    arch = changes.get(arch_key, (reader.fields[arch_key].contents(), gguf.GGUFValueType.STRING))
    writer = gguf.GGUFWriter(dst, arch=str(arch[0]))
    # GGUFWriter writes the architecture itself, as a string; a test may want another type there.
    writer.kv_data[0].pop(arch_key, None)
    for field in reader.fields.values():
        if field.name.startswith("GGUF.") or field.name in changes or field.name in remove:
            continue
        value_type = field.types[0]
        sub_type = field.types[-1] if value_type == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), value_type, sub_type=sub_type)
    for key, change in changes.items():
        if key not in remove:
            writer.add_key_value(key, change[0], change[1], sub_type=change[2] if len(change) > 2 else None)
    for tensor in reader.tensors:
        data = tensor.data
        writer.add_tensor_info(tensor.name, data.shape, data.dtype, data.nbytes, tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in reader.tensors:
        writer.write_tensor_data(tensor.data)
    writer.close()
    return dst


def process_is_gone(pid: int) -> bool:
    """Ended: no such process, or a zombie waiting for whoever adopted it to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def collect(client: HostClient, op: str, **fields: Any) -> list[HostEvent]:
    """All events of one request, the terminal one included."""
    return list(client.stream(op, timeout=EVENT_TIMEOUT_S, **fields))


def answer_text(events: list[HostEvent]) -> str:
    """The concatenated text of the token events."""
    return "".join(e["text"] for e in events if e["event"] == "token")


def finished(events: list[HostEvent]) -> HostEvent:
    """The terminal ``finished`` event (fails with the events if the request ended otherwise)."""
    assert events and events[-1]["event"] == "finished", events[-3:]
    return events[-1]


@pytest.fixture(scope="module")
def stories_host(stories_gguf: Path) -> Iterator[HostClient]:
    """A host process with stories260K.gguf loaded (context 2048), shared by a module's tests."""
    client = HostClient()
    try:
        client.call("load", path=str(stories_gguf), n_ctx=2048, n_threads=TEST_THREADS, timeout=EVENT_TIMEOUT_S)
        yield client
    finally:
        client.stop()
