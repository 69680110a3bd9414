"""Chat: the inference host that owns the llama.cpp model, its client, prompt templates and decoding.

Modules:
    host: the child process that runs llama.cpp (``python -m runtime.chat.host``); never imported
        by the GUI process. It opens models through :mod:`runtime.models.loader`, whose
        ``native_log`` keeps llama.cpp's log and a failed assertion's text for the host log and
        the "host died" message. It holds the protocol (requests in, events out); the model and
        the decode loop are ``engine``'s (:class:`runtime.chat.engine.Engine`).
    client: :class:`HostClient`, which starts the host and speaks its JSON-lines protocol.
    templates: the Chinese-Alpaca prompt templates and the context budget; a model file's own
        Jinja template is rendered through ``_jinja_sandbox`` in the template sandbox process.
    template_sandbox: that process (``python -m runtime.chat.template_sandbox``), which renders
        untrusted templates under a memory limit and is killed when one runs too long.
    The decoding parameters (the paper's defaults, section 6.2) are on the shared floor,
    :mod:`runtime.decoding`; this package offers them too.
    streaming: UTF-8 joining and stop-string hold-back for streamed text.
"""

from runtime.chat._threads import default_threads, usable_cores
from runtime.chat.client import CANCEL_GRACE_S, HostClient, HostEvent, host_command, raise_for_error
from runtime.chat.streaming import StopMatcher, Utf8Stream
from runtime.chat.templates import ChatPrompt, Turn, choose_template, fit_prompt, get_template, render, template_names
from runtime.decoding import DEFAULT_PRESET, PRESETS, RANGES, DecodingParams, Range

__all__ = [
    "CANCEL_GRACE_S",
    "DEFAULT_PRESET",
    "PRESETS",
    "RANGES",
    "ChatPrompt",
    "DecodingParams",
    "HostClient",
    "HostEvent",
    "Range",
    "StopMatcher",
    "Turn",
    "Utf8Stream",
    "choose_template",
    "default_threads",
    "fit_prompt",
    "get_template",
    "host_command",
    "raise_for_error",
    "render",
    "template_names",
    "usable_cores",
]
