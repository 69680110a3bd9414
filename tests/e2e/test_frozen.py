"""The one-folder PyInstaller build (``make package``): its self-test from a hostile folder, its CLI,
and what the bundle may not contain.

Marked ``frozen``: ``make test`` builds the bundle first (unchanged trees are not rebuilt) and sets
``ALPACA_DESK_FROZEN_REQUIRED=1``, so a missing build fails there; elsewhere these tests skip when
``dist/alpaca-desk`` does not exist, and ``pytest -m "not frozen"`` leaves them out. The tests of
the checks themselves (decoys that would be caught, a planted bad bundle) need no build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "packaging"))

import smoke_test  # noqa: E402 - packaging/ is not a package

REQUIRED_ENV = "ALPACA_DESK_FROZEN_REQUIRED"


@pytest.fixture(scope="module")
def bundle() -> Path:
    """dist/alpaca-desk, built by `make package`."""
    path = smoke_test.DEFAULT_BUNDLE
    if not smoke_test.executable(path).is_file():
        message = f"no frozen build at {path}: run `make package`"
        if os.environ.get(REQUIRED_ENV):
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.mark.frozen
def test_frozen_self_test_ignores_the_environment_and_the_current_folder(
    bundle: Path, stories_gguf: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "hostile"
    run = smoke_test.run_self_test(bundle, stories_gguf, folder)
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    assert run.canaries == [], f"loaded from the hostile folder: {run.canaries}"
    result = run.result
    assert result is not None and result["ok"] is True
    # The inference host is the same executable, started with the scrubbed environment.
    assert result["host"]["command"] == ["alpaca-desk", "host"]
    assert result["host"]["generated_tokens"] >= 1
    assert result["sentencepiece"]["matches_llama"] is True
    assert result["window"]["shown"] is True and result["window"]["platform"] == "offscreen"
    assert result["window"]["translations"] == {"app": True, "qtbase": True}  # incl. qtbase_zh_CN.qm
    assert result["network"] == []
    assert result["isolation"]["frozen"] is True
    assert Path(result["isolation"]["bundle"]).resolve() == (bundle / "_internal").resolve()
    assert result["versions"]["llama_cpp_python"] != "decoy"
    with capsys.disabled():
        print(f"\nfrozen self-test: {json.dumps(result['versions'])}, {result['elapsed_s']} s")  # noqa: T201


@pytest.mark.frozen
def test_frozen_cli_answers_from_the_same_executable(bundle: Path, stories_gguf: Path, tmp_path: Path) -> None:
    env = {**os.environ, **smoke_test.make_hostile_folder(tmp_path / "hostile")}
    proc = subprocess.run(
        # Its data goes to ALPACA_DESK_HOME, which tests/conftest.py points into tmp_path.
        [str(smoke_test.executable(bundle)), "chat", str(stories_gguf), "--prompt", "Once upon a time"]
        + ["--template", "raw", "--max-tokens", "8", "--seed", "1", "--json"],
        cwd=tmp_path / "hostile",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    answer = json.loads(proc.stdout.splitlines()[-1])
    assert answer["stats"]["generated_tokens"] >= 1
    assert smoke_test.canaries(tmp_path / "hostile") == []
    # The job runner is there too (runtime/jobs/ starts `alpaca-desk job ...` when frozen).
    jobs = subprocess.run(
        [str(smoke_test.executable(bundle)), "job", "--help"], capture_output=True, text=True, timeout=60, check=False
    )
    assert jobs.returncode == 0 and "usage:" in jobs.stdout, jobs.stderr[-3000:]


@pytest.mark.frozen
def test_frozen_cli_counts_tokens_with_the_shipped_tokenizers(bundle: Path, tmp_path: Path) -> None:
    """A fresh home and no network: the bundle carries the tokenizers the panel compares."""
    poem = tmp_path / "poem.txt"
    poem.write_text("白日依山尽，黄河入海流。欲穷千里目，更上一层楼。", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **smoke_test.make_hostile_folder(tmp_path / "hostile")}
    proc = subprocess.run(
        [str(smoke_test.executable(bundle)), "tokens", "--json", str(poem)],
        cwd=tmp_path / "hostile",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    llama, chinese = json.loads(proc.stdout.splitlines()[-1])["tokenizers"]
    assert (llama["n_vocab"], llama["n_tokens"]) == (32_000, 37)
    assert (chinese["n_vocab"], chinese["n_tokens"]) == (49_953, 21)
    assert Path(llama["path"]).resolve().is_relative_to(bundle.resolve())


@pytest.mark.frozen
def test_frozen_bundle_holds_nothing_it_should_not(bundle: Path, capsys: pytest.CaptureFixture[str]) -> None:
    problems = smoke_test.bundle_problems(bundle)
    size_mb = smoke_test.bundle_size(bundle) / 1e6
    with capsys.disabled():
        print(f"\nbundle {bundle}: {size_mb:.1f} MB")  # noqa: T201 - the size belongs in the test log
    assert problems == []
    assert size_mb <= 350
    licences = (bundle / "_internal" / "THIRD_PARTY_LICENSES").read_text(encoding="utf-8")
    assert "LLaMA tokenizer" in licences and "Apache License" in licences  # the shipped tokenizers'
    assert (bundle / "_internal" / "PySide6" / "Qt" / "translations" / "qtbase_zh_CN.qm").is_file()
    plugins = bundle / "_internal" / "PySide6" / "Qt" / "plugins"
    if sys.platform.startswith("linux"):
        assert (plugins / "platforms" / "libqxcb.so").is_file()
        assert (plugins / "platforms" / "libqoffscreen.so").is_file()
        assert (bundle / "alpaca-desk.desktop").is_file() and (bundle / "alpaca-desk.png").is_file()
    # Only QtCore, QtGui and QtWidgets of the Qt bindings, and the two OpenGL ones pyqtgraph imports.
    bindings = sorted(p.name.split(".")[0] for p in (bundle / "_internal" / "PySide6").glob("Qt*.*") if p.is_file())
    assert bindings == ["QtCore", "QtGui", "QtOpenGL", "QtOpenGLWidgets", "QtWidgets"]


@pytest.mark.frozen
def test_frozen_bundle_has_no_training_libraries(bundle: Path, tmp_path: Path) -> None:
    """torch, transformers and peft run on the GPU host (the train extra), never in the desktop bundle.

    No file or folder of theirs (torch alone is hundreds of MB of native libraries) and no module of
    theirs in the executable's archive; and the bundle's `train` command still works without them.
    """
    problems = [p for p in smoke_test.bundle_problems(bundle) if "training-only" in p]
    assert problems == []
    internal = bundle / "_internal"
    for name in ("torch", "transformers", "peft", "accelerate"):
        assert not (internal / name).exists(), name
        assert not list(internal.glob(f"{name}-*.dist-info")), name
    assert not list(internal.rglob("libtorch*")), "libtorch in the bundle"
    probe = subprocess.run(
        [str(smoke_test.executable(bundle)), "train", "status"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "ALPACA_DESK_HOME": str(tmp_path / "home")},
    )
    assert probe.returncode == 0, probe.stderr
    assert "no training runs yet" in probe.stdout


@pytest.mark.frozen
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="LD_PRELOAD and /proc/self/maps are Linux's")
def test_frozen_app_refuses_a_foreign_copy_of_its_libraries(bundle: Path, tmp_path: Path) -> None:
    """The start-up check is real: a copy of a bundled library from elsewhere makes the app refuse."""
    foreign = tmp_path / "libggml-base.so.0"
    foreign.write_bytes((bundle / "_internal" / "llama_cpp" / "lib" / "libggml-base.so.0").read_bytes())
    proc = subprocess.run(
        [str(smoke_test.executable(bundle)), "--self-test"],
        env={**os.environ, "LD_PRELOAD": str(foreign)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"native library libggml-base.so.0 was loaded from {foreign}" in proc.stderr
    assert proc.stdout == ""  # refused before anything ran


def test_the_decoys_would_be_caught(tmp_path: Path) -> None:
    """Control for the frozen tests: an ordinary interpreter in the hostile folder loads the decoys."""
    folder = tmp_path / "hostile"
    env = {**os.environ, **smoke_test.make_hostile_folder(folder)}
    del env["PYTHONHOME"]  # an ordinary Python cannot even start with it
    subprocess.run([sys.executable, "-c", "import llama_cpp"], cwd=folder, env=env, check=False, capture_output=True)
    assert "CANARY-llama_cpp" in smoke_test.canaries(folder)
    assert "CANARY-sitecustomize" in smoke_test.canaries(folder)


def test_the_bundle_checks_catch_planted_problems(tmp_path: Path) -> None:
    bundle = tmp_path / "alpaca-desk"
    internal = bundle / "_internal"
    (internal / "tests").mkdir(parents=True)
    smoke_test.executable(bundle).write_bytes(b"#!/bin/sh\n")
    (internal / "stories260K.gguf").write_bytes(b"GGUF")
    (internal / "tokenizer.model").write_bytes(b"x")  # a tokenizer outside assets/tokenizers
    (internal / "assets" / "tokenizers" / "llama").mkdir(parents=True)
    (internal / "assets" / "tokenizers" / "llama" / "tokenizer.model").write_bytes(b"x")  # shipped: fine
    (internal / "tests" / "test_x.py").write_text("", encoding="utf-8")
    (internal / "notes.txt").write_text("token = hf_" + "aB3" * 12 + "\n", encoding="utf-8")
    (internal / "lib" / ".venv" / "site-packages").mkdir(parents=True)
    (internal / "lib" / ".venv" / "site-packages" / "x.pth").write_text("", encoding="utf-8")
    (internal / "config.json").write_text('{"path": "/work/main/.venv/lib"}', encoding="utf-8")
    (internal / "torch" / "lib").mkdir(parents=True)
    (internal / "torch" / "lib" / "libtorch_cpu.so").write_bytes(b"\x7fELF")
    # hf_xet's Rust symbol names are not tokens.
    (internal / "lib.so").write_bytes(b"\x00_6hf_xet14PyXetTaskStateEE10initializeNCINvNtNtBU\x00")
    problems = "\n".join(smoke_test.bundle_problems(bundle))
    for expected in (
        "cannot read the archive in",  # not a PyInstaller executable
        "test data: _internal/stories260K.gguf",
        "tokenizer outside the shipped assets: _internal/tokenizer.model",
        "test file: _internal/tests/test_x.py",
        "Hugging Face token in _internal/notes.txt",
        "virtual environment leftover: _internal/lib/.venv/site-packages/x.pth",
        "path configuration file: _internal/lib/.venv/site-packages/x.pth",
        "mentions a .venv path: _internal/config.json",
        "training-only library: _internal/torch/lib/libtorch_cpu.so",
    ):
        assert expected in problems
    assert "lib.so" not in problems
    assert "assets/tokenizers/llama" not in problems


@pytest.mark.frozen
def test_frozen_template_sandbox_renders_a_models_own_template(
    bundle: Path, tmp_path: Path, llama_tokenizer: Path
) -> None:
    """The bundle's template-sandbox subcommand renders a model file's chat template, in the
    command line (--show-prompt) and in the host (an answer)."""
    from runtime.models.tiny import write_llama_gguf

    template = "{% for m in messages %}<<{{ m.role }}>>{{ m.content }}{% endfor %}<<assistant>>"
    model = write_llama_gguf(
        tmp_path / "tpl.gguf", tokenizer=llama_tokenizer, chat_template=template, hidden=32, layers=1, ffn=64
    )
    base = [str(smoke_test.executable(bundle)), "chat", str(model), "--template", "embedded", "--prompt", "你好"]
    shown = subprocess.run(
        [*base, "--show-prompt"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert shown.returncode == 0, shown.stderr[-3000:]
    assert shown.stdout == "<<user>>你好<<assistant>>"
    answered = subprocess.run(
        [*base, "--max-tokens", "4", "--json"], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert answered.returncode == 0, answered.stderr[-3000:]
    stats = json.loads(answered.stdout.splitlines()[-1])["stats"]
    assert stats["prompt_tokens"] > 0 and stats["generated_tokens"] == 4


@pytest.mark.frozen
def test_frozen_bundle_ships_a_remote_jobs_sources_and_no_other(bundle: Path) -> None:
    """The modules live in the archive; the sources a job on an SSH host needs are shipped as files,
    byte-identical to the repository's, and nothing else of the app is (no app/, no __pycache__)."""
    from runtime.training.remote.sources import shipped_sources

    internal = bundle / "_internal"
    expected = {name: path for path, name in shipped_sources()}
    shipped = {p.relative_to(internal).as_posix() for p in (internal / "runtime").rglob("*") if p.is_file()}
    assert shipped == set(expected)
    for name, path in expected.items():
        assert (internal / name).read_bytes() == path.read_bytes(), name
    assert not (internal / "app").exists()


