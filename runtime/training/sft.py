"""Instruction fine-tuning with LoRA on Alpaca-format data (paper section 4.5).

``python -m runtime.training.sft --spec JOB.json``.

Records are ``{"instruction", "input" (optional), "output"}`` in a JSON array or JSON-lines file; the
prompt is the Chinese-Alpaca template, and only the answer's tokens are learned (see
:mod:`runtime.training.data`). Runs on the GPU host with the ``train`` extra; several GPUs through
``torchrun --nproc-per-node=N -m runtime.training.sft --spec JOB.json``.
"""

from __future__ import annotations

from runtime.training._trainer import main

if __name__ == "__main__":
    raise SystemExit(main("sft"))
