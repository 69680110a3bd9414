"""The chat flow (long on purpose: one conversation's states in one place): send, stream, stop.

It sends a message, streams the answer into the chat view and the store, stops, regenerates,
edits an earlier question, keeps the context meter, and handles a full context."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar

from app.controllers import HostEventsController
from app.inference_client import InferenceClient
from app.messages import error_text
from app.theme import colour_text
from app.views.banner import Banner
from app.views.chat_view import ChatInput, ChatView
from app.views.decoding_panel import DecodingPanel
from app.views.tokenizer_panel import TokenizerPanel
from runtime.chat import templates, usable_cores
from runtime.errors import StoreError
from runtime.store import Conversation, ConversationStore, Message

log = logging.getLogger(__name__)

# While an answer streams, its text is written to the store at least this often, so a crash
# loses at most this much of it.
STREAM_SAVE_INTERVAL_MS = 1000
#: Messages shown when a conversation opens, and per "Show earlier messages" click.
VIEW_PAGE = 50
#: An answer's details say the computer was busy when other programs kept at least this many
#: cores busy while it was written (the GUI itself uses a tenth of one while streaming).
BUSY_CORES_SHOWN = 0.5


class ChatController(HostEventsController):
    """Sends the user's messages, streams the answers and keeps them in the store.

    It owns the conversation shown in the chat (:attr:`conversation_id`): sending the first
    message of a new conversation creates it, and every answer streamed belongs to it. The
    conversations controller, which opens, starts and deletes conversations, changes it only
    through :meth:`show_conversation` and :meth:`clear_conversation`, so the chat view, the
    edit mode and the context meter always follow it.

    Signals:
        error(str): A message for the user.
        controls_changed(): An answer started or ended: the controls that depend on it need
            updating.
        conversations_changed(): A conversation was created or its messages changed: the
            conversation list needs reloading.
    """

    error = Signal(str)
    controls_changed = Signal()
    conversations_changed = Signal()

    def __init__(
        self,
        store: ConversationStore,
        client: InferenceClient,
        *,
        chat_view: ChatView,
        chat_input: ChatInput,
        decoding: DecodingPanel,
        tokenizer_panel: TokenizerPanel,
        banner: Banner,
        edit_label: QLabel,
        context_label: QLabel,
        speed_label: QLabel,
        status_bar: QStatusBar,
        n_ctx_loaded: Callable[[], int],
        parent: QObject | None = None,
    ) -> None:
        """Wire the chat's views: sending, editing, regenerating, and the decoding panel.

        Args:
            store: The conversation store (messages are written as they stream).
            client: The inference host's client.
            chat_view: Shows the conversation's messages and streams the answer.
            chat_input: The input box.
            decoding: Parameters, template and system prompt of each answer; its prompt
                preview follows the conversation and the draft.
            tokenizer_panel: Shown the prompt's token count.
            banner: Where a context-full notice is shown.
            edit_label: Says that an earlier message is being edited.
            context_label: The status bar's context meter.
            speed_label: The status bar's tokens-per-second figure.
            status_bar: For the short notice that earlier turns were left out.
            n_ctx_loaded: The loaded model's context size (0: none); the models controller
                owns it.
            parent: Owns this controller (the window).
        """
        super().__init__(parent)
        self.store = store
        self.client = client
        self.chat = chat_view
        self.input = chat_input
        self.decoding = decoding
        self.tokenizer_panel = tokenizer_panel
        self.banner = banner
        self.edit_label = edit_label
        self.context_label = context_label
        self.speed_label = speed_label
        self.status_bar = status_bar
        self._n_ctx_loaded = n_ctx_loaded

        self.conversation_id: int | None = None
        self._prompt_cache: tuple[tuple[Any, ...], list[Message]] | None = None
        self._streaming_message_id: int | None = None
        self.editing_seq: int | None = None
        self._last_context_used = 0
        self._dropped_turns = 0
        # The message just sent and its text, until the host accepts its prompt: a conversation
        # that is full (with "stop" chosen) is refused, and the text goes back to the input box.
        self._sent: tuple[int, str] | None = None
        # The prompt preview re-renders the conversation: at most every 150 ms while typing.
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(150)
        self._preview_timer.timeout.connect(self._update_preview)
        self._save_timer = QTimer(self)
        self._save_timer.setInterval(STREAM_SAVE_INTERVAL_MS)
        self._save_timer.timeout.connect(self._save_stream)

        self.input.send_requested.connect(self.send)
        self.input.escape_pressed.connect(self.cancel_edit)
        self.input.textChanged.connect(self._preview_timer.start)
        self.chat.edit_requested.connect(self.edit_message)
        self.chat.regenerate_requested.connect(self.regenerate)
        self.chat.earlier_requested.connect(self.show_earlier)
        self.decoding.params_changed.connect(self._on_params_changed)
        self.decoding.template_changed.connect(self._on_template_changed)
        self.decoding.system_prompt_changed.connect(self._on_system_changed)

    def _client_slots(self) -> list[tuple[Any, Any]]:
        return [
            (self.client.prompt_ready, self._on_prompt_ready),
            (self.client.token, self._on_token),
            (self.client.finished, self._on_finished),
            (self.client.failed, self._on_failed),
            (self.client.host_died, self._on_host_died),
            (self.client.counted, self._on_counted),
            (self.client.context_full, self._on_context_full),
        ]

    # -- the conversation shown ----------------------------------------------------------------

    def show_conversation(self, conv_id: int, conversation: Conversation, messages: list[Message]) -> None:
        """Show a stored conversation (read by the caller) with its template and system prompt."""
        self.conversation_id = conv_id
        self.cancel_edit()
        self._show_messages(messages)
        self.decoding.set_template_choice(conversation.template)
        self.decoding.set_system_prompt(conversation.system_prompt)
        self._last_context_used = 0
        self._show_context(0)
        # The context meter and the template preview read the conversation's prompt (thousands
        # of messages in a long one); a turn of the event loop after the messages are shown, so
        # that the window is redrawn and answers input in between.
        QTimer.singleShot(0, self, lambda: self._after_show(conv_id))

    def _after_show(self, conv_id: int) -> None:
        if self.conversation_id != conv_id:
            return  # another conversation was opened meanwhile; it has its own
        self._request_count()
        self._update_preview()

    def clear_conversation(self) -> None:
        """Show an empty conversation (stored when its first message is sent)."""
        self.conversation_id = None
        self.editing_seq = None
        self.chat.clear()
        self._dropped_turns = 0
        self._last_context_used = 0
        self._show_context(0)
        self.cancel_edit()
        self._update_preview()
        self.input.setFocus()

    def on_model_loaded(self, _info: dict[str, Any]) -> None:
        """A model is ready (after the models controller chose its template): count the prompt."""
        self.chat.set_placeholder(self.tr("Type a message below to start."))
        self._request_count()
        self.input.setFocus()

    def on_model_unloaded(self) -> None:
        """No model: the context meter has nothing to measure against."""
        self.context_label.setText("")

    def finish_on_close(self) -> None:
        """The window closes: stop the answer being written and keep it, marked stopped."""
        if self._streaming_message_id is not None:
            self.client.stop()
            self._finish_stream("stopped", None)

    # -- chatting ------------------------------------------------------------------------------

    def send(self) -> None:
        """Send the input box's text as the next instruction."""
        text = self.input.toPlainText().strip()
        if not text or self.client.is_generating or self.client.is_loading:
            return
        if self.client.model_info is None:
            self.error.emit(
                self.tr("No model is loaded. Open a GGUF model file from the Model menu first; your message is kept.")
            )
            return
        try:
            if self.conversation_id is None:
                conversation = self.store.create_conversation(
                    template=self.decoding.template_choice(), system_prompt=self.decoding.system_prompt()
                )
                self.conversation_id = conversation.id
            if self.editing_seq is not None:
                self.store.truncate_after(self.conversation_id, self.editing_seq - 1)
                self._reload_messages()
            user = self.store.add_message(self.conversation_id, "user", text)
        except StoreError as exc:
            self.error.emit(error_text(exc))
            return
        self.cancel_edit()
        self.input.clear()
        self._add_message_widget(user)
        self._sent = (user.seq, text)
        self._start_answer()
        self.conversations_changed.emit()

    def _start_answer(self) -> None:
        assert self.conversation_id is not None
        params = self.decoding.params()
        template = self.decoding.effective_template()
        info = self.client.model_info or {}
        try:
            messages = self._prompt_messages()
            answer = self.store.add_message(
                self.conversation_id,
                "assistant",
                "",
                status="streaming",
                model=info.get("path") or info.get("file_name"),
                template=template,
                params=params.to_dict(),
            )
        except StoreError as exc:
            self.error.emit(error_text(exc))
            return
        widget = self._add_message_widget(answer)
        self.chat.begin_stream(widget)
        self._streaming_message_id = answer.id
        self._save_timer.start()
        self.client.chat(
            template=template,
            system=self.decoding.system_prompt(),
            turns=_turns(messages),
            params=params.to_dict(),
            threads=self.decoding.threads(),
            on_full=self.decoding.context_full(),
        )
        self._update_preview()  # the prompt being answered (also for a regenerated answer)
        self.controls_changed.emit()

    def stop(self) -> None:
        """Stop the answer; what was written so far is kept."""
        self.client.stop()

    def regenerate(self, message_id: int) -> None:
        """Replace an answer with a new one (the old one stays in the file, hidden)."""
        if self.client.is_generating or self.client.is_loading or self.conversation_id is None:
            return
        if self.client.model_info is None:
            self.error.emit(self.tr("No model is loaded. Open a GGUF model file from the Model menu first."))
            return
        try:
            messages = self.store.messages(self.conversation_id, last=1)
            # Only the newest answer can be regenerated: replacing an earlier one would hide the
            # conversation that followed it.
            if not messages or messages[-1].id != message_id or messages[-1].role != "assistant":
                return
            self.store.truncate_after(self.conversation_id, messages[-1].seq - 1)
            self._reload_messages()
        except StoreError as exc:
            self.error.emit(error_text(exc))
            return
        self._sent = None  # nothing typed to give back if this prompt is refused
        self._start_answer()

    def edit_message(self, message_id: int) -> None:
        """Put an earlier question back in the input box; sending replaces it and what follows."""
        if self.client.is_generating or self.conversation_id is None:
            return
        try:
            target = self.store.get_message(message_id)
        except StoreError as exc:
            self.error.emit(error_text(exc))
            return
        if target.conversation_id != self.conversation_id:
            return
        self.editing_seq = target.seq
        self.input.setPlainText(target.content)
        self.input.setFocus()
        self.edit_label.setText(
            self.tr("Editing an earlier message: Send replaces it and the messages after it. Esc cancels.")
        )
        self.edit_label.show()

    def cancel_edit(self) -> None:
        """Leave edit mode (the input text stays)."""
        self.editing_seq = None
        self.edit_label.hide()

    def _reload_messages(self) -> None:
        assert self.conversation_id is not None
        self._show_messages(self.store.messages(self.conversation_id, last=VIEW_PAGE))

    def _show_messages(self, messages: list[Message]) -> None:
        """Show the newest page of the conversation (``messages``), and how many are above it."""
        self.chat.clear()
        for message in messages:
            self._add_message_widget(message)
        if self.conversation_id is not None and messages:
            self.chat.set_earlier_count(self.store.message_count(self.conversation_id) - len(messages))

    def show_earlier(self) -> None:
        """Show the page of messages above the ones shown."""
        shown = self.chat.messages()
        if self.conversation_id is None or not shown:
            return
        try:
            first = self.store.get_message(shown[0].message_id)
            page = self.store.messages(self.conversation_id, last=VIEW_PAGE, before_seq=first.seq)
            total = self.store.message_count(self.conversation_id)
        except StoreError as exc:
            self.error.emit(error_text(exc))
            return
        for message in reversed(page):
            widget = self.chat.prepend_message(message.id, message.role, message.content)
            widget.set_detail(self._detail(message))
            widget.detail_label.setToolTip(self._provenance(message))
            if widget.role == "assistant":
                widget.action_button.setVisible(False)  # only the newest answer is regenerated
        self.chat.set_earlier_count(total - len(shown) - len(page))

    def _prompt_messages(self) -> list[Message]:
        """The newest messages, as many as could ever fit the context (every turn takes a token).

        Read once per change of the database: the context meter, the template preview and the
        answer each ask for them, and in a long conversation they are 4,000 rows (60 ms here).
        """
        assert self.conversation_id is not None
        key = (self.conversation_id, 2 * self.decoding.params().n_ctx + 2, self.store.revision())
        if self._prompt_cache is None or self._prompt_cache[0] != key:
            self._prompt_cache = (key, self.store.messages(self.conversation_id, last=key[1]))
        return self._prompt_cache[1]

    def _add_message_widget(self, message: Message) -> Any:
        widget = self.chat.add_message(message.id, message.role, message.content)
        widget.set_detail(self._detail(message))
        widget.detail_label.setToolTip(self._provenance(message))
        if widget.role == "assistant":
            # Regenerate is offered on the newest answer only: hide it on the one before.
            for other in reversed(self.chat.messages()[:-1]):
                if other.role == "assistant":
                    other.action_button.setVisible(False)
                    break
            widget.action_button.setVisible(True)
        return widget

    def _provenance(self, message: Message) -> str:
        """What produced an answer, to reproduce it: model, template, parameters, seed, timings."""
        if message.role != "assistant":
            return ""
        stats = message.stats or {}
        params = message.params or {}
        lines = [
            self.tr("Model: {0}").format(message.model or "?"),
            self.tr("Template: {0}").format(message.template or "?"),
            self.tr("Temperature {0}, top-k {1}, top-p {2}, repetition penalty {3}, context {4}").format(
                params.get("temperature", "?"),
                params.get("top_k", "?"),
                params.get("top_p", "?"),
                params.get("repeat_penalty", "?"),
                params.get("n_ctx", "?"),
            ),
        ]
        if "seed" in stats:
            lines.append(self.tr("Seed: {0}").format(stats["seed"]))
        if "prompt_tokens" in stats:
            lines.append(
                self.tr("Prompt {0} tokens, answer {1} tokens, first token after {2:.0f} ms").format(
                    stats["prompt_tokens"],
                    stats.get("generated_tokens", 0),
                    float(stats.get("time_to_first_token_s", 0.0)) * 1000,
                )
            )
        return "\n".join(lines)

    def _detail(self, message: Message) -> str:
        if message.role != "assistant":
            return ""
        bits: list[str] = []
        if message.model:
            bits.append(Path(message.model).name)
        stats = message.stats or {}
        if stats.get("tokens_per_s"):
            bits.append(self.tr("{0:.1f} tokens/s").format(float(stats["tokens_per_s"])))
        if stats.get("generated_tokens"):
            bits.append(self.tr("{0} tokens").format(int(stats["generated_tokens"])))
        if stats.get("drafted"):
            accepted = int(stats.get("accepted") or 0) / int(stats["drafted"])
            bits.append(self.tr("{0:.0%} of drafted tokens accepted").format(accepted))
        states = {
            "streaming": self.tr("writing…"),
            "interrupted": self.tr("interrupted (the app closed while it was written)"),
            "stopped": self.tr("stopped"),
            "error": self.tr("failed"),
        }
        if message.status in states:
            bits.append(states[message.status])
        dropped = int(stats.get("dropped_turns") or 0)
        if dropped:
            bits.append(self.tr("%n earlier turn(s) left out to fit the context", "", dropped))
        # So that a slow answer on a busy computer is not blamed on the model.
        cores = usable_cores()
        others = stats.get("others_busy_cores")
        load = stats.get("load_1m")
        if isinstance(others, int | float):
            # Measured over the answer, niced background work not counted (it gives way).
            if others >= BUSY_CORES_SHOWN:
                bits.append(
                    self.tr("computer busy (other programs used {0:.1f} of {1} cores)").format(float(others), cores)
                )
        elif isinstance(load, int | float) and load > cores:
            bits.append(self.tr("computer busy (load {0:.1f} on {1} cores)").format(float(load), cores))
        return " · ".join(bits)

    def _save_stream(self) -> None:
        if self._streaming_message_id is None:
            return
        try:
            self.store.update_message(self._streaming_message_id, content=self.chat.stream_text())
        except StoreError as exc:
            log.warning("could not save the streaming answer: %s", exc)

    def _finish_stream(self, status: str, stats: dict[str, Any] | None) -> None:
        message_id = self._streaming_message_id
        self._streaming_message_id = None
        self._save_timer.stop()
        self.chat.end_stream()
        if message_id is None:
            return
        stats = dict(stats or {})
        if self._dropped_turns:
            stats["dropped_turns"] = self._dropped_turns
        try:
            self.store.update_message(message_id, content=self.chat.stream_text(), status=status, stats=stats or None)
            message = self.store.get_message(message_id)
        except StoreError as exc:
            self.error.emit(error_text(exc))
            message = None
        if message is not None:
            for widget in self.chat.messages():
                if widget.message_id == message_id:
                    widget.set_detail(self._detail(message))
                    widget.detail_label.setToolTip(self._provenance(message))
        self.conversations_changed.emit()
        self.controls_changed.emit()
        # The answer is part of the conversation now: the preview shows the next prompt.
        self._update_preview()

    def _on_prompt_ready(self, n_tokens: int, dropped: int) -> None:
        self._sent = None
        self._dropped_turns = dropped
        self._show_context(n_tokens)
        self.tokenizer_panel.set_prompt_count(n_tokens, self._n_ctx_loaded())
        if dropped:
            self.status_bar.showMessage(self.tr("%n earlier turn(s) left out to fit the context", "", dropped), 8000)

    def _request_count(self) -> None:
        """Ask the host how many tokens this conversation's prompt takes (answer: ``counted``)."""
        if self.conversation_id is None or self.client.is_generating:
            return
        try:
            messages = self._prompt_messages()
        except StoreError:
            return
        turns = _turns(messages)
        if not turns:
            return
        # The meter shows what the next prompt will hold: the conversation so far, answered.
        self.client.count(
            template=self.decoding.effective_template(),
            system=self.decoding.system_prompt(),
            turns=[*turns, {"user": "", "assistant": None}],
            params=self.decoding.params().to_dict(),
        )

    def _on_counted(self, n_tokens: int, dropped: int) -> None:
        self._show_context(n_tokens)
        self.tokenizer_panel.set_prompt_count(n_tokens, self._n_ctx_loaded())
        self._dropped_turns = dropped

    def _on_token(self, text: str) -> None:
        self.chat.append_stream(text)

    def _on_finished(self, stats: dict[str, Any]) -> None:
        reason = stats.get("reason")
        self._finish_stream("stopped" if reason == "cancelled" else "complete", stats)
        used = int(stats.get("prompt_tokens", 0)) + int(stats.get("generated_tokens", 0))
        self._show_context(used)
        if stats.get("tokens_per_s"):
            self.speed_label.setText(self.tr("{0:.1f} tokens/s").format(float(stats["tokens_per_s"])))
        if stats.get("threads"):
            self.decoding.show_threads_in_use(int(stats["threads"]))
        if reason == "context_full":
            self.banner.show_message(
                self.tr(
                    "The answer stopped because the context window is full. Start a new conversation "
                    "or raise the context size."
                ),
            )

    def _on_context_full(self, message: str) -> None:
        """The host refused the prompt: it would leave turns out, and the user chose to stop.

        Nothing was answered: the empty answer goes, and so does the message just sent, whose
        text is put back in the input box (before anything typed since), to send again after
        starting a new conversation or raising the context size.
        """
        answer_id, sent = self._streaming_message_id, self._sent
        self._streaming_message_id = None
        self._sent = None
        self._save_timer.stop()
        self.chat.end_stream()
        if self.conversation_id is not None and answer_id is not None:
            try:
                keep = sent[0] - 1 if sent is not None else self.store.get_message(answer_id).seq - 1
                self.store.truncate_after(self.conversation_id, keep)
                self._reload_messages()
            except StoreError as exc:
                self.error.emit(error_text(exc))
        if sent is not None:
            typed = self.input.toPlainText()
            self.input.setPlainText(f"{sent[1]}\n{typed}" if typed.strip() else sent[1])
            self.input.setFocus()
        self.banner.show_message(message, key="context_full")
        self.conversations_changed.emit()
        self.controls_changed.emit()
        self._update_preview()
        self._request_count()

    def _on_failed(self, message: str) -> None:
        self._sent = None
        if self._streaming_message_id is not None:
            self._finish_stream("error", {"error": message})
        self.error.emit(message)
        self.controls_changed.emit()

    def _on_host_died(self, message: str) -> None:
        # The models controller then marks the model gone and offers to reload it.
        if self._streaming_message_id is not None:
            self._finish_stream("error", {"error": message})

    def _on_params_changed(self, _params: Any) -> None:
        # The models controller saves the parameters and offers a reload for a new context size.
        self._show_context(self._last_context_used)

    def _on_template_changed(self, name: Any) -> None:
        if self.conversation_id is not None:
            try:
                self.store.update_conversation(self.conversation_id, template=name)
            except StoreError as exc:
                self.error.emit(error_text(exc))
        self._update_preview()

    def _on_system_changed(self, text: Any) -> None:
        if self.conversation_id is not None:
            try:
                self.store.update_conversation(self.conversation_id, system_prompt=text)
            except StoreError as exc:
                self.error.emit(error_text(exc))
        self._update_preview()

    def _update_preview(self) -> None:
        messages: list[Message] = []
        if self.conversation_id is not None:
            try:
                messages = self._prompt_messages()
            except StoreError:
                messages = []
        draft = self.input.toPlainText()
        streaming = self._streaming_message_id
        if streaming is not None and not draft and messages and messages[-1].id == streaming:
            # The answer being written is not part of any prompt yet: the preview shows the
            # prompt that asked for it (its text so far, or "" at first, would be a turn the
            # model never read). A message typed meanwhile follows the answer so far; the
            # preview is made again when the answer ends.
            messages = messages[:-1]
        turns = [templates.Turn(user=t["user"], assistant=t.get("assistant")) for t in _turns(messages)]
        self.decoding.set_preview_turns(turns, draft)

    def _show_context(self, used: int) -> None:
        self._last_context_used = used
        n_ctx = self._n_ctx_loaded() or self.decoding.params().n_ctx
        if not self.client.model_info:
            self.context_label.setText("")
            return
        self.context_label.setText(self.tr("Context {0} / {1}").format(used, n_ctx))
        # Nearly full: the oldest turns are about to be left out of the next prompt.
        colour_text(self.context_label, "warning_text" if n_ctx and used > 0.9 * n_ctx else None)


def _turns(messages: list[Message]) -> list[dict[str, Any]]:
    """Messages as template turns: each user message with the answer that followed it."""
    turns: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "user":
            turns.append({"user": message.content, "assistant": None})
        elif turns and turns[-1]["assistant"] is None:
            if message.status == "error" and not message.content:
                # A failed answer (and the question that failed, often for being too long) is
                # not sent to the model again.
                turns.pop()
            else:
                turns[-1]["assistant"] = message.content
    return turns