@pytest.mark.frozen
def test_frozen_app_sets_up_trains_on_and_downloads_from_an_ssh_host(bundle: Path, tmp_path: Path) -> None:
    """The frozen executable, against a real sshd on 127.0.0.1 whose Python is this venv's (it has
    the train extra; the bundle has no torch): ``hosts setup`` asks for the train extra's packages
    (from the bundle's metadata; pip only checks them), ``train sft --host`` uploads the script's
    sources from the bundle and finishes a tiny run, ``remote download`` brings the adapter alone."""
    from runtime.training.launcher import JobSpec
    from runtime.training.remote import accept_host_key, add_host
    from runtime.training.remote.sources import module_sources
    from runtime.training.tiny import write_tiny_llama
    from tests.conftest import SHIPPED_TOKENIZERS, TEST_DATA, data_file
    from tests.sshd import make_sshd
    from tests.unit.training.remote.conftest import host_for, server_key

    model = write_tiny_llama(tmp_path / "model", data_file(SHIPPED_TOKENIZERS / "llama" / "tokenizer.model"), seed=1)
    records = json.loads(data_file(TEST_DATA / "zh_sft_sample.json").read_text(encoding="utf-8"))[:8]
    dataset = tmp_path / "sft.jsonl"
    dataset.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    spec = tmp_path / "job.json"
    JobSpec(
        kind="sft", model=str(model), dataset=str(dataset), block_size=64, batch_size=4, max_steps=2,
        lora_rank=4, lora_alpha=8, seed=7, tiny_test=True, save_steps=1,
    ).write(spec)  # fmt: skip
    remote_root = tmp_path / "remote jobs"
    server = make_sshd(tmp_path / "sshd").start()
    frozen = str(smoke_test.executable(bundle))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        # ALPACA_DESK_HOME (tests/conftest.py) is shared with this process: the host saved here is its.
        return subprocess.run(
            [frozen, *args], cwd=tmp_path, capture_output=True, text=True, timeout=900, check=False
        )  # fmt: skip

    try:
        host = host_for(server, remote_root)
        add_host(host)
        accept_host_key(host, server_key(server))

        # The venv is there already: envsetup only asks pip, which installs nothing (--dry-run) and
        # looks nowhere (--no-index), to check the train extra's requirements.
        venv = Path(sys.prefix)
        setup = run("hosts", "setup", host.name, "--venv", str(venv), "--pip-arg=--no-index", "--pip-arg=--dry-run")
        assert setup.returncode == 0, setup.stdout + setup.stderr
        first = setup.stdout.splitlines()[0]
        assert all(name in first for name in ("torch>=", "transformers>=", "peft>=")), first

        trained = run("train", "sft", "--spec", str(spec), "--host", host.name)
        assert trained.returncode == 0, trained.stdout[-3000:] + trained.stderr[-3000:]
        job_id = trained.stdout.split("alpaca-desk remote download ")[1].split()[0]
        job_dir = remote_root / job_id
        uploaded = {
            p.relative_to(job_dir / "code").as_posix(): p
            for p in (job_dir / "code").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts  # what the host's Python wrote there
        }
        expected = {name: path for path, name in module_sources(["runtime.training.sft"])}
        assert uploaded.keys() == expected.keys()
        assert all(uploaded[name].read_bytes() == path.read_bytes() for name, path in expected.items())
        assert (job_dir / "agent.py").read_bytes() == (REPO_ROOT / "runtime/training/remote/agent.py").read_bytes()
        assert list((job_dir / "out").glob("checkpoint-*")), "the run wrote no checkpoint to leave behind"

        fetched = run("remote", "download", job_id, "--out", str(tmp_path / "adapter"))
        assert fetched.returncode == 0, fetched.stderr[-3000:]
        names = sorted(p.name for p in (tmp_path / "adapter").iterdir())
        assert "adapter_config.json" in names and not any(name.startswith("checkpoint-") for name in names)
    finally:
        server.stop()


@pytest.mark.frozen
def test_frozen_server_answers_and_stops_on_ctrl_c(bundle: Path, stories_gguf: Path, tmp_path: Path) -> None:
    """The bundle carries the local server's stack (starlette, uvicorn, h11) and names nothing by string."""
    import http.client
    import re
    import signal

    proc = subprocess.Popen(
        [str(smoke_test.executable(bundle)), "serve", str(stories_gguf), "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        banner = []
        for line in proc.stdout:  # ends at EOF if the server fails to start
            banner.append(line)
            if line.startswith("Press Ctrl-C"):
                break
        found = re.search(r"http://127\.0\.0\.1:(\d+)/v1", "".join(banner))
        assert found is not None, "".join(banner) + (
            proc.stderr.read() if proc.poll() is not None and proc.stderr else ""
        )
        connection = http.client.HTTPConnection("127.0.0.1", int(found.group(1)), timeout=60)
        connection.request("GET", "/v1/models")
        response = connection.getresponse()
        models = json.loads(response.read())
        assert response.status == 200 and models["data"][0]["id"], models
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
