"""The template sandbox process: crafted chat templates are refused within its time and memory limits.

Each crafted template below once cost this process seconds and gigabytes (or hung a model load
for good). Here each must end in a clear :class:`TemplateError` naming the model file, within a
generous bound, with the sandbox child under its memory limit and this process no larger.
Real processes throughout: the sandbox child, and the inference host with llama.cpp.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtime.chat import HostClient
from runtime.chat import _jinja_sandbox as sandbox
from runtime.chat.template_sandbox import MEMORY_LIMIT_BYTES, Refusal
from runtime.chat.templates import Turn, render
from runtime.errors import TemplateError
from runtime.models import MAX_CHAT_TEMPLATE_CHARS, read_model_info
from runtime.models.tiny import write_llama_gguf
from tests.unit.conftest import EVENT_TIMEOUT_S, TEST_THREADS

# Not a speed target: a refusal takes at most the 2 s wall-clock limit plus starting a new child
# (Python and Jinja), which a loaded machine may stretch. A regression takes minutes or forever.
REFUSED_WITHIN_S = 15.0
# This process may not grow by anything like the values the templates try to build.
OWN_GROWTH_LIMIT = 64 * 1024 * 1024

# A template of just under the source limit, which Jinja compiles for seconds. Should a fast
# machine compile it in time, its output (8 bytes per repeat) is past the output limit.
_UNIT = "{{ messages[0].content * 4 }}"
ONE_MIB = _UNIT * (MAX_CHAT_TEMPLATE_CHARS // len(_UNIT))

CRAFTED = {
    "center": "{{ ''|center(300000000) }}",
    "center_length": "{{ (''|center(3000000000))|length }}",
    "percent_format": "{{ '%300000000s' % 'x' }}",
    "nested_join": "{{ ((((('x' * 1000)|list)|join('x' * 1000))|list)|join('y' * 1000))|length }}",
    "doubling_macro": (
        "{% macro d(s, n) %}{% if n %}{{ d(s ~ s, n - 1) }}{% else %}{{ s|length }}{% endif %}{% endmacro %}"
        "{{ d('x', 40) }}"
    ),
    "one_mib_template": ONE_MIB,
    "huge_power": "{{ 9 ** (10**9) }}",
    "huge_repeat": "{{ 'x' * 10**9 }}",
}
# What each may be refused for: whichever limit a machine reaches first.
LIMIT_CODES = {
    "embedded_template_timeout",
    "embedded_template_memory",
    "embedded_template_crashed",
    "embedded_template_output_too_large",
}


def _peak_rss() -> int:
    """This process's largest resident size so far, in bytes."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@pytest.mark.parametrize("name", list(CRAFTED))
def test_crafted_template_is_refused_within_the_limits(name: str) -> None:
    render("embedded", [Turn("warm")], jinja_source="{{ messages[0].content }}")  # a child is running
    own_before = _peak_rss()
    start = time.monotonic()
    with pytest.raises(TemplateError) as caught:
        render("embedded", [Turn("hi")], jinja_source=CRAFTED[name], jinja_origin=f"crafted-{name}.gguf")
    elapsed = time.monotonic() - start
    error = caught.value
    assert error.code in LIMIT_CODES, (error.code, str(error))
    assert error.params["name"] == f"crafted-{name}.gguf"
    assert f"crafted-{name}.gguf" in str(error)
    assert "Chinese-Alpaca-2" in str(error)  # the way out: a built-in template
    assert elapsed < REFUSED_WITHIN_S
    peak = sandbox.sandbox_stats().last_peak_rss
    assert peak is not None and peak <= MEMORY_LIMIT_BYTES, peak
    assert _peak_rss() - own_before < OWN_GROWTH_LIMIT
    # The sandbox is usable again at once (a killed child is replaced on the next render).
    assert render("embedded", [Turn("next")], jinja_source="{{ messages[0].content }}").text == "next"


