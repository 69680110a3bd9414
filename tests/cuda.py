"""Whether this machine has a CUDA GPU that torch sees: the GPU paths' tests check what those
paths do here, whichever way the answer goes (CI has no GPU; a developer's machine may)."""

from __future__ import annotations

import functools
import subprocess
import sys


@functools.cache
def cuda_available() -> bool:
    """``torch.cuda.is_available()``, asked in a child: torch is never imported into the test
    runner outside tests/unit/training (see CONTRIBUTING.md). False where torch is missing."""
    probe = "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)"
    try:
        done = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0
