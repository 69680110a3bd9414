"""The user's settings: one typed schema with defaults, saved atomically as JSON.

The file is untrusted input: every value is checked against its type and range, a bad one falls
back to its default and a file that is not JSON is kept aside, each with a notice for the user
(:func:`load_settings`). Unknown keys are ignored (a newer version's file still opens) and
``version`` drives upgrades. Window geometry is Qt's business (QSettings), not this file's.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from runtime.decoding import CONTEXT_FULL_CHOICES, RANGES, WINDOW_SPECULATIVE_MODES, DecodingParams
from runtime.errors import Notice, UntrustedJsonError
from runtime.paths import keep_aside, write_atomic
from runtime.untrusted_json import read_json_file

log = logging.getLogger(__name__)

SETTINGS_VERSION = 1
MAX_RECENT = 10
LANGUAGES = ("system", "en", "zh_CN")
#: Light or dark: "system" follows the operating system's colour scheme, live.
COLOUR_SCHEMES = ("system", "light", "dark")
#: More decoding threads than this is a typing error, not a machine (llama.cpp would start them all).
MAX_THREADS = 512
#: ``n_gpu_layers``: -1 offloads every layer (llama.cpp's convention); no model has this many.
MAX_GPU_LAYERS = 1000
#: A settings file is a few kilobytes; one larger than this is not read into memory.
MAX_SETTINGS_BYTES = 1024 * 1024


@dataclass
class Settings:
    """Everything the app remembers between runs."""

    version: int = SETTINGS_VERSION
    language: str = "system"  # "system" follows the OS locale
    colour_scheme: str = "system"  # one of COLOUR_SCHEMES
    recent_models: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=lambda: DecodingParams().to_dict())
    n_threads: int | None = None
    n_gpu_layers: int = 0
    show_decoding_panel: bool = True
    show_tokenizer_panel: bool = False
    #: The model hub (runtime.hub): its address (a mirror works too), a proxy ("" = the system's),
    #: offline mode (no network connection at all), and the models folder ("" = the app's).
    #: The access token is not here: it is in the operating system's keyring (runtime.hub.token).
    hub_endpoint: str = "https://huggingface.co"
    hub_proxy: str = ""
    hub_offline: bool = False
    models_folder: str = ""
    #: Closing the window while downloads run hides it in the system tray and the downloads go on
    #: (app.controllers.tray); off, or without a tray, closing asks before stopping them.
    keep_downloading_in_tray: bool = True
    #: The tray's "still downloading" message was shown once; it is not repeated at every close.
    tray_notice_shown: bool = False
    #: The local server (runtime.serve) on the window's model: off until the user turns it on, then
    #: on again at the next start. Its API key is in the operating system's keyring (app's server
    #: controller), not here.
    serve_enabled: bool = False
    serve_host: str = "127.0.0.1"
    serve_port: int = 8080  # 0: any free port
    #: Off, requests from this computer need no key; another address always requires one.
    serve_require_key: bool = True
    #: The KV cache's type for the next load: f16, or q8_0 / q4_0 (a half / a quarter of the
    #: memory, with flash attention: slower decoding in long conversations on the CPU).
    kv_type: str = "f16"
    #: A conversation that outgrows the context: "drop_oldest" leaves its oldest turns out of the
    #: prompt, "stop" refuses the next message and says the context is full.
    context_full: str = "drop_oldest"
    #: Speculative decoding for the next load: "off", "lookup", "auto" or "draft" (the model is then
    #: loaded with flash attention, so that verified drafts give plain decoding's text).
    speculative: str = "off"
    #: The GGUF file that drafts for the model when ``speculative`` is "draft" ("" = none chosen).
    draft_model: str = ""
    #: Keys this version does not know (a newer version's file), written back as they were so
    #: that running an older version for a while loses nothing the newer one saved.
    kept_unknown: dict[str, Any] = field(default_factory=dict, repr=False)

    def decoding_params(self) -> DecodingParams:
        """The saved decoding parameters, or the paper's defaults if they are invalid."""
        if not isinstance(self.params, dict):
            return DecodingParams()
        try:
            return DecodingParams.from_dict(self.params)
        except (ValueError, TypeError):
            return DecodingParams()

    def add_recent_model(self, path: str) -> None:
        """Put ``path`` first in the recent models list."""
        self.recent_models = [path, *(p for p in self.recent_models if p != path)][:MAX_RECENT]


class LoadedSettings(NamedTuple):
    """What :func:`load_settings` found: the settings to use, and what the user must be told."""

    settings: Settings
    notices: list[Notice]


