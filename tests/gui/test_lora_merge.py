"""Get models → a published LoRA → "Merge with LLaMA weights…" → the convert wizard (issues 11, 12).

The repositories are tiny peft adapters shaped like hfl/chinese-llama-plus-lora-7b and
hfl/chinese-alpaca-plus-lora-7b (built in a child Python: torch stays out of this process), served
by the fake hub and downloaded by the real download job; the base check is the real
``convert-inspect`` job and the merge the real ``lora-merge`` job.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from app.controllers.lora_merge import LoraMergeController
from app.main_window import MainWindow
from runtime.jobs import GATE_ENV
from runtime.models.convert import format_size
from tests.fakehub import FakeHub
from tests.lora_repos import build_chain_in_child, repo_files

LLAMA_PLUS = "hfl/chinese-llama-plus-lora-7b"
ALPACA_PLUS = "hfl/chinese-alpaca-plus-lora-7b"
WAIT_MS = 120_000  # jobs that import torch, on a busy two-core machine (a safety net, not a measurement)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    built = build_chain_in_child(tmp_path_factory.mktemp("lora-chain"))
    return {role: Path(path) for role, path in built.items()}


def _tiny_entries(window: MainWindow) -> None:
    """The catalogue's entries, sized for the tiny test models (their hidden size is not 7B's)."""
    controller = window.hub_controller
    controller.open_dialog()
    for repo in (LLAMA_PLUS, ALPACA_PLUS):
        controller.entries[repo] = replace(controller.entries[repo], params="")


def _place(window: MainWindow, repo: str, adapter: Path) -> Path:
    """Put an adapter into the models folder by hand (as ``huggingface-cli download --local-dir`` does)."""
    folder = window.ctx.downloads.models_dir / repo
    shutil.copytree(adapter, folder)
    return folder


def test_from_a_catalogue_lora_to_the_convert_wizard(qtbot, window: MainWindow, hub: FakeHub, chain) -> None:
    for repo, role in ((LLAMA_PLUS, "llama_plus"), (ALPACA_PLUS, "alpaca_plus")):
        for name, data in repo_files(chain[role]).items():
            hub.add(repo, name, data)
    _tiny_entries(window)
    controller = window.hub_controller
    dialog = controller.dialog
    controller._show_details(controller.entries[ALPACA_PLUS])
    assert "LLaMA + hfl/chinese-llama-plus-lora-7b + hfl/chinese-alpaca-plus-lora-7b" in dialog.details.text()

    # The Alpaca-Plus adapter is downloaded by the real download job.
    item = controller.download(ALPACA_PLUS, "")
    assert item is not None
    qtbot.waitUntil(lambda: item.state == "done", timeout=WAIT_MS)
    dialog.select_repo(ALPACA_PLUS)
    qtbot.waitUntil(lambda: dialog.merge_button.isVisible() and dialog.merge_button.isEnabled(), timeout=10_000)
    dialog.select_download(item)
    assert dialog.open_button.text() == "Merge with LLaMA weights…"
    qtbot.mouseClick(dialog.merge_button, Qt.MouseButton.LeftButton)
    merge = controller.merge_controller
    assert merge is not None and merge.dialog.isVisible()
    view = merge.dialog
    assert merge.chain == [LLAMA_PLUS, ALPACA_PLUS]
    # The prerequisite is missing: the dialog says so and offers it.
    assert "not downloaded" in view.chain_label.text() and view.download_button.isVisible()
    assert not view.merge_button.isEnabled()
    qtbot.mouseClick(view.download_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.download_button.isVisible(), timeout=WAIT_MS)
    assert not merge.missing() and "not downloaded" not in view.chain_label.text()

    view.set_base(str(chain["base"]))
    qtbot.waitUntil(lambda: view.merge_button.isEnabled(), timeout=WAIT_MS)
    assert "32,000 tokens" in view.base_status.text()
    assert "takes about" in view.space_label.text() and not view.problem.isVisible()
    out = Path(view.out_edit.text())
    assert out.parent == window.ctx.downloads.models_dir / "merged"

    qtbot.mouseClick(view.merge_button, Qt.MouseButton.LeftButton)
    assert view.progress.isVisible() and view.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: getattr(window, "_convert_wizard", None) is not None, timeout=WAIT_MS)
    wizard = window._convert_wizard
    assert wizard.isVisible() and wizard.folder_edit.text() == str(out)
    assert not view.isVisible()
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["vocab_size"] == 49_954  # the Alpaca tokenizer, with its pad token
    assert (out / "tokenizer.model").read_bytes() == (chain["alpaca_plus"] / "tokenizer.model").read_bytes()
    # The wizard checks the merged folder with its own inspection: convertible.
    qtbot.waitUntil(lambda: "Checking" not in wizard.inspection_label.text(), timeout=WAIT_MS)
    assert "49,954" in wizard.inspection_label.text() or "49954" in wizard.inspection_label.text()
    wizard.close()


def _open_merge(qtbot, window: MainWindow, chain) -> LoraMergeController:
    _tiny_entries(window)
    _place(window, LLAMA_PLUS, chain["llama_plus"])
    _place(window, ALPACA_PLUS, chain["alpaca_plus"])
    window.hub_controller.open_merge(ALPACA_PLUS)
    merge = window.hub_controller.merge_controller
    qtbot.waitUntil(lambda: merge.extra is not None, timeout=WAIT_MS)
    return merge


def _problem_after(qtbot, merge: LoraMergeController, base: Path | str) -> str:
    merge.dialog.set_base(str(base))
    qtbot.waitUntil(lambda: not merge._inspector.running and merge.dialog.problem.isVisible(), timeout=WAIT_MS)
    assert not merge.dialog.merge_button.isEnabled()
    return merge.dialog.problem.text()


def test_bad_bases_and_a_full_disk_are_refused_with_clear_messages(
    qtbot, window: MainWindow, chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    merge = _open_merge(qtbot, window, chain)
    assert not merge.missing() and not merge.dialog.download_button.isVisible()

    # Meta's original checkpoint: the merge needs the Hugging Face format, and says how to get it.
    meta = tmp_path / "LLaMA" / "7B"
    meta.mkdir(parents=True)
    (meta / "params.json").write_text('{"dim": 4096}', encoding="utf-8")
    (meta / "consolidated.00.pth").write_bytes(b"\0" * 16)
    text = _problem_after(qtbot, merge, meta)
    assert "consolidated" in text and "Hugging Face format" in text and "convert_llama_weights_to_hf" in text

    # Not a model at all, and a model that is not LLaMA.
    (tmp_path / "empty").mkdir()
    assert "config.json" in _problem_after(qtbot, merge, tmp_path / "empty")
    gpt = tmp_path / "gpt2"
    gpt.mkdir()
    (gpt / "config.json").write_text('{"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"}', encoding="utf-8")
    assert "GPT2LMHeadModel" in _problem_after(qtbot, merge, gpt)

    # The wrong vocabulary chain: a model with the Chinese vocabulary already (49,953) as the base.
    text = _problem_after(qtbot, merge, chain["chinese_llama"])
    assert "49,953" in text and "32,000" in text and "original LLaMA" in text

    # The right base, but no room for the merged model: refused before anything is written.
    monkeypatch.setenv("ALPACA_DESK_FAKE_FREE_BYTES", "1000000")
    text = _problem_after(qtbot, merge, chain["base"])
    assert f"{format_size(1_000_000)} free" in text and "needs about" in text
    monkeypatch.delenv("ALPACA_DESK_FAKE_FREE_BYTES")
    merge.update()
    assert merge.dialog.merge_button.isEnabled() and not merge.dialog.problem.isVisible()

    # Cancel while the job runs: it ends, and nothing of the merged folder is left. The job waits
    # after its first merged shard (written, not yet renamed into place) until a gate file that
    # never comes, so the Cancel cannot lose the race against a fast merge.
    monkeypatch.setenv(GATE_ENV, f"merging={tmp_path / 'gate'}")
    out = Path(merge.dialog.out_edit.text())
    qtbot.mouseClick(merge.dialog.merge_button, Qt.MouseButton.LeftButton)
    assert merge.dialog.running and merge.dialog.cancel_button.text() == "Cancel"
    qtbot.waitUntil(lambda: merge.dialog.progress.maximum() > 0 and merge.dialog.progress.value() > 0, timeout=WAIT_MS)
    qtbot.mouseClick(merge.dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not merge.dialog.running, timeout=WAIT_MS)
    assert "cancelled" in merge.dialog.status.text()
    assert not out.exists() and not any(out.parent.iterdir())
    assert merge.dialog.isVisible() and merge.dialog.merge_button.isEnabled()
    assert getattr(window, "_convert_wizard", None) is None
    merge.dialog.reject()


def test_an_adapter_whose_tokenizer_does_not_fit_its_embeddings_fails_with_the_vocabulary_message(
    qtbot, window: MainWindow, chain
) -> None:
    merge = _open_merge(qtbot, window, chain)
    # The Alpaca adapter with Chinese-LLaMA's tokenizer (49,953) beside its 49,954-row embeddings.
    alpaca = window.ctx.downloads.models_dir / ALPACA_PLUS
    shutil.copy2(chain["llama_plus"] / "tokenizer.model", alpaca / "tokenizer.model")
    merge.dialog.set_base(str(chain["base"]))
    qtbot.waitUntil(lambda: merge.dialog.merge_button.isEnabled(), timeout=WAIT_MS)
    out = Path(merge.dialog.out_edit.text())
    merge.dialog.merge_button.click()
    assert merge.dialog.running
    qtbot.waitUntil(lambda: not merge.dialog.running, timeout=WAIT_MS)
    text = merge.dialog.problem.text()
    assert "49,953" in text and "49,954" in text, (text, merge.dialog.status.text(), merge.dialog.isVisible())
    assert not out.exists() and merge.dialog.isVisible()
    assert getattr(window, "_convert_wizard", None) is None


def test_without_torch_the_dialog_says_how_to_install_it(
    qtbot, window: MainWindow, chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A real Python without the train extra: a fresh virtual environment with no packages.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True, timeout=120)
    bare = tmp_path / "bare" / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    monkeypatch.setattr(LoraMergeController, "python", str(bare))
    merge = _open_merge(qtbot, window, chain)
    assert merge.extra is not None and not merge.extra.ready
    merge.update()
    text = merge.dialog.problem.text()
    assert "torch" in text and "pip install 'alpaca-desk[train]'" in text
    assert not merge.dialog.merge_button.isEnabled()
