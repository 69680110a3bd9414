"""The conversation store: every conversation and message in one SQLite file, and its export/import."""

from runtime.store.database import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    ROLES,
    SCHEMA_VERSION,
    STATUSES,
    TITLE_LENGTH,
    UNSET,
    Conversation,
    ConversationStore,
    ConversationSummary,
    Message,
    title_from_text,
)

__all__ = [
    "EXPORT_FORMAT",
    "EXPORT_VERSION",
    "ROLES",
    "SCHEMA_VERSION",
    "STATUSES",
    "TITLE_LENGTH",
    "UNSET",
    "Conversation",
    "ConversationStore",
    "ConversationSummary",
    "Message",
    "title_from_text",
]
