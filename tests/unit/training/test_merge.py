"""The LoRA merge: exact weights, the peft model's logits, several adapters in order, vocabulary checks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from runtime.tokens import merge_sentencepiece, write_merged
from runtime.training.merge import MergeError, merge_lora, read_adapter
from tests.conftest import SHIPPED_TOKENIZERS, data_file
from tests.unit.training.conftest import FinishedRun

PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def _adapter(run: FinishedRun) -> Path:
    (result,) = run.of("result")
    return Path(result["adapter"])


def _module(name: str) -> str:
    return "self_attn" if name in ("q_proj", "k_proj", "v_proj", "o_proj") else "mlp"


def _fake_adapter(folder: Path, *, tokenizer_pad: bool, embedding_rows: int | None = None) -> Path:
    """A LoRA adapter with one adapted projection (and optionally whole embeddings) and a tokenizer."""
    import torch
    from safetensors.torch import save_file

    folder.mkdir(parents=True)
    generator = torch.Generator().manual_seed(3)
    prefix = "base_model.model.model.layers.0.self_attn.q_proj"
    tensors = {
        f"{prefix}.lora_A.weight": torch.randn(4, 64, generator=generator),
        f"{prefix}.lora_B.weight": torch.randn(64, 4, generator=generator),
    }
    if embedding_rows is not None:
        tensors["base_model.model.model.embed_tokens.modules_to_save.weight"] = torch.randn(
            embedding_rows, 64, generator=generator
        )
        tensors["base_model.model.lm_head.modules_to_save.weight"] = torch.randn(
            embedding_rows, 64, generator=generator
        )
    save_file(tensors, str(folder / "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "r": 4, "lora_alpha": 16, "target_modules": ["q_proj"]}
    (folder / "adapter_config.json").write_text(json.dumps(config), encoding="utf-8")
    merged = merge_sentencepiece(
        data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"),
        data_file(SHIPPED_TOKENIZERS / "chinese_sp.model"),
        pad_token="<pad>" if tokenizer_pad else None,
    )
    write_merged(merged, folder)
    return folder


def test_merged_weights_are_w0_plus_scale_b_a(pretrain_run: FinishedRun, tiny_llama: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    adapter = _adapter(pretrain_run)
    result = merge_lora(tiny_llama, [adapter], tmp_path / "merged")
    info = read_adapter(adapter)
    assert info.scale == 8 / 4
    base = load_file(str(tiny_llama / "model.safetensors"))
    lora = load_file(str(adapter / "adapter_model.safetensors"))
    merged = load_file(str(tmp_path / "merged" / "model.safetensors"))
    for layer in range(2):
        for name in PROJECTIONS:
            key = f"model.layers.{layer}.{_module(name)}.{name}.weight"
            a = lora[f"base_model.model.{key.removesuffix('.weight')}.lora_A.weight"]
            b = lora[f"base_model.model.{key.removesuffix('.weight')}.lora_B.weight"]
            expected = base[key] + info.scale * (b @ a)
            assert torch.allclose(merged[key], expected, atol=1e-6), key
            assert not torch.equal(merged[key], base[key]), f"{key} was not trained"
    trained = lora["base_model.model.model.embed_tokens.weight"]
    assert torch.equal(merged["model.embed_tokens.weight"], trained)
    assert torch.equal(merged["lm_head.weight"], lora["base_model.model.lm_head.weight"])
    assert torch.equal(merged["model.norm.weight"], base["model.norm.weight"])
    assert (result.vocab_size, result.merged, result.replaced) == (49_953, 14, 2)
    config = json.loads((tmp_path / "merged" / "config.json").read_text(encoding="utf-8"))
    assert config["vocab_size"] == 49_953
    assert (tmp_path / "merged" / "tokenizer.model").read_bytes() == (adapter / "tokenizer.model").read_bytes()


def test_the_merged_model_gives_the_peft_models_logits(
    pretrain_run: FinishedRun, tiny_llama: Path, tmp_path: Path
) -> None:
    import torch
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = _adapter(pretrain_run)
    merge_lora(tiny_llama, [adapter], tmp_path / "merged")
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    base = AutoModelForCausalLM.from_pretrained(tiny_llama)
    base.resize_token_embeddings(49_953)
    with_adapter = PeftModel.from_pretrained(base, adapter)
    ids = torch.tensor([[1, 29871, 35000, 40000, 500, 49_952]])
    with torch.no_grad():
        expected = with_adapter(ids).logits
        actual = merged(ids).logits
    assert actual.shape == (1, 6, 49_953)
    assert torch.allclose(actual, expected, atol=1e-4), (actual - expected).abs().max()
    # TODO(issue 10): convert the merged folder to GGUF and generate through llama-cpp-python once
    # the converter lands (runtime/models).


def test_several_adapters_merge_in_order_with_the_last_embeddings(
    pretrain_run: FinishedRun, tiny_llama: Path, tmp_path: Path
) -> None:
    import torch
    from safetensors.torch import load_file

    # The Chinese-Alpaca-Plus recipe: LLaMA + a Chinese-LLaMA LoRA (49,953) + an Alpaca LoRA (49,954).
    alpaca = _fake_adapter(tmp_path / "alpaca-lora", tokenizer_pad=True, embedding_rows=49_954)
    result = merge_lora(tiny_llama, [_adapter(pretrain_run), alpaca], tmp_path / "merged")
    assert result.vocab_size == 49_954 and result.tokenizer_from == alpaca
    merged = load_file(str(tmp_path / "merged" / "model.safetensors"))
    first = load_file(str(_adapter(pretrain_run) / "adapter_model.safetensors"))
    second = load_file(str(alpaca / "adapter_model.safetensors"))
    base = load_file(str(tiny_llama / "model.safetensors"))
    key = "model.layers.0.self_attn.q_proj"
    expected = (
        base[f"{key}.weight"]
        + 2.0 * first[f"base_model.model.{key}.lora_B.weight"] @ first[f"base_model.model.{key}.lora_A.weight"]
        + 4.0 * second[f"base_model.model.{key}.lora_B.weight"] @ second[f"base_model.model.{key}.lora_A.weight"]
    )
    assert torch.allclose(merged[f"{key}.weight"], expected, atol=1e-5)
    assert torch.equal(
        merged["model.embed_tokens.weight"], second["base_model.model.model.embed_tokens.modules_to_save.weight"]
    )
    assert json.loads((tmp_path / "merged" / "config.json").read_text(encoding="utf-8"))["vocab_size"] == 49_954


@pytest.mark.parametrize(
    ("base_fixture", "pad", "code", "words"),
    [
        ("tiny_chinese_llama", True, "vocab_llama_alpaca_mismatch", "49,954"),
        ("tiny_llama", False, "vocab_llama_chinese_mismatch", "32,000"),
    ],
)
def test_vocabulary_mismatches_are_explained_and_leave_nothing(
    base_fixture: str, pad: bool, code: str, words: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    base: Path = request.getfixturevalue(base_fixture)
    adapter = _fake_adapter(tmp_path / "lora", tokenizer_pad=pad)
    with pytest.raises(MergeError) as caught:
        merge_lora(base, [adapter], tmp_path / "merged")
    assert caught.value.code == code
    assert words in str(caught.value) and str(adapter) in str(caught.value)
    assert not (tmp_path / "merged").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["lora"]


def test_an_adapter_for_another_model_and_a_taken_output_are_refused(tiny_chinese_llama: Path, tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file, save_file

    adapter = _fake_adapter(tmp_path / "lora", tokenizer_pad=False)
    wrong = load_file(str(adapter / "adapter_model.safetensors"))
    wrong["base_model.model.model.layers.7.self_attn.q_proj.lora_A.weight"] = torch.zeros(4, 64)
    wrong["base_model.model.model.layers.7.self_attn.q_proj.lora_B.weight"] = torch.zeros(64, 4)
    save_file(wrong, str(adapter / "adapter_model.safetensors"))
    with pytest.raises(MergeError, match="layers.7") as caught:
        merge_lora(tiny_chinese_llama, [adapter], tmp_path / "merged")
    assert caught.value.code == "merge_adapter_mismatch"
    assert not (tmp_path / "merged").exists()
    (tmp_path / "taken").mkdir()
    with pytest.raises(MergeError) as taken:
        merge_lora(tiny_chinese_llama, [adapter], tmp_path / "taken")
    assert taken.value.code == "merge_out_exists"
    shutil.rmtree(adapter)
    with pytest.raises(MergeError) as missing:
        merge_lora(tiny_chinese_llama, [adapter], tmp_path / "merged2")
    assert missing.value.code == "merge_file_unreadable"


def test_published_bin_adapters_and_sharded_bases_merge(tiny_llama: Path, tmp_path: Path) -> None:
    """The hfl/chinese-*-lora-* repositories ship adapter_model.bin with the embeddings under their
    plain names; big bases are sharded. Both merge, and the result loads in transformers."""
    import torch
    from safetensors.torch import load_file
    from transformers import AutoModelForCausalLM

    fake = _fake_adapter(tmp_path / "lora", tokenizer_pad=False, embedding_rows=49_953)
    tensors = load_file(str(fake / "adapter_model.safetensors"))
    published = {k.replace(".modules_to_save", ""): v for k, v in tensors.items()}
    (fake / "adapter_model.safetensors").unlink()
    torch.save(published, fake / "adapter_model.bin")
    sharded = tmp_path / "sharded-base"
    AutoModelForCausalLM.from_pretrained(tiny_llama).save_pretrained(sharded, max_shard_size="4MB")
    shutil.copy2(tiny_llama / "tokenizer.model", sharded / "tokenizer.model")
    assert (sharded / "model.safetensors.index.json").is_file()

    result = merge_lora(sharded, [fake], tmp_path / "merged")
    assert result.vocab_size == 49_953 and result.replaced == 2
    index = json.loads((tmp_path / "merged" / "model.safetensors.index.json").read_text(encoding="utf-8"))
    assert len(set(index["weight_map"].values())) > 1
    merged = AutoModelForCausalLM.from_pretrained(tmp_path / "merged")
    assert torch.equal(merged.get_input_embeddings().weight, published["base_model.model.model.embed_tokens.weight"])
    base = AutoModelForCausalLM.from_pretrained(tiny_llama).state_dict()
    key = "model.layers.0.self_attn.q_proj"
    delta = (
        4.0 * published[f"base_model.model.{key}.lora_B.weight"] @ published[f"base_model.model.{key}.lora_A.weight"]
    )
    assert torch.allclose(merged.state_dict()[f"{key}.weight"], base[f"{key}.weight"] + delta, atol=1e-5)
