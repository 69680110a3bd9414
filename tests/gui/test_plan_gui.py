"""The planner in the window: each catalogue file's memory and speed on this computer, the ★'s
reason, the KV cache type, the loaded model's plan and a load refused for memory (issue 24)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.main_window import MainWindow
from app.views.hub_view import FILE_ROLE, REPO_ROLE
from runtime.models.machine import AVAILABLE_MEMORY_ENV, Machine
from runtime.models.tiny import write_llama_gguf
from tests.gui.clicks import choose_in_combo, choose_menu, click, click_item, tree_row, type_text

#: The issue's small computer, given to the planner as figures (no probe, nothing timed).
SMALL = Machine.described(cores=2, memory_gb=16, bandwidth_gb_s=15)
PLAN_TEXT = re.compile(r"^\d+\.\d GB · about \d+(\.\d)? tokens/s")


def _file_rows(qtbot, dialog, repo: str) -> list:
    click_item(qtbot, dialog.catalogue, tree_row(dialog.catalogue, repo, role=REPO_ROLE))
    qtbot.waitUntil(lambda: dialog.files.topLevelItemCount() > 1, timeout=10_000)
    return [dialog.files.topLevelItem(i) for i in range(dialog.files.topLevelItemCount())]


def test_catalogue_files_show_their_plan_and_the_star_explains_itself(qtbot, window: MainWindow) -> None:
    window.ctx.settings.hub_offline = True  # the shipped snapshot's entries, nothing asked of the hub
    choose_menu(qtbot, window, "Model", "Get models…")
    controller = window.hub_controller
    dialog = controller.dialog
    assert dialog is not None and dialog.isVisible()
    controller.set_machine(SMALL)

    pick = controller._recommendation()
    assert pick is not None and "13b" not in pick.repo
    star = dialog.recommendation_label.text()
    assert pick.file in star
    assert f"{pick.memory / 1e9:.1f} GB" in star and f"{pick.n_ctx:,}" in star
    assert re.search(r"Expected: about [\d.]+ tokens/s here", star), star

    rows = _file_rows(qtbot, dialog, "hfl/chinese-alpaca-2-7b-gguf")
    for row in rows:
        assert PLAN_TEXT.match(row.text(3)), row.text(3)
        assert "tokens of context" in row.toolTip(3)
    if pick.repo == "hfl/chinese-alpaca-2-7b-gguf":
        [starred] = [r for r in rows if r.data(0, FILE_ROLE) == pick.file]
        assert "too slow" not in starred.text(3) and starred.toolTip(3).startswith("★ about")

    # A 13B file reads 5 to 14 GB per token: far below reading speed at 15 GB/s. Marked, not hidden.
    rows = _file_rows(qtbot, dialog, "hfl/chinese-alpaca-2-13b-gguf")
    assert len(rows) >= 3
    for row in rows:
        assert PLAN_TEXT.match(row.text(3)) and "too slow here" in row.text(3), row.text(3)
        assert "slower than reading" in row.toolTip(3)


LOAD_TIMEOUT_MS = 30_000


@pytest.fixture
def little_memory(monkeypatch: pytest.MonkeyPatch) -> int:
    """200 MB free, as the planner counts it (set before the window starts its host): the tiny
    model fits at a 512-token context, not at 32,768 (its attention scores alone take 537 MB)."""
    available = 200_000_000
    monkeypatch.setenv(AVAILABLE_MEMORY_ENV, str(available))
    return available


def test_the_kv_cache_type_is_saved_and_the_next_load_uses_it(
    qtbot, local_window: MainWindow, llama_tokenizer: Path, tmp_path: Path
) -> None:
    # Heads of 32 values: q8_0 and q4_0 store the cache in blocks of 32 (stories260K's are 8 wide).
    model = write_llama_gguf(tmp_path / "kv.gguf", tokenizer=llama_tokenizer, hidden=64, layers=2, heads=2, ffn=128)
    window = local_window
    combo = window.decoding._kv_type
    assert combo.currentData() == "f16" and "quarters" in combo.toolTip()
    choose_in_combo(qtbot, combo, "q8_0")
    assert window.ctx.settings.kv_type == "q8_0"
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_model(str(model))
    assert window.client.model_info is not None and window.client.model_info["kv"] == "q8_0"
    # The status bar adds the plan of the loaded file at its context and KV cache type.
    qtbot.waitUntil(lambda: "plan: " in window.model_label.text(), timeout=LOAD_TIMEOUT_MS)
    # Under 0.1 GB the plan is shown in MB (this tiny model: about 80 MB).
    assert re.search(r"plan: (\d+\.\d GB|\d+ MB), about [\d.]+ tokens/s", window.model_label.text())
    assert "q8_0 KV cache" in window.model_label.toolTip()

    # Changing the type offers the reload a new context size offers; it loads with the new type.
    choose_in_combo(qtbot, combo, "f16")
    assert window.ctx.settings.kv_type == "f16"
    banner = window.banner
    assert banner.isVisible() and "f16" in banner.label.text() and banner.action_button.isVisible()
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        click(qtbot, banner.action_button)
    assert window.client.model_info is not None and window.client.model_info["kv"] == "f16"


def test_a_load_refused_for_memory_says_so_and_keeps_the_previous_model(
    qtbot, little_memory: int, local_window: MainWindow, llama_tokenizer: Path, tmp_path: Path
) -> None:
    # Trained for 32,768 tokens, so that the context control goes that far once it is loaded;
    # 8 heads, as stories260K has: 537 MB of attention scores at that context.
    model = write_llama_gguf(
        tmp_path / "long.gguf", tokenizer=llama_tokenizer, hidden=64, layers=2, heads=8, ffn=128, context_length=32768
    )
    window = local_window
    window.decoding.set_params(window.decoding.params().replace(n_ctx=512, max_tokens=64))
    with qtbot.waitSignal(window.client.loaded, timeout=LOAD_TIMEOUT_MS):
        window.open_model(str(model))

    window.decoding.set_params(window.decoding.params().replace(n_ctx=32768))
    assert window.decoding.params().n_ctx == 32768
    with qtbot.waitSignal(window.client.failed, timeout=LOAD_TIMEOUT_MS) as refused:
        window.open_model(str(model))
    [message] = refused.args
    assert message.startswith("long.gguf with a context of 32768 tokens and an f16 KV cache needs about")
    assert "Choose a smaller context" in message
    qtbot.waitUntil(lambda: window.banner.label.text() == message, timeout=LOAD_TIMEOUT_MS)
    # The previous model is still loaded and the window answers with it.
    qtbot.waitUntil(lambda: window.client.model_info is not None, timeout=LOAD_TIMEOUT_MS)
    assert window.client.model_info["n_ctx"] == 512
    assert "long.gguf" in window.model_label.text()
    type_text(qtbot, window.input, "Once upon a time")
    with qtbot.waitSignal(window.client.finished, timeout=LOAD_TIMEOUT_MS):
        window.send()
