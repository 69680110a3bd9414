"""The model jobs as real processes: inspect, convert, quantize, report; cancel; the isolated interpreter."""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import llama_cpp
import pytest

from runtime.jobs import GATE_ENV, JobProcess, Outcome, build_command
from runtime.models.tiny_checkpoint import write_llama_checkpoint
from runtime.tokens import MergeResult
from tests.unit.conftest import process_is_gone

JOB_TIMEOUT_S = 300


def run(job: str, **options: object) -> tuple[Outcome, list[dict]]:
    process = JobProcess(build_command(job, **options))
    process.start()
    events = list(process.events(timeout=JOB_TIMEOUT_S))
    return process.wait(JOB_TIMEOUT_S), events


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, merged_vocab: MergeResult, zh_samples: Path) -> Path:
    text = zh_samples.read_text(encoding="utf-8")
    folder = tmp_path_factory.mktemp("ckpt") / "chinese-llama-tiny"
    return write_llama_checkpoint(folder, tokenizer=merged_vocab.model_proto_bytes, unigram_text=text, std=0.01, seed=3)


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory, checkpoint: Path) -> dict[str, object]:
    """The checkpoint inspected, converted to F16 and quantized to Q8_0 and Q4_0, each by its job."""
    out = tmp_path_factory.mktemp("gguf")
    inspected, _events = run("convert-inspect", folder=checkpoint)
    assert inspected.ok, inspected.error
    f16 = out / "tiny-f16.gguf"
    outcome, events = run("convert", src=checkpoint, out=f16, outtype="f16")
    assert outcome.ok, outcome.error
    files = {"f16": f16}
    results = {}
    for qtype in ("q8_0", "q4_0"):
        files[qtype] = out / f"tiny-{qtype}.gguf"
        quantized, qevents = run("quantize", src=f16, out=files[qtype], type=qtype, threads=1)
        assert quantized.ok, quantized.error
        results[qtype] = (quantized.result, qevents)
    return {"inspected": inspected.result, "convert": (outcome.result, events), "files": files, "quantized": results}


def test_inspect_job_reports_the_checkpoint_and_estimates(converted: dict) -> None:
    inspected = converted["inspected"]
    assert inspected["checkpoint"]["embedding_rows"] == 49_953 and inspected["checkpoint"]["problems"] == []
    files = converted["files"]
    for kind in ("f16", "q8_0", "q4_0"):
        real = files[kind].stat().st_size
        assert abs(inspected["estimates"][kind] - real) / real < 0.05, kind


def test_convert_job_reports_progress_per_tensor(converted: dict) -> None:
    result, events = converted["convert"]
    progress = [e for e in events if e["event"] == "progress"]
    assert [e["done"] for e in progress if e["stage"] == "converting"] == list(range(1, result["n_tensors"] + 1))
    assert progress[-1]["stage"] == "done"


def test_quantized_files_load_generate_and_match_their_estimates(converted: dict) -> None:
    for qtype, (result, events) in converted["quantized"].items():
        assert abs(result["estimate"] - result["bytes"]) / result["bytes"] < 0.05
        stages = {e["stage"] for e in events if e["event"] == "progress"}
        assert f"quantizing {qtype}" in stages
        done = [e["done"] for e in events if e["event"] == "progress" and e["stage"] == f"quantizing {qtype}"]
        assert max(done) == 21 and len(set(done)) > 10  # per tensor, from llama.cpp's log
        llm = llama_cpp.Llama(result["path"], n_ctx=64, verbose=False, n_threads=1)
        try:
            out = llm("从前", max_tokens=8, temperature=0.0)
            assert out["usage"]["completion_tokens"] > 0
        finally:
            llm.close()
    sizes = [converted["files"][k].stat().st_size for k in ("f16", "q8_0", "q4_0")]
    assert sizes == sorted(sizes, reverse=True)


