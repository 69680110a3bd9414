"""The training window's logic: presets, the dataset preview, starting and following a run, the merge.

Runs go through the Qt-free target interface of :mod:`runtime.training.launcher`: this computer
(:class:`~runtime.training.launcher.LocalTarget`) and the saved SSH hosts
(:class:`~runtime.training.remote.target.RemoteTarget`: its phases show in the status line, and a
finished run's adapter is downloaded into the run's folder here before it can be merged).
Nothing slow happens on the GUI thread: the environment check, the preview, waiting for a run's end
and the history are tasks (:func:`app.tasks.run_task`); a timer polls the run's events and log.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from shiboken6 import isValid

from app.job_runner import JobRunner
from app.messages import error_text, user_message
from app.tasks import run_task
from app.views.training_view import TrainingView
from runtime.errors import AppError
from runtime.jobs import Progress
from runtime.training import data, marking, prepare, registry
from runtime.training.evaluation import Evaluation, parse_evaluation
from runtime.training.launcher import (
    JobSpec,
    LocalTarget,
    RunHandle,
    RunOutcome,
    RunState,
    TargetCheck,
    TrainingTarget,
    parse_progress,
)
from runtime.training.presets import PRESETS, resolve
from runtime.training.remote.target import RemoteRunHandle, RemoteTarget, available_targets
from runtime.training.spec import RECIPE_FIELDS

#: Milliseconds between polls of a running run's events and log.
POLL_MS = 300


class TrainingController(QObject):
    """Wires a :class:`TrainingView` to the training targets.

    Signals:
        progress(object): each checked progress line (:class:`~runtime.training.launcher.TrainProgress`).
        ended(object): the run's :class:`~runtime.training.launcher.RunOutcome`.
        merged(str): the folder a merge wrote.
        convert_requested(str): the user wants that folder converted to GGUF (the wizard opens).
    """

    progress = Signal(object)
    ended = Signal(object)
    merged = Signal(str)
    convert_requested = Signal(str)
    #: Bytes of the adapter downloaded and in all (emitted on the download's thread, shown on the GUI's).
    _download_bytes = Signal(object, object)

    def __init__(self, view: TrainingView, *, targets: list[TrainingTarget] | None = None) -> None:
        super().__init__(view)
        self.view = view
        self.targets: list[TrainingTarget] = []
        self.handle: RunHandle | None = None
        self.spec: JobSpec | None = None
        self._log_offset = 0
        self._evaluation: Evaluation | None = None
        self._outcome: RunOutcome | None = None
        self._remote_finished: RemoteRunHandle | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._merge_runner = JobRunner(self)
        # The environment check starts a Python that imports torch (seconds): it gets a pool of its
        # own, so it never holds the shared pool's threads (two on a two-core machine) from the
        # window's other tasks; and each target is checked once per kind of run.
        self._check_pool = QThreadPool(self)
        self._check_pool.setMaxThreadCount(1)
        self._checks: dict[tuple[int, bool], TargetCheck] = {}
        self._merge_runner.finished.connect(self._merge_done)

        for name, preset in PRESETS.items():
            view.preset.addItem(self._preset_label(name) or preset.label, name)
        view.preset.currentIndexChanged.connect(self._apply_preset)
        view.preview_button.clicked.connect(self.preview)
        view.start_button.clicked.connect(self.start)
        view.stop_button.clicked.connect(self.stop)
        view.merge_button.clicked.connect(self.merge)
        view.convert_button.clicked.connect(lambda: self.convert_requested.emit(self.merged_folder))
        self.merged_folder = ""
        view.download_button.clicked.connect(self.download_adapter)
        self._download_bytes.connect(self._show_download)
        view.target.currentIndexChanged.connect(lambda _index: self.check_target())
        if targets is None:
            targets = available_targets()
        # The check starts a Python that imports torch: only for a window the user sees.
        view.shown.connect(self.check_target)
        for target in targets or [LocalTarget()]:
            self.add_target(target)
        self._apply_preset()
        self.refresh_history()
        self.reattach()

    def _preset_label(self, name: str) -> str:
        return {
            "llama-pretrain": self.tr("Chinese-LLaMA: pre-training with LoRA"),
            "llama-pretrain-stage1": self.tr("Chinese-LLaMA 7B, stage 1 of 2: input embeddings only"),
            "alpaca-sft": self.tr("Chinese-Alpaca: instruction fine-tuning with LoRA"),
            "llama-2-pretrain": self.tr("Chinese-LLaMA-2: pre-training with LoRA"),
            "alpaca-2-sft": self.tr("Chinese-Alpaca-2: instruction fine-tuning with LoRA"),
            "tiny-test": self.tr("Tiny test on the CPU (a tiny model only)"),
        }.get(name, "")

    # -- targets --

    def add_target(self, target: TrainingTarget) -> None:
        """Offer ``target`` in the target list (the SSH hosts add themselves here)."""
        self.targets.append(target)
        label = self.tr("This computer") if target.kind == "local" else target.label
        self.view.target.addItem(label, len(self.targets) - 1)

    @property
    def target(self) -> TrainingTarget:
        """The chosen target."""
        index = self.view.target.currentData()
        return self.targets[index if isinstance(index, int) else 0]

    def check_target(self) -> None:
        """Check the chosen target while the window is shown (a task: it starts a Python that imports torch)."""
        if not self.view.isVisible() or not self.targets:
            return
        target = self.target
        tiny = bool(self._preset_fields().get("tiny_test"))
        key = (id(target), tiny)
        if key in self._checks:
            self._checked(self._checks[key], None)
            return
        self.view.target_status.setText(self.tr("Checking {target}…").format(target=self.view.target.currentText()))

        def check() -> TargetCheck:
            probe = JobSpec(kind="pretrain", model="-", dataset="-", tiny_test=tiny)
            result = target.check(probe)
            self._checks[key] = result
            return result

        run_task(check, self._checked, pool=self._check_pool)

    def _checked(self, check: TargetCheck | None, error: BaseException | None) -> None:
        if not isValid(self.view):
            return  # the window was closed and deleted while the task ran
        if error is not None or check is None:
            self.view.target_status.setText(error_text(error) if error else "")
            return
        if check.ready:
            devices = ", ".join(check.devices) or self.tr("the CPU (tiny test)")
            self.view.target_status.setText(self.tr("Ready: {devices}").format(devices=devices))
        else:
            text = user_message(check.code, check.params, check.message)
            self.view.target_status.setText(text)
            self.view.show_notice(text)

    # -- recipe --

    def _preset_fields(self) -> dict[str, Any]:
        name = self.view.preset.currentData()
        preset = PRESETS.get(name) if isinstance(name, str) else None
        return dict(preset.fields) if preset is not None else {}

    def _apply_preset(self) -> None:
        preset = self._preset_fields()
        kind = preset.get("kind", "pretrain")
        # The form shows every value: a preset's own, else its kind's and generation's recipe, else the spec's default.
        defaults = JobSpec(kind=kind, model="-", dataset="-", generation=preset.get("generation", 0))
        defaults = resolve(defaults, 0)
        shown = {key: getattr(defaults, key) for key in self.view.spec_fields() if key not in ("model", "dataset")}
        shown.pop("tokenizer", None)
        self.view.apply_fields({**shown, **preset})
        self.check_target()

    def build_spec(self) -> JobSpec:
        """The spec of the form: the preset's fields, then what the form shows.

        A preset's fields the form does not show (warm-up, weight decay) are its kind's: when the form's
        kind is another, they are left to the run (the recipe of that kind and the tokenizer's generation).

        Raises:
            SpecError: A field is not valid.
        """
        preset = self._preset_fields()
        fields = self.view.spec_fields()
        if preset.get("kind") != fields["kind"]:
            preset = {key: value for key, value in preset.items() if key not in RECIPE_FIELDS and key != "generation"}
        return JobSpec.from_dict({**preset, **fields})

    def preview(self) -> None:
        """Show the dataset's first records and their token counts, and the first training sequences
        with the learned part marked (a task)."""
        fields = self.view.spec_fields()
        kind, dataset = fields["kind"], fields["dataset"]
        tokenizer = fields["tokenizer"] or fields["model"]
        preset = self._preset_fields()
        generation = preset.get("generation", 0) if preset.get("kind") == kind else 0

        try:
            spec: JobSpec | None = self.build_spec()
        except AppError:
            spec = None  # the counts need only the dataset and tokenizer; the sequences need the whole recipe

        def work() -> tuple[list[data.PreviewRow], list[list[marking.Segment]]]:
            rows = prepare.preview(kind, dataset, tokenizer, generation=generation)
            return rows, marking.marked_examples(spec, examples=3) if spec is not None else []

        self.view.preview_button.setEnabled(False)
        run_task(work, self._previewed)

    def _previewed(
        self, result: tuple[list[data.PreviewRow], list[list[marking.Segment]]] | None, error: BaseException | None
    ) -> None:
        if not isValid(self.view):
            return  # the window was closed and deleted while the task ran
        self.view.preview_button.setEnabled(True)
        if error is not None or result is None:
            self.view.show_notice(error_text(error) if error else "")
            self.view.show_preview([])
            self.view.show_marked([])
            return
        rows, marked = result
        self.view.show_notice("")
        self.view.show_preview([(row.text, row.tokens, row.learned) for row in rows])
        self.view.show_marked(marked)

    # -- the run --

    def start(self) -> None:
        """Start a run of the form's spec on the chosen target."""
        if self.handle is not None:
            return
        try:
            spec = self.build_spec()
            previous = self.spec
            if (
                previous is not None
                and self._outcome is not None
                and self._outcome.state is RunState.STOPPED
                and self._outcome.checkpoint
                and spec == previous.replace(job_id="", output_dir="")
            ):
                # The same recipe after a stop: train on in the stopped run's folder, from its checkpoint.
                spec = spec.replace(output_dir=previous.output_dir)
            handle = self.target.start(spec)
        except AppError as exc:
            self.view.show_notice(error_text(exc))
            return
        self._follow(handle, spec)

    def reattach(self) -> None:
        """Follow again the newest run on a saved host that had not ended when the app last closed
        (a task finds it: the registry is files)."""

        def find() -> registry.RunRecord | None:
            remote = {t.name for t in self.targets if isinstance(t, RemoteTarget)}
            return next(
                (r for r in registry.list_runs() if r.target in remote and not RunState(r.state).ended),
                None,
            )

        run_task(find, self._reattach_found)

    def _reattach_found(self, record: registry.RunRecord | None, error: BaseException | None) -> None:
        if not isValid(self.view) or record is None or self.handle is not None:
            return
        target = next(t for t in self.targets if isinstance(t, RemoteTarget) and t.name == record.target)
        try:
            spec = record.spec
            handle = target.attach(record.job_id)
        except AppError as exc:
            self.view.show_notice(error_text(exc))
            return
        self.view.target.setCurrentIndex(self.targets.index(target))
        self._follow(handle, spec)

    def _follow(self, handle: RunHandle, spec: JobSpec) -> None:
        """Show ``handle``'s run: chart, log, status, buttons; its end arrives in :meth:`_run_ended`."""
        self.view.show_notice("")
        self.handle, self._outcome, self._log_offset, self._evaluation = handle, None, 0, None
        self.spec = spec.replace(job_id=handle.job_id, output_dir=str(getattr(handle, "output_dir", spec.output_dir)))
        self.view.chart.clear()
        self.view.log.clear()
        self.view.status.setText(self.tr("Run {job} is starting…").format(job=handle.job_id))
        self.view.start_button.setEnabled(False)
        self.view.stop_button.setEnabled(True)
        self.view.merge_button.setEnabled(False)
        self._timer.start()
        run_task(handle.wait, self._run_ended)  # waits on a pool thread
        self.refresh_history()

    def stop(self) -> None:
        """Ask the run to stop (it saves a checkpoint)."""
        if self.handle is not None:
            self.handle.stop()
            self.view.stop_button.setEnabled(False)
            self.view.status.setText(self.tr("Stopping after the current step…"))

    def _poll(self) -> None:
        handle = self.handle
        if handle is None:
            return
        for event in handle.poll():
            evaluation = parse_evaluation(event)
            if evaluation is not None:
                self._evaluation = evaluation
                self.view.chart.add_eval_point(evaluation.step, evaluation.eval_loss, evaluation.total)
                continue
            progress = parse_progress(event)
            if progress is None:
                self._remote_event(event)
                continue
            if progress.loss is not None:
                self.view.chart.add_point(progress.step, progress.loss, progress.lr, progress.total)
            self.view.status.setText(self._progress_text(progress))
            self.progress.emit(progress)
        chunk = handle.log_tail(self._log_offset)
        if chunk.text:
            self.view.log.appendPlainText(chunk.text.rstrip("\n"))
        self._log_offset = chunk.next_offset

    def _remote_event(self, event: dict[str, Any]) -> None:
        """A remote run's phase or upload progress, in the status line."""
        if event.get("event") == "upload" and isinstance(event.get("total"), int):
            self.view.status.setText(
                self.tr("Uploading the job: {done} of {total}").format(
                    done=_size(event.get("done", 0)), total=_size(event["total"])
                )
            )
        elif event.get("event") == "remote":
            phases = {
                "running": self.tr("running"),
                "lost connection": self.tr("connection lost; reconnecting (the run goes on)"),
                "re-attached": self.tr("re-attached"),
            }
            phase = phases.get(str(event.get("phase")))
            if phase is not None:
                self.view.status.setText(
                    self.tr("Run {job} on {host}: {phase}").format(
                        job=event.get("job", ""), host=self.target.label, phase=phase
                    )
                )

    def download_adapter(self) -> None:
        """Download a finished remote run's adapter into its folder here (a task), then allow merging."""
        handle = self._remote_finished
        if handle is None:
            return
        dest = registry.load_run(handle.job_id).run_dir / "adapter"
        self.view.download_button.setEnabled(False)
        self.view.status.setText(self.tr("Downloading the adapter of run {job}…").format(job=handle.job_id))
        self.view.download_progress.setValue(0)
        self.view.download_progress.setVisible(True)
        shown = [-1]

        def progress(p: Progress) -> None:
            # SFTP reports every 32 KiB: the bar moves once per thousandth.
            step = p.done * 1000 // p.total if p.total else 1000
            if step != shown[0]:
                shown[0] = step
                self._download_bytes.emit(p.done, p.total)

        def fetch() -> Path:
            if (dest / "adapter_config.json").is_file():
                return dest
            return handle.fetch_adapter(dest, on_progress=progress)

        run_task(fetch, self._downloaded)

    def _show_download(self, done: int, total: int) -> None:
        if not isValid(self.view) or self._remote_finished is None:
            return
        self.view.download_progress.setValue(done * 1000 // total if total else 1000)
        self.view.status.setText(
            self.tr("Downloading the adapter of run {job}: {done} of {size}").format(
                job=self._remote_finished.job_id, done=_size(done), size=_size(total)
            )
        )

    def _downloaded(self, folder: Path | None, error: BaseException | None) -> None:
        if not isValid(self.view):
            return  # the window was closed and deleted while the task ran
        self.view.download_progress.setVisible(False)
        if error is not None or folder is None or self._outcome is None:
            self.view.status.setText(error_text(error) if error else "")
            self.view.download_button.setEnabled(True)
            return
        size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
        self._outcome = dataclasses.replace(self._outcome, adapter=str(folder))
        self._remote_finished = None
        self.view.download_button.setVisible(False)
        self.view.merge_button.setEnabled(True)
        self.view.status.setText(
            self.tr("The adapter was downloaded to {path} ({size}).").format(path=str(folder), size=_size(size))
        )

    def _progress_text(self, progress: Any) -> str:
        parts = [self.tr("Step {step} of {total}").format(step=progress.step, total=progress.total)]
        if progress.loss is not None:
            parts.append(self.tr("loss {loss:.4f}").format(loss=progress.loss))
        if self._evaluation is not None:
            parts.append(
                self.tr("validation loss {loss:.4f} (perplexity {perplexity:.2f})").format(
                    loss=self._evaluation.eval_loss, perplexity=self._evaluation.perplexity
                )
            )
        if progress.tokens_per_s is not None:
            parts.append(self.tr("{speed:,.0f} tokens/s").format(speed=progress.tokens_per_s))
        if progress.gpu_memory_mb is not None:
            parts.append(self.tr("GPU memory {gib:.1f} GiB").format(gib=progress.gpu_memory_mb / 1024))
        if progress.eta_s is not None:
            parts.append(self.tr("{eta} left").format(eta=time.strftime("%H:%M:%S", time.gmtime(progress.eta_s))))
        return " · ".join(parts)

    def _run_ended(self, outcome: RunOutcome | None, error: BaseException | None) -> None:
        if not isValid(self.view):
            return  # the window was closed and deleted while the task ran
        self._poll()
        self._timer.stop()
        handle, self.handle = self.handle, None
        self.view.start_button.setEnabled(True)
        self.view.stop_button.setEnabled(False)
        if error is not None or outcome is None:
            self.view.status.setText(error_text(error) if error else "")
            return
        self._outcome = outcome
        job = handle.job_id if handle is not None else ""
        if outcome.state is RunState.FINISHED and isinstance(handle, RemoteRunHandle):
            # The adapter is on the host: it comes here first (automatically; the button retries).
            self._remote_finished = handle
            self.view.download_button.setVisible(True)
            self.download_adapter()
        elif outcome.state is RunState.FINISHED:
            text = self.tr("Run {job} finished: the adapter is in {path}").format(job=job, path=outcome.adapter or "")
            if self._evaluation is not None:
                text += " · " + self.tr("validation loss {loss:.4f} (perplexity {perplexity:.2f})").format(
                    loss=self._evaluation.eval_loss, perplexity=self._evaluation.perplexity
                )
            self.view.status.setText(text)
            self.view.merge_button.setEnabled(bool(outcome.adapter))
        elif outcome.state is RunState.STOPPED:
            text = self.tr("Run {job} stopped at step {step}.").format(job=job, step=outcome.last_step)
            if outcome.checkpoint:
                text += " " + self.tr("Start the same recipe again to resume from its checkpoint.")
            self.view.status.setText(text)
        else:
            message = user_message(outcome.code, outcome.params, outcome.error or "")
            self.view.status.setText(self.tr("Run {job} failed: {message}").format(job=job, message=message))
        self.ended.emit(outcome)
        self.refresh_history()

    # -- merging --

    def merge(self) -> None:
        """Merge the finished run's adapter into its base model, beside the adapter (a job)."""
        if self._outcome is None or not self._outcome.adapter or self.spec is None:
            return
        adapter = Path(self._outcome.adapter)
        out = adapter.parent / "merged"
        self.view.merge_button.setEnabled(False)
        self.view.status.setText(self.tr("Merging the adapter into {model}…").format(model=self.spec.model))
        self._merge_runner.start("lora-merge", base=self.spec.model, adapters=json.dumps([str(adapter)]), out=str(out))

    def _merge_done(self, outcome: Any) -> None:
        if not isValid(self.view):
            return  # the window was closed and deleted while the task ran
        if outcome.ok:
            out = str((outcome.result or {}).get("out", ""))
            self.merged_folder = out
            self.view.status.setText(
                self.tr("Merged into {path}. Convert it to GGUF to chat with it.").format(path=out)
            )
            self.view.convert_button.show()
            self.merged.emit(out)
        else:
            self.view.status.setText(user_message(outcome.code, outcome.params, outcome.error or ""))
            self.view.merge_button.setEnabled(True)

    # -- history --

    def refresh_history(self) -> None:
        """Reload the list of runs (a task)."""
        run_task(_runs_with_parameters, self._show_history)

    def _show_history(self, runs: list[tuple[registry.RunRecord, str]] | None, error: BaseException | None) -> None:
        if not isValid(self.view):
            return  # the window was closed and deleted while the task ran
        states = {
            "starting": self.tr("starting"),
            "running": self.tr("running"),
            "finished": self.tr("finished"),
            "failed": self.tr("failed"),
            "stopped": self.tr("stopped"),
        }
        rows = []
        for record, parameters in runs or []:
            loss = f"{record.last_loss:.4f}" if record.last_loss is not None else ""
            target = self.tr("This computer") if record.target == "local" else record.target
            rows.append(
                (
                    record.job_id,
                    record.kind,
                    target,
                    states.get(record.state, record.state),
                    f"{record.last_step}/{record.total_steps}",
                    loss,
                    parameters,
                )
            )
        self.view.show_history(rows)


def _size(count: object) -> str:
    """Bytes as MB with one decimal (what an upload or an adapter weighs)."""
    return f"{(count if isinstance(count, int) else 0) / 1e6:,.1f} MB"


def _runs_with_parameters() -> list[tuple[registry.RunRecord, str]]:
    """Every run and a one-line summary of its recipe (read from its spec file; a task)."""
    runs = []
    for record in registry.list_runs():
        try:
            spec = record.spec
        except AppError:
            runs.append((record, ""))
            continue
        steps = f"max {spec.max_steps}" if spec.max_steps else f"{spec.epochs:g} ep"
        # A recipe field left empty in the spec shows as "-" (the script filled it in for its generation).
        lr = f"{spec.learning_rate:g}" if spec.learning_rate is not None else "-"
        rank, alpha, block = (v if v is not None else "-" for v in (spec.lora_rank, spec.lora_alpha, spec.block_size))
        summary = (
            f"r{rank} a{alpha} lr {lr} block {block} batch {spec.batch_size}x{spec.grad_accum} {steps} {spec.stage}"
        )
        runs.append((record, summary))
    return runs
