"""SentencePiece tokenizers: safe loading, counting and segmenting text, and the Chinese-LLaMA merge.

Chinese-LLaMA (Cui, Yang and Yao, arXiv 2304.08177, section 4.2) extends LLaMA's 32,000-piece
SentencePiece vocabulary with a 20,000-piece Chinese model: every LLaMA piece stays where it is (so
the original embeddings keep their rows) and every Chinese piece LLaMA lacks is appended with score 0.
The result is the 49,953-piece Chinese-LLaMA vocabulary; Chinese-Alpaca adds one pad token (49,954).

Everything here works on the ``ModelProto`` protobuf that sentencepiece itself ships
(``sentencepiece_model_pb2``), so the files written are ordinary SentencePiece models.

Where a tokenizer comes from (:func:`resolve_tokenizer`): a known name (``llama``, ``chinese-llama``,
``chinese-llama-2``), a SentencePiece ``.model`` file, a Hugging Face tokenizer folder, or a GGUF
model's vocabulary. :func:`load_tokenizer` turns that into a :class:`LoadedTokenizer`, which counts
(:func:`compare`) and segments (:meth:`LoadedTokenizer.segment`) text.

Counting conventions, the same everywhere in the application:

* **BOS is not counted** unless asked (``add_bos=True``): the counts are the tokens of the text
  itself. A model's prompt adds one BOS token in front (see :attr:`LoadedTokenizer.add_bos`).
* **Lone surrogates** (possible in Python strings, never in UTF-8 text) are replaced with U+FFFD
  before encoding: sentencepiece only takes valid UTF-8. One character stays one character, so
  spans still index the caller's text.
* **GGUF vocabularies** of the ``llama`` (SentencePiece, "SPM") kind are converted to a
  SentencePiece model piece for piece (scores, types, unk/bos/eos, the space prefix); for those,
  the counts equal llama.cpp's ``llama_tokenize`` with ``add_bos=False`` (tested against
  llama-cpp-python on every paragraph of the Chinese samples). One known exception: a text that
  *starts* with a user-defined piece typed out literally (Alpaca's ``<pad>``) gets the dummy
  prefix before that piece from sentencepiece and after it from llama.cpp (same count, other
  order). Other GGUF tokenizer kinds (GPT-2 style BPE, ...) are refused.

Modules: ``_spm`` (reading SentencePiece files), ``_gguf_vocab`` (a GGUF file's vocabulary),
``_known`` (the known tokenizers and where they are found), ``_counting`` (counting, comparing,
segmenting), ``_merge`` (the merge and vocabulary-size checks); ``vocab_jobs`` holds what the
vocabulary jobs of :mod:`runtime.jobs` run (train, merge, check).
"""

from runtime.tokens._counting import (
    LoadedTokenizer,
    Segmentation,
    TokenCount,
    compare,
    context_capacity,
    load_tokenizer,
    valid_text,
)
from runtime.tokens._gguf_vocab import read_gguf_vocab
from runtime.tokens._known import (
    DEFAULT_TOKENIZERS,
    KNOWN_TOKENIZERS,
    KnownTokenizer,
    TokenizerSpec,
    fetch_tokenizer,
    missing_tokenizer_error,
    resolve_tokenizer,
    shipped_tokenizer_dir,
    tokenizer_cache_dir,
)
from runtime.tokens._merge import (
    CHINESE_ALPACA_VOCAB,
    CHINESE_LLAMA_VOCAB,
    LLAMA_VOCAB,
    MergeResult,
    VocabWarning,
    check_vocab_matches,
    merge_sentencepiece,
    vocab_mismatch,
    write_merged,
)
from runtime.tokens._spm import (
    CHINESE_SP_MODEL,
    DEFAULT_N_CTX,
    DEFAULT_PAD_TOKEN,
    MAX_MODEL_BYTES,
    SPECIAL_TOKENS_MAP,
    TOKENIZER_CONFIG,
    TOKENIZER_MODEL,
    ModelProto,
    TokenizerError,
    load_sentencepiece,
    read_model_proto,
)

__all__ = [
    "CHINESE_ALPACA_VOCAB",
    "CHINESE_LLAMA_VOCAB",
    "CHINESE_SP_MODEL",
    "DEFAULT_N_CTX",
    "DEFAULT_PAD_TOKEN",
    "DEFAULT_TOKENIZERS",
    "KNOWN_TOKENIZERS",
    "LLAMA_VOCAB",
    "MAX_MODEL_BYTES",
    "SPECIAL_TOKENS_MAP",
    "TOKENIZER_CONFIG",
    "TOKENIZER_MODEL",
    "KnownTokenizer",
    "LoadedTokenizer",
    "MergeResult",
    "ModelProto",
    "Segmentation",
    "TokenCount",
    "TokenizerError",
    "TokenizerSpec",
    "VocabWarning",
    "check_vocab_matches",
    "compare",
    "context_capacity",
    "fetch_tokenizer",
    "load_sentencepiece",
    "load_tokenizer",
    "merge_sentencepiece",
    "missing_tokenizer_error",
    "read_gguf_vocab",
    "read_model_proto",
    "resolve_tokenizer",
    "shipped_tokenizer_dir",
    "tokenizer_cache_dir",
    "valid_text",
    "vocab_mismatch",
    "write_merged",
]
