"""What a GGUF file is, read from its header without loading the weights.

The checks here run before llama.cpp ever sees a file, so the common mistakes (a 2023 GGML
``.bin``, a half-finished download, a file that is not a model at all) get a message that
says what the file is and what to do, instead of a native error.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, NoReturn

from runtime.errors import ModelLoadError

GGUF_MAGIC = b"GGUF"
# Magics of the formats llama.cpp read before GGUF (August 2023): ggml, ggmf, ggjt,
# stored little-endian, so the bytes on disk read backwards.
LEGACY_MAGICS = {b"lmgg": "GGML", b"fmgg": "GGMF", b"tjgg": "GGJT"}
#: The longest chat template kept from a file, in characters. Real ones are a few KiB; the
#: template sandbox refuses anything longer (runtime.chat.template_sandbox uses this number).
MAX_CHAT_TEMPLATE_CHARS = 1024 * 1024


@dataclass(frozen=True)
class ModelInfo:
    """Facts about a model file, from its GGUF metadata."""

    path: str
    file_name: str
    size_bytes: int
    name: str
    architecture: str
    n_params: int
    vocab_size: int
    context_length: int
    quantization: str
    has_chat_template: bool
    chat_template: str | None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for JSON."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelInfo:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)

    @property
    def params_label(self) -> str:
        """Parameter count in the usual short form (``7B``, ``160M``, ``260K``)."""
        return params_label(self.n_params)


def params_label(n: int) -> str:
    """A parameter count in the usual short form (``7B``, ``160M``, ``260K``)."""
    for unit, scale in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= scale:
            value = n / scale
            return f"{value:.1f}{unit}" if value < 10 else f"{value:.0f}{unit}"
    return str(n)


def _unreadable(file: Path, exc: OSError) -> ModelLoadError:
    return ModelLoadError(
        f"Cannot read {file}: {exc.strerror or exc}. Check the file's permissions.",
        code="model_unreadable",
        params={"path": str(file), "reason": str(exc.strerror or exc)},
    )


def _refuse_special(file: Path, mode: int) -> NoReturn:
    """Refuse what is not a regular file: reading a named pipe waits for a writer, a device may never end."""
    kind = "a named pipe (FIFO)" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
    raise ModelLoadError(
        f"{file} is {kind}, not a regular file, so it cannot be a model. Choose a .gguf model file.",
        code="model_not_regular_file",
        params={"path": str(file), "kind": kind},
    )


def check_model_file(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`ModelLoadError` unless ``path`` looks like a readable GGUF file.

    Args:
        path: the file the user chose.

    Returns:
        The path, resolved.

    Raises:
        ModelLoadError: missing, a folder, a named pipe or another file that is not a regular one,
            a symbolic-link loop, empty, an old GGML file, or not GGUF at all.
    """
    file = Path(path).expanduser()
    try:
        status = file.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise ModelLoadError(
            f"Model file not found: {file}. Check the path, or choose another file.",
            code="model_not_found",
            params={"path": str(file)},
        ) from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise ModelLoadError(
                f"{file} is a symbolic link that leads back to itself (a loop), not a model file. "
                "Choose the model file itself, or fix the link.",
                code="model_symlink_loop",
                params={"path": str(file)},
            ) from None
        raise _unreadable(file, exc) from exc
    if stat.S_ISDIR(status.st_mode):
        raise ModelLoadError(
            f"{file} is a folder, not a model file. Choose the .gguf file inside it "
            "(a Hugging Face folder must first be converted to GGUF).",
            code="model_is_folder",
            params={"path": str(file)},
        )
    if not stat.S_ISREG(status.st_mode):
        _refuse_special(file, status.st_mode)
    try:
        # Non-blocking, in case a named pipe took the file's place since the check above: opening
        # one would wait for a writer forever.
        fd = os.open(file, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                _refuse_special(file, mode)
            magic = os.read(fd, 4)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _unreadable(file, exc) from exc
    if not magic:
        raise ModelLoadError(
            f"{file.name} is empty (0 bytes). Download the model again.",
            code="model_empty",
            params={"name": file.name},
        )
    if magic in LEGACY_MAGICS:
        raise ModelLoadError(
            f"{file.name} is an old {LEGACY_MAGICS[magic]} model file (the format llama.cpp used "
            "before August 2023), which llama.cpp no longer reads. Download the GGUF version of this "
            "model, or convert the original weights to GGUF.",
            code="model_legacy_ggml",
            params={"name": file.name, "format": LEGACY_MAGICS[magic]},
        )
    if magic != GGUF_MAGIC:
        raise ModelLoadError(
            f"{file.name} is not a GGUF model file (it does not start with the GGUF signature). Choose a .gguf file.",
            code="model_not_gguf",
            params={"name": file.name},
        )
    return Path(os.path.realpath(file))


# Bounds on what a model file's metadata may say. A value outside them is not a model this app can
# use but a damaged or hostile file: it is refused here, naming the field, before llama.cpp (which
# trusts these values: a context length of 2**32 - 1 reads as -1 there) or the window sees it.
#: Longest training context accepted: above the longest real models (10M tokens), far below where
#: llama.cpp's 32-bit fields overflow.
MAX_CONTEXT_LENGTH = 1 << 24
#: Largest vocabulary accepted (real ones stop near 256K pieces).
MAX_VOCAB_SIZE = 1 << 22
#: A Hugging Face ``config.json`` is a few kilobytes.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
#: Widest embedding accepted (real ones stop near 16K).
MAX_EMBEDDING_LENGTH = 1 << 20
#: Most blocks accepted: llama.cpp's own limit (LLAMA_MAX_LAYERS), above which it aborts.
MAX_BLOCK_COUNT = 512
#: ``general.name``: shown in the window and matched against template names.
MAX_NAME_CHARS = 1024
# Architecture names are identifiers (``llama``, ``qwen2moe``, ``command-r``); the name is also
# part of the keys read after it.
_ARCH_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
# Shown values are cut to this length, so that a hostile value cannot flood a message.
_SHOWN_CHARS = 40


def _chat_template(header: Any, meta: _Metadata) -> str | None:
    """``tokenizer.chat_template``, cut to at most ``MAX_CHAT_TEMPLATE_CHARS + 1`` characters.

    The value is untrusted and may be any size; it travels to the GUI with the model's facts and
    is kept there. Only a bounded prefix is ever decoded. A template longer than the limit
    keeps one character too many, so that the sandbox still sees it is too large and says so
    (rather than the model seeming to have no template, or rendering a cut-off one).
    """
    from gguf.constants import GGUFValueType

    field = header.fields.get("tokenizer.chat_template")
    if field is None:
        return None
    if field.type != GGUFValueType.STRING:
        raise meta.bad("tokenizer.chat_template", f"is {_type_name(field)}, not text")
    # Every 4 bytes decode to at least one character (a U+FFFD for bytes that are not UTF-8), so
    # this many bytes give more than MAX_CHAT_TEMPLATE_CHARS + 1 characters whenever the value is
    # longer than that.
    head = bytes(field.value[: 4 * (MAX_CHAT_TEMPLATE_CHARS + 2)])
    return head.decode("utf-8", errors="replace")[: MAX_CHAT_TEMPLATE_CHARS + 1] or None


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN_CHARS else text[: _SHOWN_CHARS - 3] + "..."


def _type_name(field: Any) -> str:
    """``an array of STRING`` or ``a FLOAT32``: what a header field holds, in words."""
    if field.is_array:
        return f"an array of {field.item_type.name}"
    return f"a {field.type.name}"


class _Metadata:
    """Typed, bounded reads of a GGUF file's key-value metadata.

    Every read checks the value's GGUF type and range and raises the ``model_bad_metadata``
    :class:`ModelLoadError` naming the file and the field otherwise; a missing field is ``None``.
    """

    def __init__(self, header: Any, file: Path) -> None:
        self._fields = header.fields
        self._file = file

    def bad(self, key: str, problem: str) -> ModelLoadError:
        """The error for a field whose value is unusable (``problem`` says why, in English)."""
        name = self._file.name
        return ModelLoadError(
            f"{name} is damaged or unusual: {key} {problem}. Alpaca Desk cannot use this file: download it "
            "again and compare its size or SHA-256 with the source, or choose another model.",
            code="model_bad_metadata",
            params={"name": name, "path": str(self._file), "field": key, "problem": problem},
        )

    def integer(self, key: str, *, low: int, high: int) -> int | None:
        """A whole number in ``low..high``, or None when the field is missing."""
        from gguf import GGUFValueType as T  # noqa: N814 - a constant namespace, as in gguf's own code

        from runtime.gguf_header import INTEGER_TYPES

        field = self._fields.get(key)
        if field is None:
            return None
        if field.type not in INTEGER_TYPES:
            shown = ""
            if field.type == T.STRING:
                shown = f" ({_shown(bytes(field.value[: 4 * _SHOWN_CHARS]).decode('utf-8', errors='replace'))})"
            raise self.bad(key, f"is {_type_name(field)}{shown}, not a whole number")
        value = int(field.value)
        if not low <= value <= high:
            raise self.bad(key, f"is {value:,}, outside {low:,}..{high:,}")
        return value

    def string(self, key: str, *, max_chars: int) -> str | None:
        """A UTF-8 string of at most ``max_chars`` characters, or None when the field is missing."""
        from gguf import GGUFValueType as T  # noqa: N814

        field = self._fields.get(key)
        if field is None:
            return None
        if field.type != T.STRING:
            raise self.bad(key, f"is {_type_name(field)}, not text")
        raw = field.value
        if len(raw) > 4 * max_chars:  # cheap bound first: a character is at most 4 bytes
            raise self.bad(key, f"is {len(raw):,} bytes long (at most {max_chars:,} characters)")
        try:
            text = bytes(raw).decode("utf-8")
        except UnicodeDecodeError:
            raise self.bad(key, "is not valid UTF-8 text") from None
        if len(text) > max_chars:
            raise self.bad(key, f"is {len(text):,} characters long (at most {max_chars:,})")
        return text

    def finite_numbers(self, prefix: str) -> None:
        """Every floating-point field under ``prefix`` (and each number of such an array) is finite.

        llama.cpp reads these as they are: a NaN RoPE frequency base or norm epsilon turns every
        logit into NaN, and the chat then prints garbage ("EEEE") instead of failing.
        """
        import numpy as np

        from runtime.gguf_header import FLOAT_TYPES

        for key, field in self._fields.items():
            if not key.startswith(prefix) or (field.item_type if field.is_array else field.type) not in FLOAT_TYPES:
                continue
            values = np.asarray(field.value, dtype=np.float64).ravel()
            wrong = values[~np.isfinite(values)]
            if wrong.size:
                raise self.bad(key, f"is {float(wrong[0])}, not a finite number")

    def positive_number(self, key: str) -> None:
        """A number, when present, is greater than zero (a frequency base, a scale)."""
        field = self._fields.get(key)
        if field is None or field.is_array or isinstance(field.value, memoryview):
            return
        value = float(field.value)
        if not value > 0:
            raise self.bad(key, f"is {value}, not a number above 0")

    def string_array_length(self, key: str, *, high: int) -> int | None:
        """How many strings an array of strings holds (at most ``high``), or None when missing."""
        from gguf import GGUFValueType as T  # noqa: N814

        field = self._fields.get(key)
        if field is None:
            return None
        if not field.is_array or field.item_type != T.STRING:
            raise self.bad(key, f"is {_type_name(field)}, not a list of strings")
        if field.count > high:
            raise self.bad(key, f"has {field.count:,} entries (at most {high:,})")
        return field.count


def open_header(file: Path) -> Any:
    """The header of ``file`` (checked with :func:`check_model_file`), as a
    :class:`runtime.gguf_header.GGUFHeader`, with its failures as :class:`ModelLoadError`."""
    # Imported here: it pulls in numpy, which start-up does not need.
    from runtime.gguf_header import GGUFHeaderError, read_header

    try:
        return read_header(file)
    except (MemoryError, OSError) as exc:
        if isinstance(exc, OSError) and exc.errno != errno.ENOMEM:
            raise _unreadable(file, exc) from exc
        # The whole file is mapped: under a memory or address-space limit that mapping is what
        # fails, and the file is not to blame.
        raise ModelLoadError(
            f"There is not enough memory to read {file.name}'s header (mapping the file failed). Close "
            "other programs, or raise this session's memory limit, and load it again.",
            code="model_header_out_of_memory",
            params={"name": file.name},
        ) from exc
    except GGUFHeaderError as exc:
        raise _bad_header(file, exc) from exc


def _bad_header(file: Path, exc: Exception) -> ModelLoadError:
    return ModelLoadError(
        f"{file.name} looks like GGUF but its header cannot be read ({exc}). The file is probably "
        "truncated or damaged: download it again and compare its size or SHA-256 with the source.",
        code="model_bad_header",
        params={"name": file.name},
    )


def read_model_info(path: str | os.PathLike[str]) -> ModelInfo:
    """Read a GGUF file's metadata (memory-mapped; no weights are loaded).

    Every field read is checked for its type and range: model files come from anywhere, and a
    wrong value here would otherwise surface as a crash of the window, the command line or
    llama.cpp.

    Raises:
        ModelLoadError: the file is not a readable GGUF file, it is truncated, or a metadata field
            has the wrong type or an impossible value (code ``model_bad_metadata``, naming the field).
    """
    file = check_model_file(path)
    return model_info_from_header(file, open_header(file))


def model_info_from_header(file: Path, header: Any) -> ModelInfo:
    """:func:`read_model_info` for a file already checked and read (:func:`open_header`): for
    callers that read more of the same header (the planner), so that it is parsed once."""
    from gguf.constants import GGMLQuantizationType, LlamaFileType

    meta = _Metadata(header, file)

    arch = meta.string("general.architecture", max_chars=64)
    if arch is not None and not _ARCH_NAME.fullmatch(arch):
        raise meta.bad("general.architecture", f"is {_shown(arch)}, not an architecture name")
    arch = arch or "unknown"
    name = meta.string("general.name", max_chars=MAX_NAME_CHARS)
    context_length = meta.integer(f"{arch}.context_length", low=1, high=MAX_CONTEXT_LENGTH)
    # Not shown, but llama.cpp sizes the model by them: a wrong one is named here rather than
    # becoming llama.cpp's "could not load", or its abort on too many blocks. (Head counts and
    # feed-forward widths are left to llama.cpp: some architectures store them per layer.)
    meta.integer(f"{arch}.embedding_length", low=1, high=MAX_EMBEDDING_LENGTH)
    meta.integer(f"{arch}.block_count", low=1, high=MAX_BLOCK_COUNT)
    # RoPE frequencies, norm epsilons, scales: a NaN or an infinity is no model's value.
    meta.finite_numbers(f"{arch}.")
    meta.positive_number(f"{arch}.rope.freq_base")
    declared_vocab = meta.integer(f"{arch}.vocab_size", low=1, high=MAX_VOCAB_SIZE)
    vocab_size = meta.string_array_length("tokenizer.ggml.tokens", high=MAX_VOCAB_SIZE)
    # A file type is an enum llama.cpp reads as uint32; values this gguf does not know are newer
    # quantizations, named below from the tensors instead.
    file_type = meta.integer("general.file_type", low=0, high=(1 << 32) - 1)
    chat_template = _chat_template(header, meta)

    n_params = 0
    type_counts: dict[str, int] = {}
    for tensor in header.tensors:
        n_params += int(tensor.n_elements)
        if len(tensor.shape) >= 2:
            try:
                type_name = GGMLQuantizationType(tensor.tensor_type).name
            except ValueError:
                type_name = f"type {int(tensor.tensor_type)}"
            type_counts[type_name] = type_counts.get(type_name, 0) + int(tensor.n_elements)
    end_of_data = max((t.data_offset + t.n_bytes for t in header.tensors), default=0)
    size = file.stat().st_size
    if end_of_data > size:
        raise ModelLoadError(
            f"{file.name} is truncated: its tensors need {end_of_data:,} bytes but the file has "
            f"{size:,}. The download probably stopped early: download it again.",
            code="model_truncated",
            params={"name": file.name, "need": end_of_data, "have": size},
        )
    quantization = ""
    if file_type is not None:
        try:
            quantization = LlamaFileType(file_type).name.removeprefix("MOSTLY_")
        except ValueError:
            quantization = ""
    if not quantization and type_counts:
        quantization = max(type_counts, key=lambda k: type_counts[k])
    return ModelInfo(
        path=str(file),
        file_name=file.name,
        size_bytes=size,
        name=name or file.stem,
        architecture=arch,
        n_params=n_params,
        vocab_size=vocab_size if vocab_size is not None else declared_vocab or 0,
        context_length=context_length or 0,
        quantization=quantization or "unknown",
        has_chat_template=bool(chat_template),
        chat_template=chat_template,
    )


def embedding_rows(path: str | os.PathLike[str]) -> int:
    """How many token rows a model's embedding matrix has: the vocabulary size its weights need.

    Args:
        path: a GGUF file, or a Hugging Face model folder (its ``config.json`` ``vocab_size``).

    Raises:
        ModelLoadError: neither, or the size cannot be found.
    """
    from runtime.untrusted_json import read_json_file

    target = Path(path).expanduser()
    if target.is_dir():
        config = target / "config.json"
        try:
            value = read_json_file(config, max_bytes=MAX_CONFIG_BYTES)["vocab_size"]
            if isinstance(value, bool):
                raise TypeError("vocab_size is true or false")
            rows = int(value)
            if not 1 <= rows <= MAX_VOCAB_SIZE:
                raise ValueError(f"vocab_size {rows} is out of range")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(
                f"{target} has no readable config.json with a vocab_size. Choose a Hugging Face model folder "
                "or a GGUF file.",
                code="model_no_vocab_size",
                params={"path": str(target)},
            ) from exc
        return rows
    file = check_model_file(target)
    header = open_header(file)
    for tensor in header.tensors:
        if tensor.name == "token_embd.weight":
            # GGUF lists dimensions innermost first: (hidden size, rows).
            shape = list(tensor.shape)
            if len(shape) != 2 or not 1 <= shape[-1] <= MAX_VOCAB_SIZE or shape[0] < 1:
                raise _Metadata(header, file).bad(
                    "token_embd.weight", f"has the shape {shape}, not (hidden size, 1..{MAX_VOCAB_SIZE:,} rows)"
                )
            return shape[-1]
    raise ModelLoadError(
        f"{file.name} has no token embedding (token_embd.weight), so its vocabulary size is unknown.",
        code="model_no_vocab_size",
        params={"path": str(file)},
    )
