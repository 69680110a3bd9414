"""The merge counts a tokenizer as ``len(LlamaTokenizer)`` does: tokenizer.model's pieces plus added_tokens.json.

The authors' SFT scripts (ymcui/Chinese-LLaMA-Alpaca ``run_clm_sft_with_peft.py``) add ``[PAD]`` to
Chinese-LLaMA's 49,953 pieces with ``tokenizer.add_special_tokens`` and save the adapter beside
``tokenizer.model`` (49,953 pieces), ``added_tokens.json`` (``{"[PAD]": 49953}``) and the two
configs, with embeddings and LM head of 49,954 rows (``modules_to_save embed_tokens,lm_head``).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runtime.training.merge import MergeError, merge_lora, plan_vocabulary, read_adapter

PIECES = 49_953
PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
SCRIPTS_TOKENIZER_FILES = ("tokenizer.model", "added_tokens.json", "special_tokens_map.json", "tokenizer_config.json")


def _scripts_tokenizer(folder: Path, chinese_llama_dir: Path) -> None:
    """The tokenizer files ``tokenizer.save_pretrained`` wrote in the scripts (transformers 4.28, slow tokenizer)."""
    shutil.copy2(chinese_llama_dir / "tokenizer.model", folder / "tokenizer.model")
    (folder / "added_tokens.json").write_text(json.dumps({"[PAD]": PIECES}) + "\n", encoding="utf-8")
    special = {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "[PAD]"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special, indent=2) + "\n", encoding="utf-8")
    config = {**special, "tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": False}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def scripts_sft_adapter(
    tmp_path_factory: pytest.TempPathFactory, tiny_chinese_llama: Path, chinese_llama_dir: Path
) -> Path:
    """An SFT adapter on Chinese-LLaMA in the scripts' layout, made with peft (``adapter_model.bin``)."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    folder = tmp_path_factory.mktemp("scripts-sft-lora")
    model = AutoModelForCausalLM.from_pretrained(tiny_chinese_llama, dtype=torch.float32)
    model.resize_token_embeddings(PIECES + 1)  # the scripts: len(tokenizer) after adding [PAD]
    config = LoraConfig(
        r=8,
        lora_alpha=32,
        lora_dropout=0.0,
        target_modules=PROJECTIONS,
        modules_to_save=["embed_tokens", "lm_head"],
        task_type="CAUSAL_LM",
    )
    peft_model = get_peft_model(model, config)
    generator = torch.Generator().manual_seed(5)
    with torch.no_grad():
        for name, parameter in peft_model.named_parameters():
            # lora_B starts at zero and the saved embeddings as copies: make both differ from the base.
            if "lora_B" in name or "modules_to_save" in name:
                parameter.copy_(torch.randn(parameter.shape, generator=generator) * 0.05)
    peft_model.save_pretrained(str(folder), safe_serialization=False)
    _scripts_tokenizer(folder, chinese_llama_dir)
    return folder


def test_the_scripts_layout_is_what_llama_tokenizer_counts(scripts_sft_adapter: Path) -> None:
    from transformers import LlamaTokenizer

    tokenizer = LlamaTokenizer.from_pretrained(str(scripts_sft_adapter))
    assert len(tokenizer) == PIECES + 1
    assert tokenizer.convert_tokens_to_ids("[PAD]") == PIECES
    assert read_adapter(scripts_sft_adapter).tokenizer_size == PIECES + 1


def test_an_adapter_in_the_scripts_layout_merges_and_converts_with_its_pad_token(
    scripts_sft_adapter: Path, tiny_chinese_llama: Path, tmp_path: Path
) -> None:
    import gguf
    import llama_cpp
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    from runtime.models.convert import convert_checkpoint, inspect_checkpoint

    out = tmp_path / "merged"
    result = merge_lora(tiny_chinese_llama, [scripts_sft_adapter], out)
    assert (result.vocab_size, result.tokenizer_from, result.replaced) == (PIECES + 1, scripts_sft_adapter, 2)
    for name in SCRIPTS_TOKENIZER_FILES:
        assert (out / name).read_bytes() == (scripts_sft_adapter / name).read_bytes(), name
    assert json.loads((out / "config.json").read_text(encoding="utf-8"))["vocab_size"] == PIECES + 1

    # The same model as peft's own merge.
    base = AutoModelForCausalLM.from_pretrained(tiny_chinese_llama, dtype=torch.float32)
    base.resize_token_embeddings(PIECES + 1)
    expected_model = PeftModel.from_pretrained(base, scripts_sft_adapter).merge_and_unload()
    merged_model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32)
    ids = torch.tensor([[1, 29871, 35000, 40000, 500, PIECES]])
    with torch.no_grad():
        expected, actual = expected_model(ids).logits, merged_model(ids).logits
    assert actual.shape == (1, 6, PIECES + 1)
    assert torch.allclose(actual, expected, atol=1e-4), (actual - expected).abs().max()

    found = inspect_checkpoint(out)
    assert found.ok, found.problems
    assert (found.tokenizer_size, found.embedding_rows) == (PIECES + 1, PIECES + 1)
    gguf_path = tmp_path / "merged.gguf"
    convert_checkpoint(out, gguf_path)
    reader = gguf.GGUFReader(gguf_path)
    tokens = reader.fields["tokenizer.ggml.tokens"].contents()
    assert (len(tokens), tokens[PIECES]) == (PIECES + 1, "[PAD]")
    assert reader.fields["tokenizer.ggml.padding_token_id"].contents() == PIECES
    assert reader.fields["llama.vocab_size"].contents() == PIECES + 1
    llm = llama_cpp.Llama(str(gguf_path), vocab_only=True, verbose=False)
    try:
        assert llm.n_vocab() == PIECES + 1
    finally:
        llm.close()


