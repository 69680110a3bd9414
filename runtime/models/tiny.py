"""Tiny LLaMA-architecture GGUF models for tests, benchmarks and the self-test.

Real Chinese-Alpaca weights are gigabytes, so everything that only needs *a* model with the right
vocabulary builds one here with the ``gguf`` package: the LLaMA architecture, a real SentencePiece
vocabulary (usually the 49,953-piece Chinese-LLaMA one from :mod:`runtime.tokens`) and either

* ``"random"`` weights: small normal noise; llama.cpp loads and runs it and it produces gibberish at
  realistic speed (benchmarks), or
* ``"scripted"`` weights: a deterministic bigram model that answers with a chosen text (see
  :func:`script_for_answer`), so an end-to-end test can check exact output through llama.cpp.

How the scripted model works: ``attn_output`` and ``ffn_down`` are all zero, so neither attention
nor the feed-forward block ever changes the residual stream, and the hidden state that reaches the
output head at each position is exactly the current token's embedding. Each scripted token ``t``
owns one embedding dimension (a one-hot row); every other token embeds to zero. The output matrix
maps dimension ``slot(t)`` to ``transitions[t]`` with weight :data:`SCRIPT_WEIGHT`, which after the
RMS norm (a one-hot vector normalizes to ``sqrt(hidden)``) is a logit of about 160 against 0 for
every other token: no temperature, top-k/top-p or repetition penalty a chat app uses can change the
choice.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import gguf
import numpy as np
import sentencepiece
from sentencepiece import sentencepiece_model_pb2 as sp_pb2

from runtime.tokens import ModelProto, merge_sentencepiece, read_model_proto

WeightsKind = Literal["random", "scripted"]
DType = Literal["f32", "f16", "q8_0"]

#: Weight from a scripted token's embedding slot to its successor's logit (see module docstring).
SCRIPT_WEIGHT = 20.0
#: Standard deviation of random weights: the usual initialization scale for LLaMA-sized models.
RANDOM_STD = 0.02
RMS_NORM_EPS = 1e-5

#: Shape of the benchmark model (about 160M parameters with the 49,953-piece vocabulary).
BENCH_SHAPE = {"hidden": 768, "layers": 12, "heads": 12, "ffn": 2048, "context_length": 2048}
#: Bumped whenever :func:`build_bench_model` would write a different file for the same inputs.
_BENCH_FORMAT = 1

_SP: Any = sp_pb2.ModelProto.SentencePiece  # type: ignore[attr-defined]  # generated class
# SentencePiece piece types -> GGUF token types. The numbers happen to coincide; the explicit table
# documents the intent and keeps working if either enum ever grows.
_TOKEN_TYPES: dict[int, gguf.TokenType] = {
    _SP.NORMAL: gguf.TokenType.NORMAL,
    _SP.UNKNOWN: gguf.TokenType.UNKNOWN,
    _SP.CONTROL: gguf.TokenType.CONTROL,
    _SP.USER_DEFINED: gguf.TokenType.USER_DEFINED,
    _SP.UNUSED: gguf.TokenType.UNUSED,
    _SP.BYTE: gguf.TokenType.BYTE,
}
_PAD_SPELLINGS = ("<pad>", "[PAD]")

_QTYPES: dict[str, gguf.GGMLQuantizationType] = {
    "f32": gguf.GGMLQuantizationType.F32,
    "f16": gguf.GGMLQuantizationType.F16,
    "q8_0": gguf.GGMLQuantizationType.Q8_0,
}
_FILE_TYPES: dict[str, gguf.LlamaFileType] = {
    "f32": gguf.LlamaFileType.ALL_F32,
    "f16": gguf.LlamaFileType.MOSTLY_F16,
    "q8_0": gguf.LlamaFileType.MOSTLY_Q8_0,
}

SentencePieceSource = str | os.PathLike[str] | bytes | sentencepiece.SentencePieceProcessor


def _tensor_name(kind: gguf.MODEL_TENSOR, block: int | None = None) -> str:
    base = gguf.TENSOR_NAMES[kind]
    return (base.format(bid=block) if block is not None else base) + ".weight"


def _proto_of(source: SentencePieceSource) -> ModelProto:
    if isinstance(source, sentencepiece.SentencePieceProcessor):
        return read_model_proto(source.serialized_model_proto())
    return read_model_proto(source)


def script_for_answer(
    sp_or_model_path: SentencePieceSource,
    *,
    after_token: int,
    answer: str,
    end_token: int = 2,
) -> dict[int, int]:
    """Transitions that make a ``"scripted"`` model answer ``answer`` after ``after_token``.

    The answer is encoded *without* SentencePiece's dummy prefix, so ``"你好"`` starts with the piece
    ``你好``, not ``▁你好``. That is what makes the detokenized answer equal ``answer`` exactly:
    llama.cpp renders a leading ``▁`` of a generated token as a space, and whether that space is
    stripped depends on the caller (llama-cpp-python strips it only after a BOS token). Spaces inside
    the answer still become ``▁`` prefixes of the following pieces, as in normal generation.

    Args:
        sp_or_model_path: The model's vocabulary: a SentencePiece processor, model file, or
            serialized ``ModelProto``.
        after_token: The token that triggers the answer (the last token of the prompt).
        answer: The text the model should produce.
        end_token: The token that ends the answer (``</s>``, id 2, in LLaMA vocabularies).

    Returns:
        ``{after_token: a1, a1: a2, ..., an: end_token}`` for :func:`write_llama_gguf`.

    Raises:
        ValueError: The answer is empty, or a bigram model cannot produce it: a piece repeats, or a
            piece is ``after_token`` or ``end_token`` (the chain would loop or end early).
        runtime.tokens.TokenizerError: The vocabulary is not a SentencePiece model.
    """
    proto = _proto_of(sp_or_model_path)
    proto.normalizer_spec.add_dummy_prefix = False
    sp = sentencepiece.SentencePieceProcessor(model_proto=proto.SerializeToString())
    ids = sp.encode(answer)
    if not ids:
        raise ValueError("the scripted answer is empty")
    seen: set[int] = set()
    for token in ids:
        piece = sp.id_to_piece(token)
        if token in seen:
            raise ValueError(
                f"the answer {answer!r} uses the piece {piece!r} (id {token}) twice; a bigram model "
                "can only produce answers whose pieces are all distinct"
            )
        if token in (after_token, end_token):
            which = "after_token" if token == after_token else "end_token"
            raise ValueError(f"the answer {answer!r} contains the piece {piece!r}, which is its {which}")
        seen.add(token)
    chain = [after_token, *ids, end_token]
    return dict(zip(chain[:-1], chain[1:], strict=True))


def _check_shape(
    *, hidden: int, layers: int, heads: int, kv_heads: int, ffn: int, context_length: int, dtype: str
) -> None:
    if min(hidden, layers, heads, kv_heads, ffn, context_length) <= 0:
        raise ValueError("every model dimension must be positive")
    if hidden % heads:
        raise ValueError(f"hidden ({hidden}) must be a multiple of heads ({heads})")
    if (hidden // heads) % 2:
        raise ValueError(f"the head dimension hidden/heads ({hidden // heads}) must be even for RoPE")
    if heads % kv_heads:
        raise ValueError(f"heads ({heads}) must be a multiple of kv_heads ({kv_heads})")
    if dtype not in _QTYPES:
        raise ValueError(f"dtype must be one of {sorted(_QTYPES)}, not {dtype!r}")
    if dtype == "q8_0":
        block = gguf.GGML_QUANT_SIZES[gguf.GGMLQuantizationType.Q8_0][0]
        # Q8_0 quantizes each matrix row in blocks of 32; rows are `hidden` or `ffn` long.
        if hidden % block or ffn % block:
            raise ValueError(f"q8_0 needs hidden ({hidden}) and ffn ({ffn}) to be multiples of {block}")


def _weights(
    *,
    kind: str,
    n_vocab: int,
    hidden: int,
    layers: int,
    kv_dim: int,
    ffn: int,
    transitions: Mapping[int, int] | None,
    seed: int,
) -> list[tuple[str, np.ndarray]]:
    """Every LLaMA tensor (f32, numpy's row-major shape = GGUF's shape reversed), in file order."""
    T = gguf.MODEL_TENSOR  # noqa: N806 (an alias of a constant namespace)
    rng = np.random.default_rng(seed)

    def matrix(rows: int, cols: int) -> np.ndarray:
        if kind == "scripted":
            return np.zeros((rows, cols), dtype=np.float32)
        return rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(RANDOM_STD)

    def ones() -> np.ndarray:
        return np.ones(hidden, dtype=np.float32)

    embed = matrix(n_vocab, hidden)
    output = matrix(n_vocab, hidden)
    if kind == "scripted":
        assert transitions is not None
        for slot, (token, successor) in enumerate(transitions.items()):
            embed[token, slot] = 1.0
            output[successor, slot] = SCRIPT_WEIGHT

    tensors = [(_tensor_name(T.TOKEN_EMBD), embed), (_tensor_name(T.OUTPUT_NORM), ones())]
    tensors.append((_tensor_name(T.OUTPUT), output))
    for block in range(layers):
        # In a scripted model these two are what keep the residual stream equal to the embedding.
        attn_out = matrix(hidden, hidden)
        ffn_down = matrix(hidden, ffn)
        tensors += [
            (_tensor_name(T.ATTN_NORM, block), ones()),
            (_tensor_name(T.ATTN_Q, block), matrix(hidden, hidden)),
            (_tensor_name(T.ATTN_K, block), matrix(kv_dim, hidden)),
            (_tensor_name(T.ATTN_V, block), matrix(kv_dim, hidden)),
            (_tensor_name(T.ATTN_OUT, block), attn_out),
            (_tensor_name(T.FFN_NORM, block), ones()),
            (_tensor_name(T.FFN_GATE, block), matrix(ffn, hidden)),
            (_tensor_name(T.FFN_DOWN, block), ffn_down),
            (_tensor_name(T.FFN_UP, block), matrix(ffn, hidden)),
        ]
    return tensors


def _pad_token_id(proto: ModelProto) -> int | None:
    if proto.trainer_spec.pad_id >= 0:
        return proto.trainer_spec.pad_id
    for index, piece in enumerate(proto.pieces):
        if piece.piece in _PAD_SPELLINGS and piece.type in (_SP.USER_DEFINED, _SP.CONTROL):
            return index
    return None


def write_llama_gguf(
    path: str | os.PathLike[str],
    *,
    tokenizer: str | os.PathLike[str] | bytes,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int | None = None,
    ffn: int = 128,
    context_length: int = 2048,
    name: str = "tiny-llama",
    weights: WeightsKind = "random",
    transitions: Mapping[int, int] | None = None,
    dtype: DType = "f32",
    seed: int = 0,
    chat_template: str | None = None,
    named_chat_templates: Mapping[str, str] | None = None,
) -> Path:
    """Write a LLaMA-architecture GGUF file that llama.cpp loads.

    The vocabulary (tokens, scores, token types, unk/bos/eos and an optional pad id) comes from the
    SentencePiece model; llama.cpp then tokenizes like sentencepiece does. The file is written under
    a temporary name and renamed into place, so ``path`` is never a half-written model.

    Args:
        path: Where to write the ``.gguf`` file (its folder must exist).
        tokenizer: A SentencePiece model file, or serialized ``ModelProto`` bytes.
        hidden: Embedding width.
        layers: Number of transformer blocks.
        heads: Attention heads (``hidden / heads`` is the RoPE dimension).
        kv_heads: Key/value heads for grouped-query attention; defaults to ``heads``.
        ffn: Feed-forward width.
        context_length: Training context length recorded in the metadata.
        name: ``general.name``.
        weights: ``"random"`` (small normal noise, norms one) or ``"scripted"`` (the deterministic
            bigram model driven by ``transitions``; see the module docstring).
        transitions: For ``"scripted"``: next token for each scripted token (at most ``hidden``
            entries; see :func:`script_for_answer`). Not allowed with ``"random"``.
        dtype: Storage of the 2-D matrices: ``"f32"``, ``"f16"`` or ``"q8_0"`` (quantized with
            ``gguf.quants``). Norm vectors always stay f32, as llama.cpp's converter keeps them.
        seed: Seed of the random weights.
        chat_template: A Jinja chat template to store as ``tokenizer.chat_template``.
        named_chat_templates: More templates by name, each stored as
            ``tokenizer.chat_template.NAME`` (``tool_use``, ``rag``) and listed in
            ``tokenizer.chat_templates``, as Hugging Face's converter writes them.

    Returns:
        ``path`` as a Path.

    Raises:
        ValueError: Inconsistent shape, dtype, weights or transitions.
        runtime.tokens.TokenizerError: ``tokenizer`` is not a SentencePiece model.
    """
    kv_heads = heads if kv_heads is None else kv_heads
    _check_shape(
        hidden=hidden,
        layers=layers,
        heads=heads,
        kv_heads=kv_heads,
        ffn=ffn,
        context_length=context_length,
        dtype=dtype,
    )
    proto = read_model_proto(tokenizer)
    n_vocab = len(proto.pieces)
    if weights == "scripted":
        if not transitions:
            raise ValueError("scripted weights need a non-empty transitions mapping")
        if len(transitions) > hidden:
            raise ValueError(f"{len(transitions)} scripted tokens do not fit a hidden size of {hidden}")
        bad = [t for pair in transitions.items() for t in pair if not 0 <= t < n_vocab]
        if bad:
            raise ValueError(f"transition token {bad[0]} is outside the vocabulary (0..{n_vocab - 1})")
    elif weights == "random":
        if transitions is not None:
            raise ValueError("transitions only apply to scripted weights")
    else:
        raise ValueError(f"weights must be 'random' or 'scripted', not {weights!r}")

    spec = proto.trainer_spec
    head_dim = hidden // heads
    qtype = _QTYPES[dtype]
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    writer = gguf.GGUFWriter(tmp, arch=gguf.MODEL_ARCH_NAMES[gguf.MODEL_ARCH.LLAMA])
    try:
        writer.add_name(name)
        writer.add_file_type(_FILE_TYPES[dtype])
        if dtype == "q8_0":
            writer.add_quantization_version(gguf.GGML_QUANT_VERSION)
        writer.add_vocab_size(n_vocab)
        writer.add_context_length(context_length)
        writer.add_embedding_length(hidden)
        writer.add_block_count(layers)
        writer.add_feed_forward_length(ffn)
        writer.add_rope_dimension_count(head_dim)
        writer.add_head_count(heads)
        writer.add_head_count_kv(kv_heads)
        writer.add_layer_norm_rms_eps(RMS_NORM_EPS)

        writer.add_tokenizer_model("llama")
        writer.add_token_list([piece.piece for piece in proto.pieces])
        writer.add_token_scores([piece.score for piece in proto.pieces])
        writer.add_token_types([_TOKEN_TYPES.get(piece.type, gguf.TokenType.NORMAL) for piece in proto.pieces])
        writer.add_unk_token_id(spec.unk_id)
        writer.add_bos_token_id(spec.bos_id)
        writer.add_eos_token_id(spec.eos_id)
        pad_id = _pad_token_id(proto)
        if pad_id is not None:
            writer.add_pad_token_id(pad_id)
        writer.add_add_bos_token(True)
        writer.add_add_eos_token(False)
        # llama.cpp's SPM tokenizer prepends a space only when told to; mirror sentencepiece's own
        # normalizer setting so both tokenize alike.
        writer.add_add_space_prefix(proto.normalizer_spec.add_dummy_prefix)
        if named_chat_templates:
            choices = [{"name": name, "template": text} for name, text in named_chat_templates.items()]
            if chat_template is not None:
                choices.append({"name": "default", "template": chat_template})
            writer.add_chat_template(choices)
        elif chat_template is not None:
            writer.add_chat_template(chat_template)

        for tensor_name, data in _weights(
            kind=weights,
            n_vocab=n_vocab,
            hidden=hidden,
            layers=layers,
            kv_dim=kv_heads * head_dim,
            ffn=ffn,
            transitions=transitions,
            seed=seed,
        ):
            if data.ndim == 1 or qtype == gguf.GGMLQuantizationType.F32:
                writer.add_tensor(tensor_name, data)
            else:
                writer.add_tensor(tensor_name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)

        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()
        os.replace(tmp, target)
    finally:
        writer.close()
        tmp.unlink(missing_ok=True)
    return target


def build_bench_model(
    cache_dir: str | os.PathLike[str],
    llama_tokenizer: str | os.PathLike[str],
    chinese_sp_model: str | os.PathLike[str],
) -> Path:
    """The benchmark model: a random ~160M-parameter LLaMA with the Chinese-LLaMA vocabulary, Q8_0.

    Shape: :data:`BENCH_SHAPE` (hidden 768, 12 layers, 12 heads, FFN 2048, context 2048) with the
    49,953-piece vocabulary merged from the two tokenizers. The file name encodes the shape, the
    vocabulary (size and a digest of the merged tokenizer) and the builder version; an existing file
    of that name is reused, so only the first call pays for the build (several seconds).

    Args:
        cache_dir: Folder for the cached model (created if needed).
        llama_tokenizer: LLaMA's ``tokenizer.model``.
        chinese_sp_model: The paper's Chinese SentencePiece model.

    Returns:
        The path of the GGUF file.
    """
    merged = merge_sentencepiece(llama_tokenizer, chinese_sp_model)
    digest = hashlib.sha256(merged.model_proto_bytes).hexdigest()[:10]
    shape = BENCH_SHAPE
    file_name = (
        f"bench-llama-v{merged.final_size}-h{shape['hidden']}-l{shape['layers']}-a{shape['heads']}"
        f"-f{shape['ffn']}-c{shape['context_length']}-q8_0-{digest}-b{_BENCH_FORMAT}.gguf"
    )
    folder = Path(cache_dir)
    target = folder / file_name
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    return write_llama_gguf(
        target,
        tokenizer=merged.model_proto_bytes,
        name="alpaca-desk-bench-160m",
        weights="random",
        dtype="q8_0",
        hidden=shape["hidden"],
        layers=shape["layers"],
        heads=shape["heads"],
        ffn=shape["ffn"],
        context_length=shape["context_length"],
    )
