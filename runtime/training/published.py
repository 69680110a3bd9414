"""From a published LoRA repository of the catalogue to a merged model folder (paper section 5).

The first-generation ``hfl/chinese-*-lora-*`` repositories hold LoRA adapters only: they are
merged into Meta's original LLaMA weights (Hugging Face format, 32,000-piece vocabulary), and the
Plus and Pro Alpaca adapters go on top of the matching Chinese-LLaMA-Plus adapter (the catalogue
entry names it in ``merge_after``): LLaMA + chinese-llama-plus-lora + chinese-alpaca-plus-lora.

This module says, before any weight is read, what such a merge needs and what is wrong with it:
the chain of adapters (:func:`merge_chain`), which of them are on disk (:func:`adapter_folder`,
the models folder's layout and manifest), whether the chosen base is the original LLaMA in
Hugging Face format (:func:`check_base_folder` without reading anything heavy, then
:func:`check_base_summary` on what the ``convert-inspect`` job found), the disk space the merged
folder takes (:func:`merged_bytes`, :func:`check_space`), and the ``lora-merge`` job's options
(:func:`merge_job_options`). The merge itself is :mod:`runtime.training.merge`. Qt-free and
torch-free: the desktop app (whose bundle has no torch) runs all of it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from runtime.errors import AppError, HubError
from runtime.hub import CatalogueEntry, CatalogueFile
from runtime.hub.catalogue import RECOMMENDED_QUANTS, best_quant
from runtime.hub.manifest import PART_SUFFIX, check_repo_id, read_manifest, repo_folder
from runtime.training.launcher import INSTALL_HINT
from runtime.training.merge import read_adapter

#: Embedding rows of Meta's original LLaMA (the base every first-generation adapter expects).
LLAMA_VOCAB = 32_000
#: Hidden size of each LLaMA size, to tell an adapter for 7B from a 13B base before merging.
HIDDEN_BY_PARAMS = {"7B": 4096, "13B": 5120, "33B": 6656, "65B": 8192}
#: Longest chain of ``merge_after`` links followed (the published recipes have two adapters).
MAX_CHAIN = 4
#: Kept free beyond the merged folder's size (config, tokenizer, file-system slack).
SPACE_MARGIN = 256 * 1024 * 1024
#: How the original LLaMA checkpoint becomes a Hugging Face folder (transformers' own script).
HF_CONVERSION_HINT = (
    "python -m transformers.models.llama.convert_llama_weights_to_hf "
    "--input_dir LLAMA_FOLDER --model_size 7B --output_dir LLAMA_HF_FOLDER"
)
#: Bits per weight of each recommended quantization (llama.cpp's figures, rounded), for the
#: quantization a merged model's conversion preselects.
_BITS_PER_WEIGHT = {"Q6_K": 6.56, "Q5_K": 5.67, "Q5_0": 5.5, "Q4_K": 4.85, "Q4_0": 4.5, "Q3_K": 3.9, "Q2_K": 3.35}
_PARAMS = {"7B": 6.9e9, "13B": 13.2e9, "33B": 32.7e9, "65B": 65.4e9}
_BYTES_PER_ELEMENT = {"F32": 4, "F16": 2, "BF16": 2}


class LoraChainError(AppError):
    """A published LoRA cannot be merged as asked: a missing prerequisite, a base that is not LLaMA."""


def merge_chain(entries: Mapping[str, CatalogueEntry], repo: str) -> list[str]:
    """The repositories to merge, in order (prerequisites first, ``repo`` last).

    Raises:
        LoraChainError: ``repo`` or a prerequisite is not a LoRA entry of the catalogue, or the
            ``merge_after`` links go round in a circle.
    """
    chain: list[str] = []
    current = repo
    while current:
        entry = entries.get(current)
        if entry is None or entry.format != "lora":
            raise LoraChainError(
                f"{current} is not a LoRA repository of the model catalogue, so its merge recipe is unknown.",
                code="lora_chain_unknown",
                params={"repo": current},
            )
        if current in chain or len(chain) >= MAX_CHAIN:
            raise LoraChainError(
                f"The catalogue's merge recipe for {repo} goes round in a circle at {current}.",
                code="lora_chain_unknown",
                params={"repo": current},
            )
        chain.append(current)
        current = entry.merge_after
    return chain[::-1]


def adapter_folder(models_dir: Path, repo: str) -> Path | None:
    """The folder of ``repo``'s adapter in the models folder, when it is there whole, else None.

    Whole: ``adapter_config.json`` and the adapter's weights are present, and no download of the
    repository is unfinished (a ``.part`` file). The manifest's records count as present even when
    the folder was filled by hand (as ``huggingface-cli download --local-dir`` does).
    """
    folder = repo_folder(models_dir, check_repo_id(repo))
    if not (folder / "adapter_config.json").is_file():
        return None
    if not any((folder / name).is_file() for name in ("adapter_model.safetensors", "adapter_model.bin")):
        return None
    if any(p.name.endswith(PART_SUFFIX) for p in folder.iterdir()):
        return None
    return folder


def resolve_adapter(value: str, models_dir: Path) -> Path:
    """An adapter given on the command line: a folder, or a repository id downloaded into ``models_dir``.

    Raises:
        LoraChainError: Neither a folder nor a repository whose adapter is whole in the models folder.
    """
    path = Path(value).expanduser()
    if path.is_dir():
        return path
    try:
        check_repo_id(value)
    except HubError:
        raise LoraChainError(
            f"{value} is neither a folder nor a repository id (ORG/NAME).",
            code="lora_adapter_missing",
            params={"repo": value, "folder": str(models_dir)},
        ) from None
    folder = adapter_folder(models_dir, value)
    if folder is None:
        recorded = any(e.repo == value for e in read_manifest(models_dir))
        state = "is not whole there (a download is unfinished?)" if recorded else "has not been downloaded there"
        raise LoraChainError(
            f"The LoRA repository {value} {state} ({models_dir}). Download it with: alpaca-desk download {value}",
            code="lora_adapter_missing",
            params={"repo": value, "folder": str(models_dir)},
        )
    return folder


def check_order(adapters: list[Path], models_dir: Path, entries: Mapping[str, CatalogueEntry]) -> None:
    """Refuse a published adapter given without the one it must be merged after (or after it).

    Only adapters that live in the models folder under a catalogue repository's name are known;
    others (the user's own) are not judged.

    Raises:
        LoraChainError: Code ``lora_chain_order``, naming the chain to give.
    """
    repos: list[str | None] = []
    for adapter in adapters:
        found = [r for r, e in entries.items() if e.format == "lora" and _same(repo_folder(models_dir, r), adapter)]
        repos.append(found[0] if found else None)
    for index, known in enumerate(repos):
        if known is None:
            continue
        repo = known
        wanted = entries[repo].merge_after
        if wanted and (index == 0 or repos[index - 1] != wanted):
            chain = " + ".join(["LLaMA", *merge_chain(entries, repo)])
            raise LoraChainError(
                f"{repo} is merged on top of {wanted}: give the adapters in the order {chain}.",
                code="lora_chain_order",
                params={"repo": repo, "after": wanted, "chain": chain},
            )


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_base_folder(folder: str | os.PathLike[str]) -> Path:
    """A quick look at the chosen LLaMA folder, before the inspection job reads its shards.

    Raises:
        LoraChainError: Not a folder; Meta's ``consolidated.*.pth`` layout (the merge needs the
            Hugging Face format: the message says how to convert it); no ``config.json``.
    """
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise LoraChainError(
            f"{root} is not a folder. Choose the folder of the original LLaMA weights in Hugging Face format.",
            code="lora_base_not_folder",
            params={"folder": str(root)},
        )
    if not (root / "config.json").is_file():
        if any(root.glob("consolidated.*.pth")) or (root / "params.json").is_file():
            raise LoraChainError(
                f"{root} holds Meta's original checkpoint (consolidated.*.pth). The merge needs the Hugging Face "
                f"format: convert it first with transformers' script, {HF_CONVERSION_HINT}, then choose the "
                "output folder.",
                code="lora_base_meta_format",
                params={"folder": str(root), "command": HF_CONVERSION_HINT},
            )
        raise LoraChainError(
            f"{root} has no config.json: it is not a model in Hugging Face format. Choose the folder of the "
            "original LLaMA weights converted to Hugging Face format (config.json, tokenizer.model, weights).",
            code="lora_base_not_hf",
            params={"folder": str(root)},
        )
    return root


def check_base_summary(summary: Mapping[str, Any], params: str = "") -> None:
    """Whether what ``convert-inspect`` found in the base folder is the original LLaMA the adapters need.

    Args:
        summary: The job's ``checkpoint`` (:meth:`runtime.models.convert.Checkpoint.summary`).
        params: The catalogue entry's size (``7B``); "" when unknown (its hidden size is not checked).

    Raises:
        LoraChainError: The inspection's first problem; Meta's layout; a vocabulary other than
            LLaMA's 32,000 (an already merged Chinese model, say); a model of another size.
    """
    folder = str(summary.get("folder", ""))
    problems = summary.get("problems") or []
    if problems:
        first = problems[0]
        raise LoraChainError(
            str(first.get("message", "")), code=str(first.get("code", "")), params=dict(first.get("params") or {})
        )
    if summary.get("layout") == "pth":
        check_base_folder(folder)  # raises the Meta-format message
    rows = int(summary.get("embedding_rows") or 0)
    if rows != LLAMA_VOCAB:
        label = str(summary.get("vocab_label") or "")
        known = f" ({label})" if label else ""
        raise LoraChainError(
            f"{folder} has a vocabulary of {rows:,} tokens{known}, not the original LLaMA's {LLAMA_VOCAB:,}. "
            "The Chinese LoRA adapters add the Chinese vocabulary themselves and must be merged into Meta's "
            "original LLaMA weights, not into a model that was merged or extended already.",
            code="lora_base_vocab",
            params={"folder": folder, "rows": f"{rows:,}", "label": known, "expected": f"{LLAMA_VOCAB:,}"},
        )
    hidden = int(summary.get("hidden") or 0)
    wanted = HIDDEN_BY_PARAMS.get(params)
    if wanted is not None and hidden != wanted:
        size = next((p for p, h in HIDDEN_BY_PARAMS.items() if h == hidden), f"hidden size {hidden}")
        raise LoraChainError(
            f"{folder} is LLaMA {size}, but these adapters are for LLaMA {params}. Choose the {params} weights.",
            code="lora_base_size",
            params={"folder": folder, "found": size, "params": params},
        )


def final_vocabulary(adapters: list[Path]) -> int:
    """Pieces of the tokenizer the merged model gets (the last adapter that carries one), or 0."""
    rows = 0
    for adapter in adapters:
        size = read_adapter(adapter).tokenizer_size
        if size:
            rows = size
    return rows


def merged_bytes(summary: Mapping[str, Any], final_rows: int) -> int:
    """Bytes of the merged folder: the base's weights (the merge keeps their type) plus the rows
    the adapters add to the embeddings and the LM head."""
    total = int(summary.get("total_bytes") or 0)
    rows = int(summary.get("embedding_rows") or 0)
    hidden = int(summary.get("hidden") or 0)
    element = _BYTES_PER_ELEMENT.get(str(summary.get("dtype") or "").upper(), 2)
    return total + max(0, final_rows - rows) * hidden * 2 * element


def check_space(out: str | os.PathLike[str], needed: int) -> None:
    """Refuse to start when the output folder's disk cannot hold ``needed`` bytes and a margin.

    Raises:
        ConversionError: Code ``convert_no_space`` (free and needed sizes in its message).
    """
    from runtime.models.convert import check_free_space  # numpy and gguf: only when a merge is planned

    check_free_space(Path(out).expanduser().parent, needed + SPACE_MARGIN)


def default_out(models_dir: Path, repo: str) -> Path:
    """A new folder for the merged model: ``MODELS/merged/NAME`` (``NAME-2``... when taken)."""
    name = check_repo_id(repo).split("/", 1)[1].replace("-lora", "")
    folder = models_dir / "merged" / name
    number = 2
    while folder.exists():
        folder = models_dir / "merged" / f"{name}-{number}"
        number += 1
    return folder


def merge_job_options(base: Path, adapters: list[Path], out: Path) -> dict[str, str]:
    """The ``lora-merge`` job's options (:data:`runtime.jobs.JOBS`)."""
    return {"base": str(base), "adapters": json.dumps([str(a) for a in adapters]), "out": str(out)}


