"""The controllers on their own, without a main window: real views offscreen, a real SQLite store,
and an inference client whose host is never started (none of these flows needs a model)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel, QMenu, QProgressBar, QPushButton, QStatusBar

from app.controllers.chat import ChatController
from app.controllers.conversations import ConversationsController
from app.controllers.models import ModelsController
from app.inference_client import InferenceClient
from app.main_window import AppContext
from app.views.banner import Banner
from app.views.chat_view import ChatInput, ChatView
from app.views.conversation_list import ConversationListView
from app.views.decoding_panel import DecodingPanel
from app.views.tokenizer_panel import TokenizerPanel
from runtime.paths import app_paths
from runtime.settings import Settings
from runtime.store import ConversationStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[ConversationStore]:
    conversations = ConversationStore(tmp_path / "conversations.sqlite3")
    yield conversations
    conversations.close()


@pytest.fixture
def client() -> Iterator[InferenceClient]:
    host = InferenceClient()
    yield host
    started = host.host_pid
    host.shutdown()
    # The flows tested here never need a host: one that started is a mistake.
    assert started is None


@pytest.fixture
def chat(qtbot, store: ConversationStore, client: InferenceClient) -> ChatController:
    views = {
        "chat_view": ChatView(),
        "chat_input": ChatInput(),
        "decoding": DecodingPanel(),
        "tokenizer_panel": TokenizerPanel(),
        "banner": Banner(),
        "edit_label": QLabel(),
        "context_label": QLabel(),
        "speed_label": QLabel(),
        "status_bar": QStatusBar(),
    }
    for widget in views.values():
        qtbot.addWidget(widget)
    return ChatController(store, client, n_ctx_loaded=lambda: 0, **views)


def listed(view: ConversationListView) -> list[str]:
    return [view._list.item(row).text() for row in range(view._list.count())]


def test_conversations_controller_opens_renames_and_deletes(
    qtbot, store: ConversationStore, client: InferenceClient, chat: ChatController
) -> None:
    view = ConversationListView()
    qtbot.addWidget(view)
    controller = ConversationsController(store, client, chat, list_view=view, status_bar=QStatusBar())
    errors: list[str] = []
    controller.error.connect(errors.append)
    trip = store.create_conversation("Trip to Yunnan", template="raw")
    store.add_message(trip.id, "user", "Where should we go in May?")
    store.add_message(trip.id, "assistant", "Lijiang, then Shangri-La.")
    store.create_conversation("Python help")

    controller.refresh_conversations()
    assert sorted(listed(view)) == ["Python help", "Trip to Yunnan"]

    view.selected.emit(trip.id)  # the user picked it in the list
    assert chat.conversation_id == trip.id
    assert [w.text for w in chat.chat.messages()] == ["Where should we go in May?", "Lijiang, then Shangri-La."]
    assert chat.decoding.template_choice() == "raw"
    assert view.current_id() == trip.id

    view.rename_requested.emit(trip.id, "  Yunnan in May ")
    assert store.get_conversation(trip.id).title == "Yunnan in May"
    assert "Yunnan in May" in listed(view) and "Trip to Yunnan" not in listed(view)

    view.delete_requested.emit(trip.id)  # the one shown: the chat starts afresh
    assert [c.title for c in store.list_conversations()] == ["Python help"]
    assert listed(view) == ["Python help"]
    assert chat.conversation_id is None
    assert chat.chat.messages() == []
    assert errors == []

    controller.export_current("json")  # nothing shown now: nothing to export
    assert errors == ["There is no conversation to export yet."]


def models_controller(
    qtbot, store: ConversationStore, client: InferenceClient
) -> tuple[AppContext, ModelsController, QLabel]:
    """A models controller over real views, with no window; and its context and model label."""
    context = AppContext(paths=app_paths().ensure(), settings=Settings(), store=store, client=client)
    model_label = QLabel("No model loaded")
    views = [DecodingPanel(), TokenizerPanel(), model_label, QProgressBar(), QPushButton(), Banner()]
    for widget in views:
        qtbot.addWidget(widget)
    decoding, tokenizer_panel, _, busy_bar, cancel_button, banner = views
    controller = ModelsController(
        context,
        client,
        decoding=decoding,
        tokenizer_panel=tokenizer_panel,
        model_label=model_label,
        busy_bar=busy_bar,
        cancel_load_button=cancel_button,
        banner=banner,
    )
    return context, controller, model_label


def test_models_controller_refuses_a_file_that_is_not_gguf(
    qtbot, tmp_path: Path, store: ConversationStore, client: InferenceClient
) -> None:
    context, controller, model_label = models_controller(qtbot, store, client)
    errors: list[str] = []
    controller.error.connect(errors.append)
    notes = tmp_path / "notes.txt"
    notes.write_text("Shopping list: rice, tea, noodles.\n" * 20, encoding="utf-8")

    controller.open_model(str(notes))

    assert len(errors) == 1 and "notes.txt" in errors[0]
    # Refused before anything reached the host: no load, no label change, nothing remembered.
    assert not client.is_loading
    assert model_label.text() == "No model loaded"
    assert controller.loading_path == ""
    assert context.settings.recent_models == []


def test_models_controller_fills_the_recent_menu(
    qtbot, tmp_path: Path, store: ConversationStore, client: InferenceClient
) -> None:
    context, controller, _ = models_controller(qtbot, store, client)
    menu = QMenu()
    controller.fill_recent_menu(menu)
    assert [(a.text(), a.isEnabled()) for a in menu.actions()] == [("(none yet)", False)]

    path = tmp_path / "models" / "chinese-alpaca-2-7b.Q4_K_M.gguf"
    context.settings.recent_models = [str(path)]
    controller.fill_recent_menu(menu)
    assert [(a.text(), a.toolTip()) for a in menu.actions()] == [(path.name, str(path))]


def test_chat_controller_shows_answers_with_what_produced_them(store: ConversationStore, chat: ChatController) -> None:
    errors: list[str] = []
    chat.error.connect(errors.append)
    chat.input.setPlainText("你好")
    chat.send()  # no model loaded: refused, the text is kept, nothing is stored
    assert len(errors) == 1 and "No model is loaded" in errors[0]
    assert chat.input.toPlainText() == "你好"
    assert store.list_conversations() == []

    story = store.create_conversation(template="raw")
    store.add_message(story.id, "user", "Once upon a time")
    store.add_message(
        story.id,
        "assistant",
        "there was a little cat.",
        model="/models/stories260K.gguf",
        template="raw",
        params={"temperature": 0.2, "top_k": 40, "top_p": 0.9, "repeat_penalty": 1.1, "n_ctx": 512},
        stats={"seed": 7, "tokens_per_s": 123.4, "generated_tokens": 6, "prompt_tokens": 4},
    )
    chat.show_conversation(story.id, store.get_conversation(story.id), store.messages(story.id))

    user, answer = chat.chat.messages()
    assert (user.role, answer.role) == ("user", "assistant")
    assert user.detail_label.text() == ""
    assert answer.detail_label.text() == "stories260K.gguf · 123.4 tokens/s · 6 tokens"
    provenance = answer.detail_label.toolTip()
    assert "Model: /models/stories260K.gguf" in provenance
    assert "Seed: 7" in provenance and "Temperature 0.2" in provenance and "context 512" in provenance
    assert chat.conversation_id == story.id
