"""Training launcher overhead: a tiny run's steps/s through the app's launcher versus the script run directly.

Both paths run the same spec (a random LLaMA, hidden 64, 2 layers, LLaMA's vocabulary; 64-token
blocks of ``zh_samples.txt``; CPU, ``tiny_test``):

* **direct**: ``python -m runtime.training.pretrain --spec JOB.json``, its stdout read line by line;
* **launcher**: ``LocalTarget().start(spec)`` (the registry, the spec file, the child in its own
  process group, the event queue), its events taken with ``RunHandle.events()``.

Steps/s is counted between the arrival of the first and the last progress line (start-up excluded);
"first progress" is the time from the start call to the first progress line. The paths alternate,
``ROUNDS`` each, and the best of each is compared. Target (issue 12): launcher / direct >= 0.95.

Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import LLAMA_TOKENIZER, REPO_ROOT, ZH_SAMPLES, log, machine_info

sys.path.insert(0, str(REPO_ROOT))

from runtime.training.launcher import JobSpec, LocalTarget, parse_progress  # noqa: E402
from runtime.training.tiny import write_tiny_llama  # noqa: E402

ROUNDS = 2
STEPS = 24
TARGET_RATIO = 0.95


def _rate(arrivals: list[float]) -> float:
    return (len(arrivals) - 1) / (arrivals[-1] - arrivals[0])


def run_direct(spec: JobSpec, folder: Path) -> dict[str, float]:
    spec_path = spec.write(folder / "direct.json")
    started = time.perf_counter()
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.training.pretrain", "--spec", str(spec_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    arrivals = []
    for line in proc.stdout:
        if parse_progress(json.loads(line)) is not None:
            arrivals.append(time.perf_counter())
    if proc.wait() != 0 or len(arrivals) != STEPS:
        raise RuntimeError(f"the direct run failed ({proc.returncode}, {len(arrivals)} steps)")
    return {"steps_per_s": _rate(arrivals), "first_progress_s": arrivals[0] - started}


def run_launcher(spec: JobSpec) -> dict[str, float]:
    started = time.perf_counter()
    handle = LocalTarget().start(spec)
    arrivals = [time.perf_counter() for event in handle.events() if parse_progress(event) is not None]
    outcome = handle.wait()
    if outcome.state.value != "finished" or len(arrivals) != STEPS:
        raise RuntimeError(f"the launched run failed ({outcome.state}, {outcome.error})")
    return {"steps_per_s": _rate(arrivals), "first_progress_s": arrivals[0] - started}


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="training-bench-") as tmp:
        folder = Path(tmp)
        os.environ["ALPACA_DESK_HOME"] = str(folder / "home")
        model = write_tiny_llama(folder / "model", LLAMA_TOKENIZER, seed=0)
        base = JobSpec(
            kind="pretrain",
            model=str(model),
            dataset=str(ZH_SAMPLES),
            block_size=64,
            batch_size=4,
            max_steps=STEPS,
            learning_rate=5e-3,
            tiny_test=True,
            precision="fp32",
        )
        direct: list[dict[str, float]] = []
        launched: list[dict[str, float]] = []
        for round_number in range(ROUNDS):
            # The order alternates, so a machine that gets busier (or quieter) favours neither path.
            direct_spec = base.replace(output_dir=str(folder / f"direct-{round_number}"))
            if round_number % 2:
                launched.append(run_launcher(base))
                direct.append(run_direct(direct_spec, folder))
            else:
                direct.append(run_direct(direct_spec, folder))
                launched.append(run_launcher(base))
            log(f"round {round_number + 1}: direct {direct[-1]}, launcher {launched[-1]}")
    best_direct = max(r["steps_per_s"] for r in direct)
    best_launcher = max(r["steps_per_s"] for r in launched)
    result: dict[str, Any] = {
        "bench": "training_overhead",
        "steps": STEPS,
        "direct_steps_per_s": round(best_direct, 3),
        "launcher_steps_per_s": round(best_launcher, 3),
        "ratio": round(best_launcher / best_direct, 3),
        "target_ratio": TARGET_RATIO,
        "start_to_first_progress_s": round(min(r["first_progress_s"] for r in launched), 2),
        "direct_start_to_first_progress_s": round(min(r["first_progress_s"] for r in direct), 2),
        "machine": machine_info(),
    }
    print(json.dumps(result))  # noqa: T201 - the benchmark's one line
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
