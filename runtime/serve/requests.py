"""The OpenAI request bodies the server accepts, checked field by field, and its error objects.

Each ``parse_*`` function takes the decoded JSON body and returns a plain dataclass, or raises
:class:`ApiError` naming the field: a wrong type, a value out of range, or a feature this server
does not have (several choices, tools, images, log-probabilities). Nothing here talks to the host.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from runtime.chat import templates
from runtime.decoding import RANGES, DecodingParams
from runtime.errors import ParameterError

#: Bodies over this size are refused with 413 while they are read.
MAX_BODY_BYTES = 8 * 1024 * 1024
#: OpenAI allows four stop strings; a few more cost nothing and help clients that send them.
MAX_STOP_STRINGS = 16
#: New tokens when a request names no ``max_tokens``: the window's default (the paper's 512).
DEFAULT_MAX_TOKENS = DecodingParams().max_tokens


class ApiError(Exception):
    """An answer other than 200, with an OpenAI-shaped error object.

    Attributes:
        status: the HTTP status.
        message: one sentence for the caller: what is wrong and what to send instead.
        type: OpenAI's error type (``invalid_request_error``, ``authentication_error``, ...).
        code: a stable name (``context_length_exceeded``, ``invalid_type``, ...), or None: the
            API's own, not an :class:`AppError` code (the window never shows these).
        param: the request field at fault, or None.
    """

    def __init__(
        self,
        status: int,
        code: str | None,
        message: str,
        *,
        type: str = "invalid_request_error",  # noqa: A002 - OpenAI's own field name
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.code = code
        self.param = param

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {"message", "type", "param", "code"}}``."""
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}


def context_exceeded(n_tokens: int, n_ctx: int) -> ApiError:
    """The 400 for a prompt that leaves no room for an answer in the context."""
    return ApiError(
        400,
        "context_length_exceeded",
        f"The prompt has {n_tokens} tokens, and this model's context holds {n_ctx} tokens "
        "with at least one for the answer. Shorten the messages, or restart the server with a larger --ctx.",
        param="messages",
    )


@dataclass(frozen=True)
class Sampling:
    """The decoding fields of a request; ``None`` where the request left one out."""

    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    repeat_penalty: float | None = None
    seed: int | None = None
    stop: tuple[str, ...] = ()

    def params(self, *, n_ctx: int, max_tokens: int) -> DecodingParams:
        """The host's decoding parameters: the window's defaults where the request said nothing."""
        chosen = {
            name: value
            for name in ("temperature", "top_p", "top_k", "repeat_penalty", "seed")
            if (value := getattr(self, name)) is not None
        }
        try:
            return DecodingParams(n_ctx=n_ctx, max_tokens=max_tokens, **chosen)
        except ParameterError as exc:
            raise ApiError(400, "invalid_value", str(exc)) from exc

    def answer_budget(self, prompt_tokens: int, n_ctx: int) -> int:
        """New tokens at most: what was asked (or the default), capped by the room left in the context."""
        wanted = self.max_tokens if self.max_tokens is not None else DEFAULT_MAX_TOKENS
        return max(1, min(wanted, n_ctx - prompt_tokens, int(RANGES["max_tokens"].high)))


@dataclass(frozen=True)
class ChatRequest:
    """``POST /v1/chat/completions``: the conversation as the window's turns, and how to answer."""

    turns: tuple[templates.Turn, ...]
    system: str | None
    sampling: Sampling
    stream: bool = False
    include_usage: bool = False


@dataclass(frozen=True)
class CompletionRequest:
    """``POST /v1/completions``: a raw prompt to continue."""

    prompt: str
    sampling: Sampling
    stream: bool = False
    include_usage: bool = False


@dataclass(frozen=True)
class TokenizeRequest:
    """``POST /tokenize`` (an extension, as llama.cpp's server has it)."""

    content: str
    add_special: bool = False
    parse_special: bool = False


@dataclass
class _Fields:
    """A request body being read; every read names the field in its error."""

    body: dict[str, Any]
    used: set[str] = field(default_factory=set)

    def get(self, name: str) -> Any:
        self.used.add(name)
        return self.body.get(name)

    def number(self, name: str, *, whole: bool = False) -> float | int | None:
        value = self.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise _wrong_type(name, "a whole number" if whole else "a number", value)
        if whole:
            if int(value) != value:
                raise _wrong_type(name, "a whole number", value)
            return int(value)
        return float(value)

    def boolean(self, name: str) -> bool:
        value = self.get(name)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise _wrong_type(name, "true or false", value)
        return value

    def refuse_unless_default(self, name: str, default: object, why: str) -> None:
        value = self.get(name)
        if value is not None and value != default and value != []:
            raise ApiError(400, "unsupported_parameter", f"'{name}' is not supported by this server: {why}", param=name)


