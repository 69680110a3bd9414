"""8-bit and 4-bit loading of the frozen base model (``load_in_kbits``, as generation 2's scripts).

``run_clm_pt_with_peft.py`` / ``run_clm_sft_with_peft.py`` of Chinese-LLaMA-Alpaca-2 build a
``BitsAndBytesConfig`` for ``--load_in_kbits 4`` or ``8``: int8 with outlier threshold 6.0, or NF4
with double quantization computing in the training precision, and the modules that train in full
(``modules_to_save``) left unquantized. :func:`bitsandbytes_config` returns those keyword arguments
(a pure function, tested without a GPU); :func:`check_kbits` refuses the choice before any model is
loaded where it cannot work: bitsandbytes needs CUDA, and must be installed.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from runtime.training.spec import TrainingLaunchError

#: What the scripts pass beside ``--load_in_kbits`` (their defaults: ``double_quant True``, ``quant_type nf4``).
INT8_THRESHOLD = 6.0
QUANT_TYPE_4BIT = "nf4"
#: The precisions a 4-bit layer may compute in, as ``torch`` names them.
COMPUTE_DTYPES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}
#: How to get bitsandbytes on the GPU host.
BITSANDBYTES_HINT = "pip install bitsandbytes"


def bitsandbytes_config(load_in_kbits: int, *, precision: str, skip_modules: list[str] | None) -> dict[str, Any]:
    """The keyword arguments of ``transformers.BitsAndBytesConfig`` for ``load_in_kbits`` (``{}``: 16, none).

    Args:
        load_in_kbits: 16, 8 or 4.
        precision: The run's precision (``fp16``, ``bf16``, ``fp32``): what 4-bit layers compute in.
        skip_modules: Modules kept unquantized (those trained in full: ``embed_tokens``, ``lm_head``).
    """
    if load_in_kbits == 16:
        return {}
    if load_in_kbits not in (8, 4):
        raise ValueError(f"load_in_kbits must be 16, 8 or 4, not {load_in_kbits}")
    return {
        "load_in_4bit": load_in_kbits == 4,
        "load_in_8bit": load_in_kbits == 8,
        "llm_int8_threshold": INT8_THRESHOLD,
        "llm_int8_skip_modules": list(skip_modules) if skip_modules else None,
        "bnb_4bit_compute_dtype": COMPUTE_DTYPES[precision],
        "bnb_4bit_use_double_quant": True,
        "bnb_4bit_quant_type": QUANT_TYPE_4BIT,
    }


def check_kbits(load_in_kbits: int, *, cuda: bool, has_bitsandbytes: bool | None = None) -> None:
    """Refuse 8- or 4-bit loading where it cannot run (before the model is read).

    Args:
        load_in_kbits: The spec's value.
        cuda: Whether a CUDA GPU is available.
        has_bitsandbytes: Whether bitsandbytes is installed (None: look).

    Raises:
        TrainingLaunchError: ``training_kbits_needs_cuda`` or ``training_bitsandbytes_missing``.
    """
    if load_in_kbits == 16:
        return
    if not cuda:
        raise TrainingLaunchError(
            f"Loading the model in {load_in_kbits} bits (load_in_kbits) needs a CUDA GPU: bitsandbytes "
            "quantizes on the GPU only. Set load_in_kbits to 16 here, or train on a computer with an NVIDIA GPU.",
            code="training_kbits_needs_cuda",
            params={"bits": load_in_kbits},
        )
    if has_bitsandbytes is None:
        has_bitsandbytes = importlib.util.find_spec("bitsandbytes") is not None
    if not has_bitsandbytes:
        raise TrainingLaunchError(
            f"Loading the model in {load_in_kbits} bits (load_in_kbits) needs bitsandbytes, which this Python "
            f"lacks. Install it with: {BITSANDBYTES_HINT}; or set load_in_kbits to 16.",
            code="training_bitsandbytes_missing",
            params={"bits": load_in_kbits, "command": BITSANDBYTES_HINT},
        )
