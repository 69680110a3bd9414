"""Merge LoRA adapters into their base model (paper section 5; Hugging Face format, safetensors out).

For every adapted projection ``W = W0 + (alpha / r) * B @ A`` (``alpha / sqrt(r)`` for rsLoRA
adapters), adapter after adapter in the order given: the Chinese-Alpaca-Plus recipe merges LLaMA +
Chinese-LLaMA-Plus LoRA + Chinese-Alpaca-Plus LoRA. Tensors an adapter carries whole (peft's
``modules_to_save``: the resized embeddings and LM head) replace the base's. The merged folder gets
the tokenizer files of the last adapter that carries a tokenizer (else the base's: ``tokenizer.model``,
``added_tokens.json`` and the Hugging Face configs) and a ``config.json`` whose ``vocab_size`` is the
final embedding rows.

Vocabulary sizes are checked at every step, before any weight is read
(:mod:`runtime.training.merge_plan`, which also reads the adapters' configurations and counts a
tokenizer as ``len(LlamaTokenizer)`` does, ``added_tokens.json`` included): mixing LLaMA's 32,000,
Chinese-LLaMA's 49,953 and Chinese-Alpaca's 49,954 is the most reported failure of the original
merge scripts, and each mix gets a message that says which files belong together
(:func:`runtime.tokens.vocab_mismatch`).

The merge works shard by shard (one base shard in memory at a time, the adapters beside it), so a
7B model merges in the memory of its largest shard. Adapters in peft's ``.bin`` format (the
published ``hfl/chinese-*-lora-*`` repositories) and safetensors are read; the base may be sharded
safetensors or ``.bin``. It needs torch (the ``train`` extra), imported inside the functions; it
runs as the ``lora-merge`` job (:mod:`runtime.jobs`) or in the command line's own process.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtime.paths import write_atomic
from runtime.tokens import TOKENIZER_MODEL
from runtime.training.launcher import INSTALL_HINT
from runtime.training.merge_plan import (
    ADDED_TOKENS,
    MAX_ALPHA,
    MAX_CONFIG_BYTES,
    MAX_RANK,
    AdapterInfo,
    MergeError,
    plan_vocabulary,
    read_adapter,
    read_json_object,
)

__all__ = [
    "MAX_ALPHA",
    "MAX_CONFIG_BYTES",
    "MAX_RANK",
    "TOKENIZER_FILES",
    "AdapterInfo",
    "MergeError",
    "MergeResult",
    "merge_job",
    "merge_lora",
    "plan_vocabulary",
    "read_adapter",
]

#: Files copied from the tokenizer's folder into the merged one.
TOKENIZER_FILES = (
    TOKENIZER_MODEL,
    ADDED_TOKENS,
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
)
#: The embedding and LM head tensors (LLaMA naming) that an adapter may carry whole.
EMBEDDING_KEYS = ("model.embed_tokens.weight", "lm_head.weight")
_PEFT_PREFIX = "base_model.model."
#: What torch's restricted unpickler names when it refuses a pickle.
_UNSAFE_GLOBAL = re.compile(r"(?:Unsupported global: |unsupported )GLOBAL ([\w.]+)", re.IGNORECASE)


@dataclass(frozen=True)
class MergeResult:
    """What a merge wrote.

    Attributes:
        out: The merged folder.
        vocab_size: Embedding rows of the merged model.
        merged: Projections changed by LoRA (counted once per adapter).
        replaced: Tensors taken whole from an adapter (embeddings, LM head).
        tokenizer_from: The folder the tokenizer was copied from.
    """

    out: Path
    vocab_size: int
    merged: int
    replaced: int
    tokenizer_from: Path
    notes: list[str] = field(default_factory=list)


def _load_tensors(path: Path) -> dict[str, Any]:
    import torch
    from safetensors.torch import load_file

    try:
        if path.suffix == ".safetensors":
            return dict(load_file(str(path)))
        # weights_only: a .bin is a pickle, and a pickle from the internet must not run code.
        loaded = torch.load(str(path), map_location="cpu", weights_only=True)
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 - torch and safetensors raise many kinds; each is named below
        if type(exc).__name__ == "UnpicklingError":
            # torch's text advises weights_only=False, i.e. running the file's code: never pass that on.
            found = _UNSAFE_GLOBAL.search(str(exc))
            what = found.group(1) if found else "objects other than tensors"
            raise MergeError(
                f"{path} is a pickle that holds more than tensors ({what}); loading it could run code from "
                "the file, so it was not opened. Use the adapter saved as safetensors "
                "(adapter_model.safetensors), or get it again from its publisher.",
                code="merge_unsafe_pickle",
                params={"path": str(path), "what": what},
            ) from None
        first_line = str(exc).splitlines()[0][:200] if str(exc) else ""
        reason = f"{type(exc).__name__}: {first_line}"
        raise MergeError(
            f"Cannot read {path} (weights): {reason}.",
            code="merge_file_unreadable",
            params={"path": str(path), "what": "weights", "reason": reason},
        ) from None
    if not isinstance(loaded, dict):
        raise MergeError(
            f"{path} does not hold a dictionary of tensors.",
            code="merge_file_unreadable",
            params={"path": str(path), "what": "weights", "reason": "not a state dict"},
        )
    return dict(loaded)


def _base_shards(base: Path) -> tuple[list[Path], dict[str, Any] | None]:
    """The base model's weight files and, when sharded, its index."""
    for index_name in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        index_path = base / index_name
        if index_path.is_file():
            index = read_json_object(index_path, "the weights index")
            weight_map = index.get("weight_map")
            if not isinstance(weight_map, dict):
                raise MergeError(
                    f"{index_path} has no weight_map.",
                    code="merge_file_unreadable",
                    params={"path": str(index_path), "what": "the weights index", "reason": "no weight_map"},
                )
            names = sorted({str(v) for v in weight_map.values()})
            if any("/" in n or "\\" in n or n.startswith(".") for n in names):
                raise MergeError(
                    f"{index_path} names weight files outside its folder.",
                    code="merge_file_unreadable",
                    params={"path": str(index_path), "what": "the weights index", "reason": "bad file names"},
                )
            return [base / n for n in names], index
    for name in ("model.safetensors", "pytorch_model.bin"):
        if (base / name).is_file():
            return [base / name], None
    raise MergeError(
        f"{base} holds no model weights (model.safetensors, pytorch_model.bin or a sharded index). "
        "Give the base model's Hugging Face folder (for LLaMA: the weights converted to Hugging Face format).",
        code="merge_no_weights",
        params={"path": str(base)},
    )


