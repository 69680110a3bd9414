"""The sandbox for chat templates that model files carry: Jinja code from whoever made the file.

Rendered in Jinja's immutable sandbox, with a time limit (a trace function) and limits on the
size of the source, of the output and of the values the template builds.
"""

from __future__ import annotations

import operator
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from types import FrameType
from typing import Any, NoReturn

from runtime.errors import TemplateError

# A GGUF file is untrusted input and its chat template is code. llama-cpp-python once rendered
# it with a plain jinja2 Environment, which let a crafted model file run arbitrary Python
# (GHSA-56xg-wfcc-g829); the immutable sandbox refuses attribute access such as __class__ and
# any mutation of the objects we pass in. The sandbox does not bound time or size, so we do.
JINJA_TIME_LIMIT_S = 1.0
JINJA_MAX_OUTPUT_BYTES = 256 * 1024
# Real chat templates are a few KiB; a much larger one is not worth compiling.
JINJA_MAX_SOURCE_CHARS = 1024 * 1024
# Integer powers beyond this many bits are refused before Python computes them.
JINJA_MAX_INT_BITS = 1 << 16


class _JinjaTimeoutError(Exception):
    """Raised from the trace function when a template runs past its time limit."""


class _JinjaTooLargeError(Exception):
    """Raised when a template's output (or one value it builds) exceeds the size limit."""


def _raise_exception(message: str) -> NoReturn:
    """The ``raise_exception`` global of Hugging Face chat templates."""
    from jinja2.exceptions import TemplateError as JinjaTemplateError

    raise JinjaTemplateError(message)


def _strftime_now(fmt: str) -> str:
    """The ``strftime_now`` global of Hugging Face chat templates (Llama-3.1 uses it)."""
    return datetime.now().strftime(fmt)


def _sized(value: Any) -> int | None:
    """Length of a str/bytes/list/tuple operand, or ``None`` for anything else."""
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


@lru_cache(maxsize=1)
def _environment() -> Any:
    """The shared sandboxed environment (built on first use: jinja2 is imported lazily)."""
    from jinja2.exceptions import SecurityError
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    class _LimitedEnvironment(ImmutableSandboxedEnvironment):
        # One C-level operation such as 'a' * 10**10 or 9 ** 10**9 runs without reaching a
        # line of Python, so the trace-based time limit cannot stop it and the output limit
        # would only see it after the memory is gone; check those operands before computing.
        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
            if op == "*":
                for seq, times in ((left, right), (right, left)):
                    length = _sized(seq)
                    if length is not None and isinstance(times, int) and length * times > JINJA_MAX_OUTPUT_BYTES:
                        raise _JinjaTooLargeError
                return operator.mul(left, right)
            if op == "**":
                if (
                    isinstance(left, int)
                    and isinstance(right, int)
                    and right > 0
                    and left.bit_length() * right > JINJA_MAX_INT_BITS
                ):
                    raise _JinjaTooLargeError
                return operator.pow(left, right)
            return super().call_binop(context, op, left, right)

        def unsafe_undefined(self, obj: Any, attribute: str) -> NoReturn:
            # The sandbox's default answers a forbidden attribute with an Undefined that
            # prints as nothing, so {{ f.__globals__ }} would render quietly. No honest chat
            # template reaches for such attributes; refuse the whole template instead.
            raise SecurityError(f"access to attribute {attribute!r} of {type(obj).__name__!r} object is unsafe")

    # trim_blocks, lstrip_blocks and loopcontrols are what Hugging Face and llama.cpp use, so
    # templates written for them render the same whitespace here.
    env = _LimitedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    return env


@lru_cache(maxsize=8)
def _compile(source: str) -> Any:
    """Compile a template once; fit_prompt renders the same one several times."""
    return _environment().from_string(source)


def _unusable(reason: str) -> TemplateError:
    return TemplateError(
        f"The model file's embedded chat template cannot be used: {reason}. "
        "Pick another chat template for this model in the model settings."
    )


def _generate_limited(template: Any, variables: dict[str, Any]) -> str:
    """Render with the time and output-size limits; may raise anything the template raises."""
    deadline = time.monotonic() + JINJA_TIME_LIMIT_S

    # Jinja compiles a template to Python code, so a loop that produces no output (nested
    # range() loops, recursive macros) never returns to us and cannot be stopped by counting
    # output. A line-trace callback runs inside that code, and an exception raised from it
    # propagates into the traced frame, ending the render wherever it is. Python then drops
    # the trace function for this thread, and the ``finally`` puts back whatever trace
    # function (debugger, coverage) was there before. A thread with a timer could not do
    # this: Python has no safe way to interrupt another thread.
    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        if time.monotonic() > deadline:
            raise _JinjaTimeoutError
        return tracer

    chunks: list[str] = []
    size = 0
    previous = sys.gettrace()
    sys.settrace(tracer)
    try:
        # generate() yields the output piece by piece, so a template that writes a lot is
        # stopped soon after it passes the limit instead of after building all of it.
        stream: Iterator[str] = template.generate(**variables)
        for chunk in stream:
            size += len(chunk.encode("utf-8"))
            if size > JINJA_MAX_OUTPUT_BYTES:
                raise _JinjaTooLargeError
            chunks.append(chunk)
    finally:
        sys.settrace(previous)
    return "".join(chunks)


def render_sandboxed(source: str, variables: dict[str, Any]) -> str:
    """Render an untrusted chat template within the time and size limits.

    Raises:
        TemplateError: the template is too large, invalid, forbidden or runs past a limit;
            the message says which.
    """
    from jinja2.exceptions import SecurityError, TemplateSyntaxError

    if len(source) > JINJA_MAX_SOURCE_CHARS:
        raise _unusable(f"it is larger than {JINJA_MAX_SOURCE_CHARS // 1024} KiB")
    # The template is untrusted, so whatever goes wrong in it (including errors in Python
    # code it calls, recursion and memory errors) is reported as an unusable template.
    try:
        return _generate_limited(_compile(source), variables)
    except TemplateSyntaxError as e:
        raise _unusable(f"syntax error on line {e.lineno}: {e.message}") from e
    except SecurityError as e:
        raise _unusable(f"it tried something the sandbox forbids ({e})") from e
    except _JinjaTimeoutError as e:
        raise _unusable(f"rendering took longer than {JINJA_TIME_LIMIT_S:g} s") from e
    except _JinjaTooLargeError as e:
        raise _unusable(f"its output grew past {JINJA_MAX_OUTPUT_BYTES // 1024} KiB") from e
    except Exception as e:
        raise _unusable(f"{type(e).__name__}: {e}") from e