def test_a_refusal_is_remembered_and_costs_no_new_child() -> None:
    source = "{# remembered #}{{ (''|center(3000000000))|length }}"
    with pytest.raises(TemplateError):
        render("embedded", [Turn("hi")], jinja_source=source)
    stats = sandbox.sandbox_stats()
    started, killed = stats.started, stats.killed
    with pytest.raises(TemplateError) as caught:
        render("embedded", [Turn("another draft")], jinja_source=source, jinja_origin="again.gguf")
    assert caught.value.code == "embedded_template_memory"
    assert "again.gguf" in str(caught.value)
    assert (stats.started, stats.killed) == (started, killed)


def test_work_past_the_wall_clock_limit_kills_the_child(monkeypatch: pytest.MonkeyPatch) -> None:
    # Compiling a 1 MiB template takes longer than this on any machine: one long call that no
    # check inside the child interrupts, so only the kill ends it.
    monkeypatch.setattr(sandbox, "HARD_TIME_LIMIT_S", 0.2)
    render("embedded", [Turn("warm")], jinja_source="{{ messages[0].content }}")
    killed = sandbox.sandbox_stats().killed
    source = "{# killed #}" + ONE_MIB[: -len(_UNIT)]
    with pytest.raises(TemplateError) as caught:
        render("embedded", [Turn("hi")], jinja_source=source, jinja_origin="slow.gguf")
    assert caught.value.code == "embedded_template_timeout"
    assert caught.value.params == {"name": "slow.gguf", "seconds": "0.2"}
    assert sandbox.sandbox_stats().killed == killed + 1
    monkeypatch.undo()
    assert render("embedded", [Turn("after")], jinja_source="<{{ messages[0].content }}>").text == "<after>"


