"""Tiny random LLaMA models in Hugging Face format, for tests and benchmarks of the training scripts.

Real Chinese-LLaMA weights are gigabytes; the scripts, the merge and the tab need only *a* LLaMA
with the real vocabulary. :func:`write_tiny_llama` writes one (hidden 64, 2 layers by default) with
random weights and the tokenizer beside it. Needs the ``train`` extra (imported inside).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from runtime.training import data


def write_tiny_llama(
    folder: str | os.PathLike[str],
    tokenizer: str | os.PathLike[str],
    *,
    vocab_size: int | None = None,
    hidden: int = 64,
    layers: int = 2,
    heads: int = 4,
    ffn: int = 128,
    context: int = 512,
    seed: int = 0,
) -> Path:
    """Write a random LLaMA (safetensors) and its tokenizer into ``folder``; returns the folder.

    Args:
        folder: Created if needed.
        tokenizer: A ``tokenizer.model`` or a folder holding one (its HF config files come along).
        vocab_size: Embedding rows (default: the tokenizer's size). Smaller than the tokenizer makes
            a model whose vocabulary the training extends (LLaMA's 32,000 under Chinese-LLaMA's 49,953).
        hidden, layers, heads, ffn, context: The shape.
        seed: The weights' random seed.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    source = data.tokenizer_file(tokenizer)
    processor = data.load_processor(source)
    rows = vocab_size or int(processor.get_piece_size())
    config = LlamaConfig(
        vocab_size=rows,
        hidden_size=hidden,
        intermediate_size=ffn,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=context,
        rms_norm_eps=1e-5,
        bos_token_id=int(processor.bos_id()),
        eos_token_id=int(processor.eos_id()),
        tie_word_embeddings=False,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target), safe_serialization=True)
    shutil.copy2(source, target / "tokenizer.model")
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        sibling = source.parent / name
        if sibling.is_file():
            shutil.copy2(sibling, target / name)
    return target
