"""Continued pre-training with LoRA on plain text (paper sections 4.3-4.4).

``python -m runtime.training.pretrain --spec JOB.json``.

Runs on the GPU host with the ``train`` extra (``pip install 'alpaca-desk[train]'``); several GPUs
through ``torchrun --nproc-per-node=N -m runtime.training.pretrain --spec JOB.json``. The spec's
``kind`` must be ``pretrain``; see :mod:`runtime.training.launcher` for its fields and the JSON lines
this prints, and :mod:`runtime.training._trainer` for the recipe.
"""

from __future__ import annotations

from runtime.training._trainer import main

if __name__ == "__main__":
    raise SystemExit(main("pretrain"))
