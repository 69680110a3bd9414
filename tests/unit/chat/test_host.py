"""The inference host as the app uses it: a real child process running llama.cpp, over HostClient.

Nothing here is mocked. English generation uses the real tiny model stories260K.gguf; Chinese
streaming uses a scripted model with the merged 49,953-piece vocabulary (tests/unit/conftest.py),
whose answer is known token for token.

The only timed assertion is the cancel bound (see :data:`CANCEL_SLACK_S`).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import gguf
import llama_cpp  # noqa: F401 - a dependency: when missing the run fails, it does not skip
import pytest

from runtime.chat import templates
from runtime.chat.client import CANCEL_GRACE_S, HostClient, HostEvent
from runtime.errors import ContextFull, HostDied, ModelLoadError, NotLoaded, ParameterError, PromptTooLong
from runtime.models.info import MAX_CONTEXT_LENGTH
from tests.unit.conftest import (
    EVENT_TIMEOUT_S,
    TEST_THREADS,
    ScriptedZh,
    answer_text,
    collect,
    copy_gguf,
    finished,
    process_is_gone,
)

REPO_ROOT = Path(__file__).resolve().parents[3]

PROMPT = "Once upon a time"
# The architecture promises a cancel takes effect within 500 ms (the client kills a host that
# takes longer). The bound asserted adds 300 ms for scheduling on a loaded 2-core CI machine:
# measured, the finished event arrives a few milliseconds after the cancel.
CANCEL_BOUND_S = 0.5
CANCEL_SLACK_S = 0.3


# -- English generation with stories260K ------------------------------------------------------


def test_generate_streams_tokens_then_finished_with_stats(stories_host: HostClient) -> None:
    events = collect(stories_host, "generate", prompt=PROMPT, params={"max_tokens": 40, "seed": 1})
    kinds = [e["event"] for e in events]
    assert kinds[0] == "prompt"
    assert kinds[-1] == "finished"
    assert set(kinds[1:-1]) == {"token"}
    # BOS plus the four tokens of the prompt, as the model's own tokenizer counts them.
    expected_prompt = stories_host.call("tokenize", text=PROMPT, add_bos=True)["tokens"]
    assert events[0]["n_tokens"] == len(expected_prompt) == 5
    assert events[0]["dropped_turns"] == 0

    stats = finished(events)
    assert stats["reason"] == "length"  # stories260K does not end a story within 40 tokens
    assert stats["generated_tokens"] == 40
    assert stats["prompt_tokens"] == 5
    assert 1 <= stats["prompt_tokens_evaluated"] <= 5
    assert stats["tokens_per_s"] > 0
    assert 0 <= stats["time_to_first_token_s"] <= stats["total_s"]
    assert stats["seed"] == 1
    assert stats["threads"] == TEST_THREADS  # a fixed count is used as given (and reported)
    assert stats["load_1m"] is None or stats["load_1m"] >= 0
    assert stats["others_busy_cores"] is None or stats["others_busy_cores"] >= 0
    # Each token event is the text of at least one token; none is empty.
    assert 1 <= len(kinds) - 2 <= 40
    assert all(e["text"] for e in events if e["event"] == "token")

    text = answer_text(events)
    # A continuation keeps its leading space or punctuation, and it is English prose.
    assert text.isascii()
    assert len(re.findall(r"[A-Za-z]+", text)) >= 8
    assert "\ufffd" not in text


def test_fixed_seed_gives_identical_text(stories_host: HostClient) -> None:
    params = {"max_tokens": 40, "temperature": 1.0, "seed": 1234}
    first = collect(stories_host, "generate", prompt=PROMPT, params=params)
    second = collect(stories_host, "generate", prompt=PROMPT, params=params)
    # The second request reuses the KV cache of the shared prompt prefix, and still agrees.
    assert finished(second)["prompt_tokens_evaluated"] < finished(second)["prompt_tokens"]
    assert answer_text(first) == answer_text(second)
    other = collect(stories_host, "generate", prompt=PROMPT, params={**params, "seed": 99})
    assert answer_text(other) != answer_text(first)
    # Without a seed the host picks one and reports it, so the answer can be reproduced.
    unseeded = finished(collect(stories_host, "generate", prompt=PROMPT, params={"max_tokens": 4}))
    assert isinstance(unseeded["seed"], int) and 0 <= unseeded["seed"] < 2**32


def test_stop_string_cuts_the_answer(stories_host: HostClient) -> None:
    greedy = {"max_tokens": 40, "temperature": 0.0}
    full = answer_text(collect(stories_host, "generate", prompt=PROMPT, params=greedy))
    words = full.split()
    stop = f" {words[4]} {words[5]}"  # two words from the middle of the greedy answer
    cut = full.index(stop)
    events = collect(stories_host, "generate", prompt=PROMPT, params=greedy, stop=[stop])
    assert finished(events)["reason"] == "stop_string"
    assert answer_text(events) == full[:cut]


@pytest.mark.parametrize("target", ["request", "everything"])
def test_cancel_stops_within_half_a_second_and_host_stays_usable(stories_host: HostClient, target: str) -> None:
    pid = stories_host.pid
    # 2000 tokens take about a second on a fast CPU; the model does not stop on its own.
    params = {"max_tokens": 2000, "n_ctx": 2048, "temperature": 1.0, "seed": 5}
    n_tokens = 0
    cancelled_at: float | None = None
    stats = None
    for event in stories_host.stream("generate", timeout=EVENT_TIMEOUT_S, prompt=PROMPT, params=params):
        if event["event"] == "token":
            n_tokens += 1
            if n_tokens == 3:
                cancelled_at = time.perf_counter()
                stories_host.cancel(event["id"] if target == "request" else None)
        elif event["event"] == "finished":
            stats = event
            arrived = time.perf_counter()
    assert stats is not None and cancelled_at is not None
    assert stats["reason"] == "cancelled"
    assert stats["generated_tokens"] < 2000
    assert arrived - cancelled_at < CANCEL_BOUND_S + CANCEL_SLACK_S

    # The next answer runs in full on the same process, model still loaded. A cancel without a
    # target must not leak into later requests.
    events = collect(stories_host, "generate", prompt=PROMPT, params={"max_tokens": 10, "seed": 1})
    assert finished(events)["reason"] == "length"
    assert finished(events)["generated_tokens"] == 10
    assert answer_text(events)
    # The client's cancel watchdog (which ends a host that ignores a cancel) must have stood down.
    time.sleep(CANCEL_GRACE_S + 0.2)
    assert stories_host.alive
    assert stories_host.pid == pid
    assert stories_host.call("info")["info"]["file_name"] == "stories260K.gguf"


def test_chat_with_raw_template_continues_the_text(stories_host: HostClient) -> None:
    params = {"max_tokens": 20, "seed": 3, "temperature": 0.8}
    chat = collect(stories_host, "chat", template="raw", turns=[{"user": PROMPT}], params=params)
    assert chat[0]["event"] == "prompt"
    assert (chat[0]["n_tokens"], chat[0]["dropped_turns"]) == (5, 0)
    assert finished(chat)["generated_tokens"] == 20
    # The raw template is BOS + the text: exactly what "generate" evaluates, so the same seed
    # gives the same continuation (and the raw template keeps its leading space).
    generated = collect(stories_host, "generate", prompt=PROMPT, params=params)
    assert answer_text(chat) == answer_text(generated)
    assert answer_text(chat)


def test_tokenize_detokenize_round_trip(stories_host: HostClient) -> None:
    text = "Once upon a time, there was a little girl named Lily."
    tokens = stories_host.call("tokenize", text=text, add_bos=True)["tokens"]
    assert tokens[0] == 1  # BOS
    assert all(isinstance(t, int) and 0 <= t < 512 for t in tokens)
    assert stories_host.call("detokenize", tokens=tokens)["text"] == text
    bare = stories_host.call("tokenize", text=text, add_bos=False)["tokens"]
    assert bare == tokens[1:]
    # Without BOS the SentencePiece word-start space of the first piece stays.
    assert stories_host.call("detokenize", tokens=bare)["text"] == " " + text


def test_info_describes_the_loaded_model(stories_host: HostClient, stories_gguf: Path) -> None:
    info = stories_host.call("info")["info"]
    assert info["file_name"] == "stories260K.gguf"
    assert info["path"] == str(stories_gguf.resolve())
    assert info["architecture"] == "llama"
    assert info["vocab_size"] == 512
    assert info["size_bytes"] == stories_gguf.stat().st_size
    assert info["has_chat_template"] is False


# -- bad model files ------------------------------------------------------------------------


def _truncated(src: Path, dst: Path) -> None:
    data = src.read_bytes()
    dst.write_bytes(data[: len(data) // 2])


def _random_bytes(src: Path, dst: Path) -> None:
    dst.write_bytes(random.Random(0).randbytes(64 * 1024))


def _ggml_bin(src: Path, dst: Path) -> None:
    # GGJT (2023 llama.cpp) magic as it lies on disk, then junk.
    dst.write_bytes(b"tjgg" + random.Random(1).randbytes(4096))


def _empty(src: Path, dst: Path) -> None:
    dst.write_bytes(b"")


def _missing(src: Path, dst: Path) -> None:
    pass


def _directory(src: Path, dst: Path) -> None:
    dst.mkdir()


def _unknown_architecture(src: Path, dst: Path) -> None:
    # A well-formed GGUF that only llama.cpp itself can reject.
    writer = gguf.GGUFWriter(dst, arch="no-such-arch")
    writer.add_name("mystery")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _context_length_as_text(src: Path, dst: Path) -> None:
    # Hostile metadata: refused by the host's own checks, naming the field, before llama.cpp runs.
    copy_gguf(src, dst, changes={"llama.context_length": ("abc", gguf.GGUFValueType.STRING)})


BAD_FILES = {
    "truncated": ("half.gguf", _truncated, "truncated"),
    "random-bytes": ("noise.gguf", _random_bytes, "not a GGUF"),
    "ggml-2023": ("ggml-model-q4_0.bin", _ggml_bin, "old GGJT"),
    "empty": ("empty.gguf", _empty, "empty"),
    "missing": ("missing.gguf", _missing, "not found"),
    "directory": ("folder.gguf", _directory, "folder"),
    "unknown-architecture": ("mystery.gguf", _unknown_architecture, "no-such-arch"),
    "bad-metadata": ("hostile.gguf", _context_length_as_text, "damaged or unusual: llama.context_length"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_model_file_is_an_error_and_host_survives(
    stories_host: HostClient, stories_gguf: Path, tmp_path: Path, case: str
) -> None:
    name, make, phrase = BAD_FILES[case]
    path = tmp_path / name
    make(stories_gguf, path)
    pid = stories_host.pid

    events = collect(stories_host, "load", path=str(path))
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["kind"] == "ModelLoadError"
    with pytest.raises(ModelLoadError) as caught:
        stories_host.call("load", path=str(path))
    message = str(caught.value)
    assert name in message
    assert phrase in message

    assert stories_host.alive and stories_host.pid == pid
    loaded = stories_host.call("load", path=str(stories_gguf), n_ctx=2048, n_threads=TEST_THREADS)
    assert loaded["event"] == "loaded"
    assert loaded["info"]["vocab_size"] == 512
    assert stories_host.pid == pid
    assert finished(collect(stories_host, "generate", prompt=PROMPT, params={"max_tokens": 5}))


def test_file_checks_keep_the_current_model(stories_host: HostClient, tmp_path: Path) -> None:
    """A file rejected before llama.cpp sees it does not unload the model in use."""
    bad = tmp_path / "noise.gguf"
    _random_bytes(bad, bad)
    with pytest.raises(ModelLoadError):
        stories_host.call("load", path=str(bad))
    assert stories_host.call("info")["info"]["file_name"] == "stories260K.gguf"


def test_requests_without_a_model_say_so(stories_host: HostClient, stories_gguf: Path) -> None:
    assert stories_host.call("unload")["event"] == "unloaded"
    try:
        with pytest.raises(NotLoaded, match="No model is loaded"):
            stories_host.call("generate", prompt=PROMPT, params={"max_tokens": 5})
        with pytest.raises(NotLoaded):
            stories_host.call("info")
    finally:
        stories_host.call("load", path=str(stories_gguf), n_ctx=2048, n_threads=TEST_THREADS)


def test_context_size_outside_the_range_is_refused_and_the_model_stays(stories_host: HostClient) -> None:
    for n_ctx in (10**9, 16, "big", 2048.5):
        with pytest.raises(ParameterError, match="context size"):
            stories_host.call("load", path="/nowhere.gguf", n_ctx=n_ctx)
    assert stories_host.call("info")["info"]["file_name"] == "stories260K.gguf"


def test_a_long_training_context_is_not_allocated(own_host: HostClient, stories_gguf: Path, tmp_path: Path) -> None:
    """The context is the user's setting, not what the file says the model was trained for.

    llama-cpp-python's own tokenizer sizes a buffer by the training context: 16M tokens there
    would cost 64 MB on every call. The host's does not.
    """
    longest = MAX_CONTEXT_LENGTH
    path = copy_gguf(
        stories_gguf, tmp_path / "long.gguf", changes={"llama.context_length": (longest, gguf.GGUFValueType.UINT32)}
    )
    loaded = own_host.call("load", path=str(path), n_ctx=2048, n_threads=TEST_THREADS)
    assert loaded["info"]["context_length"] == longest
    assert loaded["n_ctx"] == 2048
    assert own_host.call("tokenize", text=PROMPT, add_bos=True)["tokens"] == [1, 403, 407, 261, 378]
    text = "Once upon a time, " * 2000  # thousands of tokens: the buffer grows with the text
    assert len(own_host.call("tokenize", text=text)["tokens"]) > 8000
    events = collect(own_host, "generate", prompt=PROMPT, params={"max_tokens": 8, "seed": 1})
    assert finished(events)["generated_tokens"] == 8


# -- a host that dies -------------------------------------------------------------------------


@pytest.fixture
def own_host() -> Iterator[HostClient]:
    client = HostClient()
    try:
        yield client
    finally:
        client.stop()


def test_killed_host_raises_host_died_and_restarts(own_host: HostClient, stories_gguf: Path) -> None:
    own_host.call("load", path=str(stories_gguf), n_ctx=2048, n_threads=TEST_THREADS)
    first_pid = own_host.pid
    assert first_pid is not None
    params = {"max_tokens": 2000, "temperature": 1.0, "seed": 2}
    stream = own_host.stream("generate", timeout=EVENT_TIMEOUT_S, prompt=PROMPT, params=params)
    seen = 0
    with pytest.raises(HostDied) as caught:
        for event in stream:
            assert event["event"] in ("prompt", "token"), event
            if event["event"] == "token":
                seen += 1
                if seen == 3:
                    os.kill(first_pid, signal.SIGKILL)
    assert seen >= 3
    message = str(caught.value)
    assert message.startswith("host died")
    assert "SIGKILL" in message
    assert not own_host.alive

    own_host.start()
    assert own_host.pid is not None and own_host.pid != first_pid
    assert own_host.call("load", path=str(stories_gguf), n_ctx=2048, n_threads=TEST_THREADS)["event"] == "loaded"
    events = collect(own_host, "generate", prompt=PROMPT, params={"max_tokens": 8, "seed": 1})
    assert finished(events)["generated_tokens"] == 8


def test_native_abort_names_the_failed_assertion(stories_gguf: Path, tmp_path: Path) -> None:
    """A model file that trips a GGML_ASSERT inside llama.cpp: the message says which one.

    llama.cpp checks ``expert_used_count <= expert_count`` with an assertion, not an error, so a
    dense model that claims to use one expert aborts the process while it loads (and nothing the
    app reads beforehand looks at expert counts).
    """
    crafted = copy_gguf(
        stories_gguf, tmp_path / "one-expert.gguf", changes={"llama.expert_used_count": (1, gguf.GGUFValueType.UINT32)}
    )
    log_file = tmp_path / "logs" / "host.log"
    client = HostClient(log_file=log_file)
    try:
        with pytest.raises(HostDied) as caught:
            client.call("load", path=str(crafted), n_ctx=256, n_threads=TEST_THREADS, timeout=EVENT_TIMEOUT_S)
        first_line, *rest = str(caught.value).splitlines()
        assert first_line == "host died: the inference process ended (signal SIGABRT)."
        # Just the assertion, with the source file's name (not the build machine's folders).
        assert len(rest) == 1
        assert re.fullmatch(r"llama\.cpp aborted: [\w.-]+\.cpp:\d+: GGML_ASSERT\(.*n_expert.*\) failed", rest[0])
        # The log file has the same line, and llama.cpp's log just before it for context.
        log_text = log_file.read_text(encoding="utf-8")
        assert rest[0] in log_text
        assert "llama.cpp log: " in log_text
        # A fresh host starts on the next request.
        loaded = client.call("load", path=str(stories_gguf), n_ctx=256, n_threads=TEST_THREADS)
        assert loaded["event"] == "loaded"
    finally:
        client.stop()


# The stand-in for a load that takes minutes (a 7B model from a slow disk): the real host,
# serving the real protocol, whose Engine.load sleeps instead. It writes its pid to a file once
# it is inside the load, and cannot notice a closed stdin while there (as llama.cpp cannot).
SLOW_HOST = """
import os, time
from pathlib import Path
from runtime.chat import host

