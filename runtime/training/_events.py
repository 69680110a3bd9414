"""A run's events and its Trainer callback: JSON lines on stdout and in ``progress.jsonl``, the words in
``train.log``, and the stop request (GPU host only: torch and transformers are imported inside).
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from runtime.jobs import Emitter
from runtime.training import evaluation

log = logging.getLogger("runtime.training")


class RunEvents:
    """The run's events: JSON lines on the real stdout (rank 0 only) and in ``progress.jsonl``."""

    def __init__(self, stream: TextIO | None, file: Path | None) -> None:
        self._stdout = Emitter(stream) if stream is not None else None
        self._file = file.open("a", encoding="utf-8") if file is not None else None
        self._lock = threading.Lock()

    def __call__(self, event: str, **fields: Any) -> None:
        """Send one event (progress and checkpoints are logged in words too, for the live log)."""
        record = {"event": event, **fields}
        if event == "progress":
            log.info(
                "step %s/%s loss %s lr %.3g tokens/s %s",
                fields.get("step"),
                fields.get("total"),
                fields.get("loss"),
                fields.get("lr") or 0.0,
                fields.get("tokens_per_s"),
            )
        elif event == "checkpoint":
            log.info("checkpoint saved: %s", fields.get("path"))
        elif event == "evaluation":
            log.info(
                "validation at step %s/%s: eval loss %s, perplexity %s (%s sequences)",
                fields.get("step"),
                fields.get("total"),
                fields.get("eval_loss"),
                fields.get("perplexity"),
                fields.get("examples"),
            )
        if self._stdout is not None:
            self._stdout(record)
        if self._file is not None:
            with self._lock:
                try:
                    self._file.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
                    self._file.flush()
                except (OSError, ValueError):
                    pass


class StopFlag:
    """Set by SIGINT: the training loop saves a checkpoint at the end of the current step and stops."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def __bool__(self) -> bool:
        return self.event.is_set()


def progress_callback(
    emit: Callable[..., None], stop: StopFlag, tokens_per_step: float, output: Path, *, eval_examples: int = 0
) -> Any:
    import torch
    from transformers import TrainerCallback

    class Progress(TrainerCallback):  # type: ignore[misc]
        """Turns the Trainer's logs into progress lines; turns a stop request into a checkpoint and the end."""

        def __init__(self) -> None:
            self.last_time = time.monotonic()
            self.last_step = 0
            self.started = time.monotonic()
            self.first_step = 0

        def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            self.last_time = self.started = time.monotonic()
            self.last_step = self.first_step = int(state.global_step)

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            if not state.is_world_process_zero or not logs or "loss" not in logs:
                return
            now = time.monotonic()
            step, total = int(state.global_step), int(state.max_steps)
            steps = max(1, step - self.last_step)
            seconds = max(1e-9, now - self.last_time)
            overall = (now - self.started) / max(1, step - self.first_step)
            memory = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else None
            loss = float(logs["loss"])
            emit(
                "progress",
                step=step,
                total=total,
                loss=loss if math.isfinite(loss) else None,
                lr=float(logs.get("learning_rate", 0.0)),
                grad_norm=finite(logs.get("grad_norm")),
                tokens_per_s=round(tokens_per_step * steps / seconds, 1),
                gpu_memory_mb=round(memory, 1) if memory is not None else None,
                eta_s=round(overall * max(0, total - step), 1),
                epoch=finite(state.epoch),
            )
            self.last_time, self.last_step = now, step

        def on_evaluate(
            self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kw: Any
        ) -> None:
            if not state.is_world_process_zero or not metrics or "eval_loss" not in metrics:
                return
            loss = finite(metrics["eval_loss"])
            emit(
                "evaluation",
                step=int(state.global_step),
                total=int(state.max_steps),
                eval_loss=loss,
                perplexity=evaluation.perplexity(loss) if loss is not None else None,
                examples=eval_examples,
            )

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            requested = bool(stop)
            if torch.distributed.is_available() and torch.distributed.is_initialized():
                # Every rank stops at the same step, or the others would wait forever in the next one.
                flag = torch.tensor([1.0 if requested else 0.0], device=args.device)
                torch.distributed.all_reduce(flag, op=torch.distributed.ReduceOp.MAX)
                requested = bool(flag.item())
            if requested:
                control.should_save = True
                control.should_training_stop = True
                # The checkpoint first: an evaluation due now could outlast the stop's grace period.
                control.should_evaluate = False

        def on_save(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if state.is_world_process_zero:
                emit("checkpoint", step=int(state.global_step), path=str(output / f"checkpoint-{state.global_step}"))

    return Progress()


def finite(value: object) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None
