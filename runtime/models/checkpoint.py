"""What a merged LLaMA checkpoint folder holds, and everything that would stop its conversion.

Chinese-LLaMA / Chinese-Alpaca v1 were published as LoRA patches; the merge script writes either a
Hugging Face folder (``config.json`` with ``LlamaForCausalLM``, ``*.safetensors`` or
``pytorch_model*.bin`` shards, ``tokenizer.model``) or Meta's layout (``consolidated.NN.pth``,
``params.json``, ``tokenizer.model``). :func:`inspect_checkpoint` reads the config, the tokenizer
and each shard's tensor list (through :mod:`runtime.models.tensors`), never the weights, checks
every number of the config against the tensors present, and returns a :class:`Checkpoint` whose
``problems`` say what is wrong before any work.

It is apart from the conversion (:mod:`runtime.models.convert`) because it runs on its own: the
``convert-inspect`` job and the convert wizard's first page show its findings and size estimates
long before (or without) any GGUF being written.

Safety: a checkpoint folder is someone else's files. Only ``LlamaForCausalLM`` (and the ``.pth``
layout) is accepted; a ``config.json`` that asks for remote code (``auto_map``) is refused, never
run; every JSON file read is bounded (:data:`MAX_JSON_BYTES`), as are the config's numbers
(:data:`MAX_CONFIG_INT`).
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from runtime.models.tensors import (
    ConversionError,
    TensorEntry,
    _pickle_entries,
    _pth_entries,
    _safetensors_entries,
)
from runtime.untrusted_json import read_json_file

#: The one Hugging Face architecture accepted.
LLAMA_ARCHITECTURE = "LlamaForCausalLM"
#: Vocabulary sizes of the LLaMA family the app knows (LLaMA, Chinese-LLaMA, Chinese-Alpaca, -2).
KNOWN_VOCABS = {32_000: "LLaMA", 49_953: "Chinese-LLaMA", 49_954: "Chinese-Alpaca", 55_296: "Chinese-LLaMA-2/Alpaca-2"}
#: JSON files of a checkpoint (config, index, tokenizer config) larger than this are refused.
MAX_JSON_BYTES = 32 * 1024 * 1024

_SAFE_SHARD_NAME = re.compile(r"^[\w.\-]+$")
_SKIPPED = re.compile(r"(rotary_emb\.inv_freq|rope\.freqs)$")
# The layer number in a tensor's name (Hugging Face "model.layers.3.", Meta "layers.3.").
_LAYER = re.compile(r"(?:^|\.)layers\.(\d+)\.")
#: Largest whole number a config may give (llama.cpp keeps the shape in 32-bit fields).
MAX_CONFIG_INT = 2**31 - 1
# The shape of each tensor a LLaMA checkpoint holds, by the end of its name, in terms of the
# config's numbers: V rows of the vocabulary, H hidden, F the feed-forward width, Q the rows of the
# query heads (heads x head size) and K those of the key/value heads.
_EXPECTED_SHAPES = {
    "embed_tokens.weight": ("V", "H"),
    "tok_embeddings.weight": ("V", "H"),
    "lm_head.weight": ("V", "H"),
    "output.weight": ("V", "H"),
    "norm.weight": ("H",),
    "input_layernorm.weight": ("H",),
    "post_attention_layernorm.weight": ("H",),
    "attention_norm.weight": ("H",),
    "ffn_norm.weight": ("H",),
    "q_proj.weight": ("Q", "H"),
    "attention.wq.weight": ("Q", "H"),
    "k_proj.weight": ("K", "H"),
    "attention.wk.weight": ("K", "H"),
    "v_proj.weight": ("K", "H"),
    "attention.wv.weight": ("K", "H"),
    "o_proj.weight": ("H", "Q"),
    "attention.wo.weight": ("H", "Q"),
    "gate_proj.weight": ("F", "H"),
    "up_proj.weight": ("F", "H"),
    "feed_forward.w1.weight": ("F", "H"),
    "feed_forward.w3.weight": ("F", "H"),
    "down_proj.weight": ("H", "F"),
    "feed_forward.w2.weight": ("H", "F"),
}
# The config's key for each letter (L: the layers), to name it in a message.
_HF_KEYS = {
    "H": "hidden_size",
    "F": "intermediate_size",
    "Q": "num_attention_heads",
    "K": "num_key_value_heads",
    "V": "the token embedding's rows",
    "L": "num_hidden_layers",
}
_PTH_KEYS = {
    "H": "dim",
    "F": "the feed-forward width",
    "Q": "n_heads",
    "K": "n_kv_heads",
    "V": "the token embedding's rows",
    "L": "n_layers",
}


@dataclass(frozen=True)
class Problem:
    """Something that stops the conversion, found before any work (``code``/``params`` translate it)."""

    code: str
    message: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint folder holds (see :func:`inspect_checkpoint`); ``problems`` empty = convertible.

    Attributes:
        folder: The folder inspected.
        layout: ``"safetensors"``, ``"bin"`` (Hugging Face pickles), ``"pth"`` (Meta's layout) or ``""``.
        architecture: ``LlamaForCausalLM`` (or ``llama-pth``), or what the config says instead.
        name: A name for the model (the folder's).
        n_params: Parameters (all tensors' elements).
        n_layers, hidden, n_heads, n_kv_heads, ffn: The shape.
        n_ctx: Training context length.
        rms_eps: RMS-norm epsilon.
        rope_theta: RoPE frequency base.
        embedding_rows: Rows of the token embedding (the model's vocabulary size).
        tokenizer_size: Pieces of ``tokenizer.model`` plus added tokens (0: no tokenizer).
        vocab_label: The known vocabulary of that size ("Chinese-LLaMA", ...) or "".
        dtype: The weights' storage type (``F16``, ``BF16``, ``F32``).
        total_bytes: Size of the weight files.
        vocab_bytes: What the vocabulary takes in a GGUF header (for size estimates).
        template: The chat template the model needs (``chinese-alpaca``, ``chinese-alpaca-2``, ``raw``).
        tensors: Every tensor.
        problems: What stops the conversion.
    """

    folder: str
    layout: str
    architecture: str = ""
    name: str = ""
    n_params: int = 0
    n_layers: int = 0
    hidden: int = 0
    n_heads: int = 0
    n_kv_heads: int = 0
    ffn: int = 0
    n_ctx: int = 2048
    rms_eps: float = 1e-6
    rope_theta: float = 10_000.0
    embedding_rows: int = 0
    tokenizer_size: int = 0
    vocab_label: str = ""
    dtype: str = ""
    total_bytes: int = 0
    vocab_bytes: int = 0
    template: str = "raw"
    tensors: tuple[TensorEntry, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        """Nothing stops the conversion."""
        return not self.problems

    def summary(self) -> dict[str, Any]:
        """Everything but the tensor list, JSON-ready (what the inspect job reports)."""
        data = asdict(self)
        data.pop("tensors")
        data["n_tensors"] = len(self.tensors)
        return data

    def raise_first_problem(self) -> None:
        """Raise the first problem as a :class:`ConversionError`."""
        if self.problems:
            problem = self.problems[0]
            raise ConversionError(problem.message, code=problem.code, params=problem.params)


# -- reading -------------------------------------------------------------------------------------


def _read_json(path: Path, what: str) -> Any:
    try:
        size = path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise ConversionError(
                f"{path} is {size:,} bytes, too large for {what}; this is not a model checkpoint's file.",
                code="convert_bad_json",
                params={"path": str(path)},
            )
        return read_json_file(path, max_bytes=MAX_JSON_BYTES)
    except (OSError, ValueError) as exc:  # UntrustedJsonError is a ValueError
        raise ConversionError(
            f"{path} cannot be read as {what}: {exc}. Restore it from the model's download or merge.",
            code="convert_bad_json",
            params={"path": str(path), "detail": str(exc)},
        ) from exc


def _problem(code: str, message: str, **params: Any) -> Problem:
    return Problem(code, message, {key: str(value) for key, value in params.items()})


def _config_value_error(path: Path, key: str, value: object, expected: str) -> ConversionError:
    if isinstance(value, float) and not math.isfinite(value):
        shown = str(value)
    else:
        try:
            shown = json.dumps(value)[:80]
        except (TypeError, ValueError):
            shown = type(value).__name__
    return ConversionError(
        f"{path}: {key} is {shown}, not {expected}. The file is damaged or was not written for these weights; "
        f"restore {path.name} from the model's download or merge.",
        code="convert_bad_number",
        params={"path": str(path), "key": key, "value": shown, "expected": expected},
    )


def _whole(path: Path, config: dict[str, Any], key: str) -> int:
    """``config[key]`` as a whole number from 1 to :data:`MAX_CONFIG_INT` (0 when absent or null)."""
    value = config.get(key)
    if value is None:
        return 0
    expected = f"a whole number from 1 to {MAX_CONFIG_INT:,}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _config_value_error(path, key, value, expected)
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise _config_value_error(path, key, value, expected)
    if not 1 <= value <= MAX_CONFIG_INT:
        raise _config_value_error(path, key, value, expected)
    return int(value)


def _positive(path: Path, config: dict[str, Any], key: str, default: float) -> float:
    """``config[key]`` as a finite positive number (``default`` when absent or null)."""
    value = config.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not (math.isfinite(value) and value > 0):
        raise _config_value_error(path, key, value, "a positive number")
    if value > 1e30:
        raise _config_value_error(path, key, value, "a positive number")
    return float(value)


def _check_shape(
    path: Path, shape: dict[str, Any], keys: dict[str, str], tensors: list[TensorEntry], rows: int
) -> None:
    """Every number of the config against the tensors actually present; a mismatch is named.

    ``keys`` names the config's key for each letter of :data:`_EXPECTED_SHAPES` (and ``L``, the
    layers). Work is linear in the tensors, whatever the numbers say.

    Raises:
        ConversionError: The config's shape is not LLaMA's, or does not describe these tensors.
    """
    hidden, heads, kv_heads, layers = shape["hidden"], shape["n_heads"], shape["n_kv_heads"], shape["n_layers"]

    def mismatch(letter: str, value: object, tensor: str, found: object) -> ConversionError:
        key = keys[letter]
        return ConversionError(
            f"{path}: {key} is {value}, but the weights do not match it ({tensor}: {found}). The config does "
            f"not describe these weights; restore {path.name} from the model's download or merge.",
            code="convert_config_mismatch",
            params={"path": str(path), "key": key, "value": str(value), "tensor": tensor, "found": str(found)},
        )

    if heads <= 0 or layers <= 0 or hidden % heads or (hidden // heads) % 2 or kv_heads > heads or heads % kv_heads:
        raise ConversionError(
            f"{path}: the shape it gives (hidden {hidden}, heads {heads}, key/value heads {kv_heads}, layers "
            f"{layers}) is not a LLaMA shape. Restore {path.name} from the model's download or merge.",
            code="convert_bad_json",
            params={"path": str(path), "folder": str(path.parent)},
        )
    present = {int(found.group(1)) for t in tensors if (found := _LAYER.search(t.name))}
    if len(present) != layers or max(present, default=-1) != layers - 1:
        if not present:
            found_layers = "no layer at all"
        else:
            gap = next((i for i in range(len(present) + 1) if i not in present), len(present))
            found_layers = f"{len(present):,} layers, numbered 0 to {max(present)}"
            if gap < max(present):
                found_layers += f" without layer {gap}"
        raise mismatch("L", f"{layers:,}", "the weights", found_layers)
    if not shape["ffn"]:
        shape["ffn"] = next(
            (t.shape[0] for t in tensors if t.name.endswith(("gate_proj.weight", "w1.weight")) and t.shape), 0
        )
    head_size = hidden // heads
    sizes = {"H": hidden, "F": shape["ffn"], "Q": heads * head_size, "K": kv_heads * head_size, "V": rows}
    shown = {"H": hidden, "F": shape["ffn"], "Q": heads, "K": kv_heads, "V": rows}
    for entry in tensors:
        suffix = next((s for s in _EXPECTED_SHAPES if entry.name == s or entry.name.endswith("." + s)), None)
        if suffix is None:
            continue
        letters = _EXPECTED_SHAPES[suffix]
        if entry.shape == tuple(sizes[letter] for letter in letters):
            continue
        # Name the first number that disagrees with this tensor.
        bad = next(
            (
                letter
                for axis, letter in enumerate(letters)
                if axis >= len(entry.shape) or entry.shape[axis] != sizes[letter]
            ),
            "H",
        )
        raise mismatch(bad, shown[bad], entry.name, tuple(entry.shape))


def _hf_shards(folder: Path, index_name: str, pattern: str) -> tuple[list[Path], list[Problem]]:
    index = folder / index_name
    if index.is_file():
        data = _read_json(index, "a shard index")
        weight_map = data.get("weight_map") if isinstance(data, dict) else None
        if not isinstance(weight_map, dict) or not weight_map:
            return [], [_problem("convert_bad_json", f"{index} has no weight map.", path=index)]
        names = sorted({str(v) for v in weight_map.values()})
        bad = [n for n in names if not _SAFE_SHARD_NAME.match(n) or n in (".", "..")]
        if bad:
            message = f"{index} names a shard outside the folder ({bad[0]!r}); it is refused."
            return [], [_problem("convert_bad_json", message, path=index)]
        missing = [n for n in names if not (folder / n).is_file()]
        if missing:
            message = (
                f"{len(missing)} of the {len(names)} weight shards listed in {index_name} are missing "
                f"({', '.join(missing[:3])}). Download or copy them into {folder}."
            )
            return [], [_problem("convert_shard_missing", message, folder=folder, missing=", ".join(missing[:3]))]
        return [folder / n for n in names], []
    return sorted(p for p in folder.glob(pattern) if p.is_file()), []


def _tokenizer(folder: Path) -> tuple[Any, list[tuple[int, str, bool]], list[Problem]]:
    """The SentencePiece model and the added tokens (id, text, special) beyond its pieces."""
    from runtime.tokens import TokenizerError, read_model_proto

    path = folder / "tokenizer.model"
    if not path.is_file():
        message = (
            f"{folder} has no tokenizer.model. Copy the tokenizer that came with these weights into the "
            "folder (for Chinese-LLaMA/Alpaca: the merged Chinese tokenizer)."
        )
        return None, [], [_problem("convert_no_tokenizer", message, folder=folder)]
    try:
        proto = read_model_proto(path)
    except TokenizerError as exc:
        return None, [], [_problem("convert_no_tokenizer", str(exc), folder=folder)]
    n_pieces = len(proto.pieces)
    added: dict[int, tuple[str, bool]] = {}
    added_json = folder / "added_tokens.json"
    if added_json.is_file():
        data = _read_json(added_json, "the added tokens")
        if isinstance(data, dict):
            for text, token_id in data.items():
                if isinstance(token_id, int) and not isinstance(token_id, bool):
                    added[token_id] = (str(text), False)
    tokenizer_json = folder / "tokenizer.json"
    if tokenizer_json.is_file():
        data = _read_json(tokenizer_json, "the tokenizer")
        for item in data.get("added_tokens", []) if isinstance(data, dict) else []:
            if isinstance(item, dict) and isinstance(item.get("id"), int) and isinstance(item.get("content"), str):
                added[item["id"]] = (item["content"], bool(item.get("special")))
    extra = sorted((i, t, s) for i, (t, s) in added.items() if i >= n_pieces)
    problems = []
    expected = n_pieces
    for token_id, text, _special in extra:
        if token_id != expected:
            problems.append(
                _problem(
                    "convert_bad_json",
                    f"The added token {text!r} has id {token_id}, but the next free id is {expected}: the "
                    "tokenizer files do not belong together.",
                    folder=folder,
                )
            )
            break
        expected += 1
    return proto, extra, problems


def _chosen_template(name: str, vocab: int) -> str:
    # The rules of runtime.chat.templates.choose_template, which runtime.models cannot import
    # (runtime.chat depends on this package): a name with "alpaca" or Alpaca's pad token.
    lowered = name.lower()
    if any(tag in lowered for tag in ("alpaca-2", "alpaca2", "alpaca_2")):
        return "chinese-alpaca-2"
    if "alpaca" in lowered or vocab == 49_954:
        return "chinese-alpaca"
    return "raw"


def inspect_checkpoint(folder: str | os.PathLike[str]) -> Checkpoint:
    """What a checkpoint folder holds, and every problem that would stop its conversion.

    Reads the config, the tokenizer and each shard's tensor list (safetensors headers; pickles with
    the restricted unpickler, memory-mapped), never the weights themselves.

    Raises:
        ConversionError: The folder does not exist (problems with its content are returned instead).
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ConversionError(
            f"{root} is not a folder. Choose the folder the merge script wrote.",
            code="convert_no_folder",
            params={"folder": str(root)},
        )
    try:
        return _inspect(root)
    except ConversionError as exc:
        return Checkpoint(str(root), "", name=root.name, problems=(Problem(exc.code, str(exc), exc.params),))


def _inspect(root: Path) -> Checkpoint:
    config_path, params_path = root / "config.json", root / "params.json"
    pth = sorted(root.glob("consolidated.*.pth"))
    problems: list[Problem] = []
    if config_path.is_file():
        config = _read_json(config_path, "a model config")
        if not isinstance(config, dict):
            raise ConversionError(f"{config_path} is not a JSON object.", code="convert_bad_json")
        architectures = config.get("architectures") or []
        architecture = str(architectures[0]) if isinstance(architectures, list) and architectures else ""
        if config.get("auto_map") or config.get("trust_remote_code"):
            raise ConversionError(
                f"{config_path} asks for code shipped with the model (auto_map / trust_remote_code). The app "
                "never runs code from a model folder; only plain LlamaForCausalLM checkpoints are converted.",
                code="convert_remote_code",
                params={"path": str(config_path)},
            )
        if architecture != LLAMA_ARCHITECTURE or config.get("model_type", "llama") != "llama":
            shown = architecture or str(config.get("model_type") or "unknown")
            raise ConversionError(
                f"{config_path} describes a {shown} model; only LLaMA models ({LLAMA_ARCHITECTURE}) such as "
                "Chinese-LLaMA and Chinese-Alpaca can be converted here.",
                code="convert_not_llama",
                params={"path": str(config_path), "architecture": shown},
            )
        shards, shard_problems = _hf_shards(root, "model.safetensors.index.json", "model*.safetensors")
        layout = "safetensors"
        if not shards and not shard_problems:
            shards, shard_problems = _hf_shards(root, "pytorch_model.bin.index.json", "pytorch_model*.bin")
            layout = "bin"
        if shard_problems:
            first = shard_problems[0]
            raise ConversionError(first.message, code=first.code, params=first.params)
        if not shards:
            raise ConversionError(
                f"{root} has a config.json but no weights (model*.safetensors or pytorch_model*.bin).",
                code="convert_no_weights",
                params={"folder": str(root)},
            )
        tensors: list[TensorEntry] = []
        for shard in shards:
            tensors += _safetensors_entries(shard) if layout == "safetensors" else _pickle_entries(shard)

        heads = _whole(config_path, config, "num_attention_heads")
        shape: dict[str, Any] = {
            "n_layers": _whole(config_path, config, "num_hidden_layers"),
            "hidden": _whole(config_path, config, "hidden_size"),
            "n_heads": heads,
            "n_kv_heads": _whole(config_path, config, "num_key_value_heads") or heads,
            "ffn": _whole(config_path, config, "intermediate_size"),
            "n_ctx": _whole(config_path, config, "max_position_embeddings") or 2048,
            "rms_eps": _positive(config_path, config, "rms_norm_eps", 1e-6),
            "rope_theta": _positive(config_path, config, "rope_theta", 10_000.0),
        }
        shape_keys = dict(_HF_KEYS)
        # transformers 5 writes the RoPE settings as rope_parameters; older versions as rope_theta
        # and rope_scaling.
        rope_parameters = config.get("rope_parameters")
        rope: dict[str, Any] = rope_parameters if isinstance(rope_parameters, dict) else {}
        if rope.get("rope_theta") is not None:
            shape["rope_theta"] = _positive(config_path, rope, "rope_theta", 10_000.0)
        scaled = config.get("rope_scaling") or rope.get("rope_type", "default") not in ("default", None)
        if scaled:
            problems.append(
                _problem(
                    "convert_unsupported",
                    f"{config_path} uses RoPE scaling ({config.get('rope_scaling') or rope}), which this "
                    "converter does not write; use llama.cpp's convert_hf_to_gguf.py for this model.",
                    path=config_path,
                )
            )
        torch_dtype = str(config.get("torch_dtype") or config.get("dtype") or "")
        architecture_shown = LLAMA_ARCHITECTURE
    elif params_path.is_file() and pth:
        params = _read_json(params_path, "the model parameters")
        if not isinstance(params, dict):
            raise ConversionError(f"{params_path} is not a JSON object.", code="convert_bad_json")
        layout = "pth"
        tensors = _pth_entries(pth)
        shards = pth
        heads = _whole(params_path, params, "n_heads")
        ffn_rows = next((t.shape[0] for t in tensors if t.name.endswith("feed_forward.w1.weight")), 0)
        shape = {
            "n_layers": _whole(params_path, params, "n_layers"),
            "hidden": _whole(params_path, params, "dim"),
            "n_heads": heads,
            "n_kv_heads": _whole(params_path, params, "n_kv_heads") or heads,
            "ffn": int(ffn_rows),
            "n_ctx": _whole(params_path, params, "max_seq_len") or 2048,
            "rms_eps": _positive(params_path, params, "norm_eps", 1e-6),
            "rope_theta": _positive(params_path, params, "rope_theta", 10_000.0),
        }
        config_path = params_path
        shape_keys = dict(_PTH_KEYS)
        torch_dtype = ""
        architecture_shown = "llama-pth"
    elif params_path.is_file() or pth:
        missing = "params.json" if pth else "consolidated.00.pth"
        raise ConversionError(
            f"{root} looks like Meta's layout but has no {missing}.",
            code="convert_shard_missing",
            params={"folder": str(root), "missing": missing},
        )
    else:
        raise ConversionError(
            f"{root} holds no model checkpoint: no config.json (Hugging Face) and no params.json with "
            "consolidated.*.pth (Meta's layout). Choose the folder the merge script wrote.",
            code="convert_empty_folder",
            params={"folder": str(root)},
        )

    by_name = {t.name: t for t in tensors}
    embed = by_name.get("model.embed_tokens.weight") or by_name.get("tok_embeddings.weight")
    if embed is None:
        raise ConversionError(
            f"{root}: the weights have no token embedding (model.embed_tokens.weight); shards may be missing.",
            code="convert_shard_missing",
            params={"folder": str(root), "missing": "model.embed_tokens.weight"},
        )
    embedding_rows = int(embed.shape[0])
    if not shape["hidden"]:
        shape["hidden"] = int(embed.shape[1])
    _check_shape(config_path, shape, shape_keys, tensors, embedding_rows)

    proto, added, tokenizer_problems = _tokenizer(root)
    problems += tokenizer_problems
    tokenizer_size = len(proto.pieces) + len(added) if proto is not None else 0
    # A GGUF token: its text with a 64-bit length, a float32 score and an int32 type.
    vocab_bytes = sum(16 + len(p.piece.encode("utf-8")) for p in proto.pieces) if proto is not None else 0
    if proto is not None and tokenizer_size != embedding_rows:
        from runtime.tokens import vocab_mismatch

        warning = vocab_mismatch(tokenizer_size, embedding_rows)
        text = warning.message if warning else ""
        problems.append(
            _problem(
                "convert_vocab_mismatch",
                f"{text} Nothing was converted.",
                tokenizer=f"{tokenizer_size:,}",
                rows=f"{embedding_rows:,}",
            )
        )
    dtypes = [t.dtype for t in tensors if len(t.shape) == 2]
    dtype = max(set(dtypes), key=dtypes.count) if dtypes else torch_dtype.upper()
    name = root.name
    return Checkpoint(
        folder=str(root),
        layout=layout,
        architecture=architecture_shown,
        name=name,
        n_params=sum(t.n_elements for t in tensors if not _SKIPPED.search(t.name)),
        embedding_rows=embedding_rows,
        tokenizer_size=tokenizer_size,
        vocab_label=KNOWN_VOCABS.get(embedding_rows, ""),
        dtype=dtype,
        total_bytes=sum(p.stat().st_size for p in shards),
        vocab_bytes=vocab_bytes,
        template=_chosen_template(name, embedding_rows),
        tensors=tuple(tensors),
        problems=tuple(problems),
        **shape,
    )
