"""Where a tokenizer comes from: a known name, a ``.model`` file, a tokenizer folder or a GGUF file."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from runtime.paths import write_atomic
from runtime.tokens._merge import merge_sentencepiece, write_merged
from runtime.tokens._spm import _GGUF_MAGIC, CHINESE_SP_MODEL, TOKENIZER_MODEL, TokenizerError, read_model_proto

# -- where tokenizers come from --------------------------------------------------------------------


@dataclass(frozen=True)
class KnownTokenizer:
    """A tokenizer the application knows by name.

    Attributes:
        name: The name (``resolve_tokenizer("chinese-llama")``).
        label: What the user sees.
        size: Its number of pieces, checked when it is fetched.
        hub_repo: The Hugging Face hub repository whose ``tokenizer.model`` it is.
        folder: Its folder in a tokenizers directory (``<dir>/<folder>/tokenizer.model``).
    """

    name: str
    label: str
    size: int
    hub_repo: str
    folder: str


KNOWN_TOKENIZERS: dict[str, KnownTokenizer] = {
    known.name: known
    for known in (
        KnownTokenizer("llama", "LLaMA (32,000)", 32_000, "hf-internal-testing/llama-tokenizer", "llama"),
        KnownTokenizer("chinese-llama", "Chinese-LLaMA (49,953)", 49_953, "hfl/chinese-llama-lora-7b", "chinese-llama"),
        KnownTokenizer(
            "chinese-llama-2", "Chinese-LLaMA-2 (55,296)", 55_296, "hfl/chinese-llama-2-7b", "chinese-llama-2"
        ),
    )
}
#: The default pair of the comparison (original against Chinese).
DEFAULT_TOKENIZERS = ("llama", "chinese-llama")


@dataclass(frozen=True)
class TokenizerSpec:
    """Where a tokenizer is, before it is loaded.

    Attributes:
        kind: ``"builtin"`` (a known name; ``path`` is its ``tokenizer.model``), ``"sentencepiece"``
            (a ``.model`` file), ``"hf_folder"`` (a folder holding ``tokenizer.model``; ``path`` is the
            folder) or ``"gguf"`` (a model's vocabulary; ``path`` is the ``.gguf`` file).
        path: The file or folder.
        label: What the user sees.
        trusted: Files the application itself wrote or ships (the known names): no need to check
            them in a separate process before loading.
    """

    kind: str
    path: str
    label: str
    trusted: bool = False


def tokenizer_cache_dir() -> Path:
    """``<cache>/tokenizers``: known tokenizers fetched or merged by the application."""
    from runtime.paths import app_paths

    return app_paths().cache / "tokenizers"


def shipped_tokenizer_dir() -> Path:
    """``assets/tokenizers``: the tokenizers the application ships (inside the bundle when frozen)."""
    from runtime.paths import assets_dir

    return assets_dir() / "tokenizers"


def _search_dirs(search_dirs: Sequence[str | os.PathLike[str]] | None) -> list[Path]:
    shipped = [shipped_tokenizer_dir()] if search_dirs is None else [Path(d) for d in search_dirs]
    return [*shipped, tokenizer_cache_dir()]


def _find(dirs: list[Path], relative: str) -> Path | None:
    for folder in dirs:
        candidate = folder / relative
        if candidate.is_file():
            return candidate
    return None


def missing_tokenizer_error(known: KnownTokenizer, *, offline: bool = False) -> TokenizerError:
    """The error for a known tokenizer that is not on this computer (code ``tokenizer_missing``)."""
    why = (
        "it is not in the Hugging Face cache and offline mode is on"
        if offline
        else "the copy Alpaca Desk ships is missing: reinstall to get it back"
    )
    return TokenizerError(
        f"The {known.label} tokenizer is not on this computer ({why}). Add it by opening its "
        f"{TOKENIZER_MODEL} file (or a GGUF model that uses it), or fetch it from the Hugging Face hub "
        f"({known.hub_repo}, only {TOKENIZER_MODEL}).",
        code="tokenizer_missing",
        params={"name": known.name, "label": known.label, "repo": known.hub_repo, "size": known.size},
    )


def _label_for(path: Path) -> str:
    if path.name == TOKENIZER_MODEL and path.parent.name:
        return f"{path.parent.name}/{path.name}"
    return path.name


def resolve_tokenizer(
    name_or_path: str | os.PathLike[str], *, search_dirs: Sequence[str | os.PathLike[str]] | None = None
) -> TokenizerSpec:
    """Find a tokenizer by name or path (nothing is loaded; the network is never used).

    Names (:data:`KNOWN_TOKENIZERS`) are looked up in ``search_dirs`` (default: the tokenizers the
    application ships, :func:`shipped_tokenizer_dir`), then in its cache (:func:`tokenizer_cache_dir`),
    each laid out as ``<name>/tokenizer.model`` (and ``chinese_sp.model``). ``chinese-llama`` is
    merged from ``llama`` and ``chinese_sp.model`` the first time, and the result kept in the cache;
    this takes about half a second once, so call it off the GUI thread. The Hugging Face cache is
    not searched: looking there goes through huggingface_hub, which may contact the hub; a fetch
    (:func:`fetch_tokenizer`) happens only when the user asks for one.

    A path may be a SentencePiece model file, a Hugging Face tokenizer folder (holding
    ``tokenizer.model``) or a GGUF file (recognized by its signature, whatever its name).

    Raises:
        TokenizerError: ``tokenizer_missing`` (a known name not on this computer: the message says
            how to add it), ``tokenizer_not_found`` (neither a name nor an existing path),
            ``tokenizer_folder_without_model`` (a folder without ``tokenizer.model``), or any error
            of :func:`fetch_tokenizer` / :func:`merge_sentencepiece` for a damaged cached file.
    """
    text = os.fspath(name_or_path)
    known = KNOWN_TOKENIZERS.get(text)
    if known is not None:
        return _resolve_known(known, _search_dirs(search_dirs))
    path = Path(text).expanduser()
    if not path.exists():
        names = ", ".join(KNOWN_TOKENIZERS)
        raise TokenizerError(
            f"No tokenizer named or at {text!r}: the file does not exist. Give one of {names}, or a "
            f"{TOKENIZER_MODEL} file, a Hugging Face tokenizer folder or a GGUF model.",
            code="tokenizer_not_found",
            params={"path": text, "names": names},
        )
    path = path.resolve()
    if path.is_dir():
        model = path / TOKENIZER_MODEL
        if not model.is_file():
            raise TokenizerError(
                f"The folder {path} has no {TOKENIZER_MODEL}. Choose a folder that holds one (a Hugging Face "
                f"tokenizer folder), or the {TOKENIZER_MODEL} or GGUF file itself.",
                code="tokenizer_folder_without_model",
                params={"path": str(path)},
            )
        return TokenizerSpec(kind="hf_folder", path=str(path), label=path.name or str(path))
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError:
        magic = b""  # reading again in load_tokenizer reports why
    kind = "gguf" if magic == _GGUF_MAGIC else "sentencepiece"
    return TokenizerSpec(kind=kind, path=str(path), label=_label_for(path))


def _resolve_known(known: KnownTokenizer, dirs: list[Path]) -> TokenizerSpec:
    relative = f"{known.folder}/{TOKENIZER_MODEL}"
    found = _find(dirs, relative)
    if found is None and known.name == "chinese-llama":
        found = _merge_chinese_llama(dirs)
    if found is None:
        raise missing_tokenizer_error(known)
    return TokenizerSpec(kind="builtin", path=str(found), label=known.label, trusted=True)


def _merge_chinese_llama(dirs: list[Path]) -> Path | None:
    llama = _find(dirs, f"llama/{TOKENIZER_MODEL}")
    chinese = _find(dirs, CHINESE_SP_MODEL)
    if llama is None or chinese is None:
        return None
    merged = merge_sentencepiece(llama, chinese)
    return write_merged(merged, tokenizer_cache_dir() / KNOWN_TOKENIZERS["chinese-llama"].folder)


def fetch_tokenizer(
    name: str,
    *,
    cache_dir: str | os.PathLike[str] | None = None,
    offline: bool = False,
    hub_cache_dir: str | os.PathLike[str] | None = None,
) -> TokenizerSpec:
    """Get a known tokenizer's ``tokenizer.model`` from the Hugging Face hub (only that file).

    The hub's own cache is used, so a copy any other tool downloaded is found without the network.
    The file is checked (a SentencePiece model of the expected size) and copied to
    ``<cache_dir>/<name>/tokenizer.model``, where :func:`resolve_tokenizer` finds it from then on.
    Blocks for the download: call it off the GUI thread.

    Args:
        name: A key of :data:`KNOWN_TOKENIZERS`.
        cache_dir: Default: :func:`tokenizer_cache_dir`.
        offline: Use only the Hugging Face cache (also implied by ``HF_HUB_OFFLINE=1``).
        hub_cache_dir: The Hugging Face cache (default: the hub's own, ``$HF_HOME/hub``).

    Raises:
        TokenizerError: ``tokenizer_unknown`` (not a known name), ``tokenizer_missing`` (offline
            and not cached), ``tokenizer_fetch_failed`` (the download failed), ``tokenizer_wrong_size``,
            or an error of :func:`read_model_proto` for a damaged download.
    """
    known = KNOWN_TOKENIZERS.get(name)
    if known is None:
        names = ", ".join(KNOWN_TOKENIZERS)
        raise TokenizerError(
            f"There is no known tokenizer named {name!r}; the known ones are {names}.",
            code="tokenizer_unknown",
            params={"name": name, "names": names},
        )
    from huggingface_hub import constants, hf_hub_download

    offline = offline or bool(constants.HF_HUB_OFFLINE)
    try:
        downloaded = Path(
            hf_hub_download(
                known.hub_repo,
                TOKENIZER_MODEL,
                cache_dir=str(hub_cache_dir) if hub_cache_dir is not None else None,
                local_files_only=offline,
            )
        )
    except Exception as exc:  # noqa: BLE001 - hub errors, HTTP errors, OSError, offline mode
        if offline:
            raise missing_tokenizer_error(known, offline=True) from exc
        raise TokenizerError(
            f"Could not fetch the {known.label} tokenizer from the Hugging Face hub ({known.hub_repo}): {exc}. "
            f"Check the connection and try again, or open its {TOKENIZER_MODEL} file.",
            code="tokenizer_fetch_failed",
            params={"name": known.name, "label": known.label, "repo": known.hub_repo, "detail": str(exc)},
        ) from exc
    proto = read_model_proto(downloaded)
    if len(proto.pieces) != known.size:
        raise TokenizerError(
            f"{downloaded} has {len(proto.pieces):,} pieces, not the {known.size:,} of the {known.label} tokenizer; "
            f"it was not used. Open the right {TOKENIZER_MODEL} file instead.",
            code="tokenizer_wrong_size",
            params={"path": str(downloaded), "size": len(proto.pieces), "expected": known.size, "label": known.label},
        )
    target = Path(cache_dir) if cache_dir is not None else tokenizer_cache_dir()
    target = target / known.folder / TOKENIZER_MODEL
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, downloaded.read_bytes())  # checked above: a SentencePiece model of a few MB
    return TokenizerSpec(kind="builtin", path=str(target), label=known.label, trusted=True)
