"""One hierarchy for every error the user can see.

Each message names the thing that went wrong and what to do about it; the GUI shows
``str(error)`` as it is (translated where the GUI has a translation for the kind).
"""

from __future__ import annotations

from dataclasses import dataclass, field


class AppError(Exception):
    """Base of every error Alpaca Desk reports to the user.

    Args:
        message: the English text (command line, logs, and the fallback in the GUI).
        code: a stable name for this kind of message; the GUI looks it up to show a
            translation (runtime/ cannot use Qt's translator). Empty: shown as it is.
        params: the values the message names (file names, numbers), for the translation.
    """

    def __init__(self, message: str, *, code: str = "", params: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.params = dict(params or {})


class ModelLoadError(AppError):
    """A model file could not be opened (missing, not GGUF, unsupported, truncated)."""


class DraftModelIncompatible(ModelLoadError):
    """A draft model does not share the loaded model's vocabulary (code ``draft_model_incompatible``)."""


class HostError(AppError):
    """The inference host failed a request."""


class HostDied(HostError):
    """The inference host process ended unexpectedly (native abort, killed, out of memory)."""


class NotLoaded(HostError):
    """A request needs a model, and none is loaded."""


class PromptTooLong(AppError):
    """Even the newest instruction alone does not fit the context window."""


class ContextFull(AppError):
    """The conversation no longer fits the context and the user chose to stop rather than leave
    its oldest turns out (code ``context_full``)."""


class ParameterError(AppError, ValueError):
    """A decoding parameter is out of its valid range."""


class TemplateError(AppError):
    """A chat template could not be rendered (unknown name, unsafe or failing Jinja)."""


class StoreError(AppError):
    """The conversation store could not read or write."""


class ImportFormatError(StoreError):
    """A conversation file to import is not an Alpaca Desk JSON export."""


class HubError(AppError):
    """The model hub could not be asked (offline mode, unreachable, not found, gated, bad listing)."""


class DownloadError(HubError):
    """A download failed (disk full, checksum mismatch, repeated stalls); the message says what to do."""


@dataclass(frozen=True)
class Notice:
    """Something the user must be told once, though nothing failed: a setting that was reset, a
    damaged file that was kept aside. The GUI shows it in its banner; the command line prints it.

    Args:
        message: the English text (logs, command line, and the GUI's fallback).
        code: a stable name the GUI looks up to show a translation, as for :class:`AppError`.
        params: the values the message names, for the translation.
    """

    message: str
    code: str = ""
    params: dict[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message


class RemoteError(AppError):
    """A saved SSH host or a job on it failed: no connection, an unknown or changed host key, a
    refused key, a host without Python, a dropped connection, a job that is not there."""


class ServeError(AppError):
    """The local server cannot start: an unsafe address without a key, a key file that cannot be
    read, a port that is taken."""


class UntrustedJsonError(AppError, ValueError):
    """A JSON file or answer from outside was not read: too large, nested too deeply, or not JSON
    (:mod:`runtime.untrusted_json`). ``params`` name it (``path``) and the limit it broke.

    It is a ``ValueError`` too, so a caller that already handled "not JSON" handles it the same way.

    Attributes:
        reason: What is wrong, as a phrase without the file's name ("it is nested more than 64
            levels deep"), for callers that put it in a sentence of their own.
    """

    def __init__(self, message: str, *, reason: str, code: str, params: dict[str, object]) -> None:
        super().__init__(message, code=code, params=params)
        self.reason = reason
