"""Memory and speed of a model on this computer, predicted before it is downloaded or loaded.

A plan is built from a model's shape (read from the GGUF header, or guessed from a catalogue
entry's parameter count and quantization) and this machine's figures (:mod:`runtime.models.machine`:
memory, cores, measured memory bandwidth and per-core throughput).

Memory is the inference host's peak resident set: the host's own Python and llama.cpp's
libraries, the weights (llama.cpp maps the file and populates the mapping, so every tensor byte
is resident once loaded), the KV cache (allocated and cleared at load: resident at once, whatever
the conversation's length), llama.cpp's vocabulary tables, and the part of the compute buffers
that a prompt batch touches. Checking the header before the load is a peak of its own (small
since runtime.gguf_header reads it), freed before llama.cpp loads: the plan takes the larger of
the two.

Speed is the decode rate: each token reads every weight (but one row of the token embedding)
and the KV cache up to the current depth, so it is bounded by the memory bandwidth; it is also
bounded by what the decode threads can compute (the per-core throughput times the threads).
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from runtime.errors import ModelLoadError
from runtime.models.info import (
    MAX_BLOCK_COUNT,
    MAX_EMBEDDING_LENGTH,
    MAX_VOCAB_SIZE,
    ModelInfo,
    _Metadata,
    check_model_file,
    model_info_from_header,
    open_header,
)
from runtime.models.machine import Machine

#: Bytes per stored value of each KV cache type: q8_0 keeps 32 values in 34 bytes (32 int8 and an
#: f16 scale), q4_0 in 18 (32 nibbles and a scale).
KV_BYTES_PER_VALUE = {"f16": 2.0, "q8_0": 34 / 32, "q4_0": 18 / 32}
KV_TYPES = tuple(KV_BYTES_PER_VALUE)
#: The host evaluates prompts in batches of this many tokens (runtime.chat.engine.PROMPT_BATCH).
DEFAULT_BATCH = 512

# The constants below were measured on this project's tiny models (runtime.models.tiny: widths
# 64 to 512, 2 to 8 layers, the 49,953 and 55,296 vocabularies, contexts 512 and 4,096) in the
# inference host itself (/proc/PID/status), with llama-cpp-python 0.3.36 on Linux x86-64.
#: The host with Python, the runtime and llama.cpp's libraries imported and a model loaded, less
#: the parts below: 22 MB before llama_cpp is imported, about 50 MB after, and what the load adds
#: beyond the weights, the KV cache and the vocabulary. (59 MB while gguf's reader checked the
#: header: the heap it left behind stayed resident; runtime.gguf_header leaves none. Refitted:
#: the tiny models' eight settings within 0.2%, SmolLM2 5% under.)
HOST_BASELINE_BYTES = 51_000_000
#: The host before llama_cpp is imported, while the header is checked (runtime.gguf_header: the
#: header's pages are read through a mapping, and nothing of its size is built besides).
HOST_BEFORE_LOAD_BYTES = 22_000_000
#: A SentencePiece header's bytes per vocabulary piece (its text's length and a few bytes of text,
#: a score and a type), for files not downloaded yet.
HEADER_BYTES_PER_PIECE = 24
#: llama.cpp's vocabulary tables (the pieces, their scores, the lookup maps): 13 MB for 49,953
#: pieces and 14 MB for 55,296 after the load, whatever the model's width.
VOCAB_BYTES_PER_PIECE = 265
#: What a decode step touches besides the batch's activations: the sampler's candidate array,
#: one row of logits, the graph's bookkeeping.
DECODE_SCRATCH_BYTES = 2_500_000
#: Activations a prompt token keeps alive at once, in f32 values per model width and per
#: feed-forward width: the residual stream, the normalised input, Q, K, V and the attention output
#: (4 x width), the gate, up and their product (3 x feed-forward width). llama.cpp reserves the
#: whole compute buffer at load (for 512 tokens, every logit of each: 98 MiB with 49,953 pieces),
#: but only the pages a batch writes become resident: a 500-token prompt at 4,096 context added
#: 8, 17 and 21 MB to the three tiny models, which this formula and the KQ term below give
#: within 3 MB.
ACTIVATION_VALUES_PER_WIDTH = 4
ACTIVATION_VALUES_PER_FFN = 3
#: The sampler chain's time per vocabulary piece and token (the candidate array, top-k's partial
#: sort), with the host's own work per token: about 0.4 ms per token for 50,000 pieces on one
#: core (fitted with the constants in runtime.models.machine to bench/plan.py's figures on an idle
#: machine: the tiny f32 models, where it is a large share of a token, and the quantized ones).
SAMPLER_SECONDS_PER_PIECE = 8e-9


@dataclass(frozen=True)
class ModelShape:
    """What the plan needs of a model: its sizes, from a GGUF header or a catalogue entry."""

    name: str
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    n_ff: int
    n_vocab: int
    context_length: int
    weight_bytes: int  # every tensor's bytes in the file
    embedding_bytes: int  # the token embedding's share of them (one row read per token)
    tied_output: bool  # no output matrix: the embedding is read whole for every token's logits
    exact: bool  # read from a file (False: guessed from a parameter count)
    header_bytes: int = 0  # the file's header (0: a SentencePiece vocabulary's, guessed)

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    @property
    def n_params(self) -> int:
        """Parameters, counted from the shape (for the compute bound)."""
        kv = self.n_head_kv * self.head_dim
        block = 2 * self.n_embd * self.n_embd + 2 * self.n_embd * kv + 3 * self.n_embd * self.n_ff
        return self.n_layer * block + (1 if self.tied_output else 2) * self.n_vocab * self.n_embd

    @property
    def n_multiplied(self) -> int:
        """Parameters multiplied per token: every one but the input embedding's (a row lookup)."""
        return self.n_params - (0 if self.tied_output else self.n_vocab * self.n_embd)