def _split_adapter(info: AdapterInfo) -> tuple[dict[str, tuple[Any, Any]], dict[str, Any]]:
    """The adapter's LoRA pairs (base key -> (A, B)) and its whole tensors (base key -> tensor)."""
    tensors = _load_tensors(info.weights)
    pairs: dict[str, dict[str, Any]] = {}
    plain: dict[str, Any] = {}
    trained: dict[str, Any] = {}
    for key, tensor in tensors.items():
        name = key[len(_PEFT_PREFIX) :] if key.startswith(_PEFT_PREFIX) else key
        if ".original_module." in name:
            continue  # peft keeps the untrained copy of a modules_to_save layer too
        for part in ("lora_A", "lora_B"):
            marker = f".{part}."
            if marker in name:
                module = name.split(marker)[0]
                pairs.setdefault(f"{module}.weight", {})[part] = tensor
                break
        else:
            if ".modules_to_save." in name:
                # The trained copy (newer peft: "X.modules_to_save.weight"; with the adapter's name
                # when saved unusually); older peft (the published Chinese LoRAs) saved it as "X.weight".
                base_name = name.split(".modules_to_save.")[0] + "." + name.rsplit(".", 1)[-1]
                trained[base_name] = tensor
            elif "lora_" in name:
                raise MergeError(
                    f"The adapter {info.path} holds {key}, a kind of LoRA tensor this merge does not handle.",
                    code="merge_adapter_mismatch",
                    params={"adapter": str(info.path), "tensor": key},
                )
            else:
                plain[name] = tensor
    whole = {**plain, **trained}
    if not pairs and not whole:
        raise MergeError(
            f"The adapter {info.path} holds no weights ({info.weights.name} is empty), so merging it would "
            "change nothing. Download or train the adapter again.",
            code="merge_adapter_empty",
            params={"adapter": str(info.path), "weights": str(info.weights)},
        )
    incomplete = sorted(k for k, v in pairs.items() if len(v) != 2)
    if incomplete:
        raise MergeError(
            f"The adapter {info.path} has a LoRA A without its B (or the reverse) for {incomplete[0]}.",
            code="merge_adapter_mismatch",
            params={"adapter": str(info.path), "tensor": incomplete[0]},
        )
    return {k: (v["lora_A"], v["lora_B"]) for k, v in pairs.items()}, whole


