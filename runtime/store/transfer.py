"""Export and import of conversations: Markdown for reading, JSON for moving between computers.

An import file is untrusted: :func:`_validate_import` checks every field before anything is
written, and its errors say what is wrong and what to do.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from runtime.errors import ImportFormatError, UntrustedJsonError
from runtime.store.records import EXPORT_FORMAT, EXPORT_VERSION, ROLES, STATUSES, Conversation, Message, _dump_json
from runtime.untrusted_json import parse_json


def markdown_document(conv: Conversation, messages: list[Message]) -> str:
    """Render a conversation as readable Markdown.

    Returns:
        A title heading, the conversation settings, then each visible message under a role
        heading; answers end with a short note of model, template and parameters.
    """
    lines = [f"# {conv.title or 'Untitled conversation'}", ""]
    created = datetime.fromtimestamp(conv.created_at).strftime("%Y-%m-%d %H:%M")
    about = [f"Exported from Alpaca Desk · started {created}"]
    if conv.template:
        about.append(f"template: {conv.template}")
    if conv.model_path:
        about.append(f"model: {_basename(conv.model_path)}")
    lines += [f"*{' · '.join(about)}*", ""]
    if conv.system_prompt:
        lines += ["**System prompt:**", ""]
        lines += [f"> {line}" if line else ">" for line in conv.system_prompt.splitlines()]
        lines.append("")
    for message in messages:
        lines += [f"## {'User' if message.role == 'user' else 'Assistant'}", "", message.content, ""]
        note = _answer_note(message)
        if note:
            lines += [f"*{note}*", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def _basename(path: str) -> str:
    # Both separators: a conversation exported on Windows may be read on Linux and back.
    return re.split(r"[\\/]", path.rstrip("\\/"))[-1] or path


def _format_number(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _answer_note(message: Message) -> str:
    """One short line about how an answer was made, or ``''`` for user messages."""
    if message.role != "assistant":
        return ""
    parts = []
    if message.status != "complete":
        parts.append(f"answer {message.status}")
    if message.model:
        parts.append(f"model: {_basename(message.model)}")
    if message.template:
        parts.append(f"template: {message.template}")
    if message.params:
        shown = [f"{key} {_format_number(value)}" for key, value in message.params.items() if value is not None]
        if shown:
            parts.append(", ".join(shown))
    return " · ".join(parts)


# --- import validation ----------------------------------------------------------------------

_IMPORT_HINT = "Choose a file made with Alpaca Desk's JSON export, or export the conversation again."

#: Larger import files are refused before they are read: parsing JSON takes several times the
#: file's size in memory. An export of 100,000 short messages is about 25 MB.
MAX_IMPORT_BYTES = 32 * 1024 * 1024
#: Timestamps must fall between 1970 and the year 9999, which every date API can show.
_MAX_TIMESTAMP = 253_402_300_799.0


def read_import_file(path: str | os.PathLike[str]) -> Any:
    """Read and parse an import file, refusing what is too large or not JSON.

    Raises:
        ImportFormatError: ``import_too_large``, ``import_unreadable`` or ``import_format``; the
            message names the file and says what to do.
    """
    file = Path(path)
    try:
        size = file.stat().st_size
        if size > MAX_IMPORT_BYTES:
            raise ImportFormatError(
                f"Cannot import {file.name}: it is {size / 2**20:.0f} MiB, and imports are limited to "
                f"{MAX_IMPORT_BYTES // 2**20} MiB. Export the conversation in parts, or choose another file.",
                code="import_too_large",
                params={"path": str(file), "size_mib": round(size / 2**20), "limit_mib": MAX_IMPORT_BYTES // 2**20},
            )
        with file.open("rb") as handle:
            raw = handle.read(MAX_IMPORT_BYTES + 1)  # the file may have grown since stat()
        text = raw[:MAX_IMPORT_BYTES].decode("utf-8")
    except OSError as exc:
        raise ImportFormatError(
            f"Cannot read {file}: {exc.strerror or exc}. Check the file and try again.",
            code="import_unreadable",
            params={"path": str(file), "detail": str(exc.strerror or exc)},
        ) from exc
    except UnicodeDecodeError as exc:
        raise _import_error("it is not UTF-8 text") from exc
    try:
        return parse_json(text, source=str(file), max_bytes=MAX_IMPORT_BYTES)
    except UntrustedJsonError as exc:
        if exc.code == "json_too_deep":
            raise _import_error("it is nested too deeply to be an export") from exc
        if exc.code == "json_invalid":
            raise _import_error(f"it is not valid JSON ({exc.params.get('detail', '')})") from exc
        raise _import_error(exc.reason) from exc


def _import_error(problem: str) -> ImportFormatError:
    return ImportFormatError(
        f"Cannot import this file: {problem}. {_IMPORT_HINT}", code="import_format", params={"problem": problem}
    )


def _kind(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise _import_error(f'{where}"{key}" must be text or null, not {_kind(value)}')
    return value


def _opt_time(obj: Mapping[str, Any], key: str, where: str) -> float | None:
    value = obj.get(key)
    if value is None:
        return None
    # bool is an int in Python but never a timestamp.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _import_error(f'{where}"{key}" must be a number of seconds, not {value!r}')
    if not 0 <= value <= _MAX_TIMESTAMP:
        raise _import_error(f'{where}"{key}" is not a date between 1970 and 9999: {value!r}')
    return float(value)


def _opt_dict(obj: Mapping[str, Any], key: str, where: str) -> dict[str, Any] | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, dict):
        raise _import_error(f'{where}"{key}" must be an object or null, not {_kind(value)}')
    return value


def _validate_import(data: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Check an export document and return its conversation fields and message rows."""
    if not isinstance(data, Mapping):
        raise _import_error(f"it holds {_kind(data)}, not a JSON object")
    fmt = data.get("format")
    if fmt != EXPORT_FORMAT:
        shown = "missing" if fmt is None else repr(fmt)
        raise _import_error(f'its "format" is {shown}, expected "{EXPORT_FORMAT}"')
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _import_error(f'its "version" must be a whole number from 1, not {version!r}')
    if version > EXPORT_VERSION:
        raise ImportFormatError(
            f"Cannot import this file: it was exported by a newer Alpaca Desk (format version "
            f"{version}, this version reads up to {EXPORT_VERSION}). Update Alpaca Desk to import it.",
            code="import_newer",
            params={"version": version, "supported": EXPORT_VERSION},
        )
    conv = data.get("conversation")
    if not isinstance(conv, Mapping):
        raise _import_error(f'"conversation" must be an object, not {_kind(conv)}')
    title = conv.get("title", "")
    if title is None:
        title = ""
    if not isinstance(title, str):
        raise _import_error(f'"conversation"."title" must be text, not {_kind(title)}')
    where = '"conversation".'
    conv_fields = {
        "title": title,
        "created_at": _opt_time(conv, "created_at", where),
        "template": _opt_str(conv, "template", where),
        "system_prompt": _opt_str(conv, "system_prompt", where),
        "model_path": _opt_str(conv, "model_path", where),
    }
    if "messages" not in data:
        raise _import_error('it has no "messages" list')
    messages = data["messages"]
    if not isinstance(messages, list):
        raise _import_error(f'"messages" must be a list, not {_kind(messages)}')
    rows = []
    for index, m in enumerate(messages):
        where = f'"messages"[{index}].'
        if not isinstance(m, Mapping):
            raise _import_error(f'"messages"[{index}] must be an object, not {_kind(m)}')
        role = m.get("role")
        if role not in ROLES:
            raise _import_error(f'{where}"role" must be "user" or "assistant", not {role!r}')
        content = m.get("content")
        if not isinstance(content, str):
            raise _import_error(f'{where}"content" must be text, not {_kind(content)}')
        status = m.get("status", "complete")
        if status not in STATUSES:
            raise _import_error(f'{where}"status" must be one of {", ".join(STATUSES)}, not {status!r}')
        params = _opt_dict(m, "params", where)
        stats = _opt_dict(m, "stats", where)
        for name, value in (("params", params), ("stats", stats)):
            try:
                _dump_json(value, name)
            except TypeError as exc:
                raise _import_error(f'{where}"{name}" holds values JSON cannot store ({exc.__cause__})') from exc
        rows.append(
            {
                "role": role,
                "content": content,
                # Nothing is streaming into an imported answer; say what happened to it.
                "status": "interrupted" if status == "streaming" else status,
                "model": _opt_str(m, "model", where),
                "template": _opt_str(m, "template", where),
                "params": params,
                "stats": stats,
                "created_at": _opt_time(m, "created_at", where),
                "updated_at": _opt_time(m, "updated_at", where),
            }
        )
    return conv_fields, rows
