"""Tiny random LLaMA checkpoint folders, the converter's input, for tests and benchmarks.

:func:`write_llama_checkpoint` writes what the Chinese-LLaMA merge script leaves behind: a Hugging
Face folder (``safetensors`` or ``bin``) or Meta's ``consolidated.NN.pth`` layout, from one seed, so
that the converter's readers can be checked against each other. Its GGUF counterpart, a model file
llama.cpp loads directly, is :mod:`runtime.models.tiny`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

import numpy as np
import sentencepiece

from runtime.models.tiny import RMS_NORM_EPS
from runtime.tokens import read_model_proto

CheckpointLayout = Literal["safetensors", "bin", "pth"]


def _hf_permute(weights: np.ndarray, n_heads: int) -> np.ndarray:
    """Meta's q/k row order -> Hugging Face's (the inverse of the converter's un-permutation)."""
    rows = weights.shape[0]
    return weights.reshape(n_heads, rows // n_heads // 2, 2, *weights.shape[1:]).swapaxes(1, 2).reshape(weights.shape)


def write_llama_checkpoint(
    folder: str | os.PathLike[str],
    *,
    tokenizer: str | os.PathLike[str] | bytes,
    layout: CheckpointLayout = "safetensors",
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int | None = None,
    ffn: int = 128,
    context_length: int = 512,
    std: float = 0.05,
    unigram_text: str | None = None,
    shards: int = 1,
    dtype: Literal["f32", "f16", "bf16"] = "f32",
    seed: int = 0,
) -> Path:
    """Write a random LLaMA checkpoint folder as the Chinese-LLaMA merge script writes one.

    ``safetensors`` and ``bin``: a Hugging Face folder (``config.json`` for ``LlamaForCausalLM``,
    weights, ``tokenizer.model``), which transformers loads; ``bin`` and ``pth`` need torch.
    ``pth``: Meta's layout (``params.json``, ``consolidated.NN.pth`` split model-parallel into
    ``shards`` files, q/k rows in Meta's order). The same ``seed`` gives the same model in every layout.

    Args:
        folder: Created if needed.
        tokenizer: A SentencePiece model file or its bytes (its size is the vocabulary).
        layout: See above.
        hidden, layers, heads, kv_heads, ffn, context_length: The shape.
        std: Standard deviation of the random matrices.
        unigram_text: Make the model predict this text's token frequencies (a unigram model through
            the output matrix), so that perplexity means something and quantization visibly costs.
        shards: Files to split the weights into (``safetensors``: by tensor, with an index; ``pth``:
            model-parallel, along each tensor's split axis).
        dtype: Storage type of the weights.
        seed: Random seed.

    Returns:
        The folder.
    """
    proto = read_model_proto(tokenizer)
    proto_bytes = proto.SerializeToString()
    n_vocab = len(proto.pieces)
    kv_heads = heads if kv_heads is None else kv_heads
    kv_dim = hidden // heads * kv_heads
    rng = np.random.default_rng(seed)

    def matrix(rows: int, cols: int) -> np.ndarray:
        return rng.standard_normal((rows, cols), dtype=np.float32) * np.float32(std)

    embed, output = matrix(n_vocab, hidden), matrix(n_vocab, hidden)
    if unigram_text is not None:
        # Every embedding shares one direction; after the RMS norm the hidden state is about that
        # direction times sqrt(hidden), and the output rows along it carry log-frequencies.
        sp = sentencepiece.SentencePieceProcessor(model_proto=proto_bytes)
        counts = np.bincount(np.asarray(sp.encode(unigram_text), dtype=np.int64), minlength=n_vocab) + 0.1
        logp = np.log(counts / counts.sum()).astype(np.float32)
        # A random direction, so that each output row's entries differ and quantizing them costs
        # precision in proportion to the type's bits (a one-hot direction would quantize exactly).
        direction = rng.standard_normal(hidden).astype(np.float32)
        direction /= np.float32(np.linalg.norm(direction))
        embed = embed * np.float32(0.1) + direction
        output = output * np.float32(0.1) + np.outer(logp, direction) / np.float32(np.sqrt(hidden))
    meta: dict[str, np.ndarray] = {"tok_embeddings.weight": embed, "norm.weight": np.ones(hidden, np.float32)}
    meta["output.weight"] = output
    for i in range(layers):
        meta.update(
            {
                f"layers.{i}.attention.wq.weight": matrix(hidden, hidden),
                f"layers.{i}.attention.wk.weight": matrix(kv_dim, hidden),
                f"layers.{i}.attention.wv.weight": matrix(kv_dim, hidden),
                f"layers.{i}.attention.wo.weight": matrix(hidden, hidden),
                f"layers.{i}.feed_forward.w1.weight": matrix(ffn, hidden),
                f"layers.{i}.feed_forward.w2.weight": matrix(hidden, ffn),
                f"layers.{i}.feed_forward.w3.weight": matrix(ffn, hidden),
                f"layers.{i}.attention_norm.weight": 1 + rng.standard_normal(hidden, dtype=np.float32) * 0.1,
                f"layers.{i}.ffn_norm.weight": 1 + rng.standard_normal(hidden, dtype=np.float32) * 0.1,
            }
        )
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / "tokenizer.model").write_bytes(proto_bytes)
    if layout == "pth":
        _write_pth(target, meta, shards=shards, dtype=dtype, params={
            "dim": hidden, "n_layers": layers, "n_heads": heads, "n_kv_heads": kv_heads,
            "multiple_of": 32, "norm_eps": RMS_NORM_EPS, "vocab_size": n_vocab, "max_seq_len": context_length,
        })  # fmt: skip
        return target
    hf = _hf_names(meta, heads=heads, kv_heads=kv_heads)
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": hidden,
        "intermediate_size": ffn,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "num_key_value_heads": kv_heads,
        "max_position_embeddings": context_length,
        "rms_norm_eps": RMS_NORM_EPS,
        "rope_theta": 10000.0,
        "vocab_size": n_vocab,
        "bos_token_id": proto.trainer_spec.bos_id,
        "eos_token_id": proto.trainer_spec.eos_id,
        "tie_word_embeddings": False,
        "torch_dtype": {"f32": "float32", "f16": "float16", "bf16": "bfloat16"}[dtype],
    }
    (target / "config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    if layout == "safetensors":
        _write_safetensors(target, hf, shards=shards, dtype=dtype)
    else:
        import torch

        torch.save({k: _torch_tensor(v, dtype) for k, v in hf.items()}, target / "pytorch_model.bin")
    return target


def _hf_names(meta: dict[str, np.ndarray], *, heads: int, kv_heads: int) -> dict[str, np.ndarray]:
    renames = {
        "attention.wq": "self_attn.q_proj",
        "attention.wk": "self_attn.k_proj",
        "attention.wv": "self_attn.v_proj",
        "attention.wo": "self_attn.o_proj",
        "feed_forward.w1": "mlp.gate_proj",
        "feed_forward.w2": "mlp.down_proj",
        "feed_forward.w3": "mlp.up_proj",
        "attention_norm": "input_layernorm",
        "ffn_norm": "post_attention_layernorm",
    }
    hf: dict[str, np.ndarray] = {}
    for name, data in meta.items():
        if name == "tok_embeddings.weight":
            hf["model.embed_tokens.weight"] = data
        elif name == "norm.weight":
            hf["model.norm.weight"] = data
        elif name == "output.weight":
            hf["lm_head.weight"] = data
        else:
            _layers, index, rest = name.split(".", 2)
            stem = rest.removesuffix(".weight")
            if stem == "attention.wq":
                data = _hf_permute(data, heads)
            elif stem == "attention.wk":
                data = _hf_permute(data, kv_heads)
            hf[f"model.layers.{index}.{renames[stem]}.weight"] = data
    return hf


def _stored(data: np.ndarray, dtype: str) -> np.ndarray:
    if dtype == "f16":
        return data.astype(np.float16)
    return np.ascontiguousarray(data, dtype=np.float32)


def _write_safetensors(folder: Path, tensors: dict[str, np.ndarray], *, shards: int, dtype: str) -> None:
    from safetensors.numpy import save_file

    if dtype == "bf16":
        import torch
        from safetensors.torch import save_file as save_torch

        names = list(tensors)
        groups = [names[i::shards] for i in range(shards)]
        weight_map = {}
        for index, group in enumerate(groups, start=1):
            file_name = "model.safetensors" if shards == 1 else f"model-{index:05d}-of-{shards:05d}.safetensors"
            save_torch({n: torch.from_numpy(tensors[n]).to(torch.bfloat16) for n in group}, str(folder / file_name))
            weight_map.update(dict.fromkeys(group, file_name))
    else:
        names = list(tensors)
        groups = [names[i::shards] for i in range(shards)]
        weight_map = {}
        for index, group in enumerate(groups, start=1):
            file_name = "model.safetensors" if shards == 1 else f"model-{index:05d}-of-{shards:05d}.safetensors"
            save_file({n: _stored(tensors[n], dtype) for n in group}, str(folder / file_name))
            weight_map.update(dict.fromkeys(group, file_name))
    if shards > 1:
        index_json = {"metadata": {}, "weight_map": weight_map}
        (folder / "model.safetensors.index.json").write_text(json.dumps(index_json), encoding="utf-8")


def _torch_tensor(data: np.ndarray, dtype: str) -> Any:
    import torch

    tensor = torch.from_numpy(np.ascontiguousarray(data, dtype=np.float32))
    return tensor.to({"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16}[dtype]).clone()


# Meta's model-parallel split axes (fairscale's column/row-parallel layers).
_PTH_AXES = {"tok_embeddings": 1, "output": 0, "wq": 0, "wk": 0, "wv": 0, "wo": 1, "w1": 0, "w2": 1, "w3": 0}


def _write_pth(folder: Path, meta: dict[str, np.ndarray], *, shards: int, dtype: str, params: dict[str, Any]) -> None:
    import torch

    (folder / "params.json").write_text(json.dumps(params), encoding="utf-8")
    for index in range(shards):
        part: dict[str, Any] = {}
        for name, data in meta.items():
            key = name.removesuffix(".weight").rsplit(".", 1)[-1]
            if data.ndim == 1 or shards == 1:
                part[name] = _torch_tensor(data, dtype)
            else:
                axis = _PTH_AXES[key]
                part[name] = _torch_tensor(np.array_split(data, shards, axis=axis)[index], dtype)
        part["rope.freqs"] = torch.zeros(params["dim"] // params["n_heads"] // 2)
        torch.save(part, folder / f"consolidated.{index:02d}.pth")
