"""What a GGUF file is, read from its header without loading the weights.

The checks here run before llama.cpp ever sees a file, so the common mistakes (a 2023 GGML
``.bin``, a half-finished download, a file that is not a model at all) get a message that
says what the file is and what to do, instead of a native error.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

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


def check_model_file(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`ModelLoadError` unless ``path`` looks like a readable GGUF file.

    Args:
        path: the file the user chose.

    Returns:
        The path, resolved.

    Raises:
        ModelLoadError: missing, a folder, empty, an old GGML file, or not GGUF at all.
    """
    file = Path(path).expanduser()
    if not file.exists():
        raise ModelLoadError(
            f"Model file not found: {file}. Check the path, or choose another file.",
            code="model_not_found",
            params={"path": str(file)},
        )
    if file.is_dir():
        raise ModelLoadError(
            f"{file} is a folder, not a model file. Choose the .gguf file inside it "
            "(a Hugging Face folder must first be converted to GGUF).",
            code="model_is_folder",
            params={"path": str(file)},
        )
    try:
        with file.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelLoadError(
            f"Cannot read {file}: {exc.strerror}. Check the file's permissions.",
            code="model_unreadable",
            params={"path": str(file), "reason": str(exc.strerror)},
        ) from exc
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
    return file.resolve()


def _field_value(reader: Any, key: str) -> Any:
    field = reader.fields.get(key)
    if field is None:
        return None
    try:
        return field.contents()
    except Exception:  # noqa: BLE001 - a malformed field is the same as a missing one here
        return None


def _chat_template(reader: Any) -> str | None:
    """``tokenizer.chat_template``, cut to at most ``MAX_CHAT_TEMPLATE_CHARS + 1`` characters.

    The value is untrusted and may be any size; it travels to the GUI with the model's facts and
    is kept there. Only a bounded prefix is ever decoded. A template longer than the limit
    keeps one character too many, so that the sandbox still sees it is too large and says so
    (rather than the model seeming to have no template, or rendering a cut-off one).
    """
    from gguf.constants import GGUFValueType

    field = reader.fields.get("tokenizer.chat_template")
    if field is None or not field.data or field.types[:1] != [GGUFValueType.STRING]:
        return None
    try:
        raw = field.parts[field.data[0]]
        # Every 4 bytes decode to at least one character (a U+FFFD for bytes that are not
        # UTF-8), so this many bytes give more than MAX_CHAT_TEMPLATE_CHARS + 1 characters
        # whenever the value is longer than that.
        head = bytes(raw[: 4 * (MAX_CHAT_TEMPLATE_CHARS + 2)])
    except Exception:  # noqa: BLE001 - a malformed field is the same as a missing one here
        return None
    return head.decode("utf-8", errors="replace")[: MAX_CHAT_TEMPLATE_CHARS + 1] or None


def read_model_info(path: str | os.PathLike[str]) -> ModelInfo:
    """Read a GGUF file's metadata (memory-mapped; no weights are loaded).

    Raises:
        ModelLoadError: the file is not a readable GGUF file, or it is truncated.
    """
    from gguf import GGUFReader  # imported here: it pulls in numpy, which start-up does not need
    from gguf.constants import GGMLQuantizationType, LlamaFileType

    file = check_model_file(path)
    try:
        reader = GGUFReader(file)
    except Exception as exc:  # noqa: BLE001 - gguf raises ValueError, struct.error, IndexError, ...
        raise ModelLoadError(
            f"{file.name} looks like GGUF but its header cannot be read ({exc}). The file is probably "
            "truncated or damaged: download it again and compare its size or SHA-256 with the source.",
            code="model_bad_header",
            params={"name": file.name},
        ) from exc

    arch = str(_field_value(reader, "general.architecture") or "unknown")
    tokens = reader.fields.get("tokenizer.ggml.tokens")
    vocab_size = len(tokens.data) if tokens is not None else 0
    n_params = 0
    type_counts: dict[str, int] = {}
    for tensor in reader.tensors:
        n_params += int(tensor.n_elements)
        if len(tensor.shape) >= 2:
            type_name = GGMLQuantizationType(tensor.tensor_type).name
            type_counts[type_name] = type_counts.get(type_name, 0) + int(tensor.n_elements)
    end_of_data = max((int(t.data_offset) + int(t.n_bytes) for t in reader.tensors), default=0)
    size = file.stat().st_size
    if end_of_data > size:
        raise ModelLoadError(
            f"{file.name} is truncated: its tensors need {end_of_data:,} bytes but the file has "
            f"{size:,}. The download probably stopped early: download it again.",
            code="model_truncated",
            params={"name": file.name, "need": end_of_data, "have": size},
        )
    file_type = _field_value(reader, "general.file_type")
    quantization = ""
    if file_type is not None:
        try:
            quantization = LlamaFileType(int(file_type)).name.removeprefix("MOSTLY_")
        except ValueError:
            quantization = ""
    if not quantization and type_counts:
        quantization = max(type_counts, key=lambda k: type_counts[k])
    chat_template = _chat_template(reader)
    return ModelInfo(
        path=str(file),
        file_name=file.name,
        size_bytes=size,
        name=str(_field_value(reader, "general.name") or file.stem),
        architecture=arch,
        n_params=n_params,
        vocab_size=vocab_size,
        context_length=int(_field_value(reader, f"{arch}.context_length") or 0),
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
    import json

    target = Path(path).expanduser()
    if target.is_dir():
        config = target / "config.json"
        try:
            rows = int(json.loads(config.read_text(encoding="utf-8"))["vocab_size"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ModelLoadError(
                f"{target} has no readable config.json with a vocab_size. Choose a Hugging Face model folder "
                "or a GGUF file.",
                code="model_no_vocab_size",
                params={"path": str(target)},
            ) from exc
        return rows
    from gguf import GGUFReader

    file = check_model_file(target)
    try:
        reader = GGUFReader(file)
    except Exception as exc:  # noqa: BLE001 - see read_model_info
        raise ModelLoadError(
            f"{file.name} looks like GGUF but its header cannot be read. The file is probably truncated or damaged: "
            "download it again and compare its size or SHA-256 with the source.",
            code="model_bad_header",
            params={"name": file.name},
        ) from exc
    for tensor in reader.tensors:
        if tensor.name == "token_embd.weight":
            # GGUF lists dimensions innermost first: (hidden size, rows).
            return int(tensor.shape[-1])
    raise ModelLoadError(
        f"{file.name} has no token embedding (token_embd.weight), so its vocabulary size is unknown.",
        code="model_no_vocab_size",
        params={"path": str(file)},
    )