def slow_load(self, path, **options):
    Path(os.environ["ALPACA_TEST_LOADING"]).write_text(str(os.getpid()))
    time.sleep(120)

host.Engine.load = slow_load
raise SystemExit(host.serve_stdio())
"""
# The window or command line: starts the host, asks for a load, and is then killed.
PARENT = """
import sys
from runtime.chat.client import HostClient
client = HostClient(command=[sys.executable, "-c", sys.argv[1]])
client.request("load", path=sys.argv[2], n_ctx=256)
sys.stdin.read()
"""


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and /proc")
def test_host_ends_when_its_parent_is_killed_mid_load(stories_gguf: Path, tmp_path: Path) -> None:
    marker = tmp_path / "loading"
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, SLOW_HOST, str(stories_gguf)],
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_TEST_LOADING": str(marker)},
        stdin=subprocess.PIPE,
    )
    host_pid = None
    try:
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while not marker.exists() or not marker.read_text():
            assert parent.poll() is None and time.monotonic() < deadline, "the host never started loading"
            time.sleep(0.05)
        host_pid = int(marker.read_text())
        assert not process_is_gone(host_pid)
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10  # the load would go on for two minutes
        while not process_is_gone(host_pid):
            assert time.monotonic() < deadline, "the host outlived its parent"
            time.sleep(0.05)
    finally:
        parent.kill()
        parent.wait()
        if host_pid is not None and not process_is_gone(host_pid):
            os.kill(host_pid, signal.SIGKILL)  # the test failed: do not leave the orphan behind


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL and /proc")
def test_parent_watchdog_alone_ends_an_orphan(tmp_path: Path) -> None:
    """Where the kernel sends no signal (death_signal=0 here; every OS but Linux), the watchdog
    thread notices the parent is gone, runs the clean-up and ends the process."""
    ready, cleaned = tmp_path / "ready", tmp_path / "cleaned"
    child = f"""
