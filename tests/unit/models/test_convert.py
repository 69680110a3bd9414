"""Converting merged LLaMA checkpoints to GGUF (runtime.models.convert), against transformers and llama.cpp."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import gguf
import llama_cpp
import numpy as np
import pytest
import sentencepiece

from runtime.models.convert import (
    ConversionError,
    check_free_space,
    convert_checkpoint,
    estimate_gguf_bytes,
    inspect_checkpoint,
)
from runtime.models.tiny_checkpoint import write_llama_checkpoint
from runtime.tokens import DEFAULT_PAD_TOKEN, MergeResult, merge_sentencepiece

REPO_ROOT = Path(__file__).resolve().parents[3]
PROMPT = "我们今天去公园散步，天气很好。"
SHAPE = {"hidden": 64, "layers": 2, "heads": 4, "kv_heads": 2, "ffn": 128}


@pytest.fixture(scope="module")
def checkpoints(
    tmp_path_factory: pytest.TempPathFactory, merged_vocab: MergeResult, zh_samples: Path
) -> dict[str, Path]:
    """The same tiny Chinese-LLaMA (49,953 pieces) in the three layouts the merge script writes."""
    root = tmp_path_factory.mktemp("checkpoints")
    text = zh_samples.read_text(encoding="utf-8")
    common = {"tokenizer": merged_vocab.model_proto_bytes, "unigram_text": text, "seed": 7, **SHAPE}
    return {
        "safetensors": write_llama_checkpoint(root / "hf-safetensors", layout="safetensors", shards=2, **common),
        "bin": write_llama_checkpoint(root / "hf-bin", layout="bin", **common),
        "pth": write_llama_checkpoint(root / "meta-pth", layout="pth", shards=2, **common),
    }


@pytest.fixture(scope="module")
def reference_logits(checkpoints: dict[str, Path], merged_sp: sentencepiece.SentencePieceProcessor) -> np.ndarray:
    """transformers' next-token logits for the prompt, at every position."""
    import torch
    from transformers import LlamaForCausalLM

    model = LlamaForCausalLM.from_pretrained(checkpoints["safetensors"], torch_dtype=torch.float32).eval()
    ids = [1, *merged_sp.encode(PROMPT)]
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()


def llama_logits(path: Path) -> tuple[list[int], np.ndarray]:
    # float32 KV cache: llama.cpp's default f16 cache alone would cost more than the tolerance.
    llm = llama_cpp.Llama(str(path), n_ctx=64, logits_all=True, verbose=False, n_threads=1, type_k=0, type_v=0)
    try:
        ids = llm.tokenize(PROMPT.encode("utf-8"), add_bos=True)
        llm.eval(ids)
        return ids, np.array(llm.scores[: len(ids)])
    finally:
        llm.close()


def test_inspection_names_what_the_folder_holds(checkpoints: dict[str, Path]) -> None:
    found = inspect_checkpoint(checkpoints["safetensors"])
    assert found.ok, found.problems
    assert (found.layout, found.architecture) == ("safetensors", "LlamaForCausalLM")
    assert (found.n_layers, found.hidden, found.n_heads, found.n_kv_heads, found.ffn) == (2, 64, 4, 2, 128)
    assert found.embedding_rows == found.tokenizer_size == 49_953
    assert found.vocab_label == "Chinese-LLaMA"
    assert found.dtype == "F32" and found.template == "raw"
    assert found.n_params == 2 * 49_953 * 64 + 64 + 2 * (64 * 64 * 2 + 32 * 64 * 2 + 3 * 64 * 128 + 2 * 64)
    pth = inspect_checkpoint(checkpoints["pth"])
    assert pth.ok, pth.problems
    assert (pth.layout, pth.n_params, pth.ffn, pth.embedding_rows) == ("pth", found.n_params, 128, 49_953)


LOGIT_CASES = [("safetensors", "f32", 1e-3), ("bin", "f32", 1e-3), ("pth", "f32", 1e-3), ("safetensors", "f16", 1e-2)]


