"""Tiny repositories shaped like the published ``hfl/chinese-*-lora-*`` ones, made with peft.

Each holds what the real ones hold: ``adapter_config.json``, ``adapter_model.bin`` (LoRA on the
seven projections, and the resized embeddings and LM head as ``modules_to_save``), and the extended
tokenizer (``tokenizer.model`` with its config files). The Plus recipe is a chain: the Chinese-LLaMA
adapter extends LLaMA's 32,000 pieces to 49,953, the Chinese-Alpaca one is trained on top of that
merge and extends it to 49,954 (the pad token).

torch stays out of the GUI tests' process (see tests/unit/training/helpers.py): they call
:func:`build_chain` in a child Python, ``python -m tests.lora_repos FOLDER``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from runtime.tokens import merge_sentencepiece, write_merged
from tests.conftest import SHIPPED_TOKENIZERS, data_file

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
TOKENIZER_FILES = ("tokenizer.model", "tokenizer_config.json", "special_tokens_map.json")


def write_tokenizer(folder: Path, *, pad: bool) -> Path:
    """Chinese-LLaMA's 49,953-piece tokenizer (Chinese-Alpaca's 49,954 with ``pad``), from the shipped models."""
    merged = merge_sentencepiece(
        data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"),
        data_file(SHIPPED_TOKENIZERS / "chinese_sp.model"),
        pad_token="<pad>" if pad else None,
    )
    folder.mkdir(parents=True, exist_ok=True)
    write_merged(merged, folder)
    return folder


def _tokenizer_size(folder: Path) -> int:
    from runtime.tokens import read_model_proto

    return len(read_model_proto(folder / "tokenizer.model").pieces)


def peft_merged(base: Path, adapters: list[Path]) -> Any:
    """peft's own merge (``merge_and_unload``) of ``adapters`` in order into ``base``: the reference."""
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    for adapter in adapters:
        model.resize_token_embeddings(_tokenizer_size(adapter))
        model = PeftModel.from_pretrained(model, adapter).merge_and_unload()
    return model


def write_adapter(folder: Path, base: Path, tokenizer: Path, *, after: list[Path], seed: int) -> Path:
    """A LoRA adapter trained (here: random) on ``base`` merged with ``after``, its vocabulary resized
    to ``tokenizer``, saved as the published repositories are (peft's ``.bin``)."""
    import torch
    from peft import LoraConfig, get_peft_model

    model = peft_merged(base, after)
    model.resize_token_embeddings(_tokenizer_size(tokenizer))
    config = LoraConfig(
        r=4, lora_alpha=8, lora_dropout=0.0, target_modules=PROJECTIONS, modules_to_save=["embed_tokens", "lm_head"]
    )
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            # lora_B starts at zero and the saved embeddings as copies: make both differ from the base.
            if "lora_B" in name or "modules_to_save" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    peft_model.save_pretrained(str(folder), safe_serialization=False)
    for name in TOKENIZER_FILES:
        if (tokenizer / name).is_file():
            shutil.copy2(tokenizer / name, folder / name)
    return folder


def build_chain(folder: Path) -> dict[str, str]:
    """A tiny LLaMA (32,000 pieces), a Chinese-LLaMA-Plus-like adapter and a Chinese-Alpaca-Plus-like
    adapter on top of it, and a tiny LLaMA with the 49,953-piece vocabulary, under ``folder``;
    returns their paths by role."""
    from runtime.training.tiny import write_tiny_llama

    base = write_tiny_llama(folder / "llama", data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"), seed=1)
    llama_tokenizer = write_tokenizer(folder / "tokenizer-49953", pad=False)
    alpaca_tokenizer = write_tokenizer(folder / "tokenizer-49954", pad=True)
    llama_plus = write_adapter(folder / "llama-plus", base, llama_tokenizer, after=[], seed=11)
    alpaca_plus = write_adapter(folder / "alpaca-plus", base, alpaca_tokenizer, after=[llama_plus], seed=12)
    # A model that has the Chinese vocabulary already: the wrong base for these adapters.
    chinese_llama = write_tiny_llama(folder / "chinese-llama", llama_tokenizer, seed=2)
    return {
        "base": str(base),
        "llama_plus": str(llama_plus),
        "alpaca_plus": str(alpaca_plus),
        "chinese_llama": str(chinese_llama),
    }


def build_chain_in_child(folder: Path) -> dict[str, str]:
    """:func:`build_chain` in a child Python (torch stays out of this process)."""
    proc = subprocess.run(
        [sys.executable, "-m", "tests.lora_repos", str(folder)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def repo_files(adapter: Path) -> dict[str, bytes]:
    """The files of an adapter folder, as a hub repository serves them."""
    return {p.name: p.read_bytes() for p in sorted(adapter.iterdir()) if p.is_file()}


if __name__ == "__main__":
    sys.stdout.write(json.dumps(build_chain(Path(sys.argv[1]))) + "\n")