import os, time
from pathlib import Path
from runtime._exit import end_with_parent
end_with_parent(death_signal=0, before_exit=lambda: Path({str(cleaned)!r}).write_text("yes"))
Path({str(ready)!r}).write_text(str(os.getpid()))
time.sleep(120)
"""
    parent_code = "import subprocess, sys; subprocess.Popen([sys.executable, '-c', sys.argv[1]]); sys.stdin.read()"
    parent = subprocess.Popen([sys.executable, "-c", parent_code, child], cwd=REPO_ROOT, stdin=subprocess.PIPE)
    child_pid = None
    try:
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while not ready.exists() or not ready.read_text():
            assert parent.poll() is None and time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child_pid = int(ready.read_text())
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 10
        while not process_is_gone(child_pid):
            assert time.monotonic() < deadline, "the orphan ran on"
            time.sleep(0.05)
        assert cleaned.read_text() == "yes"
    finally:
        parent.kill()
        parent.wait()
        if child_pid is not None and not process_is_gone(child_pid):
            os.kill(child_pid, signal.SIGKILL)


# -- Chinese: the merged vocabulary, byte-fallback pieces, the context budget --------------------


@pytest.fixture(scope="module")
def zh_host(zh_scripted: ScriptedZh) -> Iterator[HostClient]:
    """A host with the scripted Chinese model loaded in a 512-token context."""
    client = HostClient()
    try:
        loaded = client.call(
            "load", path=str(zh_scripted.path), n_ctx=512, n_threads=TEST_THREADS, timeout=EVENT_TIMEOUT_S
        )
        assert loaded["info"]["vocab_size"] == 49_953
        yield client
    finally:
        client.stop()


def _sp_prompt_tokens(zh: ScriptedZh, turns: list[templates.Turn]) -> int:
    """Prompt length by sentencepiece (the reference tokenizer): BOS + the template's text."""
    text = templates.render("chinese-alpaca", turns).text
    assert text.startswith("<s>")
    return 1 + len(zh.sp.encode(text.removeprefix("<s>")))