def _embedding_rows(whole: dict[str, Any]) -> int | None:
    for key in EMBEDDING_KEYS:
        if key in whole:
            return int(whole[key].shape[0])
    return None


def merge_lora(
    base: str | os.PathLike[str],
    adapters: list[str | os.PathLike[str]],
    out: str | os.PathLike[str],
    *,
    dtype: str = "auto",
    on_progress: Callable[[int, int], None] | None = None,
    cancel: threading.Event | None = None,
    scratch: Callable[[Path], None] | None = None,
) -> MergeResult:
    """Merge ``adapters`` (in order) into ``base`` and write the merged model to ``out``.

    Args:
        base: The base model's Hugging Face folder (``config.json`` and weights).
        adapters: LoRA adapter folders (``adapter_config.json`` and weights), applied in this order.
        out: The merged folder; written as ``.NAME.partial-*`` beside it and renamed into place.
        dtype: ``auto`` (each tensor keeps the base's dtype), ``float16``, ``bfloat16`` or ``float32``.
        on_progress: Called with (shards done, shards).
        cancel: Set to stop between tensors (the partial output is removed).
        scratch: Called with the temporary folder's path before anything is written (a job
            announces it, so a killed job's leftovers are removed by its parent).

    Raises:
        MergeError: As described on the checks; nothing is left at ``out`` then.
    """
    base_dir, out_dir = Path(base), Path(out)
    if not adapters:
        raise MergeError("Give at least one adapter to merge.", code="merge_no_adapter", params={})
    if out_dir.exists():
        raise MergeError(
            f"{out_dir} exists already; choose a new folder for the merged model.",
            code="merge_out_exists",
            params={"path": str(out_dir)},
        )
    # The configurations are checked before torch is imported: a refusal costs nothing.
    infos = [read_adapter(a) for a in adapters]
    try:
        import torch
        from safetensors.torch import save_file
    except ImportError as exc:
        # The desktop bundle has no torch (it runs on the GPU host): say how to get it.
        raise MergeError(
            f"Merging needs torch and safetensors, which this Python ({sys.executable}) lacks. "
            f"Install them with: {INSTALL_HINT}",
            code="training_extra_missing",
            params={"packages": "torch, safetensors", "python": sys.executable, "command": INSTALL_HINT},
        ) from exc

    shards, index = _base_shards(base_dir)
    split = [_split_adapter(info) for info in infos]
    carried = {
        str(info.path): r for info, (_, whole) in zip(infos, split, strict=True) if (r := _embedding_rows(whole))
    }
    rows, tokenizer_from = plan_vocabulary(base_dir, infos, carried)
    target_dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32}.get(dtype)

    partial = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    if scratch is not None:
        scratch(partial)
    partial.mkdir(parents=True)
    used: set[str] = set()
    merged = replaced = 0
    weight_map: dict[str, str] = {}
    try:
        for number, shard in enumerate(shards):
            tensors = _load_tensors(shard)
            for key in list(tensors):
                if cancel is not None and cancel.is_set():
                    raise MergeError("The merge was cancelled.", code="cancelled", params={})
                tensor = tensors[key]
                out_type = target_dtype or tensor.dtype
                changed = False
                work = tensor.to(torch.float32)
                for info, (pairs, whole) in zip(infos, split, strict=True):
                    if key in whole:
                        work = whole[key].to(torch.float32)
                        used.add(f"{info.path}:{key}")
                        replaced += 1
                        changed = True
                    if key in pairs:
                        lora_a, lora_b = pairs[key]
                        delta = (lora_b.to(torch.float32) @ lora_a.to(torch.float32)) * info.scale
                        if info.fan_in_fan_out:
                            delta = delta.T
                        if delta.shape != work.shape:
                            raise MergeError(
                                f"The adapter {info.path} does not fit {base_dir}: {key} is {tuple(work.shape)} "
                                f"in the model but {tuple(delta.shape)} in the adapter (an adapter for another "
                                "model size?).",
                                code="merge_adapter_mismatch",
                                params={"adapter": str(info.path), "tensor": key},
                            )
                        work = work + delta
                        used.add(f"{info.path}:{key}")
                        merged += 1
                        changed = True
                result = work.to(out_type).contiguous() if changed else tensor.to(out_type).contiguous()
                if result.is_floating_point() and not bool(torch.isfinite(result).all()):
                    raise _not_finite(key, base_dir, infos, split, changed=changed)
                tensors[key] = result
            name = shard.name if shard.suffix == ".safetensors" else shard.name.replace("pytorch_model", "model")
            name = name.replace(".bin", ".safetensors")
            save_file(tensors, str(partial / name), metadata={"format": "pt"})
            weight_map.update({key: name for key in tensors})
            del tensors
            if on_progress is not None:
                on_progress(number + 1, len(shards))
        for info, (pairs, whole) in zip(infos, split, strict=True):
            for key in [*pairs, *whole]:
                if f"{info.path}:{key}" not in used:
                    raise MergeError(
                        f"The adapter {info.path} changes {key}, which {base_dir} does not have: it was trained "
                        "for another kind of model.",
                        code="merge_adapter_mismatch",
                        params={"adapter": str(info.path), "tensor": key},
                    )
        _write_folder(base_dir, partial, index, weight_map, rows, tokenizer_from, target_dtype)
        os.replace(partial, out_dir)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return MergeResult(out=out_dir, vocab_size=rows, merged=merged, replaced=replaced, tokenizer_from=tokenizer_from)


