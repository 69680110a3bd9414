"""The one loader (runtime.models.loader): the chat's checks first, and never a template compiled."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import gguf
import pytest

from runtime.errors import ModelLoadError
from runtime.models.loader import check_model, open_llama
from tests.unit.conftest import copy_gguf

REPO_ROOT = Path(__file__).resolve().parents[3]


def test_no_other_module_constructs_llama() -> None:
    """Anything that opens a model later goes through the loader too (this fails otherwise)."""
    offences = []
    for path in sorted([*(REPO_ROOT / "runtime").rglob("*.py"), *(REPO_ROOT / "app").rglob("*.py")]):
        if path == REPO_ROOT / "runtime" / "models" / "loader.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            called = node.func if isinstance(node, ast.Call) else None
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", None)
            if name in ("Llama", "Jinja2ChatFormatter"):
                offences.append(f"{path.relative_to(REPO_ROOT)}:{node.lineno}")
    assert offences == []


def test_open_llama_gives_a_working_model_and_restores_llama_cpp(stories_gguf: Path) -> None:
    from llama_cpp import llama_chat_format

    original = llama_chat_format.Jinja2ChatFormatter
    llm = open_llama(stories_gguf, n_ctx=64, n_threads=1)
    try:
        assert llm.tokenize(b"Once upon a time", add_bos=True)[0] == llm.token_bos()
    finally:
        llm.close()
    assert llama_chat_format.Jinja2ChatFormatter is original


# A process of its own, so that its memory is its own: loads the model and reports its peak size,
# VmHWM (its own address space's high-water mark; ru_maxrss would carry the test runner's size over
# through fork and exec, over 1 GB after the training tests).
LOAD = """
import sys
from runtime.models.loader import open_llama
open_llama(sys.argv[1], n_ctx=64, n_threads=1).close()
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(int(hwm.split()[1]) * 1024)
"""


@pytest.mark.parametrize("template", ["{{ 9 ** (10**9) }}", "{{ 'x'*2000000000 }}"], ids=["power", "repeat"])
def test_templates_in_the_file_are_never_compiled(stories_gguf: Path, tmp_path: Path, template: str) -> None:
    hostile = copy_gguf(
        stories_gguf,
        tmp_path / "hostile.gguf",
        changes={
            "tokenizer.chat_template.tool_use": (template, gguf.GGUFValueType.STRING),
            "tokenizer.chat_template": (template, gguf.GGUFValueType.STRING),
        },
    )
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD, str(hostile)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,  # a safety net: compiling either template would take minutes and gigabytes
        check=False,
    )
    assert loaded.returncode == 0, loaded.stderr
    assert int(loaded.stdout) < 1 << 30


def test_check_model_refuses_what_is_not_a_regular_file(tmp_path: Path) -> None:
    fifo = tmp_path / "x.gguf"
    os.mkfifo(fifo)
    loop = tmp_path / "loop.gguf"
    loop.symlink_to(loop)
    cases = {
        fifo: ("model_not_regular_file", "is a named pipe (FIFO), not a regular file"),
        loop: ("model_symlink_loop", "leads back to itself"),
        Path("/dev/null"): ("model_not_regular_file", "is a device, not a regular file"),
        tmp_path: ("model_is_folder", "is a folder"),
        tmp_path / "gone.gguf": ("model_not_found", "not found"),
    }
    for path, (code, phrase) in cases.items():
        with pytest.raises(ModelLoadError) as refused:
            check_model(path)
        assert refused.value.code == code and refused.value.params["path"] == str(path)
        assert phrase in str(refused.value) and str(path) in str(refused.value)


def test_check_model_follows_an_ordinary_link(stories_gguf: Path, tmp_path: Path) -> None:
    link = tmp_path / "model.gguf"
    link.symlink_to(stories_gguf)
    assert check_model(link).path == str(stories_gguf.resolve())