def test_chinese_answer_streams_whole_characters(zh_host: HostClient, zh_scripted: ScriptedZh) -> None:
    sp = zh_scripted.sp
    pieces = [sp.id_to_piece(t) for t in zh_scripted.answer_ids]
    byte_pieces = [p for p in pieces if re.fullmatch(r"<0x[0-9A-F]{2}>", p)]
    # 犇 and 🦙 are not in the vocabulary: 3 + 4 byte-fallback pieces.
    assert byte_pieces == ["<0xE7>", "<0x8A>", "<0x87>", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"]
    # Decoding each generated token alone would break those characters.
    naive = "".join(
        bytes([int(p[3:5], 16)]).decode("utf-8", errors="replace") if p in byte_pieces else p for p in pieces
    )
    assert "\ufffd" in naive

    params = {"max_tokens": 64, "n_ctx": 512, "temperature": 0.7, "seed": 11}
    events = collect(zh_host, "chat", template="chinese-alpaca", turns=[{"user": "介绍一下你自己"}], params=params)
    prompt = events[0]
    assert prompt["event"] == "prompt"
    assert prompt["n_tokens"] == _sp_prompt_tokens(zh_scripted, [templates.Turn(user="介绍一下你自己")])
    stats = finished(events)
    assert stats["reason"] == "stop"  # the scripted model ends with </s>
    assert stats["generated_tokens"] == len(zh_scripted.answer_ids) == 14

    tokens = [e["text"] for e in events if e["event"] == "token"]
    text = "".join(tokens)
    assert text == zh_scripted.answer
    assert "\ufffd" not in text
    assert all(tokens)
    # The host held the byte pieces back until each character was whole (and sends text at most
    # once per frame): fewer events than tokens, and each of the two characters arrived in one
    # piece of text.
    assert len(tokens) <= stats["generated_tokens"] - (3 - 1) - (4 - 1)
    assert any("犇" in t for t in tokens)
    assert any("🦙" in t for t in tokens)


def test_model_tokenizer_agrees_with_sentencepiece(
    zh_host: HostClient, zh_scripted: ScriptedZh, zh_samples: Path
) -> None:
    text = zh_samples.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if p.strip()][:50]
    assert len(paragraphs) == 50
    for paragraph in paragraphs:
        tokens = zh_host.call("tokenize", text=paragraph, add_bos=False)["tokens"]
        assert tokens == zh_scripted.sp.encode(paragraph), paragraph[:40]
    # The merge shows: Chinese text takes far fewer tokens than characters' UTF-8 bytes.
    poem = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"
    assert len(zh_host.call("tokenize", text=poem, add_bos=False)["tokens"]) == 21


