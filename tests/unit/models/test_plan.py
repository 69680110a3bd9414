"""The planner's arithmetic, the machine probe's cache, and the refusal of a setting that does not fit."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from runtime.chat.client import HostClient
from runtime.errors import ModelLoadError
from runtime.models import machine as machine_module
from runtime.models.machine import AVAILABLE_MEMORY_ENV, Machine, this_machine
from runtime.models.plan import (
    DEFAULT_BATCH,
    GPU_RESERVE_BYTES,
    HOST_BASELINE_BYTES,
    catalogue_shape,
    check_fits,
    compute_bytes,
    gpu_layers,
    kv_cache_bytes,
    plan,
    read_shape,
)
from runtime.models.tiny import write_llama_gguf
from tests.unit.conftest import EVENT_TIMEOUT_S, TEST_THREADS

GB = 10**9


@pytest.fixture(scope="module")
def small_model(tmp_path_factory: pytest.TempPathFactory, llama_tokenizer: Path) -> Path:
    folder = tmp_path_factory.mktemp("plan")
    return write_llama_gguf(folder / "small.gguf", tokenizer=llama_tokenizer, hidden=64, layers=2, heads=2, ffn=128)


def test_the_shape_comes_from_the_header(small_model: Path) -> None:
    shape = read_shape(small_model)
    assert (shape.n_layer, shape.n_embd, shape.n_head, shape.n_head_kv, shape.n_ff) == (2, 64, 2, 2, 128)
    assert shape.n_vocab == 32_000 and shape.exact and not shape.tied_output
    assert shape.embedding_bytes == 32_000 * 64 * 4  # f32, (hidden, rows)
    assert shape.embedding_bytes < shape.weight_bytes < small_model.stat().st_size


def test_kv_cache_bytes_per_type() -> None:
    seven = catalogue_shape("7B", "Q4_K", context=4096)
    # LLaMA-2 7B: 32 layers x 4,096 tokens x 32 heads x 128 x K and V x 2 bytes = 2 GiB.
    assert kv_cache_bytes(seven, 4096, "f16") == 2 * 1024**3
    assert kv_cache_bytes(seven, 4096, "q8_0") == 2 * 1024**3 * 34 // 64
    assert kv_cache_bytes(seven, 4096, "q4_0") == 2 * 1024**3 * 18 // 64
    with pytest.raises(ModelLoadError) as caught:
        kv_cache_bytes(seven, 4096, "q5_1")
    assert caught.value.code == "kv_type_unknown"


def test_a_plan_grows_with_the_context_and_shrinks_with_the_kv_type() -> None:
    machine = Machine.described(cores=2, memory_gb=16, bandwidth_gb_s=15)
    shape = catalogue_shape("7B", "Q4_K", context=16384, file_size=3_908_519_999)
    short = plan(shape, machine, n_ctx=1024)
    long = plan(shape, machine, n_ctx=16384)
    quantized = plan(shape, machine, n_ctx=16384, kv_type="q8_0")
    assert short.memory_bytes < quantized.memory_bytes < long.memory_bytes
    assert long.kv_cache_bytes == 8 * 1024**3
    assert long.memory_bytes > long.weights_bytes + long.kv_cache_bytes + HOST_BASELINE_BYTES
    # Decode reads the weights and the KV cache per token: a longer context is slower.
    assert long.tokens_per_second < short.tokens_per_second
    # 15 GB/s over about 4 GB per token: 3 to 4 tokens/s, the memory's bound, not the cores'.
    assert 2.5 < short.tokens_per_second < 4.0
    assert short.bandwidth_tokens_per_second < short.compute_tokens_per_second
    assert plan(shape, machine, n_ctx=1024, threads=1).threads == 1


def test_the_probe_is_kept_per_cpu(isolated_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert this_machine(measure=False) is None  # nothing cached in a fresh home
    measured = this_machine()
    assert measured is not None and measured.bandwidth > 0 and measured.core_rate > 0
    cached = this_machine(measure=False)
    assert cached is not None and (cached.bandwidth, cached.core_rate) == (measured.bandwidth, measured.core_rate)
    record = json.loads((isolated_dirs / "cache" / "machine.json").read_text())
    assert record["cpu"] == measured.cpu and record["cores"] == measured.cores
    monkeypatch.setattr(machine_module, "cpu_name", lambda: "another CPU")
    assert this_machine(measure=False) is None  # a new CPU is measured again


def test_gpu_layers_follow_the_free_gpu_memory() -> None:
    # A 7B Q4_K file (4.1 GB) at 4K context: 32 layers of ~115 MB weights and 64 MB of f16 KV cache
    # each, and a 4,096 x 55,296 output matrix. Only the arithmetic: no GPU here.
    shape = catalogue_shape("7B", "Q4_K", context=4096)
    per_layer = (shape.weight_bytes - 2 * shape.embedding_bytes + kv_cache_bytes(shape, 4096)) / 32
    reserve = GPU_RESERVE_BYTES + compute_bytes(shape, batch=DEFAULT_BATCH, n_ctx=4096, flash_attention=True)
    assert gpu_layers(shape, free_vram=0, n_ctx=4096) == 0  # no GPU
    assert gpu_layers(shape, free_vram=int(reserve + 0.5 * per_layer), n_ctx=4096) == 0
    assert gpu_layers(shape, free_vram=int(reserve + 10.5 * per_layer), n_ctx=4096) == 10
    every_block = int(reserve + 32 * per_layer) + 1
    assert gpu_layers(shape, free_vram=every_block, n_ctx=4096) == 32  # the output matrix does not fit
    assert gpu_layers(shape, free_vram=every_block + shape.embedding_bytes, n_ctx=4096) == 33  # everything
    # A quantized KV cache leaves room for more layers, a longer context for fewer.
    four_gb = 4_000_000_000
    at_4k = gpu_layers(shape, free_vram=four_gb, n_ctx=4096)
    assert gpu_layers(shape, free_vram=four_gb, n_ctx=4096, kv_type="q8_0") > at_4k
    assert gpu_layers(shape, free_vram=four_gb, n_ctx=16384) < at_4k
    assert gpu_layers(shape, free_vram=24_000_000_000, n_ctx=4096) == 33


def test_the_first_probes_keep_the_best_figures_then_they_settle(isolated_dirs: Path) -> None:
    # A record as a probe on a busy machine leaves it: far below what this machine measures.
    first = this_machine()
    assert first is not None
    path = isolated_dirs / "cache" / "machine.json"
    record = json.loads(path.read_text())
    assert record["probes"] == 1
    path.write_text(json.dumps({**record, "bandwidth": 1.0, "core_rate": 1.0}))
    again = this_machine()
    assert again is not None and again.bandwidth > 1.0 and again.core_rate > 1.0
    assert json.loads(path.read_text())["probes"] == 2
    # Settled: the figures are read, not measured again, even low ones.
    path.write_text(json.dumps({**record, "bandwidth": 1.0, "core_rate": 1.0, "probes": machine_module.PROBES_KEPT}))
    settled = this_machine()
    assert settled is not None and (settled.bandwidth, settled.core_rate) == (1.0, 1.0)


def test_the_available_memory_can_be_described(monkeypatch: pytest.MonkeyPatch, small_model: Path) -> None:
    monkeypatch.setenv(AVAILABLE_MEMORY_ENV, str(10_000_000))
    with pytest.raises(ModelLoadError) as caught:
        check_fits(read_shape(small_model), n_ctx=2048)
    assert caught.value.code == "model_needs_more_memory"
    assert caught.value.params["free_gb"] == "0.01"
    monkeypatch.setenv(AVAILABLE_MEMORY_ENV, str(100 * GB))
    fitting = check_fits(read_shape(small_model), n_ctx=2048)
    assert fitting is not None and fitting.memory_bytes < GB


def test_the_host_refuses_a_context_that_does_not_fit_before_loading(
    small_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Free memory is described to the host, not taken from the machine: 150 MB, enough for this
    # model at 1,024 tokens (about 130 MB, the header check's peak), not at 32,768 (about 240 MB:
    # a 512-token prompt batch's attention scores against 32,768 cached tokens alone are 134 MB).
    monkeypatch.setenv(AVAILABLE_MEMORY_ENV, str(150_000_000))
    client = HostClient()
    try:
        loaded = client.call("load", path=str(small_model), n_ctx=1024, n_threads=TEST_THREADS, timeout=EVENT_TIMEOUT_S)
        assert loaded["event"] == "loaded"
        with pytest.raises(ModelLoadError) as caught:
            client.call("load", path=str(small_model), n_ctx=32768, n_threads=TEST_THREADS, timeout=EVENT_TIMEOUT_S)
        assert caught.value.code == "model_needs_more_memory"
        assert client.alive
        # The model loaded before is still there.
        info = client.call("info", timeout=EVENT_TIMEOUT_S)
        assert info["info"]["file_name"] == "small.gguf"
    finally:
        client.stop()


# The host started under an address-space limit (RLIMIT_AS) of its size once its libraries are
# loaded plus HEADROOM: a mapped model counts whole against it, as in a limited session or a
# container, and nothing of the model's size is allocated for the test.
_HOST_UNDER_LIMIT = """
import resource, runpy, sys
import llama_cpp, numpy, gguf  # what the host maps before any model: counted before the limit
size = next(int(l.split()[1]) * 1024 for l in open("/proc/self/status") if l.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (size + int(sys.argv[1]), resource.RLIM_INFINITY))
sys.argv = sys.argv[:1]
runpy.run_module("runtime.chat.host", run_name="__main__")
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc are Linux's")
def test_an_address_space_limit_is_free_memory_for_the_plan(smollm2_gguf: Path) -> None:
    # SmolLM2 at 32,768 tokens plans about 1 GB (a 0.75 GB KV cache). With 50 MB of address space
    # left not even its header can be mapped; with 600 MB the header is read and the plan refuses
    # the load, by name and with the figures, before llama.cpp maps anything; with 3 GB it loads.
    for headroom, outcome in (
        (50_000_000, "model_header_out_of_memory"),
        (600_000_000, "model_needs_more_memory"),
        (3_000_000_000, "loaded"),
    ):
        client = HostClient(command=[sys.executable, "-c", _HOST_UNDER_LIMIT, str(headroom)])
        try:
            load = {"path": str(smollm2_gguf), "n_ctx": 32768, "n_threads": TEST_THREADS, "timeout": EVENT_TIMEOUT_S}
            if outcome == "loaded":
                assert client.call("load", **load)["event"] == "loaded"
                continue
            with pytest.raises(ModelLoadError) as caught:
                client.call("load", **load)
            assert caught.value.code == outcome, caught.value
            if outcome == "model_needs_more_memory":
                assert float(caught.value.params["free_gb"]) < 0.6 < float(caught.value.params["need_gb"])
            assert client.alive  # refused, not killed
        finally:
            client.stop()


def test_a_crafted_machine_cache_is_measured_again(tmp_path: Path) -> None:
    cache = tmp_path / "machine.json"
    cache.write_text("[" * 4000 + "]" * 4000, encoding="utf-8")  # json.loads: RecursionError
    assert machine_module._read_cached(cache, "any cpu", 2) is None
