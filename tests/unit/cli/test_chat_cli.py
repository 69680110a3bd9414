"""``python -m runtime.cli``: the command line, run as a real process over the real host."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import gguf
import llama_cpp  # noqa: F401 - a dependency: when missing the run fails, it does not skip

from tests.unit.conftest import copy_gguf

REPO_ROOT = Path(__file__).resolve().parents[3]
CLI_TIMEOUT_S = 120


def run_cli(*args: str, stdin: str | None = None, home: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def test_one_prompt_as_json(stories_gguf: Path, isolated_dirs: Path) -> None:
    args = ["chat", str(stories_gguf), "--prompt", "Once upon a time", "--template", "raw"]
    result = run_cli(*args, "--max-tokens", "20", "--seed", "1", "--json", home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1  # one JSON object, nothing streamed around it
    data = json.loads(lines[0])
    assert data["template"] == "raw"
    assert data["model"] == str(stories_gguf.resolve())
    assert data["answer"].strip()
    assert data["answer"].isascii()
    stats = data["stats"]
    assert stats["generated_tokens"] == 20
    assert stats["reason"] == "length"
    assert stats["prompt_tokens"] == 5
    assert stats["seed"] == 1
    assert stats["tokens_per_s"] > 0
    assert stats["dropped_turns"] == 0
    # Same seed, same answer: the CLI is reproducible run to run.
    again = run_cli(*args, "--max-tokens", "20", "--seed", "1", "--json", home=isolated_dirs)
    assert json.loads(again.stdout)["answer"] == data["answer"]
    # The host's log went under the data directory, not into the user's real one.
    assert (isolated_dirs / "logs" / "host.log").exists()


def test_show_prompt_prints_the_exact_template(stories_gguf: Path, isolated_dirs: Path) -> None:
    result = run_cli(
        "chat",
        str(stories_gguf),
        "--template",
        "chinese-alpaca",
        "--prompt",
        "用一句话介绍北京",
        "--show-prompt",
        home=isolated_dirs,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        "<s>Below is an instruction that describes a task. "
        "Write a response that appropriately completes the request.\n\n"
        "### Instruction:\n\n用一句话介绍北京\n\n### Response:\n\n"
    )


def test_bad_model_path_exits_2_with_the_file_name(tmp_path: Path, isolated_dirs: Path) -> None:
    missing = tmp_path / "chinese-alpaca-7b-q4_0.gguf"
    result = run_cli("chat", str(missing), "--prompt", "你好", home=isolated_dirs)
    assert result.returncode == 2
    assert result.stderr.startswith("error:")
    assert "chinese-alpaca-7b-q4_0.gguf" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""

    old = tmp_path / "ggml-model-q4_0.bin"
    old.write_bytes(b"tjgg" + bytes(256))
    result = run_cli("chat", str(old), "--prompt", "你好", home=isolated_dirs)
    assert result.returncode == 2
    assert "error:" in result.stderr and "ggml-model-q4_0.bin" in result.stderr


def test_interactive_chat_answers_then_exits(stories_gguf: Path, isolated_dirs: Path) -> None:
    result = run_cli(
        "chat",
        str(stories_gguf),
        "--template",
        "raw",
        "--max-tokens",
        "16",
        "--seed",
        "1",
        "--threads",
        "1",
        stdin="Once upon a time\n/exit\n",
        home=isolated_dirs,
    )
    assert result.returncode == 0, result.stderr
    # input() writes its "> " prompt to stdout when stdin is not a terminal: one per line read.
    assert result.stdout.startswith("> ")
    answer = result.stdout[2:].split("\n> ")[0]
    assert len(answer.split()) >= 3, result.stdout
    assert result.stdout.count("> ") == 2  # the message, then /exit
    assert "[16 tokens" in result.stderr
    assert "error" not in result.stderr.lower()


def test_damaged_metadata_exits_2_with_one_line_naming_the_field(
    stories_gguf: Path, tmp_path: Path, isolated_dirs: Path
) -> None:
    hostile = copy_gguf(
        stories_gguf, tmp_path / "hostile.gguf", changes={"llama.context_length": ("abc", gguf.GGUFValueType.STRING)}
    )
    result = run_cli("chat", str(hostile), "--prompt", "x", home=isolated_dirs)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: hostile.gguf is damaged or unusual: llama.context_length ")
    assert result.stdout == ""