def _not_finite(key: str, base: Path, infos: list[AdapterInfo], split: list[Any], *, changed: bool) -> MergeError:
    """A merged tensor with inf or NaN: named, with the adapter that changed it (or the base)."""
    touching = [info for info, (pairs, whole) in zip(infos, split, strict=True) if key in pairs or key in whole]
    if changed and touching:
        info = touching[-1]
        return MergeError(
            f"Merging {info.path} gives {key} values that are not finite numbers (inf or NaN): the adapter's "
            f"weights or its scale (lora_alpha {info.alpha:g} / r {info.rank}) are broken, or too large for "
            "the chosen type. Nothing was written; use a sound adapter (or --dtype float32).",
            code="merge_not_finite",
            params={"path": str(info.path), "tensor": key, "alpha": f"{info.alpha:g}", "rank": info.rank},
        )
    return MergeError(
        f"The base model {base} already has {key} values that are not finite numbers (inf or NaN). "
        "Nothing was written; download or convert the base model again.",
        code="merge_not_finite",
        params={"path": str(base), "tensor": key, "alpha": "", "rank": ""},
    )


def _write_folder(
    base: Path,
    folder: Path,
    index: dict[str, Any] | None,
    weight_map: dict[str, str],
    rows: int,
    tokenizer_from: Path,
    target_dtype: Any,
) -> None:
    config = read_json_object(base / "config.json", "the base model's configuration")
    config["vocab_size"] = rows
    if target_dtype is not None:
        config["dtype"] = str(target_dtype).replace("torch.", "")
    write_atomic(folder / "config.json", (json.dumps(config, indent=2) + "\n").encode("utf-8"))
    if index is not None:
        new_index = {"metadata": dict(index.get("metadata") or {}), "weight_map": dict(sorted(weight_map.items()))}
        payload = (json.dumps(new_index, indent=2) + "\n").encode("utf-8")
        write_atomic(folder / "model.safetensors.index.json", payload)
    if (base / "generation_config.json").is_file():
        shutil.copy2(base / "generation_config.json", folder / "generation_config.json")
    for name in TOKENIZER_FILES:
        if (tokenizer_from / name).is_file():
            shutil.copy2(tokenizer_from / name, folder / name)


def merge_job(context: Any, *, base: str, adapters: str, out: str, dtype: str = "auto") -> dict[str, Any]:
    """The ``lora-merge`` job (:mod:`runtime.jobs`): ``adapters`` is a JSON array of folders."""
    from runtime.jobs import Progress

    try:
        folders = json.loads(adapters)  # the job's own argv, written by merge_command: not untrusted
        if not isinstance(folders, list) or not all(isinstance(f, str) for f in folders):
            raise ValueError
    except ValueError as exc:
        raise MergeError("The adapters must be a JSON array of folders.", code="merge_no_adapter", params={}) from exc
    result = merge_lora(
        base,
        folders,
        out,
        dtype=dtype,
        on_progress=lambda done, total: context.progress(Progress(done, total, "merging")),
        cancel=context.cancelled,
        scratch=context.scratch,
    )
    return {
        "out": str(result.out),
        "vocab_size": result.vocab_size,
        "merged": result.merged,
        "replaced": result.replaced,
        "tokenizer": str(result.tokenizer_from),
    }