@dataclass(frozen=True)
class Plan:
    """Predicted peak memory (bytes) and decode speed (tokens/s), with the parts of each."""

    memory_bytes: int
    tokens_per_second: float
    weights_bytes: int
    kv_cache_bytes: int
    compute_bytes: int
    vocab_bytes: int
    baseline_bytes: int
    header_peak_bytes: int
    bytes_per_token: int
    bandwidth_tokens_per_second: float
    compute_tokens_per_second: float
    n_ctx: int
    kv_type: str
    threads: int
    batch: int
    exact: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _kv_check(kv_type: str) -> None:
    if kv_type not in KV_BYTES_PER_VALUE:
        raise ModelLoadError(
            f"The KV cache type {kv_type!r} is not one of {', '.join(KV_TYPES)}.",
            code="kv_type_unknown",
            params={"kv": str(kv_type), "known": ", ".join(KV_TYPES)},
        )


def kv_cache_bytes(shape: ModelShape, n_tokens: int, kv_type: str = "f16") -> int:
    """Bytes of the K and V caches for ``n_tokens`` tokens: layers x tokens x KV heads x head size x 2."""
    _kv_check(kv_type)
    values = shape.n_layer * n_tokens * shape.n_head_kv * shape.head_dim * 2
    return math.ceil(values * KV_BYTES_PER_VALUE[kv_type])


def compute_bytes(shape: ModelShape, *, batch: int, n_ctx: int, flash_attention: bool) -> int:
    """Resident compute buffers while a batch of ``batch`` prompt tokens is evaluated at the end of
    a full context (the worst case; see the constants above for the measurement).

    Without flash attention llama.cpp writes the attention scores of the batch against every
    cached token (f32, per head); with it (a quantized KV cache) it does not keep them.
    """
    per_token = 4 * (ACTIVATION_VALUES_PER_WIDTH * shape.n_embd + ACTIVATION_VALUES_PER_FFN * shape.n_ff)
    scores = 0 if flash_attention else 4 * batch * _padded(n_ctx) * shape.n_head
    return DECODE_SCRATCH_BYTES + batch * per_token + scores + 4 * shape.n_vocab


#: GPU memory taken before any layer: the driver's context (about 300 MB with CUDA) and the GPU
#: backend's own buffers; kept free so that an offload that just fits is not refused by the driver.
GPU_RESERVE_BYTES = 512_000_000