def _wrong_type(name: str, expected: str, value: object) -> ApiError:
    return ApiError(400, "invalid_type", f"'{name}' must be {expected}, not {_shown(value)}.", param=name.split("[")[0])


def _shown(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _body(data: Any) -> _Fields:
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_type", "The request body must be a JSON object.")
    return _Fields(data)


def _sampling(fields: _Fields, *, token_field: str = "max_tokens") -> Sampling:
    max_tokens = fields.number(token_field, whole=True)
    if max_tokens is None and token_field == "max_tokens":
        max_tokens = fields.number("max_completion_tokens", whole=True)
    if max_tokens is not None and max_tokens < 1:
        raise ApiError(400, "invalid_value", f"'{token_field}' must be at least 1.", param=token_field)
    for name in ("presence_penalty", "frequency_penalty"):
        fields.refuse_unless_default(
            name, 0, "llama.cpp's repetition penalty is offered instead: send 'repeat_penalty' (1.0-2.0)."
        )
    fields.refuse_unless_default("n", 1, "it gives one answer per request; send 'n': 1 and repeat the request.")
    fields.refuse_unless_default("best_of", 1, "it gives one answer per request.")
    fields.refuse_unless_default("logprobs", False, "log-probabilities are not returned.")
    fields.refuse_unless_default("top_logprobs", 0, "log-probabilities are not returned.")
    fields.refuse_unless_default("logit_bias", {}, "logit biases are not applied.")
    seed = fields.number("seed", whole=True)
    return Sampling(
        max_tokens=int(max_tokens) if max_tokens is not None else None,
        temperature=fields.number("temperature"),
        top_p=fields.number("top_p"),
        top_k=_int_or_none(fields.number("top_k", whole=True)),
        repeat_penalty=fields.number("repeat_penalty"),
        seed=int(seed) if seed is not None else None,
        stop=_stop(fields.get("stop")),
    )


def _int_or_none(value: float | int | None) -> int | None:
    return int(value) if value is not None else None


def _stop(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise _wrong_type("stop", "a string or a list of strings", value)
    if len(items) > MAX_STOP_STRINGS:
        raise ApiError(400, "invalid_value", f"'stop' holds at most {MAX_STOP_STRINGS} strings.", param="stop")
    return tuple(s for s in items if s)


def _stream_options(fields: _Fields, stream: bool) -> bool:
    options = fields.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise _wrong_type("stream_options", "an object", options)
    include = options.get("include_usage", False)
    if not isinstance(include, bool):
        raise _wrong_type("stream_options.include_usage", "true or false", include)
    return include and stream


def _text_content(content: Any, where: str) -> str:
    """A message's text: a string, or a list of text parts (images and audio are refused)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise _wrong_type(f"{where}.content", "a string or a list of text parts", content)
    texts: list[str] = []
    for j, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif kind in ("image_url", "input_image", "image", "input_audio", "file"):
            raise ApiError(
                400,
                "unsupported_content",
                f"'{where}.content[{j}]' is {kind}: this server reads text only; the model has no images or audio.",
                param="messages",
            )
        else:
            raise _wrong_type(f"{where}.content[{j}]", 'a text part {"type": "text", "text": ...}', part)
    return "".join(texts)


def _turns(messages: Any) -> tuple[tuple[templates.Turn, ...], str | None]:
    """The window's turns from OpenAI messages: system text apart, each user message with the
    assistant answer after it. Messages of one role in a row are joined by a blank line."""
    if not isinstance(messages, list) or not messages:
        raise ApiError(400, "invalid_type", "'messages' must be a non-empty list of messages.", param="messages")
    systems: list[str] = []
    pairs: list[list[str | None]] = []  # [user, assistant]
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, dict):
            raise _wrong_type(where, "an object with 'role' and 'content'", message)
        role = message.get("role")
        if message.get("tool_calls") or message.get("function_call"):
            raise ApiError(400, "unsupported_parameter", f"'{where}' has tool calls: this server has no tools.")
        if role in ("tool", "function"):
            raise ApiError(400, "unsupported_parameter", f"'{where}' is a {role} message: this server has no tools.")
        if role not in ("system", "developer", "user", "assistant"):
            raise ApiError(
                400,
                "invalid_value",
                f"'{where}.role' must be system, user or assistant, not {_shown(role)}.",
                param="messages",
            )
        text = _text_content(message.get("content"), where)
        if role in ("system", "developer"):
            systems.append(text)
        elif role == "user":
            if pairs and pairs[-1][1] is None:
                pairs[-1][0] = f"{pairs[-1][0]}\n\n{text}"
            else:
                pairs.append([text, None])
        elif not pairs:
            pairs.append(["", text])  # an answer before any question: it stays, after an empty one
        else:
            previous = pairs[-1][1]
            pairs[-1][1] = text if previous is None else f"{previous}\n\n{text}"
    if not pairs:
        raise ApiError(400, "invalid_value", "'messages' has no user message to answer.", param="messages")
    turns = tuple(templates.Turn(user=str(user), assistant=assistant) for user, assistant in pairs)
    return turns, ("\n\n".join(systems) if systems else None)


def parse_chat(data: Any) -> ChatRequest:
    """Check a chat-completions body (see the module's docstring for what is refused)."""
    fields = _body(data)
    _model_name(fields)
    turns, system = _turns(fields.get("messages"))
    for name in ("tools", "functions"):
        fields.refuse_unless_default(name, None, "the model has no tools or functions.")
    for name in ("tool_choice", "function_call"):
        fields.refuse_unless_default(name, "none", "the model has no tools or functions.")
    fmt = fields.get("response_format")
    if fmt is not None and not (isinstance(fmt, dict) and fmt.get("type") == "text"):
        raise ApiError(
            400,
            "unsupported_parameter",
            "'response_format' is not supported: answers are plain text.",
            param="response_format",
        )
    fields.refuse_unless_default("modalities", ["text"], "answers are text only.")
    fields.refuse_unless_default("audio", None, "answers are text only.")
    sampling = _sampling(fields)
    stream = fields.boolean("stream")
    return ChatRequest(turns, system, sampling, stream, _stream_options(fields, stream))


def parse_completion(data: Any) -> CompletionRequest:
    """Check a completions body: one prompt string (a list of one string is accepted)."""
    fields = _body(data)
    _model_name(fields)
    prompt = fields.get("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        prompt = prompt[0]
    if not isinstance(prompt, str):
        raise _wrong_type("prompt", "one string", prompt)
    if not prompt:
        raise ApiError(400, "invalid_value", "'prompt' is empty: send the text to continue.", param="prompt")
    fields.refuse_unless_default("echo", False, "the prompt is not repeated in the answer.")
    fields.refuse_unless_default("suffix", None, "the model cannot fill in the middle.")
    sampling = _sampling(fields)
    stream = fields.boolean("stream")
    return CompletionRequest(prompt, sampling, stream, _stream_options(fields, stream))


def parse_tokenize(data: Any) -> TokenizeRequest:
    """``{"content": TEXT, "add_special": false, "parse_special": false}``."""
    fields = _body(data)
    content = fields.get("content")
    if not isinstance(content, str):
        raise _wrong_type("content", "a string", content)
    return TokenizeRequest(content, fields.boolean("add_special"), fields.boolean("parse_special"))


def parse_detokenize(data: Any, vocab_size: int) -> list[int]:
    """``{"tokens": [ID, ...]}``, each id in the model's vocabulary."""
    tokens = _body(data).get("tokens")
    if not isinstance(tokens, list) or not all(isinstance(t, int) and not isinstance(t, bool) for t in tokens):
        raise _wrong_type("tokens", "a list of token ids", tokens)
    bad = next((t for t in tokens if not 0 <= t < vocab_size), None)
    if bad is not None:
        raise ApiError(
            400,
            "invalid_value",
            f"Token id {bad} is not in this model's vocabulary (0..{vocab_size - 1}).",
            param="tokens",
        )
    return tokens


def _model_name(fields: _Fields) -> None:
    # One model is loaded: any name is answered by it, as llama.cpp's server does, but a name
    # that is not text is a client bug worth saying.
    model = fields.get("model")
    if model is not None and not isinstance(model, str):
        raise _wrong_type("model", "a string", model)