def test_the_peak_of_a_killed_sandbox_is_its_own_not_its_parents() -> None:
    # The kernel carries a parent's peak resident size over into a child through fork and exec,
    # so a sandbox started by a large process (the GUI, a grown test runner) once reported that
    # process's peak when killed. Here the parent holds 1 GiB, more than the sandbox may ever
    # use, and the figure of a sandbox killed at the time limit must still be the sandbox's own.
    code = f"""
import sys
from runtime.chat import _jinja_sandbox as sandbox
from runtime.chat.templates import Turn, render
from runtime.errors import TemplateError
from runtime.models import MAX_CHAT_TEMPLATE_CHARS
unit = {_UNIT!r}
source = unit * (MAX_CHAT_TEMPLATE_CHARS // len(unit) - 1)  # compiles for seconds (see ONE_MIB)
ballast = bytearray({1024 * 1024 * 1024})
for i in range(0, len(ballast), 4096):
    ballast[i] = 1
sandbox.HARD_TIME_LIMIT_S = 0.2
try:
    render("embedded", [Turn("hi")], jinja_source=source, jinja_origin="slow.gguf")
except TemplateError as error:
    print(error.code, sandbox.sandbox_stats().killed, sandbox.sandbox_stats().last_peak_rss)
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    code_name, killed, peak = done.stdout.split()
    assert (code_name, killed) == ("embedded_template_timeout", "1"), done.stdout
    assert 0 < int(peak) < 256 * 1024 * 1024, peak  # Python, Jinja and the template: tens of MB


def test_child_limits_its_own_address_space() -> None:
    proc = subprocess.Popen(
        sandbox.sandbox_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        ready = json.loads(proc.stdout.readline())
        assert ready["ready"] is True
        if hasattr(resource, "prlimit"):  # Linux: read the limit from outside
            assert resource.prlimit(ready["pid"], resource.RLIMIT_AS) == (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES)
        request = {"source": "{{ (''|center(3000000000))|length }}", "variables": {}}
        proc.stdin.write(json.dumps(request).encode() + b"\n")
        proc.stdin.flush()
        answer = json.loads(proc.stdout.readline())
        assert (answer["ok"], answer["reason"]) == (False, "memory")
        assert answer["peak_rss"] <= MEMORY_LIMIT_BYTES
        proc.stdin.close()  # the end of its input ends it
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()
        proc.wait()


def test_cli_runs_the_sandbox_subcommand() -> None:
    code = "import sys; from runtime.cli import main; sys.exit(main(['template-sandbox']))"
    request = {"source": "{% for m in messages %}[{{ m.content }}]{% endfor %}", "variables": {"messages": []}}
    request["variables"]["messages"] = [{"role": "user", "content": "你好"}]
    proc = subprocess.run(
        [sys.executable, "-c", code],
        input=json.dumps(request).encode() + b"\n",
        capture_output=True,
        timeout=60,
        check=True,
    )
    ready, answer, *rest = (json.loads(line) for line in proc.stdout.splitlines())
    assert ready["ready"] is True
    assert answer["ok"] is True and answer["text"] == "[你好]"
    if hasattr(os, "fork"):  # POSIX: the started process reports how its render worker ended
        assert rest == [{"ended": True, "status": 0, "peak_rss": rest[0]["peak_rss"]}]
        assert 0 < rest[0]["peak_rss"] <= MEMORY_LIMIT_BYTES


def test_every_refusal_reason_is_an_error_code() -> None:
    for reason in sandbox.REFUSAL_REASONS:
        error = sandbox._refused("model.gguf", reason, {"line": 1, "detail": "d", "seconds": 2, "how": "signal 9"})
        assert error.code == f"embedded_template_{reason}"
        assert error.params["name"] == "model.gguf"
        assert "model.gguf" in str(error) and "another chat template" in str(error)
    assert Refusal("syntax", line=3).fields == {"line": 3}


# --- Model files that carry crafted templates ------------------------------------------------


@pytest.fixture(scope="module")
def crafted_gguf(tmp_path_factory: pytest.TempPathFactory, llama_tokenizer: Path) -> Path:
    """A tiny model whose default and ``tool_use`` templates both compute 9 ** 10**9."""
    bad = "{{ 9 ** (10**9) }}"
    return write_llama_gguf(
        tmp_path_factory.mktemp("crafted") / "crafted-template.gguf",
        tokenizer=llama_tokenizer,
        layers=1,
        chat_template=bad,
        named_chat_templates={"tool_use": bad},
    )


@pytest.fixture(scope="module")
def crafted_host(crafted_gguf: Path) -> Iterator[HostClient]:
    client = HostClient()
    try:
        client.start()
        assert client.wait_ready(EVENT_TIMEOUT_S)
        yield client
    finally:
        client.stop()


def test_model_with_crafted_templates_loads_and_refuses_them(crafted_host: HostClient, crafted_gguf: Path) -> None:
    # llama-cpp-python compiles every tokenizer.chat_template* key while constructing Llama, and
    # Jinja folds 9 ** 10**9 while compiling: without the inert formatter this load never ends.
    loaded = crafted_host.call(
        "load", path=str(crafted_gguf), n_ctx=256, n_threads=TEST_THREADS, timeout=EVENT_TIMEOUT_S
    )
    assert loaded["info"]["chat_template"] == "{{ 9 ** (10**9) }}"
    with pytest.raises(TemplateError) as caught:
        crafted_host.call(
            "chat", template="embedded", turns=[{"user": "hi"}], params={"max_tokens": 4}, timeout=EVENT_TIMEOUT_S
        )
    assert caught.value.code == "embedded_template_output_too_large"
    assert caught.value.params["name"] == "crafted-template.gguf"
    # The built-in templates work with the same model.
    events = list(
        crafted_host.stream(
            "chat",
            template="chinese-alpaca-2",
            turns=[{"user": "hi"}],
            params={"max_tokens": 2, "seed": 1},
            timeout=EVENT_TIMEOUT_S,
        )
    )
    assert events[-1]["event"] == "finished", events[-1]


def test_oversized_template_is_cut_when_read_and_refused(tmp_path: Path, llama_tokenizer: Path) -> None:
    path = write_llama_gguf(
        tmp_path / "big-template.gguf",
        tokenizer=llama_tokenizer,
        layers=1,
        chat_template="{# 龙 #}" * (MAX_CHAT_TEMPLATE_CHARS // 4),
    )
    info = read_model_info(path)
    assert info.has_chat_template
    assert info.chat_template is not None and len(info.chat_template) == MAX_CHAT_TEMPLATE_CHARS + 1
    with pytest.raises(TemplateError) as caught:
        render("embedded", [Turn("hi")], jinja_source=info.chat_template, jinja_origin=info.file_name)
    assert caught.value.code == "embedded_template_source_too_large"
    assert "big-template.gguf" in str(caught.value)
