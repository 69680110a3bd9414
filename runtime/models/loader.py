"""The one loader: how every part of the app opens a model file with llama-cpp-python.

A model file is someone else's file. Before llama.cpp sees it, it passes the checks the chat runs
(:func:`check_model`: a regular file, GGUF, every metadata field read checked for its type and
range); then :func:`open_llama` constructs ``llama_cpp.Llama`` without compiling the chat
templates the file carries. The inference host, the quantization report, quantize's checks and
the self-test (through the host) open models here; ``tests/unit/models/test_loader.py`` fails when
another module constructs ``llama_cpp.Llama`` itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from runtime.errors import HostError, ModelLoadError
from runtime.models import native_log
from runtime.models.info import ModelInfo, read_model_info


def check_model(path: str | os.PathLike[str]) -> ModelInfo:
    """The checks a model file passes before llama.cpp sees it, the same wherever it is opened.

    A regular file (no folder, named pipe or device, no symbolic-link loop), GGUF and not
    truncated, with every metadata field that is read checked for its type and range (see
    :func:`runtime.models.read_model_info`).

    Raises:
        ModelLoadError: naming the file and what is wrong with it.
    """
    return read_model_info(path)


class _InertChatFormatter:
    """Stands in for llama-cpp-python's Jinja2ChatFormatter while a model loads (see below)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def to_chat_handler(self) -> Callable[..., Any]:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise HostError("Chat completion through llama-cpp-python is not used; templates render in the sandbox.")

        return refuse


@contextmanager
def _no_jinja_chat_formatters() -> Iterator[None]:
    """Keep ``Llama()`` from compiling the chat templates that the model file carries.

    ``Llama.__init__`` builds a Jinja2ChatFormatter, which compiles a Jinja template, for every
    ``tokenizer.chat_template*`` key of the file, and Jinja computes constant expressions while
    it compiles: ``{{ 9 ** (10**9) }}`` under any such key (even ``tokenizer.chat_template.tool_use``,
    which nothing here uses) would hang the load, outside every limit, holding Python's lock so
    that not even a signal handler runs. This app never calls ``create_chat_completion``: it
    renders templates itself, in the template sandbox process. So while the constructor runs,
    the formatter class is an inert one. Each process that loads models does so one at a time,
    on one thread, so swapping the module attribute for that time is safe.
    """
    from llama_cpp import llama_chat_format

    module: Any = llama_chat_format
    original = module.Jinja2ChatFormatter
    module.Jinja2ChatFormatter = _InertChatFormatter
    try:
        yield
    finally:
        module.Jinja2ChatFormatter = original


def open_llama(model: str | os.PathLike[str] | ModelInfo, **options: Any) -> Any:
    """A ``llama_cpp.Llama`` for a model file that passed :func:`check_model`.

    Args:
        model: the file, or the :class:`ModelInfo` that :func:`check_model` returned for it
            (so a caller that needs the facts first does not read the header twice).
        options: ``Llama``'s own (``n_ctx``, ``n_threads``, ``logits_all``, ...); ``verbose`` is
            False unless given.

    Raises:
        ModelLoadError: the checks refused the file (see :func:`check_model`), or llama.cpp did
            (code ``model_rejected``).
    """
    info = model if isinstance(model, ModelInfo) else check_model(model)
    import llama_cpp

    # llama.cpp's log and a failed assertion's text reach stderr (and the host's log file),
    # where llama-cpp-python would send them to the null device.
    native_log.install()
    try:
        with _no_jinja_chat_formatters():
            return llama_cpp.Llama(model_path=info.path, **{"verbose": False, **options})
    except (ValueError, RuntimeError, OSError) as exc:
        raise ModelLoadError(
            f"llama.cpp could not load {info.file_name} (architecture '{info.architecture}'). "
            "The file may be damaged or use an architecture this llama.cpp does not support: "
            "download it again, or choose another model.",
            code="model_rejected",
            params={"name": info.file_name, "arch": info.architecture},
        ) from exc