def recommended_quant(entry: CatalogueEntry, *, ram: int, free: int) -> str:
    """The quantization to preselect when the merged model is converted: the best one whose file
    (estimated from the model's size) fits this computer, or ""."""
    params = _PARAMS.get(entry.params)
    if params is None:
        return ""
    files = tuple(
        CatalogueFile(f"{entry.repo}-{quant}.gguf", quant, int(params * _BITS_PER_WEIGHT[quant] / 8))
        for quant in RECOMMENDED_QUANTS
    )
    return best_quant(replace(entry, files=files), ram=ram, free=free)


@dataclass(frozen=True)
class ExtraCheck:
    """Whether this computer can merge: torch and safetensors (the ``train`` extra)."""

    ready: bool
    message: str = ""
    code: str = ""
    params: dict[str, str] | None = None


def merge_extra_check(python: str | None = None) -> ExtraCheck:
    """Whether ``python`` (default: this one) has what the merge needs (in a child process).

    The frozen desktop bundle never has it; the message says how to get it.
    """
    from runtime.training.launcher import check_python

    check = check_python(python, needs_cuda=False)
    if check.ready:
        return ExtraCheck(True)
    packages = ", ".join(check.missing) or "torch"
    interpreter = python or sys.executable
    message = (
        f"Merging needs {packages} (the train extra), which this computer's Python ({interpreter}) lacks. "
        f"Install them with: {INSTALL_HINT}, or merge with alpaca-desk merge-lora on a computer that has them."
    )
    return ExtraCheck(
        False,
        message,
        "lora_merge_extra_missing",
        {"packages": packages, "python": interpreter, "command": INSTALL_HINT},
    )