def _long_turns(zh_samples: Path, n: int) -> list[dict[str, str]]:
    text = zh_samples.read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if len(p) >= 60]
    return [{"user": paragraphs[2 * i][:120], "assistant": paragraphs[2 * i + 1][:120]} for i in range(n)] + [
        {"user": "请总结一下我们的对话"}
    ]


def test_chat_drops_oldest_turns_to_fit_the_context(
    zh_host: HostClient, zh_scripted: ScriptedZh, zh_samples: Path
) -> None:
    turns = _long_turns(zh_samples, 12)
    as_turns = [templates.Turn(user=t["user"], assistant=t.get("assistant")) for t in turns]
    assert _sp_prompt_tokens(zh_scripted, as_turns) > 512  # the whole conversation cannot fit

    params = {"n_ctx": 512, "max_tokens": 64, "seed": 1}
    events = collect(zh_host, "chat", template="chinese-alpaca", turns=turns, params=params)
    prompt = events[0]
    assert prompt["event"] == "prompt"
    dropped = prompt["dropped_turns"]
    assert dropped > 0
    assert prompt["n_tokens"] + 64 <= 512
    # Exactly the reference count of what was kept, and keeping one more turn would not fit.
    assert prompt["n_tokens"] == _sp_prompt_tokens(zh_scripted, as_turns[dropped:])
    assert _sp_prompt_tokens(zh_scripted, as_turns[dropped - 1 :]) + 64 > 512
    assert answer_text(events) == zh_scripted.answer

    # The "count" op budgets the same way, without generating.
    counted = zh_host.call("count", template="chinese-alpaca", turns=turns, params=params)
    assert (counted["n_tokens"], counted["dropped_turns"]) == (prompt["n_tokens"], dropped)


