"""Helpers for tests that need a tiny Hugging Face LLaMA but must not import torch themselves.

torch and transformers take hundreds of MB; once imported into the pytest process they stay, and
every process it starts afterwards inherits that resident size as its starting peak (Linux keeps
``ru_maxrss`` across fork and exec), which other tests measure (the template sandbox's memory
limit). So the GUI and command-line tests build their models in a child process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


def build_tiny_llama(folder: Path, tokenizer: Path, *, seed: int) -> Path:
    """:func:`runtime.training.tiny.write_tiny_llama` run in a child Python; returns ``folder``."""
    code = (
        "import sys; from runtime.training.tiny import write_tiny_llama; "
        "write_tiny_llama(sys.argv[1], sys.argv[2], seed=int(sys.argv[3]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(folder), str(tokenizer), str(seed)],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return folder
