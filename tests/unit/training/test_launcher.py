"""The job specification, the launch argv and the progress lines (no torch needed)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from runtime.training import registry
from runtime.training.launcher import (
    LORA_MODULES,
    JobSpec,
    LocalTarget,
    RunState,
    SpecError,
    build_command,
    build_env,
    parse_progress,
)
from tests.cuda import cuda_available


def _spec(**changes: object) -> JobSpec:
    return JobSpec(kind="sft", model="/models/llama", dataset="/data/sft.json").replace(**changes)


def test_spec_round_trips_through_json_with_the_paper_defaults(tmp_path: Path) -> None:
    spec = _spec(devices=(0, 1), processes=2, lora_rank=16)
    path = spec.write(tmp_path / "job.json")
    again = JobSpec.read(path)
    assert again == spec
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["lora_modules"] == list(LORA_MODULES)
    # Both generations' scripts: cosine, clipping 1.0, one epoch. The recipe's own fields stay empty
    # (null) until the run fills them for its kind and the tokenizer's generation (test_presets.py).
    assert (again.lr_scheduler, again.max_grad_norm, again.epochs) == ("cosine", 1.0, 1.0)
    assert (data["learning_rate"], data["warmup_ratio"], data["weight_decay"], data["generation"]) == (
        None,
        None,
        None,
        0,
    )
    missing = {key: value for key, value in data.items() if value is not None}
    assert JobSpec.from_dict(missing) == spec  # a spec without them reads the same


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "rlhf"}, "kind"),
        ({"learning_rate": 5}, "learning_rate"),
        ({"lora_rank": 0}, "lora_rank"),
        ({"lora_modules": ["q_proj", "mlp"]}, "lora_modules"),
        ({"block_size": "512"}, "block_size"),
        ({"tiny_test": 1}, "tiny_test"),
        ({"surprise": True}, "surprise"),
        ({"learning_rate": float("nan")}, "learning_rate"),
        ({"weight_decay": 2.0}, "weight_decay"),
        ({"generation": 3}, "generation"),
        ({"train_embeddings": "sometimes"}, "train_embeddings"),
        ({"lr_scheduler": None}, "lr_scheduler"),
        ({"job_id": "../../etc"}, "job_id"),
        ({"devices": [0], "processes": 2}, "processes"),
        ({"version": 99}, "version"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, object], field: str) -> None:
    data = {**_spec().to_dict(), **change}
    with pytest.raises(SpecError) as caught:
        JobSpec.from_dict(data)
    assert caught.value.params["field"] == field
    assert caught.value.code == "training_spec_invalid"


def test_a_spec_file_that_is_not_json_or_too_large_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "job.json"
    bad.write_text("{ not json", encoding="utf-8")
    with pytest.raises(SpecError, match="not JSON") as caught:
        JobSpec.read(bad)
    assert str(bad) in str(caught.value)
    bad.write_bytes(b" " * (300 * 1024))
    with pytest.raises(SpecError, match="larger than"):
        JobSpec.read(bad)
    with pytest.raises(SpecError, match="missing"):
        JobSpec.from_dict({"kind": "sft", "model": "m"})


def test_the_argv_runs_the_script_and_torchrun_for_several_gpus() -> None:
    assert build_command(_spec(), "/runs/x/spec.json", python="/py") == [
        "/py",
        "-m",
        "runtime.training.sft",
        "--spec",
        "/runs/x/spec.json",
    ]
    argv = build_command(_spec(kind="pretrain", processes=4), "/s.json", python="/py")
    assert argv[:4] == ["/py", "-m", "torch.distributed.run", "--standalone"]
    assert "--nproc-per-node=4" in argv

    assert argv[-3:] == ["runtime.training.pretrain", "--spec", "/s.json"]
    assert build_command(_spec(), "s.json")[0] == sys.executable
    assert build_env(_spec(devices=(2, 3), processes=2))["CUDA_VISIBLE_DEVICES"] == "2,3"
    assert "CUDA_VISIBLE_DEVICES" not in build_env(_spec())


def test_progress_lines_are_checked() -> None:
    line = {"event": "progress", "step": 3, "total": 10, "loss": 2.5, "lr": 1e-4, "tokens_per_s": 100, "eta_s": 7}
    progress = parse_progress(line)
    assert progress is not None and (progress.step, progress.total, progress.loss) == (3, 10, 2.5)
    assert progress.gpu_memory_mb is None
    assert parse_progress({"event": "progress", "step": "3", "total": 10}) is None
    assert parse_progress({"event": "progress", "step": -1, "total": 10}) is None
    assert parse_progress({"event": "log", "line": "x"}) is None
    bad_loss = parse_progress({"event": "progress", "step": 1, "total": 2, "loss": "nan"})
    assert bad_loss is not None and bad_loss.loss is None


def test_the_registry_keeps_runs_and_refuses_damaged_records() -> None:
    record = registry.create_run(_spec(kind="pretrain"), target="local")
    assert record.job_id.startswith("pretrain-")
    assert record.spec.job_id == record.job_id
    assert Path(record.spec.output_dir) == record.run_dir / "output"
    registry.update_run(record.job_id, state=RunState.FINISHED.value, last_step=7, last_loss=1.5)
    again = registry.load_run(record.job_id)
    assert (again.state, again.last_step, again.last_loss) == ("finished", 7, 1.5)
    assert [r.job_id for r in registry.list_runs()] == [record.job_id]
    (record.run_dir / "run.json").write_text('{"job_id": 5}', encoding="utf-8")
    with pytest.raises(registry.RunNotFound) as caught:
        registry.load_run(record.job_id)
    assert caught.value.code == "training_run_damaged"
    assert registry.list_runs() == []
    with pytest.raises(registry.RunNotFound):
        registry.load_run("../etc")


def test_a_local_run_whose_process_is_gone_is_marked_failed() -> None:
    record = registry.create_run(_spec(), target="local")
    registry.update_run(record.job_id, state="running", pid=2**22 + 12345, created=0.0)
    refreshed = registry.refresh(registry.load_run(record.job_id))
    assert refreshed.state == "failed" and refreshed.code == "training_run_lost"


def test_a_python_without_the_train_extra_is_told_how_to_get_it(tmp_path: Path) -> None:
    import venv

    venv.EnvBuilder(with_pip=False, system_site_packages=False).create(tmp_path / "bare")
    bare_python = tmp_path / "bare" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    check = LocalTarget(str(bare_python)).check()
    assert not check.ready
    assert set(check.missing) == {"torch", "transformers", "peft", "accelerate"}
    assert check.code == "training_extra_missing"
    assert "pip install 'alpaca-desk[train]'" in check.message and str(bare_python) in check.message


def test_this_python_has_the_extra_and_real_runs_need_cuda() -> None:
    target = LocalTarget()
    real = target.check(_spec())
    tiny = target.check(_spec(tiny_test=True))
    assert not real.missing and tiny.ready
    if cuda_available():  # a GPU machine: real runs are ready on its devices
        assert real.ready and real.devices
    else:  # CI and this project's machines: only the tiny test, on the CPU
        assert not real.ready and real.code == "training_no_cuda"
        assert tiny.devices == ()


# -- issue 20, item 10: an output folder that arrived inside a spec --------------------------------


def test_an_output_folder_outside_the_data_folder_is_not_honoured(isolated_dirs: Path, tmp_path: Path) -> None:
    from runtime.paths import app_paths
    from runtime.training.launcher import check_output_dir

    data = app_paths().ensure().data
    inside = data / "training" / "mine"
    assert check_output_dir(str(inside)) == inside.resolve()
    link = data / "elsewhere"
    link.symlink_to(tmp_path, target_is_directory=True)
    for folder in ("/etc/alpaca-desk-out", str(data / ".." / "outside"), str(link / "out"), "relative/out"):
        with pytest.raises(SpecError) as caught:
            check_output_dir(folder)
        assert caught.value.code == "training_output_outside"
        assert caught.value.params == {"folder": folder, "data": str(data.resolve())}
    with pytest.raises(SpecError) as named:
        check_output_dir("/etc/alpaca-desk-out", spec_file="job.json")
    assert named.value.code == "training_output_outside_spec"
    assert "job.json" in str(named.value) and "--out /etc/alpaca-desk-out" in str(named.value)


def test_a_local_run_refuses_an_unchosen_output_folder_before_anything(isolated_dirs: Path, tmp_path: Path) -> None:
    target = tmp_path / "not-chosen"
    with pytest.raises(SpecError) as caught:
        LocalTarget().start(_spec(output_dir=str(target), tiny_test=True))
    assert caught.value.code == "training_output_outside"
    assert registry.list_runs() == [] and not registry.runs_dir().exists()
    assert not target.exists()