def test_chat_asked_to_stop_refuses_a_prompt_that_would_leave_turns_out(
    zh_host: HostClient, zh_scripted: ScriptedZh, zh_samples: Path
) -> None:
    turns = _long_turns(zh_samples, 12)
    params = {"n_ctx": 512, "max_tokens": 64, "seed": 1}
    events = collect(zh_host, "chat", template="chinese-alpaca", turns=turns, params=params, on_full="stop")
    # Refused before the prompt is evaluated: no prompt event, no token.
    assert [e["event"] for e in events] == ["error"]
    assert (events[0]["kind"], events[0]["code"]) == ("ContextFull", "context_full")
    assert events[0]["params"]["n_ctx"] == 512 and events[0]["params"]["dropped_turns"] > 0
    with pytest.raises(ContextFull, match="Start a new conversation or raise the context size"):
        zh_host.call("chat", template="chinese-alpaca", turns=turns, params=params, on_full="stop")
    # A conversation that fits is answered as usual.
    ok = collect(zh_host, "chat", template="chinese-alpaca", turns=turns[-2:], params=params, on_full="stop")
    assert ok[0]["event"] == "prompt" and ok[0]["dropped_turns"] == 0
    assert answer_text(ok) == zh_scripted.answer


def test_instruction_longer_than_the_context_is_prompt_too_long(
    zh_host: HostClient, zh_scripted: ScriptedZh, zh_samples: Path
) -> None:
    text = zh_samples.read_text(encoding="utf-8")
    huge = text[:3000]
    params = {"n_ctx": 512, "max_tokens": 64}
    turns = [{"user": "你好", "assistant": "你好！"}, {"user": huge}]
    events = collect(zh_host, "chat", template="chinese-alpaca", turns=turns, params=params)
    assert [e["event"] for e in events] == ["error"]
    assert events[0]["kind"] == "PromptTooLong"
    assert "512" in events[0]["message"]
    with pytest.raises(PromptTooLong):
        zh_host.call("chat", template="chinese-alpaca", turns=turns, params=params)
    # The host goes on answering.
    ok = collect(zh_host, "chat", template="chinese-alpaca", turns=[{"user": "你好"}], params=params)
    assert answer_text(ok) == zh_scripted.answer


