"""The sources a remote job uploads: the training script's closure of runtime modules, complete and
nothing more (no app/, no Qt, no __pycache__), and a clear error where an installation lacks them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.errors import RemoteError
from runtime.training.launcher import SCRIPTS, JobSpec
from runtime.training.remote import sources
from runtime.training.remote.runner import _plan, agent_source, environment_spec
from runtime.training.remote.target import remote_job

REPO_ROOT = Path(__file__).resolve().parents[4]


def test_the_sft_scripts_sources_are_its_runtime_imports_and_nothing_else() -> None:
    found = dict((name, path) for path, name in sources.module_sources([SCRIPTS["sft"]]))
    for needed in (
        "runtime/__init__.py",
        "runtime/training/__init__.py",
        "runtime/training/sft.py",
        "runtime/training/_trainer.py",
        "runtime/training/launcher.py",
        "runtime/errors.py",
        "runtime/jobs/__init__.py",
        "runtime/jobs/child.py",
    ):
        assert needed in found, needed
    assert "runtime/training/pretrain.py" not in found  # the other script
    assert not any(name.startswith(("runtime/cli/", "runtime/training/remote/", "runtime/store/")) for name in found)
    for name, path in found.items():
        assert path == REPO_ROOT / name and "__pycache__" not in name and name.endswith(".py")
        assert b"PySide6" not in path.read_bytes(), name


def test_the_sources_are_read_as_files_whatever_the_import_system_says(monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the frozen build, whose path hook answers from its archive: no hook is asked."""
    expected = sources.module_sources([SCRIPTS["sft"]])
    sources._closure.cache_clear()

    def archive_only(folder: str) -> object:
        raise ImportError(f"no finder for {folder}")

    monkeypatch.setattr(sys, "path_hooks", [archive_only])
    monkeypatch.setattr(sys, "path_importer_cache", {})
    try:
        assert sources.module_sources([SCRIPTS["sft"]]) == expected
    finally:
        sources._closure.cache_clear()


def test_the_uploaded_sources_alone_import_both_scripts(tmp_path: Path) -> None:
    """Complete: a Python whose only copy of runtime is the upload set imports every module from it.

    The venv also has this checkout installed (editable), which would quietly fill any gap: so
    every runtime module the import loaded must come from the copy.
    """
    code = tmp_path / "code"
    for path, name in sources.module_sources(SCRIPTS.values()):
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, code / name)
    probe = (
        "import json, sys\n"
        f"import {', '.join(SCRIPTS.values())}\n"
        "print(json.dumps({n: getattr(m, '__file__', None) for n, m in sys.modules.items()"
        " if n == 'runtime' or n.startswith('runtime.')}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env={"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.splitlines()[-1])
    assert set(SCRIPTS.values()) <= loaded.keys()
    outside = {name: file for name, file in loaded.items() if not Path(file).resolve().is_relative_to(code)}
    assert outside == {}


def test_a_training_job_uploads_only_its_sources_and_data(tmp_path: Path) -> None:
    model, dataset = tmp_path / "model", tmp_path / "sft.json"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")  # only sent, not read, here
    dataset.write_text("[]", encoding="utf-8")
    _, job = remote_job(JobSpec(kind="sft", model=str(model), dataset=str(dataset)))
    names = [name for _, name in _plan(job)]
    code = sorted(name for name in names if name.startswith("code/"))
    assert code == ["code/" + name for _, name in sources.module_sources([SCRIPTS["sft"]])]
    assert all(name.startswith(("code/runtime/", "data/")) for name in names), names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)


def test_the_agent_and_the_set_up_script_are_found_as_files() -> None:
    assert agent_source() == (REPO_ROOT / sources.AGENT).read_bytes()
    (envsetup, name), *_ = environment_spec().files
    assert name == "envsetup.py" and envsetup == REPO_ROOT / sources.ENVSETUP
    shipped = [name for _, name in sources.shipped_sources()]
    assert sources.AGENT in shipped and sources.ENVSETUP in shipped and "runtime/training/pretrain.py" in shipped
    assert not any(name.startswith("runtime/training/remote/") for name in shipped if name not in (
        sources.AGENT, sources.ENVSETUP
    ))  # fmt: skip


def test_an_installation_without_the_sources_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """What a frozen build that did not ship them would say, instead of a traceback on the host."""
    monkeypatch.setattr(sources, "SOURCE_ROOT", tmp_path)
    sources._closure.cache_clear()
    try:
        with pytest.raises(RemoteError) as agent:
            agent_source()
        assert agent.value.code == "remote_agent_missing" and "agent.py" in str(agent.value)
        with pytest.raises(RemoteError) as script:
            sources.module_sources([SCRIPTS["sft"]])
        assert script.value.code == "remote_agent_missing"
        assert str(tmp_path / "runtime" / "training" / "sft.py") in str(script.value)
    finally:
        sources._closure.cache_clear()
