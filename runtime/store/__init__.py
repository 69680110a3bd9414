"""The conversation store: every conversation and message in one SQLite file, and its export/import.

Modules: ``database`` (:class:`ConversationStore`: SQLite, WAL, one short transaction per write;
its parts are ``_schema``, ``_connection``, ``_conversations``, ``_messages`` and ``_exchange``),
``records`` (the frozen records it returns), ``transfer`` (Markdown and JSON export, and the
validation of an import file, which is untrusted), ``recovery`` (:func:`open_store`, which keeps a
damaged database aside and starts a new one, and :func:`recover_conversations`, which copies what
can still be read from it).
"""

from runtime.store.database import SCHEMA_VERSION, ConversationStore
from runtime.store.records import (
    EXPORT_FORMAT,
    EXPORT_VERSION,
    ROLES,
    STATUSES,
    TITLE_LENGTH,
    UNSET,
    Conversation,
    ConversationSummary,
    Message,
    title_from_text,
)
from runtime.store.recovery import DAMAGED_LABEL, OpenedStore, RecoveryReport, open_store, recover_conversations
from runtime.store.transfer import MAX_IMPORT_BYTES, markdown_document, read_import_file

__all__ = [
    "DAMAGED_LABEL",
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
    "MAX_IMPORT_BYTES",
    "OpenedStore",
    "RecoveryReport",
    "markdown_document",
    "open_store",
    "read_import_file",
    "recover_conversations",
    "title_from_text",
]