def test_request_that_cannot_be_sent_does_not_trip_a_later_cancel(stories_host: HostClient, stories_gguf: Path) -> None:
    """Regression: a request whose send failed stayed 'active' in the client, so the next cancel
    without a target waited for it in vain and ended a healthy host after 0.5 s."""
    pid = stories_host.pid
    with pytest.raises(TypeError):
        stories_host.call("load", path=stories_gguf)  # a Path is not JSON: never sent
    params = {"max_tokens": 2000, "temperature": 1.0, "seed": 8}
    events = []
    for event in stories_host.stream("generate", timeout=EVENT_TIMEOUT_S, prompt=PROMPT, params=params):
        events.append(event)
        if event["event"] == "token" and len(events) == 3:
            stories_host.cancel()
    assert finished(events)["reason"] == "cancelled"
    time.sleep(CANCEL_GRACE_S + 0.2)
    assert stories_host.alive and stories_host.pid == pid


def test_cancel_of_a_queued_request_is_acknowledged_and_host_is_not_ended(
    own_host: HostClient, stories_gguf: Path
) -> None:
    """A stop for a request waiting behind a busy host must not end the host (the host answers
    the cancel at once from its reader thread, and skips the request when it gets to it)."""
    import queue
    import time

    own_host.call("load", path=str(stories_gguf), n_ctx=2048, n_threads=1)
    pid = own_host.pid
    events: queue.Queue[HostEvent] = queue.Queue()
    own_host._on_event = events.put
    busy = own_host.request("generate", prompt="Once upon a time", params={"max_tokens": 2000, "seed": 1})
    queued = own_host.request("generate", prompt="The dog", params={"max_tokens": 20, "seed": 1})
    own_host.cancel(queued)
    time.sleep(1.0)  # well past the 0.5 s after which an unanswered cancel ends the host
    finishes: dict[int, HostEvent] = {}
    deadline = time.monotonic() + 30
    while len(finishes) < 2 and time.monotonic() < deadline:
        event = events.get(timeout=30)
        if event["event"] == "finished":
            finishes[event["id"]] = event
    assert own_host.alive and own_host.pid == pid
    assert finishes[queued]["reason"] == "cancelled"
    assert finishes[busy]["reason"] in ("length", "stop")


def test_malformed_cancel_gets_an_error_and_host_keeps_working(stories_host: HostClient) -> None:
    stories_host._send({"id": 0, "op": "cancel", "target": "abc"})
    events = collect(stories_host, "generate", prompt="Once upon a time", params={"max_tokens": 5, "seed": 1})
    assert finished(events)["generated_tokens"] > 0


