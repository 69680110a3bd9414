"""The store's conversations: create, list and search, read, rename, change settings, delete."""

from __future__ import annotations

from typing import Any

from runtime.store._connection import StoreConnection, _casefold, _lastrowid, _missing_conversation
from runtime.store.records import UNSET, Conversation, ConversationSummary, _Unset


class ConversationsMixin(StoreConnection):
    """The conversation methods of :class:`~runtime.store.database.ConversationStore`."""

    def create_conversation(
        self,
        title: str = "",
        *,
        template: str | None = None,
        system_prompt: str | None = None,
        model_path: str | None = None,
    ) -> Conversation:
        """Create an empty conversation.

        Args:
            title: Its title; leave empty to name it after the first user message.
            template: Chat template name, or None for the app default.
            system_prompt: System prompt, or None for the template's default.
            model_path: Model to use, or None.

        Returns:
            The new conversation.
        """
        now = self._clock()
        with self._write("create a conversation") as conn:
            cursor = conn.execute(
                "INSERT INTO conversations (title, created_at, updated_at, template, system_prompt,"
                " model_path) VALUES (?, ?, ?, ?, ?, ?)",
                (title, now, now, template, system_prompt, model_path),
            )
            conv_id = _lastrowid(cursor)
        return self.get_conversation(conv_id)

    def list_conversations(self, *, search: str = "") -> list[ConversationSummary]:
        """List conversations, most recently updated first.

        Args:
            search: Keep only conversations whose title or any visible message contains this
                text, ignoring case; blank lists all.

        Returns:
            One summary per conversation.
        """
        needle = _casefold(search.strip())
        sql = (
            "SELECT c.id, c.title, c.updated_at,"
            " (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id AND m.active = 1)"
            " FROM conversations c"
        )
        args: tuple[Any, ...] = ()
        if needle:
            # instr() instead of LIKE: no wildcard escaping, and casefold() (Python's) folds
            # non-ASCII letters too, which SQLite's own lower()/LIKE do not.
            sql += (
                " WHERE instr(casefold(c.title), ?) > 0 OR EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = c.id AND m.active = 1 AND instr(casefold(m.content), ?) > 0)"
            )
            args = (needle, needle)
        sql += " ORDER BY c.updated_at DESC, c.id DESC"
        with self._read("list the conversations") as conn:
            rows = conn.execute(sql, args).fetchall()
        return [ConversationSummary(id=r[0], title=r[1], updated_at=r[2], message_count=r[3]) for r in rows]

    def get_conversation(self, conv_id: int) -> Conversation:
        """Return one conversation.

        Raises:
            StoreError: it does not exist (deleted).
        """
        with self._read("read a conversation") as conn:
            row = conn.execute(
                "SELECT id, title, created_at, updated_at, template, system_prompt, model_path"
                " FROM conversations WHERE id = ?",
                (conv_id,),
            ).fetchone()
        if row is None:
            raise _missing_conversation(conv_id)
        return Conversation(*row)

    def rename_conversation(self, conv_id: int, title: str) -> None:
        """Set a conversation's title (the list order does not change).

        Raises:
            StoreError: it does not exist.
        """
        with self._write("rename a conversation") as conn:
            self._require(conn, conv_id)
            conn.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conv_id))

    def update_conversation(
        self,
        conv_id: int,
        *,
        template: str | None | _Unset = UNSET,
        system_prompt: str | None | _Unset = UNSET,
        model_path: str | None | _Unset = UNSET,
    ) -> None:
        """Change a conversation's settings; options left out stay as they are.

        Args:
            conv_id: The conversation.
            template: New chat template name, or None for the app default.
            system_prompt: New system prompt, or None for the template's default.
            model_path: New model, or None.

        Raises:
            StoreError: it does not exist.
        """
        changes = {
            name: value
            for name, value in (
                ("template", template),
                ("system_prompt", system_prompt),
                ("model_path", model_path),
            )
            if value is not UNSET
        }
        with self._write("change a conversation's settings") as conn:
            self._require(conn, conv_id)
            if changes:
                # Column names come from the fixed tuple above, never from the caller.
                assignments = ", ".join(f"{name} = ?" for name in changes)
                conn.execute(f"UPDATE conversations SET {assignments} WHERE id = ?", (*changes.values(), conv_id))

    def delete_conversation(self, conv_id: int) -> None:
        """Delete a conversation and all its messages, hidden ones included, for good.

        Raises:
            StoreError: it does not exist.
        """
        with self._write("delete a conversation") as conn:
            self._require(conn, conv_id)
            conn.execute("DELETE FROM conversations WHERE id = ?", (conv_id,))