def gpu_layers(shape: ModelShape, *, free_vram: int, n_ctx: int = 2048, kv_type: str = "f16") -> int:
    """Layers to offload (llama.cpp's ``n_gpu_layers``) so that their weights, their share of the KV
    cache and a prompt batch's compute buffer fit in ``free_vram`` bytes of GPU memory.

    0 when not one layer fits (or there is no GPU: ``free_vram`` 0); ``n_layer + 1`` when every
    block and the output matrix fit, which is how llama.cpp is asked to offload everything. Only
    the arithmetic runs on this project's machines (no GPU): tests give the free memory.
    """
    if free_vram <= 0:
        return 0
    n_ctx = _padded(max(1, n_ctx))
    compute = compute_bytes(shape, batch=DEFAULT_BATCH, n_ctx=n_ctx, flash_attention=True)
    budget = free_vram - GPU_RESERVE_BYTES - compute
    # The input embedding stays in CPU memory (its rows are looked up, not multiplied); the output
    # matrix, offloaded last, has its shape (with tied embeddings it is the embedding itself).
    output = shape.embedding_bytes
    blocks = shape.weight_bytes - shape.embedding_bytes - (0 if shape.tied_output else output)
    per_layer = (max(0, blocks) + kv_cache_bytes(shape, n_ctx, kv_type)) / shape.n_layer
    layers = max(0, min(shape.n_layer, int(budget // per_layer))) if per_layer > 0 else 0
    if layers == shape.n_layer and budget - layers * per_layer >= output:
        return shape.n_layer + 1
    return layers


def _padded(n_ctx: int) -> int:
    # llama.cpp allocates the context in multiples of 256 tokens.
    return -(-n_ctx // 256) * 256


def plan(
    shape: ModelShape,
    machine: Machine,
    *,
    n_ctx: int = 2048,
    kv_type: str = "f16",
    threads: int | None = None,
    batch: int = DEFAULT_BATCH,
    depth: int | None = None,
) -> Plan:
    """The plan for ``shape`` on ``machine``.

    Args:
        n_ctx: the context allocated (tokens).
        kv_type: ``f16``, ``q8_0`` or ``q4_0``.
        threads: decode threads (default: the machine's cores).
        batch: prompt tokens evaluated at once (the host's 512 at most; a short prompt touches less).
        depth: tokens already in the context when the speed is asked for (default: half of it,
            an average over a conversation that fills it).
    """
    _kv_check(kv_type)
    n_ctx = _padded(max(1, n_ctx))
    threads = max(1, threads or machine.cores)
    batch = max(1, min(batch, DEFAULT_BATCH, n_ctx))
    kv = kv_cache_bytes(shape, n_ctx, kv_type)
    compute = compute_bytes(shape, batch=batch, n_ctx=n_ctx, flash_attention=kv_type != "f16")
    vocab = VOCAB_BYTES_PER_PIECE * shape.n_vocab
    loaded = HOST_BASELINE_BYTES + shape.weight_bytes + kv + compute + vocab
    header = HOST_BEFORE_LOAD_BYTES + (shape.header_bytes or HEADER_BYTES_PER_PIECE * shape.n_vocab)
    memory = max(loaded, header)

    at = n_ctx // 2 if depth is None else max(0, min(depth, n_ctx))
    embedding_read = shape.embedding_bytes if shape.tied_output else shape.embedding_bytes // max(1, shape.n_vocab)
    read = shape.weight_bytes - shape.embedding_bytes + embedding_read + kv_cache_bytes(shape, at, kv_type)
    by_bandwidth = machine.bandwidth / max(1, read)
    # Each parameter is one multiply-add per token, and attention adds two per cached value.
    work = 2 * shape.n_multiplied + 4 * shape.n_layer * at * shape.n_head_kv * shape.head_dim
    by_compute = machine.core_rate * threads / max(1, work)
    # The sampler then walks every logit on one thread: negligible for a 7B model (2 ms of 200),
    # most of a token's time for the tiny test models.
    speed = 1 / (1 / min(by_bandwidth, by_compute) + SAMPLER_SECONDS_PER_PIECE * shape.n_vocab)
    return Plan(
        memory_bytes=int(memory),
        tokens_per_second=round(speed, 2),
        weights_bytes=shape.weight_bytes,
        kv_cache_bytes=kv,
        compute_bytes=compute,
        vocab_bytes=vocab,
        baseline_bytes=HOST_BASELINE_BYTES,
        header_peak_bytes=header,
        bytes_per_token=int(read),
        bandwidth_tokens_per_second=round(by_bandwidth, 2),
        compute_tokens_per_second=round(by_compute, 2),
        n_ctx=n_ctx,
        kv_type=kv_type,
        threads=threads,
        batch=batch,
        exact=shape.exact,
    )


def read_shape(path: str | os.PathLike[str]) -> ModelShape:
    """A model file's shape, from its header (every value read is checked, as for loading).

    Raises:
        ModelLoadError: the file is not a readable GGUF model, or a field the plan needs is missing
            or out of range (``model_bad_metadata``, naming it).
    """
    file = check_model_file(path)
    return shape_from_header(file, open_header(file))


def read_info_and_shape(path: str | os.PathLike[str]) -> tuple[ModelInfo, ModelShape | None]:
    """A file's :class:`ModelInfo` (every check a load makes) and its shape, from one read of its
    header.

    The shape is None when the header stores it in a way the planner does not read (per-layer
    head counts or widths, as arrays): the load's own checks and llama.cpp judge such a file.

    Raises:
        ModelLoadError: what :func:`runtime.models.read_model_info` raises.
    """
    file = check_model_file(path)
    header = open_header(file)
    info = model_info_from_header(file, header)
    try:
        return info, shape_from_header(file, header)
    except ModelLoadError as exc:
        if exc.code != "model_bad_metadata":
            raise
        return info, None


def shape_from_header(file: Path, header: Any) -> ModelShape:
    """:func:`read_shape` for a file already checked and read (:func:`runtime.models.info.open_header`)."""
    meta = _Metadata(header, file)
    arch = meta.string("general.architecture", max_chars=64) or "llama"
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", arch):
        raise meta.bad("general.architecture", "is not an architecture name")

    def need(key: str, high: int) -> int:
        value = meta.integer(f"{arch}.{key}", low=1, high=high)
        if value is None:
            raise meta.bad(f"{arch}.{key}", "is missing")
        return value

    n_embd = need("embedding_length", MAX_EMBEDDING_LENGTH)
    n_layer = need("block_count", MAX_BLOCK_COUNT)
    n_head = need("attention.head_count", n_embd)
    n_head_kv = meta.integer(f"{arch}.attention.head_count_kv", low=1, high=n_head) or n_head
    n_ff = need("feed_forward_length", 64 * MAX_EMBEDDING_LENGTH)
    context = meta.integer(f"{arch}.context_length", low=1, high=1 << 24) or 0
    n_vocab = meta.string_array_length("tokenizer.ggml.tokens", high=MAX_VOCAB_SIZE) or 0
    weights = embedding = 0
    tied = True
    for tensor in header.tensors:
        size = tensor.n_bytes
        weights += size
        if tensor.name == "token_embd.weight":
            embedding = size
            n_vocab = n_vocab or int(tensor.shape[-1])
        elif tensor.name == "output.weight":
            tied = False
    return ModelShape(
        name=file.name,
        n_layer=n_layer,
        n_embd=n_embd,
        n_head=n_head,
        n_head_kv=n_head_kv,
        n_ff=n_ff,
        n_vocab=n_vocab,
        context_length=context,
        weight_bytes=weights,
        embedding_bytes=embedding,
        tied_output=tied,
        exact=True,
        header_bytes=header.header_bytes,
    )


#: Shapes of the family's sizes (LLaMA-2 7B and 13B; Chinese-LLaMA-2-1.3B: 4 layers of the 7B's
#: width), with the Chinese-LLaMA-2 vocabulary.
FAMILY_SHAPES = {
    "1.3B": {"n_layer": 4, "n_embd": 4096, "n_head": 32, "n_ff": 11008},
    "7B": {"n_layer": 32, "n_embd": 4096, "n_head": 32, "n_ff": 11008},
    "13B": {"n_layer": 40, "n_embd": 5120, "n_head": 40, "n_ff": 13824},
}
#: Bits per weight of the quantizations a catalogue lists (llama.cpp's block layouts; the K-quant
#: files, *_M mixes, average a little above their base type).
BITS_PER_WEIGHT = {
    "Q2_K": 2.63,
    "Q3_K": 3.91,
    "Q4_0": 4.5,
    "Q4_K": 4.85,
    "Q5_0": 5.5,
    "Q5_K": 5.69,
    "Q6_K": 6.56,
    "Q8_0": 8.5,
    "F16": 16.0,
}


def catalogue_shape(
    params: str, quant: str, *, context: int, file_size: int = 0, n_vocab: int = 55_296, name: str = ""
) -> ModelShape:
    """The shape of a file not downloaded yet, from its entry's parameter count (``7B``), the file's
    quantization and size (when the catalogue knows it: the weights are the file, less the header's
    vocabulary) and the trained context. Unknown sizes are treated as 7B."""
    dims = FAMILY_SHAPES.get(params.upper(), FAMILY_SHAPES["7B"])
    shape = ModelShape(
        name=name,
        n_layer=dims["n_layer"],
        n_embd=dims["n_embd"],
        n_head=dims["n_head"],
        n_head_kv=dims["n_head"],
        n_ff=dims["n_ff"],
        n_vocab=n_vocab,
        context_length=context,
        weight_bytes=0,
        embedding_bytes=0,
        tied_output=False,
        exact=False,
    )
    bits = BITS_PER_WEIGHT.get(quant.upper()[:4].rstrip("_"), BITS_PER_WEIGHT.get(quant.upper(), 16.0))
    weights = file_size - 30 * n_vocab if file_size > 30 * n_vocab else int(shape.n_params * bits / 8)
    embedding = int(weights * n_vocab * dims["n_embd"] / shape.n_params)
    return ModelShape(**{**asdict(shape), "weight_bytes": weights, "embedding_bytes": embedding})


def check_fits(shape: ModelShape, *, n_ctx: int, kv_type: str = "f16", released_bytes: int = 0) -> Plan | None:
    """Refuse, before llama.cpp allocates anything, a model and context that do not fit in free memory.

    The kernel's out-of-memory killer would otherwise end the host in the middle of the load (or
    the machine would swap for minutes). ``released_bytes`` is what the caller frees before
    loading (the model it holds now). Free memory comes from the kernel (or
    :data:`runtime.models.machine.AVAILABLE_MEMORY_ENV`); when it is unknown nothing is refused.

    Returns:
        The plan (None when free memory is unknown).

    Raises:
        ModelLoadError: ``model_needs_more_memory``, with the figures.
    """
    from runtime.models.machine import memory_figures

    total, available = memory_figures()
    if available <= 0:
        return None
    machine = Machine("", 1, total, available, 1.0, 1.0)  # speed is not asked here
    result = plan(shape, machine, n_ctx=n_ctx, kv_type=kv_type)
    free = available + max(0, released_bytes)
    if result.memory_bytes > free:
        need_gb, free_gb = f"{result.memory_bytes / 1e9:.2f}", f"{free / 1e9:.2f}"
        raise ModelLoadError(
            f"{shape.name} with a context of {result.n_ctx:,} tokens and an {kv_type} KV cache needs about "
            f"{need_gb} GB of memory (weights {result.weights_bytes / 1e9:.2f} GB, KV cache "
            f"{result.kv_cache_bytes / 1e9:.2f} GB), and {free_gb} GB is free. Choose a smaller context, a q8_0 "
            "or q4_0 KV cache, or a smaller model, or close other programs.",
            code="model_needs_more_memory",
            params={
                "name": shape.name,
                "need_gb": need_gb,
                "free_gb": free_gb,
                "weights_gb": f"{result.weights_bytes / 1e9:.2f}",
                "kv_gb": f"{result.kv_cache_bytes / 1e9:.2f}",
                "n_ctx": result.n_ctx,
                "kv": kv_type,
            },
        )
    return result