def test_report_job_orders_perplexity_by_precision(converted: dict, zh_samples: Path, tmp_path: Path) -> None:
    files = converted["files"]
    outcome, events = run(
        "report",
        files="\n".join(str(files[k]) for k in ("f16", "q8_0", "q4_0")),
        text=zh_samples,
        ctx=128,
        threads=1,
        max_chunks=6,
        speed_tokens=8,
    )
    assert outcome.ok, outcome.error
    rows = {Path(row["file"]).name: row for row in outcome.result["rows"]}
    f16, q8, q4 = (rows[f"tiny-{k}.gguf"] for k in ("f16", "q8_0", "q4_0"))
    assert f16["quantization"] == "F16" and q4["quantization"] == "Q4_0"
    # A unigram model of this very text: far better than chance (49,953 pieces), and each
    # quantization step costs a little (0.5% tolerance between F16 and Q8_0, nearly lossless).
    assert f16["perplexity"] < 5_000
    assert f16["perplexity"] <= q8["perplexity"] * 1.005
    assert q8["perplexity"] <= q4["perplexity"] * 1.005
    assert 15.9 < f16["bits_per_weight"] < 16.1 and 8.4 < q8["bits_per_weight"] < 8.6
    assert all(row["n_chunks"] == 6 and row["tokens_per_second"] > 0 for row in rows.values())
    assert any(e["event"] == "progress" and e["stage"].startswith("perplexity 3/3") for e in events)


def test_jobs_run_isolated_from_the_folder(checkpoint: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A numpy.py in the working directory (the model folder, say) is not imported by the job."""
    hostile = tmp_path / "hostile"
    hostile.mkdir()
    canary = tmp_path / "canary"
    for module in ("numpy", "gguf", "json"):
        (hostile / f"{module}.py").write_text(f"open({str(canary)!r}, 'w').write('ran')\n", encoding="utf-8")
    monkeypatch.chdir(hostile)
    monkeypatch.setenv("PYTHONPATH", str(hostile))
    command = build_command("convert-inspect", folder=checkpoint)
    assert command[:2] == [sys.executable, "-I"]
    outcome = JobProcess(command)
    outcome.start()
    result = outcome.wait(JOB_TIMEOUT_S)
    assert result.ok, result.error
    assert not canary.exists()


@pytest.fixture(scope="module")
def larger_checkpoint(tmp_path_factory: pytest.TempPathFactory, merged_vocab: MergeResult) -> Path:
    """Enough tensors (40 layers) that a cancel lands while the conversion still runs."""
    folder = tmp_path_factory.mktemp("ckpt") / "larger"
    return write_llama_checkpoint(folder, tokenizer=merged_vocab.model_proto_bytes, layers=40, hidden=128, ffn=256)


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_cancel_mid_conversion_leaves_no_file_and_no_process(
    larger_checkpoint: Path, tmp_path: Path, fraction: float
) -> None:
    out = tmp_path / "out" / "model.gguf"
    out.parent.mkdir()
    reached = threading.Event()
    process: JobProcess

    def on_event(event: dict) -> None:
        converting = event["event"] == "progress" and event["stage"] == "converting" and event["total"]
        if converting and event["done"] >= fraction * event["total"] and not reached.is_set():
            reached.set()
            process.cancel()

    # The job waits at the share it is cancelled at (a gate never opened), so the cancel cannot come
    # after the conversion has finished, however fast the machine or slow the test runner.
    gate = f"converting@{fraction}={tmp_path / 'never-opened'}"
    process = JobProcess(
        build_command("convert", src=larger_checkpoint, out=out, outtype="f32"),
        on_event=on_event,
        env={GATE_ENV: gate},
    )
    process.start()
    pid = process.pid
    assert pid is not None
    outcome = process.wait(JOB_TIMEOUT_S)
    assert reached.is_set()
    assert outcome.cancelled and not outcome.ok
    assert list(out.parent.iterdir()) == []
    assert process_is_gone(pid)
    try:
        os.killpg(pid, 0)
        group_alive = True
    except ProcessLookupError:
        group_alive = False
    assert not group_alive
