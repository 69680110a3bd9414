"""The measuring helper of the hostile-input tests reports the command's own peak memory."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.measure import run_measured

MIB = 1024


def test_a_large_test_runner_does_not_count_in_the_commands_peak(tmp_path: Path) -> None:
    held = bytearray(1 << 30)  # the test runner grows by 1 GiB (every page written, so resident)
    for offset in range(0, len(held), 4096):
        held[offset] = 1
    small = run_measured([sys.executable, "-c", "print('ok')"], env=dict(os.environ), cwd=tmp_path, timeout=60)
    # The control: a command that itself holds 300 MiB is seen holding it.
    large = run_measured(
        [sys.executable, "-c", "b = bytearray(300 << 20)\nfor i in range(0, len(b), 4096): b[i] = 1"],
        env=dict(os.environ),
        cwd=tmp_path,
        timeout=60,
    )
    del held
    assert small.returncode == 0 and small.stdout == "ok\n"
    assert small.peak_kib < 100 * MIB, small.peak_kib
    assert 300 * MIB <= large.peak_kib < 500 * MIB, large.peak_kib


def test_the_exit_status_and_a_signal_come_through(tmp_path: Path) -> None:
    env = dict(os.environ)
    assert (
        run_measured([sys.executable, "-c", "raise SystemExit(3)"], env=env, cwd=tmp_path, timeout=60).returncode == 3
    )
    killed = run_measured(
        [sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"], env=env, cwd=tmp_path, timeout=60
    )
    assert killed.returncode == -9
    missing = run_measured([str(tmp_path / "no-such-program")], env=env, cwd=tmp_path, timeout=60)
    assert missing.returncode == 127
