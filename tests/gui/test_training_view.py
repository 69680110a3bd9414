"""The training window: a tiny run started from it draws its loss and stops; the preview counts tokens."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.controllers.training import TrainingController
from app.views.training_view import TrainingView
from runtime.training.launcher import RunState
from tests.conftest import SHIPPED_TOKENIZERS, data_file
from tests.cuda import cuda_available
from tests.gui.clicks import choose_in_combo, choose_menu, click, type_text
from tests.unit.training.helpers import build_tiny_llama

RUN_TIMEOUT_MS = 300_000


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model")
    return build_tiny_llama(tmp_path_factory.mktemp("tiny"), tokenizer, seed=7)


def _window(qtbot) -> tuple[TrainingView, TrainingController]:
    view = TrainingView()
    qtbot.addWidget(view)
    controller = TrainingController(view)
    view.preset.setCurrentIndex(view.preset.findData("tiny-test"))
    return view, controller


def test_a_tiny_run_from_the_window_draws_its_loss_and_stops(qtbot, tiny_model: Path, zh_samples: Path) -> None:
    view, controller = _window(qtbot)
    assert view.max_steps.value() == 200 and view.block_size.value() == 64  # the preset's values
    view.model.setText(str(tiny_model))
    view.dataset.setText(str(zh_samples))
    view.max_steps.setValue(5000)
    view.block_size.setValue(32)
    view.batch_size.setValue(2)
    assert view.validation_split_percentage.value() == 0.01 and view.eval_steps.value() == 50  # the preset's
    view.validation_split_percentage.setValue(0.002)  # 11 sequences: each evaluation is short
    view.eval_steps.setValue(2)
    view.start_button.click()
    assert controller.handle is not None, view.notice.text()
    assert not view.start_button.isEnabled() and view.stop_button.isEnabled()
    qtbot.waitUntil(lambda: len(view.chart.points) >= 3, timeout=RUN_TIMEOUT_MS)
    # The held-out share's loss every 2 steps: the chart's second line.
    qtbot.waitUntil(lambda: len(view.chart.eval_points) >= 1, timeout=RUN_TIMEOUT_MS)
    assert view.chart.eval_points[0][0] == 2 and "validation loss" in view.chart.legend()
    steps = [step for step, _, _ in view.chart.points]
    assert steps == sorted(steps) and steps[0] >= 1
    assert "of 5000" in view.status.text()
    qtbot.waitUntil(lambda: "step " in view.log.toPlainText(), timeout=10_000)
    with qtbot.waitSignal(controller.ended, timeout=RUN_TIMEOUT_MS) as ended:
        view.stop_button.click()
    outcome = ended.args[0]
    assert outcome.state is RunState.STOPPED and outcome.checkpoint
    assert Path(outcome.checkpoint, "adapter_model.safetensors").is_file()
    assert view.start_button.isEnabled() and not view.stop_button.isEnabled()
    assert "stopped" in view.status.text()
    qtbot.waitUntil(lambda: view.history.rowCount() == 1 and view.history.item(0, 3).text() == "stopped")

    # Start again with the same recipe: the run goes on from the stopped run's checkpoint.
    view.start_button.click()
    assert controller.spec is not None and str(Path(outcome.checkpoint).parent) == controller.spec.output_dir
    qtbot.waitUntil(lambda: len(view.chart.points) >= 1, timeout=RUN_TIMEOUT_MS)
    assert view.chart.points[0][0] == outcome.last_step + 1
    with qtbot.waitSignal(controller.ended, timeout=RUN_TIMEOUT_MS):
        view.stop_button.click()
    qtbot.waitUntil(lambda: view.history.rowCount() == 2)


def test_the_preview_counts_tokens_and_a_bad_recipe_is_named(qtbot, tiny_model: Path, zh_sft_sample: Path) -> None:
    view, _controller = _window(qtbot)
    view.kind.setCurrentIndex(view.kind.findData("sft"))
    view.model.setText(str(tiny_model))
    view.dataset.setText(str(zh_sft_sample))
    view.preview_button.click()
    qtbot.waitUntil(lambda: view.preview.rowCount() == 5, timeout=30_000)
    first = view.preview.item(0, 0).text()
    assert first.startswith("如何将PyTorch的FP32模型保存为半精度")
    tokens, learned = (int(view.preview.item(0, c).text().replace(",", "")) for c in (1, 2))
    assert 0 < learned < tokens  # the prompt's tokens are not learned

    view.dataset.setText(str(zh_sft_sample.parent / "no-such-file.json"))
    view.preview_button.click()
    qtbot.waitUntil(lambda: not view.notice.isHidden() and "no-such-file.json" in view.notice.text(), timeout=30_000)

    view.model.setText("")
    view.start_button.click()
    assert "model" in view.notice.text()
    assert view.start_button.isEnabled()


def test_a_run_on_a_saved_host_shows_its_phases_and_downloads_its_adapter(
    qtbot, tiny_model: Path, zh_sft_sample: Path, tmp_path: Path
) -> None:
    from runtime.training.remote import accept_host_key, add_host
    from tests.sshd import make_sshd
    from tests.unit.training.remote.conftest import host_for, server_key

    server = make_sshd(tmp_path / "sshd").start()
    try:
        host = host_for(server, tmp_path / "jobs")
        add_host(host)
        accept_host_key(host, server_key(server))
        view, controller = _window(qtbot)
        targets = [view.target.itemText(i) for i in range(view.target.count())]
        assert targets == ["This computer", f"gpu-box ({host.target})"]
        view.target.setCurrentIndex(1)
        view.kind.setCurrentIndex(view.kind.findData("sft"))
        view.model.setText(str(tiny_model))
        view.dataset.setText(str(zh_sft_sample))
        view.max_steps.setValue(2)
        view.batch_size.setValue(2)
        outcomes: list[object] = []
        controller.ended.connect(outcomes.append)
        bar: list[int] = []
        view.download_progress.valueChanged.connect(bar.append)
        view.start_button.click()
        assert controller.handle is not None, view.notice.text()
        phases: list[str] = []
        # Connecting takes longer than this line: no phase is missed. (Polling the status label
        # instead would miss phases shorter than the window's 300 ms poll.)
        controller.handle.add_listener(lambda e: phases.append(e["phase"]) if e.get("event") == "remote" else None)
        qtbot.waitUntil(lambda: bool(outcomes), timeout=RUN_TIMEOUT_MS)
        assert outcomes[0].state is RunState.FINISHED  # type: ignore[attr-defined]
        assert phases == ["running", "finished"]
        assert len(view.chart.points) == 2
        qtbot.waitUntil(lambda: view.merge_button.isEnabled(), timeout=120_000)
        assert "downloaded" in view.status.text() and view.download_button.isHidden()
        assert " MB)" in view.status.text()  # the adapter's size
        assert bar and bar[-1] == 1000 and view.download_progress.isHidden()  # the bar went to the end
        adapter = Path(controller._outcome.adapter)
        assert (adapter / "adapter_config.json").is_file() and adapter.is_relative_to(tmp_path)
        qtbot.waitUntil(lambda: view.history.rowCount() == 1 and view.history.item(0, 3).text() == "finished")
        assert view.history.item(0, 2).text() == "gpu-box"
    finally:
        server.stop()


def test_a_window_opened_while_a_remote_run_goes_on_re_attaches_to_it(
    qtbot, tiny_model: Path, zh_sft_sample: Path, tmp_path: Path
) -> None:
    from runtime.training.launcher import JobSpec, parse_progress
    from runtime.training.remote import accept_host_key, add_host
    from runtime.training.remote.target import RemoteTarget
    from tests.sshd import make_sshd
    from tests.unit.training.remote.conftest import host_for, server_key

    server = make_sshd(tmp_path / "sshd").start()
    try:
        host = host_for(server, tmp_path / "jobs")
        add_host(host)
        accept_host_key(host, server_key(server))
        spec = JobSpec(
            kind="sft", model=str(tiny_model), dataset=str(zh_sft_sample), block_size=64, batch_size=2,
            max_steps=30, tiny_test=True,
        )  # fmt: skip
        first = RemoteTarget(host).start(spec)
        for event in first.events(timeout=RUN_TIMEOUT_MS / 1000):
            if parse_progress(event) is not None:
                break
        first.detach()  # as when the app closed: the job goes on

        view, controller = _window(qtbot)
        qtbot.waitUntil(lambda: controller.handle is not None, timeout=30_000)
        assert controller.handle.job_id == first.job_id
        assert view.target.currentText().startswith("gpu-box")
        outcomes: list[object] = []
        controller.ended.connect(outcomes.append)
        qtbot.waitUntil(lambda: bool(outcomes), timeout=RUN_TIMEOUT_MS)
        assert outcomes[0].state is RunState.FINISHED  # type: ignore[attr-defined]
        assert [step for step, _, _ in view.chart.points] == list(range(1, 31))  # the replayed steps too
        qtbot.waitUntil(lambda: view.merge_button.isEnabled(), timeout=120_000)
    finally:
        server.stop()


def test_the_shown_window_checks_this_computer_and_says_what_is_missing(qtbot) -> None:
    view, _controller = _window(qtbot)
    assert view.target_status.text() == ""  # nothing is checked before the window is shown
    view.show()
    qtbot.waitUntil(lambda: view.target_status.text().startswith("Ready"), timeout=120_000)
    cuda = cuda_available()
    assert ("CPU" in view.target_status.text()) != cuda  # the tiny test needs no GPU, and uses one if there
    view.preset.setCurrentIndex(view.preset.findData("sft"))
    if cuda:  # a GPU machine: a real recipe is ready too, on its GPU
        qtbot.waitUntil(lambda: view.target_status.text().startswith("Ready: "), timeout=120_000)
        return
    qtbot.waitUntil(lambda: "CUDA" in view.notice.text(), timeout=120_000)
    assert not view.notice.isHidden()


@pytest.mark.timeout(3 * RUN_TIMEOUT_MS // 1000 + 300)  # two runs, the merge, the check: each has its net
def test_a_merged_model_goes_on_to_the_convert_wizard(qtbot, tiny_model: Path, zh_samples: Path) -> None:
    """Tools → Advanced: LoRA training…, a run started and stopped with the mouse, a finished run
    merged with the real merge job: its end shows "Convert to GGUF…", which opens the wizard on
    the merged folder."""
    from app.main_window import AppContext, MainWindow

    context = AppContext.open(show_errors=False)
    window = MainWindow(context)
    window._replaced = True
    qtbot.addWidget(window)
    window.show()
    try:
        choose_menu(qtbot, window, "Tools", "Advanced: LoRA training…")
        view, controller = window._training_view, window._training_controller
        qtbot.waitExposed(view)
        assert not view.convert_button.isVisible() and not view.merge_button.isEnabled()
        choose_in_combo(qtbot, view.preset, "tiny-test")
        type_text(qtbot, view.model, str(tiny_model), replace=True)
        type_text(qtbot, view.dataset, str(zh_samples), replace=True)
        type_text(qtbot, view.block_size, "32", replace=True)
        type_text(qtbot, view.batch_size, "2", replace=True)
        type_text(qtbot, view.max_steps, "5000", replace=True)  # far more than the test waits for
        assert (view.block_size.value(), view.batch_size.value(), view.max_steps.value()) == (32, 2, 5000)
        outcomes: list = []
        controller.ended.connect(outcomes.append)

        # Start, and Stop once the loss is drawn: the run ends stopped, with nothing to merge.
        click(qtbot, view.start_button)
        assert controller.handle is not None, view.notice.text()
        assert not view.start_button.isEnabled()
        qtbot.waitUntil(lambda: len(view.chart.points) >= 1, timeout=RUN_TIMEOUT_MS)
        click(qtbot, view.stop_button)
        qtbot.waitUntil(lambda: len(outcomes) == 1, timeout=RUN_TIMEOUT_MS)
        assert outcomes[0].state is RunState.STOPPED and outcomes[0].last_step < 5000
        assert "stopped" in view.status.text()
        assert not view.merge_button.isEnabled() and not view.convert_button.isVisible()

        # A run of two steps finishes: its adapter can be merged.
        type_text(qtbot, view.max_steps, "2", replace=True)
        click(qtbot, view.start_button)
        qtbot.waitUntil(lambda: len(outcomes) == 2, timeout=RUN_TIMEOUT_MS)
        finished = outcomes[1]
        assert finished.state is RunState.FINISHED and finished.adapter, view.status.text()
        assert not view.convert_button.isVisible()

        # The merge is the real lora-merge job; its end, and nothing else, shows the button.
        merged: list[str] = []
        controller.merged.connect(merged.append)
        click(qtbot, view.merge_button)
        qtbot.waitUntil(lambda: bool(merged) or view.merge_button.isEnabled(), timeout=RUN_TIMEOUT_MS)
        assert merged, view.status.text()  # the merge button comes back only when the merge failed
        folder = Path(merged[0])
        assert folder == Path(finished.adapter).parent / "merged"
        assert (folder / "config.json").is_file() and list(folder.glob("*.safetensors"))
        assert view.convert_button.isVisible() and "Merged into" in view.status.text()

        click(qtbot, view.convert_button)
        wizard = window._convert_wizard
        assert wizard.isVisible() and wizard.folder_edit.text() == str(folder)
        # The wizard checks the folder at once, in its job process: a Hugging Face LLaMA folder.
        qtbot.waitUntil(lambda: "safetensors" in wizard.inspection_label.text(), timeout=120_000)
        wizard.close()
        view.close()
    finally:
        context.close()