@pytest.fixture(scope="module")
def slow_prompt_model(tmp_path_factory: pytest.TempPathFactory, llama_tokenizer: Path) -> Path:
    """A random model big enough that a long prompt takes a second or more to evaluate."""
    from runtime.models.tiny import write_llama_gguf

    path = tmp_path_factory.mktemp("slow") / "slow-prompt.gguf"
    return write_llama_gguf(
        path, tokenizer=llama_tokenizer, hidden=256, layers=6, heads=4, ffn=1024, context_length=4096, dtype="q8_0"
    )


def test_stop_during_a_long_prompt_evaluation_stops_inside_the_batch(
    own_host: HostClient, slow_prompt_model: Path
) -> None:
    own_host.call("load", path=str(slow_prompt_model), n_ctx=4096, n_threads=1)
    prompt = "The quick brown fox jumps over the lazy dog. " * 300  # about 3,600 tokens
    params = {"max_tokens": 8, "n_ctx": 4096, "seed": 1}
    # How long the whole prompt takes when nobody stops it.
    started = time.monotonic()
    full = finished(collect(own_host, "generate", prompt=prompt, params=params))
    full_s = time.monotonic() - started
    assert full["prompt_tokens_evaluated"] > 3000
    # A different prompt, so nothing is reused from the cache; stop it a quarter of the way in.
    other = "A small red hen found a grain of wheat. " * 330
    pid = own_host.pid
    events = own_host.stream("generate", prompt=other, params=params)
    first = next(events)
    assert first["event"] == "prompt"
    time.sleep(full_s / 4)
    stop_at = time.monotonic()
    own_host.cancel()
    rest = list(events)
    stopped_after = time.monotonic() - stop_at
    assert rest[-1]["event"] == "finished" and rest[-1]["reason"] == "cancelled"
    assert rest[-1]["generated_tokens"] == 0
    # Stopped inside the 512-token batch, not at its end (measured against this run's own speed,
    # so a slow machine scales both sides), and the host was not ended for it.
    batch_s = full_s * 512 / full["prompt_tokens_evaluated"]
    assert stopped_after < batch_s / 2, (stopped_after, batch_s)
    assert own_host.pid == pid
    # The cache is consistent afterwards: the same prompt again gives the same answer as before.
    again = finished(collect(own_host, "generate", prompt=prompt, params=params))
    assert again["generated_tokens"] == full["generated_tokens"]


def test_a_request_chooses_the_thread_count(stories_host: HostClient) -> None:
    """A count sent with a request is used from then on; null lets the host measure."""
    events = collect(stories_host, "generate", prompt=PROMPT, params={"max_tokens": 8, "seed": 1}, threads=2)
    assert finished(events)["threads"] == 2
    events = collect(stories_host, "generate", prompt=PROMPT, params={"max_tokens": 8, "seed": 1}, threads=None)
    assert finished(events)["threads"] in (1, 2)  # automatic: the measured best of 1..cores
    events = collect(stories_host, "generate", prompt=PROMPT, params={"max_tokens": 8, "seed": 1}, threads=1)
    assert finished(events)["threads"] == 1


def test_events_of_awaited_requests_go_to_their_caller_alone(stories_gguf: Path) -> None:
    # The local server streams its answers on the window's host: those tokens must not also reach
    # the window's listener (each would cross into the GUI thread to be dropped there).
    heard: list[HostEvent] = []
    client = HostClient(on_event=heard.append)
    try:
        client.call("load", path=str(stories_gguf), n_ctx=256, n_threads=TEST_THREADS, timeout=EVENT_TIMEOUT_S)
        awaited = list(
            client.stream("generate", prompt="Once upon a time", params={"max_tokens": 8}, timeout=EVENT_TIMEOUT_S)
        )
        assert awaited[-1]["event"] == "finished"
        assert [e for e in heard if e.get("id") is not None] == []  # ("ready" has none)
        # A request whose events nobody awaits goes to the listener, as the window's do.
        request_id = client.request("tokenize", text="Once upon a time", add_bos=False)
        deadline = time.monotonic() + EVENT_TIMEOUT_S
        while not any(e.get("id") == request_id for e in heard) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [e["event"] for e in heard if e.get("id") == request_id] == ["result"]
    finally:
        client.stop()