@pytest.mark.parametrize(("layout", "outtype", "tolerance"), LOGIT_CASES)
def test_converted_logits_match_transformers(
    checkpoints: dict[str, Path],
    reference_logits: np.ndarray,
    merged_sp: sentencepiece.SentencePieceProcessor,
    tmp_path: Path,
    layout: str,
    outtype: str,
    tolerance: float,
) -> None:
    out = tmp_path / f"model-{outtype}.gguf"
    result = convert_checkpoint(checkpoints[layout], out, outtype=outtype)
    assert result["path"] == str(out) and out.stat().st_size == result["bytes"]
    ids, logits = llama_logits(out)
    assert ids == [1, *merged_sp.encode(PROMPT)]  # llama.cpp's tokenizer is sentencepiece's
    assert np.abs(logits - reference_logits).max() < tolerance
    # The model predicts something: without the q/k un-permutation the attention would differ.
    assert np.abs(reference_logits).max() > 1.0
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_missing_qk_unpermutation_would_be_caught(
    checkpoints: dict[str, Path], reference_logits: np.ndarray, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The logits test is sharp enough to see a converter that forgets the q/k rows' order."""
    from runtime.models import convert

    monkeypatch.setattr(convert, "unpermute_hf_qk", lambda weights, _heads: weights)
    out = tmp_path / "wrong.gguf"
    convert_checkpoint(checkpoints["safetensors"], out, outtype="f32")
    _ids, logits = llama_logits(out)
    assert np.abs(logits - reference_logits).max() > 1e-3


def test_gguf_metadata_and_vocabulary(checkpoints: dict[str, Path], merged_vocab: MergeResult, tmp_path: Path) -> None:
    out = tmp_path / "alpaca.gguf"
    convert_checkpoint(
        checkpoints["safetensors"], out, outtype="f16", name="chinese-alpaca-tiny", template="chinese-alpaca"
    )
    reader = gguf.GGUFReader(out)

    def value(key: str) -> object:
        return reader.fields[key].contents()

    assert value("general.architecture") == "llama" and value("general.name") == "chinese-alpaca-tiny"
    assert value("llama.attention.head_count_kv") == 2 and value("llama.context_length") == 512
    assert value("llama.attention.layer_norm_rms_epsilon") == pytest.approx(1e-5)
    tokens = value("tokenizer.ggml.tokens")
    assert isinstance(tokens, list) and len(tokens) == 49_953
    types = value("tokenizer.ggml.token_type")
    assert isinstance(types, list)
    assert types[0] == gguf.TokenType.UNKNOWN and types[1] == gguf.TokenType.CONTROL
    assert types[3] == gguf.TokenType.BYTE and tokens[3] == "<0x00>"
    assert (value("tokenizer.ggml.bos_token_id"), value("tokenizer.ggml.eos_token_id")) == (1, 2)
    assert "### Instruction:" in str(value("tokenizer.chat_template"))
    by_name = {t.name: t for t in reader.tensors}
    assert by_name["blk.0.attn_norm.weight"].tensor_type == gguf.GGMLQuantizationType.F32
    assert by_name["blk.0.attn_q.weight"].tensor_type == gguf.GGMLQuantizationType.F16
    estimate = estimate_gguf_bytes(inspect_checkpoint(checkpoints["safetensors"]), "f16")
    assert abs(estimate - out.stat().st_size) / out.stat().st_size < 0.05


def test_alpaca_pad_token_from_added_tokens(
    checkpoints: dict[str, Path], llama_tokenizer: Path, chinese_sp_model: Path, tmp_path: Path
) -> None:
    """Chinese-Alpaca: 49,953 pieces in tokenizer.model plus the pad token of added_tokens.json."""
    # The embedding has the pad row (49,954 rows); tokenizer.model has 49,953 pieces.
    padded = merge_sentencepiece(llama_tokenizer, chinese_sp_model, pad_token=DEFAULT_PAD_TOKEN)
    folder = write_llama_checkpoint(tmp_path / "chinese-alpaca", tokenizer=padded.model_proto_bytes, **SHAPE)
    assert inspect_checkpoint(folder).ok
    shutil.copy(checkpoints["safetensors"] / "tokenizer.model", folder / "tokenizer.model")
    (folder / "added_tokens.json").write_text(json.dumps({"[PAD]": 49_953}), encoding="utf-8")
    found = inspect_checkpoint(folder)
    assert found.ok, found.problems
    assert (found.tokenizer_size, found.vocab_label, found.template) == (49_954, "Chinese-Alpaca", "chinese-alpaca")
    out = tmp_path / "alpaca.gguf"
    convert_checkpoint(folder, out)
    reader = gguf.GGUFReader(out)
    assert reader.fields["tokenizer.ggml.padding_token_id"].contents() == 49_953
    assert reader.fields["tokenizer.ggml.tokens"].contents()[-1] == "[PAD]"


# -- bad input: a clear message, and nothing written -------------------------------------------


def refused(folder: Path, out: Path) -> ConversionError:
    with pytest.raises(ConversionError) as caught:
        convert_checkpoint(folder, out)
    assert not out.exists()
    assert [p for p in out.parent.iterdir() if p.name.startswith(".")] == []
    return caught.value


def test_empty_folder(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    error = refused(tmp_path / "empty", tmp_path / "out.gguf")
    assert error.code == "convert_empty_folder" and "no config.json" in str(error)
    assert inspect_checkpoint(tmp_path / "empty").problems[0].code == "convert_empty_folder"


def test_not_llama(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    folder = shutil.copytree(checkpoints["safetensors"], tmp_path / "gpt2")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config.update(architectures=["GPT2LMHeadModel"], model_type="gpt2")
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    error = refused(folder, tmp_path / "out.gguf")
    assert error.code == "convert_not_llama" and "GPT2LMHeadModel" in str(error)


def test_remote_code_is_refused(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    folder = shutil.copytree(checkpoints["safetensors"], tmp_path / "remote")
    config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    config["auto_map"] = {"AutoModelForCausalLM": "modeling_evil.EvilForCausalLM"}
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    canary = tmp_path / "canary"
    (folder / "modeling_evil.py").write_text(f"open({str(canary)!r}, 'w').write('ran')\n", encoding="utf-8")
    error = refused(folder, tmp_path / "out.gguf")
    assert error.code == "convert_remote_code" and "never runs code" in str(error)
    assert not canary.exists()


def test_tokenizer_that_does_not_fit_the_embeddings(
    checkpoints: dict[str, Path], llama_tokenizer: Path, tmp_path: Path
) -> None:
    folder = shutil.copytree(checkpoints["safetensors"], tmp_path / "mismatch")
    shutil.copy(llama_tokenizer, folder / "tokenizer.model")  # LLaMA's 32,000 pieces, 49,953 rows
    found = inspect_checkpoint(folder)
    assert [p.code for p in found.problems] == ["convert_vocab_mismatch"]
    assert found.problems[0].params == {"tokenizer": "32,000", "rows": "49,953"}
    error = refused(folder, tmp_path / "out.gguf")
    assert "32,000" in str(error) and "49,953" in str(error)


def test_missing_tokenizer_and_missing_shard(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    folder = shutil.copytree(checkpoints["safetensors"], tmp_path / "incomplete")
    (folder / "tokenizer.model").unlink()
    assert refused(folder, tmp_path / "out.gguf").code == "convert_no_tokenizer"
    shutil.copy(checkpoints["safetensors"] / "tokenizer.model", folder / "tokenizer.model")
    (folder / "model-00002-of-00002.safetensors").unlink()
    error = refused(folder, tmp_path / "out.gguf")
    assert error.code == "convert_shard_missing" and "model-00002-of-00002.safetensors" in str(error)


def test_truncated_safetensors_shard(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    folder = shutil.copytree(checkpoints["safetensors"], tmp_path / "truncated")
    shard = folder / "model-00001-of-00002.safetensors"
    with shard.open("r+b") as handle:
        handle.truncate(shard.stat().st_size // 2)
    error = refused(folder, tmp_path / "out.gguf")
    assert error.code == "convert_shard_truncated" and shard.name in str(error)


def test_pickle_that_would_run_code(checkpoints: dict[str, Path], tmp_path: Path) -> None:
    import pickle
    import zipfile

    folder = shutil.copytree(checkpoints["bin"], tmp_path / "evil")
    canary = tmp_path / "canary"

    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (os.system, (f"touch {canary}",))

    # A torch zip archive whose data.pkl calls os.system when unpickled by an unrestricted loader.
    with zipfile.ZipFile(folder / "pytorch_model.bin", "w") as archive:
        archive.writestr("archive/data.pkl", pickle.dumps({"model.embed_tokens.weight": Evil()}, protocol=2))
        archive.writestr("archive/version", "3\n")
        archive.writestr("archive/byteorder", "little")
    error = refused(folder, tmp_path / "out.gguf")
    assert error.code == "convert_unsafe_pickle" and "never does" in str(error)
    assert not canary.exists()
    # And an unrestricted loader would have run it: the test's pickle is really hostile.
    pickle.loads(pickle.dumps(Evil()))
    assert canary.exists()


def test_not_enough_disk_space(checkpoints: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALPACA_DESK_FAKE_FREE_BYTES", str(1024 * 1024))
    error = refused(checkpoints["safetensors"], tmp_path / "out.gguf")
    assert error.code == "convert_no_space" and "nothing was written" in str(error)
    with pytest.raises(ConversionError):
        check_free_space(tmp_path, 2 * 1024 * 1024)


# -- hostile configs and headers, through ``alpaca-desk convert`` (issue #20, item 7) ------------------


@pytest.fixture(scope="module")
def small_checkpoint(tmp_path_factory: pytest.TempPathFactory, llama_tokenizer: Path) -> Path:
    """A tiny LLaMA (hidden 64, 2 layers) with LLaMA's tokenizer, in one safetensors file."""
    folder = tmp_path_factory.mktemp("hostile") / "model"
    return write_llama_checkpoint(folder, tokenizer=llama_tokenizer, seed=3, **SHAPE)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _cli_convert(folder: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", "convert", str(folder), "--out", str(out)],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=300,
    )


def _refused_by_cli(folder: Path, tmp_path: Path) -> str:
    """The command's one-line refusal; nothing written, the folder unchanged, no traceback."""
    before = _snapshot(folder)
    out = tmp_path / "out.gguf"
    proc = _cli_convert(folder, out)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and proc.stderr.startswith("error: "), proc.stderr
    assert not out.exists() and [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert _snapshot(folder) == before
    return proc.stderr


def _with_config(small_checkpoint: Path, tmp_path: Path, text: str) -> Path:
    folder = shutil.copytree(small_checkpoint, tmp_path / "model")
    (folder / "config.json").write_text(text, encoding="utf-8")
    return folder


def _config_text(small_checkpoint: Path, key: str, raw_value: str) -> str:
    """config.json with ``key`` set to ``raw_value``, written as JSON text (1e999, NaN: what Python's json reads)."""
    config = json.loads((small_checkpoint / "config.json").read_text(encoding="utf-8"))
    config[key] = "__VALUE__"
    return json.dumps(config).replace('"__VALUE__"', raw_value)


def test_a_billion_layers_in_the_config_is_refused_at_once(small_checkpoint: Path, tmp_path: Path) -> None:
    folder = _with_config(small_checkpoint, tmp_path, _config_text(small_checkpoint, "num_hidden_layers", "1e9"))
    found = inspect_checkpoint(folder)
    assert [p.code for p in found.problems] == ["convert_config_mismatch"]
    message = _refused_by_cli(folder, tmp_path)
    assert "num_hidden_layers is 1,000,000,000" in message and "2 layers" in message
    assert str(folder / "config.json") in message


@pytest.mark.parametrize("raw", ["1e999", "NaN", '"two"', "-64", "64.5", "[64]"])
def test_a_hidden_size_that_is_not_a_number_gets_the_apps_message(
    small_checkpoint: Path, tmp_path: Path, raw: str
) -> None:
    folder = _with_config(small_checkpoint, tmp_path, _config_text(small_checkpoint, "hidden_size", raw))
    assert [p.code for p in inspect_checkpoint(folder).problems] == ["convert_bad_number"]
    message = _refused_by_cli(folder, tmp_path)
    assert "hidden_size is" in message and "not a whole number" in message and "restore config.json" in message
    assert "cannot convert" not in message and "float" not in message


@pytest.mark.parametrize(
    ("key", "raw"),
    [("hidden_size", "128"), ("num_key_value_heads", "4"), ("intermediate_size", "96"), ("num_hidden_layers", "3")],
)
def test_a_config_that_does_not_describe_the_weights_is_refused(
    small_checkpoint: Path, tmp_path: Path, key: str, raw: str
) -> None:
    """Before, hidden_size 128 over 64-wide tensors was written into a GGUF llama.cpp cannot load."""
    folder = _with_config(small_checkpoint, tmp_path, _config_text(small_checkpoint, key, raw))
    assert [p.code for p in inspect_checkpoint(folder).problems] == ["convert_config_mismatch"]
    message = _refused_by_cli(folder, tmp_path)
    assert f"{key} is" in message and "does not describe these weights" in message


def test_overlapping_tensors_in_a_safetensors_header_are_refused(small_checkpoint: Path, tmp_path: Path) -> None:
    folder = shutil.copytree(small_checkpoint, tmp_path / "model")
    [shard] = folder.glob("*.safetensors")
    raw = shard.read_bytes()
    length = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + length])
    first, second = "model.layers.0.input_layernorm.weight", "model.layers.1.input_layernorm.weight"
    header[second]["data_offsets"] = header[first]["data_offsets"]  # same size, same bytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    assert len(text) <= length
    shard.write_bytes(raw[:8] + text.ljust(length, b" ") + raw[8 + length :])
    assert [p.code for p in inspect_checkpoint(folder).problems] == ["convert_shard_overlap"]
    message = _refused_by_cli(folder, tmp_path)
    assert shard.name in message and "same bytes" in message