def test_a_base_in_the_scripts_layout_counts_its_added_tokens(chinese_llama_dir: Path, tmp_path: Path) -> None:
    """A merged Chinese-Alpaca (49,954 rows, tokenizer.model of 49,953 + [PAD]) is a sound base for another adapter."""
    base = tmp_path / "chinese-alpaca"
    base.mkdir()
    (base / "config.json").write_text(json.dumps({"vocab_size": PIECES + 1}), encoding="utf-8")
    _scripts_tokenizer(base, chinese_llama_dir)
    assert plan_vocabulary(base, [], {}) == (PIECES + 1, base)
    (base / "added_tokens.json").unlink()
    with pytest.raises(MergeError) as caught:
        plan_vocabulary(base, [], {})
    assert caught.value.code == "vocab_llama_alpaca_mismatch"


def _adapter_with_added_tokens(folder: Path, chinese_llama_dir: Path, added: str) -> Path:
    """An adapter folder (configuration, a weights file, the tokenizer) whose added_tokens.json is ``added``."""
    folder.mkdir()
    config = {"peft_type": "LORA", "r": 8, "lora_alpha": 32, "target_modules": ["q_proj"]}
    (folder / "adapter_config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "adapter_model.safetensors").write_bytes(b"")  # never read: the tokenizer is refused first
    _scripts_tokenizer(folder, chinese_llama_dir)
    (folder / "added_tokens.json").write_text(added, encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("added", "size"),
    [
        ("{}", PIECES),
        (json.dumps({"[PAD]": PIECES}), PIECES + 1),
        (json.dumps({"<extra>": PIECES + 1, "[PAD]": PIECES}), PIECES + 2),
    ],
)
def test_added_tokens_after_the_pieces_are_counted(
    added: str, size: int, chinese_llama_dir: Path, tmp_path: Path
) -> None:
    adapter = _adapter_with_added_tokens(tmp_path / "lora", chinese_llama_dir, added)
    assert read_adapter(adapter).tokenizer_size == size


@pytest.mark.parametrize(
    ("added", "token", "token_id", "expected"),
    [
        ({"[PAD]": PIECES + 1}, '"[PAD]"', "49954", "49,953"),  # a hole
        ({"[PAD]": 10**30}, '"[PAD]"', str(10**30), "49,953"),  # far beyond any embedding
        ({"[PAD]": PIECES, "<extra>": PIECES + 2}, '"<extra>"', "49955", "49,954"),
        ({"[PAD]": PIECES, "<twin>": PIECES}, '"<twin>"', "49953", "49,954"),  # two tokens, one id
        ({"<s>": 1}, '"<s>"', "1", "49,953"),  # an id inside the pieces
        ({"[PAD]": -1}, '"[PAD]"', "-1", "49,953"),
        ({"[PAD]": "49953"}, '"[PAD]"', '"49953"', "49,953"),
        ({"[PAD]": True}, '"[PAD]"', "true", "49,953"),
        ({"[PAD]": [PIECES]}, '"[PAD]"', "list", "49,953"),
        ({"x" * 500: PIECES + 7}, '"' + "x" * 40 + '…"', "49960", "49,953"),  # a long text is cut
    ],
)
def test_added_tokens_that_do_not_follow_the_pieces_are_refused(
    added: dict[str, object],
    token: str,
    token_id: str,
    expected: str,
    chinese_llama_dir: Path,
    tiny_chinese_llama: Path,
    tmp_path: Path,
) -> None:
    adapter = _adapter_with_added_tokens(tmp_path / "lora", chinese_llama_dir, json.dumps(added))
    with pytest.raises(MergeError) as caught:
        merge_lora(tiny_chinese_llama, [adapter], tmp_path / "merged")
    error = caught.value
    assert error.code == "merge_added_tokens_bad"
    assert error.params["path"] == str(adapter / "added_tokens.json")
    assert (error.params["id"], error.params["expected"], error.params["pieces"]) == (token_id, expected, "49,953")
    assert error.params["token"] == token
    message = str(error)
    assert str(adapter / "added_tokens.json") in message and "49,953 pieces" in message
    assert "tokenizer.model and added_tokens.json" in message and "Nothing was merged" in message
    assert len(message) < 800
    assert not (tmp_path / "merged").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["lora"]


@pytest.mark.parametrize(
    ("added", "reason"),
    [
        (json.dumps([PIECES]), "not a JSON object"),
        ("[" * 100_000 + "]" * 100_000, "nested more than"),
        ('{"[PAD]": ' + " " * (5 * 1024 * 1024) + "49953}", "larger than"),
        ('{"[PAD]": 49953', "not JSON"),
    ],
)
def test_an_added_tokens_file_that_is_not_a_small_json_object_is_refused(
    added: str, reason: str, chinese_llama_dir: Path, tmp_path: Path
) -> None:
    adapter = _adapter_with_added_tokens(tmp_path / "lora", chinese_llama_dir, added)
    with pytest.raises(MergeError) as caught:
        read_adapter(adapter)
    assert caught.value.code == "merge_file_unreadable"
    assert caught.value.params["path"] == str(adapter / "added_tokens.json")
    assert reason in str(caught.value) and "the added tokens" in str(caught.value)