def load_settings(path: Path) -> LoadedSettings:
    """Read the settings file; the file is untrusted (edited by hand, damaged, from another version).

    A missing file gives the defaults. A file that is not a JSON object is kept beside it as
    ``settings.json.bad-YYYYmmdd-HHMMSS`` (never overwritten; the language and recent models in
    it are not lost) and the defaults are used; so is a file nested too deeply (see
    :mod:`runtime.untrusted_json`). Every value is checked against its type and
    range; a bad one falls back to its default. Each of these gives a :class:`Notice` naming
    what happened; unknown keys (a newer version's file) are kept, unused, and saved again. A
    file larger than :data:`MAX_SETTINGS_BYTES` is not read (it is kept aside like a damaged one).

    Args:
        path: the settings file.

    Returns:
        The settings and the notices (empty when the file was fine or missing).
    """
    try:
        data = read_json_file(path, max_bytes=MAX_SETTINGS_BYTES)
    except FileNotFoundError:
        return LoadedSettings(Settings(), [])
    except UntrustedJsonError as exc:
        # Too large, nested too deeply, not UTF-8 or not JSON.
        return LoadedSettings(Settings(), [_keep_bad_file(path, exc.reason)])
    except OSError as exc:
        return LoadedSettings(Settings(), [_keep_bad_file(path, _reason(exc))])
    if not isinstance(data, dict):
        return LoadedSettings(Settings(), [_keep_bad_file(path, f"it holds {_kind(data)}, not an object")])
    settings = Settings()
    notices: list[Notice] = []
    for name, check in _CHECKS.items():
        if name not in data:
            continue
        value = data[name]
        try:
            setattr(settings, name, check(value))
        except _BadValue as bad:
            log.info("settings file %s: %s is %s", path, name, bad)
            notices.append(_bad_value(name, value, getattr(settings, name)))
    settings.recent_models, recent_notices = _checked_recent_models(settings.recent_models)
    notices += recent_notices
    if "params" in data:
        settings.params, params_notices = _checked_params(data["params"])
        notices += params_notices
    settings.version = SETTINGS_VERSION
    known = {f.name for f in dataclasses.fields(Settings)}
    settings.kept_unknown = {key: value for key, value in data.items() if key not in known}
    for notice in notices:
        log.warning("settings file %s: %s", path, notice)
    return LoadedSettings(settings, notices)


class _BadValue(ValueError):
    """A setting's value has the wrong type or is out of range (the text says which)."""


def _language(value: Any) -> str:
    if value not in LANGUAGES:
        raise _BadValue(f"not one of {', '.join(LANGUAGES)}")
    return str(value)


def _colour_scheme(value: Any) -> str:
    if value not in COLOUR_SCHEMES:
        raise _BadValue(f"not one of {', '.join(COLOUR_SCHEMES)}")
    return str(value)


def _recent_models(value: Any) -> list[str]:
    # Only the list itself is checked here; entries are sorted out in _checked_recent_models.
    if not isinstance(value, list):
        raise _BadValue("not a list of file paths")
    return value


def _checked_recent_models(paths: list[Any]) -> tuple[list[str], list[Notice]]:
    """The entries that are file paths (the newest :data:`MAX_RECENT`), and a notice if some were not.

    One bad entry must not cost the user the others, so entries are dropped one by one.
    """
    kept = [p for p in paths if isinstance(p, str) and p]
    dropped = [p for p in paths if not (isinstance(p, str) and p)]
    if not dropped:
        return kept[:MAX_RECENT], []
    shown = _shown(dropped)
    notice = Notice(
        f'The setting "recent_models" had entries that are not file paths ({shown}); they were left out.',
        code="settings_dropped_entries",
        params={"name": "recent_models", "value": shown},
    )
    return kept[:MAX_RECENT], [notice]


def _whole_number(value: Any, low: int, high: int) -> int:
    # bool is an int in Python, but true is no thread count.
    if isinstance(value, bool) or not isinstance(value, int):
        raise _BadValue("not a whole number")
    if not low <= value <= high:
        raise _BadValue(f"not between {low} and {high}")
    return value


def _n_threads(value: Any) -> int | None:
    return None if value is None else _whole_number(value, 1, MAX_THREADS)


def _n_gpu_layers(value: Any) -> int:
    return _whole_number(value, -1, MAX_GPU_LAYERS)


#: The KV cache types a load takes: runtime.models.plan.KV_TYPES, repeated because the settings
#: are the shared floor that imports no capability (tests/unit/test_settings.py checks they agree).
KV_CACHE_TYPES = ("f16", "q8_0", "q4_0")


def _kv_type(value: Any) -> str:
    if not isinstance(value, str) or value not in KV_CACHE_TYPES:
        raise _BadValue(f"not one of {', '.join(KV_CACHE_TYPES)}")
    return value


def _context_full(value: Any) -> str:
    if not isinstance(value, str) or value not in CONTEXT_FULL_CHOICES:
        raise _BadValue(f"not one of {', '.join(CONTEXT_FULL_CHOICES)}")
    return value


def _speculative(value: Any) -> str:
    if not isinstance(value, str) or value not in WINDOW_SPECULATIVE_MODES:
        raise _BadValue(f"not one of {', '.join(WINDOW_SPECULATIVE_MODES)}")
    return value


