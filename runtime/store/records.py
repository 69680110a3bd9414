"""What the store returns: conversations, messages and their summaries, as frozen records."""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ROLES = ("user", "assistant")
# 'streaming': the answer is still being written; 'interrupted': the app ended while it was
# streaming; 'stopped': the user pressed Stop; 'error': generation failed part-way.
STATUSES = ("complete", "streaming", "interrupted", "stopped", "error")

EXPORT_FORMAT = "alpaca-desk-conversation"
EXPORT_VERSION = 1
TITLE_LENGTH = 40


class _Unset(enum.Enum):
    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: Default of :meth:`ConversationStore.update_conversation` options: "leave as it is", so that
#: ``None`` can be stored explicitly.
UNSET = _Unset.UNSET


@dataclass(frozen=True)
class Message:
    """One message of a conversation.

    Attributes:
        id: Unique id in the store.
        conversation_id: The conversation it belongs to.
        seq: Position in the conversation, 1 for the first visible message.
        role: ``'user'`` or ``'assistant'``.
        content: The text.
        status: One of :data:`STATUSES`.
        model: The model that wrote an answer (name or path), if recorded.
        template: The chat template used for an answer, if recorded.
        params: The decoding parameters of an answer (``DecodingParams.to_dict()``), if recorded.
        stats: Generation statistics (tokens, speed, seed used, ...), if recorded.
        created_at: Seconds since the epoch.
        updated_at: Seconds since the epoch of the last change.
    """

    id: int
    conversation_id: int
    seq: int
    role: str
    content: str
    status: str
    model: str | None
    template: str | None
    params: dict[str, Any] | None
    stats: dict[str, Any] | None
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class ConversationSummary:
    """One row of the conversation list.

    Attributes:
        id: The conversation id.
        title: Its title (``''`` until the first user message names it).
        updated_at: Seconds since the epoch of the last message change.
        message_count: Number of visible messages.
    """

    id: int
    title: str
    updated_at: float
    message_count: int


@dataclass(frozen=True)
class Conversation:
    """A conversation's own fields (its messages come from :meth:`ConversationStore.messages`).

    Attributes:
        id: Unique id in the store.
        title: The title, ``''`` if not named yet.
        created_at: Seconds since the epoch.
        updated_at: Seconds since the epoch of the last message change.
        template: Chat template chosen for this conversation, or None for the app default.
        system_prompt: System prompt for this conversation, or None for the template's default.
        model_path: Model last used in this conversation, or None.
    """

    id: int
    title: str
    created_at: float
    updated_at: float
    template: str | None
    system_prompt: str | None
    model_path: str | None


def title_from_text(text: str, *, limit: int = TITLE_LENGTH) -> str:
    """Make a conversation title from the first non-blank line of ``text``.

    Args:
        text: Usually the first user message.
        limit: Longest title in characters; longer lines are cut and end with an ellipsis.

    Returns:
        The title, or ``''`` if ``text`` is blank.
    """
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
    return ""


def _dump_json(value: Mapping[str, Any] | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return json.dumps(dict(value), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be JSON-serialisable: {exc}") from exc
