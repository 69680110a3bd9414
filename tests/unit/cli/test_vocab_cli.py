"""``alpaca-desk tokens`` and ``alpaca-desk vocab``, run as real processes."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sentencepiece as spm

from runtime.jobs import GATE_ENV

REPO_ROOT = Path(__file__).resolve().parents[3]
CLI_TIMEOUT_S = 120
POEM = "白日依山尽，黄河入海流。欲穷千里目，更上一层楼。"


def cli_env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "ALPACA_DESK_HOME": str(home),
        "PYTHONIOENCODING": "utf-8",
    }


def run_cli(*args: str, home: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli", *args],
        cwd=REPO_ROOT,
        env=cli_env(home),
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=CLI_TIMEOUT_S,
        check=False,
    )


def test_tokens_json(tmp_path: Path, isolated_dirs: Path) -> None:
    poem = tmp_path / "poem.txt"
    poem.write_text(POEM, encoding="utf-8")
    result = run_cli("tokens", "--json", str(poem), home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert (data["source"], data["n_chars"], data["add_bos"], data["n_ctx"]) == (str(poem), 24, False, 2048)
    llama, chinese = data["tokenizers"]
    assert (llama["label"], llama["n_vocab"], llama["n_tokens"]) == ("LLaMA (32,000)", 32_000, 37)
    assert (chinese["label"], chinese["n_vocab"], chinese["n_tokens"]) == ("Chinese-LLaMA (49,953)", 49_953, 21)
    assert llama["byte_fallback"] > 0 and chinese["byte_fallback"] == 0
    assert (llama["ratio_to_first"], chinese["ratio_to_first"]) == (1.0, round(21 / 37, 4))
    assert chinese["chars_per_token"] == round(24 / 21, 4)
    assert chinese["context_chars"] == int(2048 * 24 / 21)
    assert llama["kind"] == chinese["kind"] == "builtin"


def test_tokens_ids_in_a_fresh_home_match_sentencepiece(
    tmp_path: Path, isolated_dirs: Path, llama_tokenizer: Path, merged_sp: spm.SentencePieceProcessor
) -> None:
    """Out of the box (a fresh home, nothing beside the repository): the shipped tokenizers answer."""
    poem = tmp_path / "poem.txt"
    poem.write_text(POEM, encoding="utf-8")
    result = run_cli("tokens", "--json", "--ids", "--add-bos", str(poem), home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    llama, chinese = json.loads(result.stdout)["tokenizers"]
    assert Path(llama["path"]) == llama_tokenizer.resolve()  # the copy the app ships
    reference = spm.SentencePieceProcessor(model_file=str(llama_tokenizer))
    assert llama["ids"] == [1, *reference.encode(POEM)]
    assert llama["pieces"] == ["<s>", *(reference.id_to_piece(i) for i in reference.encode(POEM))]
    assert len(llama["ids"]) == llama["n_tokens"] == 38
    assert chinese["ids"] == [1, *merged_sp.encode(POEM)]
    assert "".join(chinese["pieces"][1:]).replace("▁", "") == POEM
    plain = run_cli("tokens", "--json", str(poem), home=isolated_dirs)
    assert "ids" not in json.loads(plain.stdout)["tokenizers"][0]


def test_tokens_table_from_stdin_with_chosen_tokenizers(isolated_dirs: Path, llama_tokenizer: Path) -> None:
    args = ["tokens", "-", "--tokenizer", "chinese-llama-2", "--tokenizer", str(llama_tokenizer), "--add-bos"]
    result = run_cli(*args, home=isolated_dirs, stdin=POEM + "\x00🦙")
    assert result.returncode == 0, result.stderr
    header, first, second, *notes = result.stdout.splitlines()
    assert header.split()[:2] == ["tokenizer", "tokens"]
    assert first.startswith("Chinese-LLaMA-2 (55,296)")
    assert second.startswith("llama/tokenizer.model")
    assert second.split()[1] == str(37 + 1 + 4 + 1)  # the poem, a NUL byte, 4 bytes of emoji, BOS
    assert "26 characters from <stdin>, including the BOS token" in notes[0]


def test_tokens_reports_a_bad_tokenizer(tmp_path: Path, isolated_dirs: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text(POEM, encoding="utf-8")
    bad = tmp_path / "broken.model"
    bad.write_bytes(b"")
    result = run_cli("tokens", str(text), "--tokenizer", str(bad), home=isolated_dirs)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and str(bad) in result.stderr and "empty" in result.stderr
    result = run_cli("tokens", str(tmp_path / "absent.txt"), home=isolated_dirs)
    assert result.returncode == 2 and "absent.txt" in result.stderr


def test_vocab_merge_with_pad(
    tmp_path: Path, isolated_dirs: Path, llama_tokenizer: Path, chinese_sp_model: Path
) -> None:
    out = tmp_path / "alpaca-tokenizer"
    args = ["vocab", "merge", str(llama_tokenizer), str(chinese_sp_model), "--out", str(out), "--pad"]
    result = run_cli(*args, home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    assert "final size: 49,954 (with the pad token <pad>)" in result.stdout
    assert "added: 17,953" in result.stdout and "must go with" in result.stdout
    assert (out / "tokenizer.model").is_file() and (out / "tokenizer_config.json").is_file()

    result = run_cli(*args[:-1], "--json", home=isolated_dirs)
    data = json.loads(result.stdout)
    assert (data["base_size"], data["added"], data["final_size"], data["pad_token"]) == (32_000, 17_953, 49_953, None)


def test_vocab_train(tmp_path: Path, isolated_dirs: Path, zh_samples: Path) -> None:
    corpus = zh_samples
    out = tmp_path / "zh.model"
    args = ["vocab", "train", str(corpus), "--size", "3000", "--out", str(out), "--threads", "1"]
    result = run_cli(*args, home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    assert f"Wrote {out} (3,000 pieces)" in result.stdout
    assert "[training " in result.stderr and "[done" in result.stderr
    assert out.is_file() and out.with_suffix(".vocab").is_file()


@pytest.mark.skipif(os.name != "posix", reason="sends SIGINT")
def test_vocab_train_ctrl_c_leaves_nothing(tmp_path: Path, isolated_dirs: Path, zh_samples: Path) -> None:
    text = zh_samples.read_text(encoding="utf-8")
    chars = sorted({c for c in text if "\u4e00" <= c <= "\u9fff"})
    flat = "".join(random.Random(1).choices(chars, k=3_000 * 60))
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n".join(flat[i : i + 60] for i in range(0, len(flat), 60)), encoding="utf-8")
    out_dir = tmp_path / "out"
    # The job waits at its first "training" progress until a gate file that never comes: the
    # Ctrl-C is sure to arrive while it trains, however fast the machine.
    env = {**cli_env(isolated_dirs), GATE_ENV: f"training={tmp_path / 'gate'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "vocab", "train", str(corpus), "--out", str(out_dir / "zh.model")],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    try:
        assert process.stderr is not None
        deadline = time.monotonic() + CLI_TIMEOUT_S
        for line in process.stderr:
            if line.startswith("[training"):
                break
            assert time.monotonic() < deadline
        process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal does
        _, rest = process.communicate(timeout=CLI_TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, rest
    assert "cancelled; nothing was written" in rest
    assert list(out_dir.iterdir()) == []


def test_job_subcommand_speaks_json_lines(isolated_dirs: Path, llama_tokenizer: Path) -> None:
    result = run_cli("job", "tokenizer-check", f"--path={llama_tokenizer}", home=isolated_dirs)
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert [e["event"] for e in events] == ["started", "progress", "result"]
    assert events[-1]["n_vocab"] == 32_000
