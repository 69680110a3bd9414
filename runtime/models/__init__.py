"""Model files: what a GGUF file is and whether llama.cpp can use it, read without loading weights.

Modules:
    info: GGUF header checks and :class:`ModelInfo` (imported by this package).
    tiny: tiny LLaMA-architecture GGUF models for tests, benchmarks and the self-test; it pulls
        in numpy, gguf and sentencepiece, so import it by name (``runtime.models.tiny``) where needed.
"""

from runtime.models.info import (
    GGUF_MAGIC,
    LEGACY_MAGICS,
    MAX_CHAT_TEMPLATE_CHARS,
    ModelInfo,
    check_model_file,
    embedding_rows,
    params_label,
    read_model_info,
)

__all__ = [
    "GGUF_MAGIC",
    "LEGACY_MAGICS",
    "MAX_CHAT_TEMPLATE_CHARS",
    "ModelInfo",
    "check_model_file",
    "embedding_rows",
    "params_label",
    "read_model_info",
]