def _url(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 300:
        raise _BadValue("not an address")
    if value and not value.startswith(("http://", "https://", "socks5://")):
        raise _BadValue("not an http:// or https:// address")
    return value


def _endpoint(value: Any) -> str:
    if not _url(value):
        raise _BadValue("empty")
    return str(value)


def _folder(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 1000 or "\0" in value:
        raise _BadValue("not a folder path")
    return value


def _file_path(value: Any) -> str:
    if not isinstance(value, str) or len(value) > 1000 or "\0" in value:
        raise _BadValue("not a file path")
    return value


def _host_address(value: Any) -> str:
    if not isinstance(value, str) or not value or len(value) > 253 or any(ch.isspace() for ch in value):
        raise _BadValue("not a host address")
    return value


def _port(value: Any) -> int:
    return _whole_number(value, 0, 65535)


def _flag(value: Any) -> bool:
    # Only JSON true/false: "yes" or null must not reach Qt's setVisible (a TypeError at start).
    if not isinstance(value, bool):
        raise _BadValue("not true or false")
    return value


#: How each setting is checked: the function returns the value to use or raises _BadValue.
#: ``version`` is not here: it drives upgrades and is always rewritten; ``params`` is checked
#: field by field in :func:`_checked_params`.
_CHECKS: dict[str, Callable[[Any], Any]] = {
    "language": _language,
    "colour_scheme": _colour_scheme,
    "recent_models": _recent_models,
    "n_threads": _n_threads,
    "n_gpu_layers": _n_gpu_layers,
    "show_decoding_panel": _flag,
    "show_tokenizer_panel": _flag,
    "hub_endpoint": _endpoint,
    "hub_proxy": _url,
    "hub_offline": _flag,
    "models_folder": _folder,
    "keep_downloading_in_tray": _flag,
    "tray_notice_shown": _flag,
    "serve_enabled": _flag,
    "serve_host": _host_address,
    "serve_port": _port,
    "serve_require_key": _flag,
    "kv_type": _kv_type,
    "context_full": _context_full,
    "speculative": _speculative,
    "draft_model": _file_path,
}


def _checked_params(value: Any) -> tuple[dict[str, Any], list[Notice]]:
    """The decoding parameters with every bad field set to the paper's default, and a notice each.

    Fields are checked one at a time, in order, against the ones already accepted, so
    ``max_tokens`` is compared with the ``n_ctx`` that will really be used.
    """
    defaults = DecodingParams().to_dict()
    if not isinstance(value, dict):
        return defaults, [_bad_value("params", value, defaults)]
    accepted: dict[str, Any] = {}
    notices = []
    for name, default in defaults.items():
        if name not in value:
            continue
        candidate = value[name]
        if name in RANGES and RANGES[name].is_int and isinstance(candidate, float) and candidate.is_integer():
            # 2048.0 (written by hand, or by another JSON writer) is still the whole number 2048.
            candidate = int(candidate)
        try:
            if name == "seed" and (isinstance(candidate, bool) or not isinstance(candidate, int | None)):
                raise TypeError("seed must be a whole number or null")
            DecodingParams.from_dict({**accepted, name: candidate})
        except (ValueError, TypeError):
            notices.append(_bad_value(f"params.{name}", value[name], default))
            continue
        accepted[name] = candidate
    return DecodingParams.from_dict(accepted).to_dict(), notices


def _bad_value(name: str, value: Any, default: Any) -> Notice:
    shown, default_shown = _shown(value), _shown(default)
    return Notice(
        f'The setting "{name}" had the value {shown}, which is not valid; the default {default_shown} is used.',
        code="settings_bad_value",
        params={"name": name, "value": shown, "default": default_shown},
    )


def _keep_bad_file(path: Path, reason: str) -> Notice:
    """Move an unusable settings file aside (so saving cannot overwrite it) and say where it went."""
    try:
        kept = keep_aside(path, "bad")
    except OSError as exc:
        # Nothing moved; saving fails in the same folder for the same reason, so the file stays.
        log.warning("settings file %s unusable (%s) and could not be moved aside: %s", path, reason, exc)
        return Notice(
            f"The settings file {path} could not be read ({reason}) and could not be moved aside "
            f"({_reason(exc)}); the default settings are used.",
            code="settings_unreadable",
            params={"path": str(path), "reason": reason, "error": _reason(exc)},
        )
    log.warning("settings file %s unusable (%s); kept as %s, using defaults", path, reason, kept)
    return Notice(
        f"The settings file {path} could not be read ({reason}). It was kept as {kept.name} and the "
        f"default settings are used.",
        code="settings_kept_aside",
        params={"path": str(path), "reason": reason, "kept": kept.name},
    )


#: A value is shown in a notice at most this long: a pasted novel must not fill the banner.
_SHOWN_LENGTH = 60


def _shown(value: Any) -> str:
    """A setting's value as JSON would write it, shortened."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _SHOWN_LENGTH else text[: _SHOWN_LENGTH - 1] + "…"


def _kind(value: Any) -> str:
    return {type(None): "null", list: "a list", str: "text", bool: "true/false"}.get(type(value), "a number")


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


def save_settings(settings: Settings, path: Path) -> None:
    """Write settings atomically: a crash mid-write leaves the previous file intact."""
    path.parent.mkdir(parents=True, exist_ok=True)
    known = dataclasses.asdict(settings)
    unknown = known.pop("kept_unknown")
    text = json.dumps({**unknown, **known}, ensure_ascii=False, indent=2)
    write_atomic(path, text.encode("utf-8"))
