"""The planner's memory against the inference host's own peak, on tiny models built here.

Three widths (64, 256 and 512: 2, 4 and 8 layers), the paper's 49,953-piece vocabulary and
Chinese-LLaMA-2's 55,296, contexts 1,024 and 8,192, f16 and q8_0 KV caches. The host is the real
one (``runtime.chat.host``); its peak is its own VmHWM, read from /proc after it loaded the model
and wrote a 64-token answer (the figure starts at the host's exec, not at this test runner's size).
SmolLM2-135M (built elsewhere, with a BPE vocabulary) is planned too.
Speed is compared in ``bench/plan.py``, never here.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from runtime.chat.client import HostClient
from runtime.decoding import DecodingParams
from runtime.models.machine import Machine
from runtime.models.plan import plan, read_shape
from runtime.models.tiny import write_llama_gguf
from runtime.tokens import MergeResult
from tests.unit.conftest import EVENT_TIMEOUT_S, TEST_THREADS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/PID/status")

#: Widths whose head size (32, 32, 64) a q8_0 KV cache accepts (blocks of 32 values).
SHAPES = {
    "narrow": {"hidden": 64, "layers": 2, "heads": 2, "ffn": 128},
    "middle": {"hidden": 256, "layers": 4, "heads": 8, "kv_heads": 4, "ffn": 704},
    "wide": {"hidden": 512, "layers": 8, "heads": 8, "ffn": 1408},
}
#: (shape, vocabulary, context, KV type). The wide model, whose loaded size passes the header
#: check's peak, runs every setting; the others one of each context and type.
SETTINGS = [
    ("narrow", "49953", 1024, "f16"),
    ("narrow", "49953", 8192, "q8_0"),
    ("middle", "55296", 1024, "q8_0"),
    ("middle", "55296", 8192, "f16"),
    ("wide", "49953", 1024, "f16"),
    ("wide", "49953", 1024, "q8_0"),
    ("wide", "49953", 8192, "f16"),
    ("wide", "49953", 8192, "q8_0"),
]
ANSWER_TOKENS = 64


@pytest.fixture(scope="module")
def planned_models(
    tmp_path_factory: pytest.TempPathFactory, merged_vocab: MergeResult, chinese_llama2_tokenizer: Path
) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("plan-models")
    vocabularies = {"49953": merged_vocab.model_proto_bytes, "55296": chinese_llama2_tokenizer.read_bytes()}
    needed = {(shape, vocab) for shape, vocab, _ctx, _kv in SETTINGS}
    return {
        (shape, vocab): write_llama_gguf(
            folder / f"{shape}-{vocab}.gguf", tokenizer=vocabularies[vocab], dtype="f16", **SHAPES[shape]
        )
        for shape, vocab in sorted(needed)
    }


def _peak_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def _measured_and_planned(path: Path, n_ctx: int, kv: str) -> tuple[int, int]:
    """The host's peak after loading ``path`` and a 64-token answer, and the plan's memory."""
    client = HostClient()
    try:
        client.call("load", path=str(path), n_ctx=n_ctx, n_threads=TEST_THREADS, kv=kv, timeout=EVENT_TIMEOUT_S)
        params = DecodingParams(n_ctx=n_ctx, max_tokens=ANSWER_TOKENS, seed=1)
        prompt_tokens = 0
        generated = 0
        for event in client.stream(
            "generate", prompt="Once upon a time", params=params.to_dict(), timeout=EVENT_TIMEOUT_S
        ):
            if event["event"] == "prompt":
                prompt_tokens = event["n_tokens"]
            elif event["event"] == "finished":
                generated = event["generated_tokens"]
            assert event["event"] != "error", event
        assert client.pid is not None
        measured = _peak_bytes(client.pid)
    finally:
        client.stop()
    assert generated > 0
    # The machine's speed figures do not enter the memory.
    machine = Machine.described(cores=1, memory_gb=16, bandwidth_gb_s=10)
    return measured, plan(read_shape(path), machine, n_ctx=n_ctx, kv_type=kv, batch=prompt_tokens).memory_bytes


@pytest.mark.parametrize(("shape", "vocab", "n_ctx", "kv"), SETTINGS)
def test_predicted_memory_is_within_a_tenth_of_the_hosts_peak(
    planned_models: dict[tuple[str, str], Path], shape: str, vocab: str, n_ctx: int, kv: str
) -> None:
    measured, predicted = _measured_and_planned(planned_models[(shape, vocab)], n_ctx, kv)
    assert abs(predicted - measured) <= 0.10 * measured, (predicted, measured)


def test_a_model_built_elsewhere_with_a_bpe_header_is_planned_within_a_tenth(smollm2_gguf: Path) -> None:
    # SmolLM2's header (49,152 BPE pieces and 48,900 merges) is the host's peak at this context:
    # gguf's reader makes arrays per merge too, which a count per vocabulary piece left out (the
    # plan was 15% under).
    measured, predicted = _measured_and_planned(smollm2_gguf, 1024, "q8_0")
    assert abs(predicted - measured) <= 0.10 * measured, (predicted, measured)
