"""The model catalogue: the Chinese-LLaMA / Chinese-Alpaca family, what is on disk, what to pick.

The catalogue ships as a JSON snapshot (``assets/hub/catalogue.json``) and is refreshed from the
hub when the user is online (:func:`refresh_entry`: the real file list and sizes). Both are
untrusted input: :func:`parse_catalogue` reads at most :data:`MAX_CATALOGUE_BYTES`, keeps at most
:data:`MAX_ENTRIES` entries of :data:`MAX_FILES_PER_ENTRY` files, checks every field for its type
and range, and drops an entry that is not well formed (saying which) instead of failing whole.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from runtime.errors import HubError, UntrustedJsonError
from runtime.hub.client import HubClient
from runtime.hub.manifest import check_repo_id, local_path, read_manifest, safe_repo_path
from runtime.models.machine import Machine
from runtime.paths import assets_dir
from runtime.untrusted_json import parse_json

MAX_CATALOGUE_BYTES = 2 * 1024 * 1024
MAX_ENTRIES = 500
MAX_FILES_PER_ENTRY = 200
FORMATS = ("gguf", "full", "lora")
ROLES = ("base", "instruct")
#: Quantizations from best to least quality that are still worth recommending (Q8_0 and F16
#: cost far more memory for a difference few users see).
RECOMMENDED_QUANTS = ("Q6_K", "Q5_K", "Q5_0", "Q4_K", "Q4_0", "Q3_K", "Q2_K")
#: Quantizations the ★ may pick, in the order it prefers them for one model: 5 and 4 bits first,
#: since Q6_K and Q8_0 read 15 to 50% more bytes per token (slower by as much) for a perplexity
#: difference llama.cpp's quantize table puts under 0.02 on LLaMA 7B, and the 2- and 3-bit files
#: lose far more (+0.24 Q3_K_M, +0.87 Q2_K against +0.05 Q4_K_M) than a smaller model at 4 or 5 bits.
STAR_QUANTS = ("Q5_K", "Q4_K", "Q5_0", "Q4_0", "Q6_K", "Q8_0")
#: Tokens per second a starred model decodes at, at least: about as fast as one reads.
READING_SPEED = 5.0
#: The context the ★'s plan is made for (the paper's and the app's default).
STAR_CONTEXT = 2048
#: Share of the computer's memory a model may take (the OS, the app and the KV cache need the rest).
MEMORY_SHARE = 0.7
#: Free disk space kept beyond a download's size.
DISK_MARGIN = 1 << 30
#: The licence note of a repository found by a search (the hub does not say it in a form to show).
#: The English notes are the keys the app translates (``app/catalogue_texts.py``).
SEARCH_RESULT_LICENCE = "See the repository's page on the hub."


@dataclass(frozen=True)
class CatalogueFile:
    """A downloadable file of an entry: its name in the repository, quantization and size."""

    name: str
    quant: str
    size: int


@dataclass(frozen=True)
class CatalogueEntry:
    """One repository of the family.

    Attributes:
        repo: ``hfl/...``.
        format: ``gguf`` (ready to chat), ``full`` (Hugging Face weights: the convert wizard makes a
            GGUF), ``lora`` (first-generation LoRA weights: need the original LLaMA and a merge).
        role: ``base`` (continues text) or ``instruct`` (follows instructions: chats).
        generation: 1 (Chinese-LLaMA/Alpaca) or 2 (Chinese-LLaMA-2/Alpaca-2).
        params: ``1.3B``, ``7B``, ``13B``.
        variant: "", ``16k``, ``64k``, ``rlhf``, ``plus``, ``pro``.
        context: The context length it was trained for, in tokens.
        template: The app's chat template name.
        needs_merge: LoRA weights that need the original LLaMA weights and a merge.
        merge_after: For LoRA weights, the repository whose adapter is merged into LLaMA first (the
            Plus and Pro Alpaca adapters go on top of the matching Chinese-LLaMA-Plus one), or "".
        licence: The licence note in English: the key of its translation in the app.
        licence_zh: The catalogue's own Chinese text of the note, for a note the app's
            translations do not have.
        files: The files (GGUF quantizations), with sizes.
        total_size: Bytes of the whole repository where files are not listed.
        exact: Sizes come from the hub (refreshed), not the snapshot's estimates.
    """

    repo: str
    format: str
    role: str
    generation: int
    params: str
    variant: str
    context: int
    template: str
    needs_merge: bool
    licence: str
    licence_zh: str
    files: tuple[CatalogueFile, ...] = ()
    total_size: int = 0
    exact: bool = False
    merge_after: str = ""

    @property
    def size(self) -> int:
        """Bytes of the whole repository (every file, or the estimate)."""
        return sum(f.size for f in self.files) or self.total_size


@dataclass(frozen=True)
class Catalogue:
    """The entries, where they came from, and what was dropped while reading."""

    entries: tuple[CatalogueEntry, ...]
    snapshot: str = ""
    note: str = ""
    problems: tuple[str, ...] = field(default=())

    def entry(self, repo: str) -> CatalogueEntry | None:
        """The entry of ``repo``, or None."""
        return next((e for e in self.entries if e.repo == repo), None)

    def drafter_for(self, entry: CatalogueEntry) -> CatalogueEntry | None:
        """The 1.3B model of the same kind that drafts for ``entry`` in speculative decoding, or None.

        hfl published the second generation's 1.3B models for this: every size shares the 55,296
        vocabulary, and hfl measured 1.44x (7B) and 1.61x (13B) with the 1.3B drafting on a GPU.
        The Alpaca-2 (instruct) models take chinese-alpaca-2-1.3b, the LLaMA-2 bases
        chinese-llama-2-1.3b, in the same format (a GGUF file, or full weights to convert).
        """
        if entry.generation != 2 or entry.params not in ("7B", "13B") or entry.format not in ("gguf", "full"):
            return None
        family = "chinese-alpaca-2" if entry.role == "instruct" else "chinese-llama-2"
        return self.entry(f"hfl/{family}-1.3b" + ("-gguf" if entry.format == "gguf" else ""))


def shipped_catalogue_path() -> Path:
    """The snapshot the app ships."""
    return assets_dir() / "hub" / "catalogue.json"


def _text(data: dict[str, Any], key: str, limit: int, default: str | None = None) -> str:
    value = data.get(key, default)
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{key} is not text of at most {limit} characters")
    return value


def _int(data: dict[str, Any], key: str, low: int, high: int, default: int | None = None) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{key} is not a whole number from {low} to {high}")
    return value


def _entry(data: Any) -> CatalogueEntry:
    if not isinstance(data, dict):
        raise ValueError("not an object")
    fmt = _text(data, "format", 10)
    role = _text(data, "role", 10)
    if fmt not in FORMATS or role not in ROLES:
        raise ValueError(f"format must be one of {FORMATS} and role one of {ROLES}")
    raw_files = data.get("files", [])
    if not isinstance(raw_files, list) or len(raw_files) > MAX_FILES_PER_ENTRY:
        raise ValueError(f"files is not a list of at most {MAX_FILES_PER_ENTRY}")
    files = []
    for item in raw_files:
        if not isinstance(item, dict):
            raise ValueError("a file is not an object")
        name = _text(item, "name", 300)
        safe_repo_path(name)  # a file name that escapes the folder is refused here already
        files.append(CatalogueFile(name, _text(item, "quant", 20, ""), _int(item, "size", 0, 1 << 45)))
    needs_merge = data.get("needs_merge", False)
    if not isinstance(needs_merge, bool):
        raise ValueError("needs_merge is not true or false")
    merge_after = _text(data, "merge_after", 200, "")
    if merge_after:
        check_repo_id(merge_after)
        if fmt != "lora":
            raise ValueError("merge_after is for LoRA entries only")
    return CatalogueEntry(
        repo=check_repo_id(_text(data, "repo", 200)),
        format=fmt,
        role=role,
        generation=_int(data, "generation", 1, 9),
        params=_text(data, "params", 20),
        variant=_text(data, "variant", 20, ""),
        context=_int(data, "context", 256, 1 << 21),
        template=_text(data, "template", 40, "raw"),
        needs_merge=needs_merge,
        licence=_text(data, "licence", 1000, ""),
        licence_zh=_text(data, "licence_zh", 1000, ""),
        files=tuple(files),
        total_size=_int(data, "total_size", 0, 1 << 45, 0),
        merge_after=merge_after,
    )


def parse_catalogue(raw: bytes) -> Catalogue:
    """Read a catalogue document; bad entries are dropped and named in ``problems``.

    Raises:
        HubError: the document is too large, not JSON or not a catalogue (``catalogue_invalid``).
    """

    def invalid(reason: str) -> HubError:
        return HubError(
            f"The model catalogue cannot be read ({reason}). Reinstall Alpaca Desk to restore it.",
            code="catalogue_invalid",
            params={"reason": reason},
        )

    try:
        data = parse_json(raw, source="the model catalogue", max_bytes=MAX_CATALOGUE_BYTES)
    except UntrustedJsonError as exc:
        raise invalid(exc.reason) from exc
    if not isinstance(data, dict) or not isinstance(data.get("entries"), list):
        raise invalid("it has no list of entries")
    entries: list[CatalogueEntry] = []
    problems: list[str] = []
    seen: set[str] = set()
    for index, item in enumerate(data["entries"][:MAX_ENTRIES]):
        try:
            entry = _entry(item)
        except (ValueError, HubError) as exc:
            problems.append(f"entry {index + 1}: {exc}")
            continue
        if entry.repo in seen:
            problems.append(f"entry {index + 1}: {entry.repo} is listed twice")
            continue
        seen.add(entry.repo)
        entries.append(entry)
    if len(data["entries"]) > MAX_ENTRIES:
        problems.append(f"only the first {MAX_ENTRIES} entries were read")
    snapshot = data.get("snapshot") if isinstance(data.get("snapshot"), str) else ""
    note = data.get("note") if isinstance(data.get("note"), str) else ""
    return Catalogue(tuple(entries), snapshot=str(snapshot)[:40], note=str(note)[:1000], problems=tuple(problems))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue at ``path`` (default: the shipped snapshot), read with a size bound."""
    path = path or shipped_catalogue_path()
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_CATALOGUE_BYTES + 1)
    except OSError as exc:
        raise HubError(
            f"The model catalogue {path} cannot be read ({exc.strerror or exc}). Reinstall Alpaca Desk to restore it.",
            code="catalogue_invalid",
            params={"reason": str(exc.strerror or exc)},
        ) from exc
    return parse_catalogue(raw)


_QUANT = re.compile(r"(?i)(q\d_k(?:_[sml])?|q\d_\d|iq\d_\w+|f16|bf16|f32)")


def quant_of(name: str) -> str:
    """The quantization a GGUF file name says (``ggml-model-q4_k.gguf`` → ``Q4_K``), or ""."""
    match = _QUANT.search(Path(name).stem)
    return match.group(1).upper() if match else ""


def refresh_entry(entry: CatalogueEntry, client: HubClient) -> CatalogueEntry:
    """``entry`` with the hub's real file list and sizes (GGUF files only for a GGUF repository).

    Raises:
        HubError: offline, unreachable, or a listing with an unsafe file name.
    """
    listed = client.list_files(entry.repo)
    for remote in listed:
        safe_repo_path(remote.path)
    if entry.format == "gguf":
        files = tuple(
            CatalogueFile(r.path, quant_of(r.path), r.size) for r in listed if r.path.lower().endswith(".gguf")
        )
        return replace(entry, files=files[:MAX_FILES_PER_ENTRY], exact=True)
    return replace(entry, files=(), total_size=sum(r.size for r in listed), exact=True)


def gguf_entry(repo: str, client: HubClient) -> CatalogueEntry:
    """A catalogue entry for any GGUF repository found by a search (facts the hub cannot tell: guessed)."""
    base = CatalogueEntry(
        repo=check_repo_id(repo),
        format="gguf",
        role="instruct" if re.search(r"(?i)alpaca|chat|instruct", repo) else "base",
        generation=2 if "-2-" in repo else 1,
        params="",
        variant="",
        context=4096,
        template="auto",
        needs_merge=False,
        licence=SEARCH_RESULT_LICENCE,
        licence_zh="请查看该仓库在模型库上的页面。",
    )
    return refresh_entry(base, client)


# -- on disk ----------------------------------------------------------------------------------------


def files_on_disk(entry: CatalogueEntry, models_dir: Path) -> dict[str, Path]:
    """The entry's files that are in the models folder (verified downloads, or GGUF files put there
    by hand under the same name), by file name."""
    found: dict[str, Path] = {}
    recorded = {(e.repo, e.path): models_dir / e.local for e in read_manifest(models_dir)}
    for file in entry.files:
        path = recorded.get((entry.repo, file.name))
        if path is None:
            try:
                candidate = local_path(models_dir, entry.repo, file.name)
            except HubError:
                continue
            path = candidate if candidate.is_file() and candidate.stat().st_size == file.size else None
        if path is not None and path.is_file():
            found[file.name] = path
    if not entry.files:
        for (repo, name), path in recorded.items():
            if repo == entry.repo and path.is_file():
                found[name] = path
    return found


# -- what suits this computer ------------------------------------------------------------------------


def total_memory() -> int:
    """Bytes of physical memory (0 when unknown)."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except Exception:  # noqa: BLE001 - no psutil on this platform: the recommendation is left out
        return 0


def free_disk(folder: Path) -> int:
    """Free bytes on the disk of ``folder`` (its nearest existing parent)."""
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    try:
        return shutil.disk_usage(probe).free
    except OSError:
        return 0


def memory_needed(entry: CatalogueEntry, file: CatalogueFile) -> int:
    """Bytes of memory to chat with ``file``: its weights, the f16 KV cache of the app's default
    context (2,048 tokens, the paper's) and llama.cpp's scratch buffers (estimated)."""
    kv_per_token = {"1.3B": 32_768, "7B": 524_288, "13B": 819_200}.get(entry.params, 524_288)
    return int(file.size * 1.05) + kv_per_token * min(entry.context, 2048) + 300_000_000


@dataclass(frozen=True)
class Recommendation:
    """The entry and file recommended for this computer, and why."""

    repo: str
    file: str
    memory: int  # bytes
    reason: str
    #: The planner's figures behind a pick made with the machine's (0 for the memory-only rule),
    #: for the app to build its own sentence from.
    tokens_per_second: float = 0.0
    n_ctx: int = 0


def recommend(
    catalogue: Catalogue,
    *,
    ram: int,
    free: int,
    machine: Machine | None = None,
    reading_speed: float = READING_SPEED,
) -> Recommendation | None:
    """The file the catalogue stars: :func:`star_pick` when the machine's figures are known, else
    the largest instruction model (generation 2, GGUF) and best quantization that fit in
    :data:`MEMORY_SHARE` of ``ram`` and in ``free`` disk bytes (with a margin), or None."""
    if machine is not None:
        return star_pick(catalogue, machine, free=free, reading_speed=reading_speed)
    best: tuple[tuple[float, int], Recommendation] | None = None
    for entry in catalogue.entries:
        if entry.format != "gguf" or entry.role != "instruct" or entry.generation != 2 or entry.variant:
            continue
        for file in entry.files:
            if file.quant not in RECOMMENDED_QUANTS:
                continue
            need = memory_needed(entry, file)
            if need > ram * MEMORY_SHARE or file.size + DISK_MARGIN > free:
                continue
            params = float(entry.params.rstrip("Bb") or 0)
            # More parameters first; among one model's files, the better quantization.
            key = (params, -RECOMMENDED_QUANTS.index(file.quant))
            if best is None or key > best[0]:
                reason = f"{entry.params} {file.quant}: needs about {need / 1e9:.1f} GB of {ram / 1e9:.0f} GB memory"
                best = (key, Recommendation(entry.repo, file.name, need, reason))
    return best[1] if best else None


def star_pick(
    catalogue: Catalogue,
    machine: Machine,
    *,
    free: int,
    reading_speed: float = READING_SPEED,
    n_ctx: int = STAR_CONTEXT,
) -> Recommendation | None:
    """The ★: the best instruction model (generation 2, GGUF) and quantization that fits in
    :data:`MEMORY_SHARE` of the machine's memory and in ``free`` disk bytes, and that the planner
    expects to decode at ``reading_speed`` tokens/s or more here (at half of an ``n_ctx`` context,
    f16 KV cache). More parameters first; among one model's files, :data:`STAR_QUANTS`' order.
    None when nothing qualifies. A pure function of its inputs: tests describe machines to it.
    """
    from runtime.models.plan import catalogue_shape, plan

    best: tuple[tuple[float, int], Recommendation] | None = None
    for entry in catalogue.entries:
        if entry.format != "gguf" or entry.role != "instruct" or entry.generation != 2 or entry.variant:
            continue
        for file in entry.files:
            quant = file.quant.upper()[:4]
            if quant not in STAR_QUANTS or file.size + DISK_MARGIN > free:
                continue
            shape = catalogue_shape(entry.params, quant, context=entry.context, file_size=file.size, name=file.name)
            planned = plan(shape, machine, n_ctx=min(n_ctx, entry.context))
            if planned.memory_bytes > machine.memory_total * MEMORY_SHARE or planned.tokens_per_second < reading_speed:
                continue
            params = float(entry.params.rstrip("Bb") or 0)
            key = (params, -STAR_QUANTS.index(quant))
            if best is None or key > best[0]:
                reason = (
                    f"{entry.params} {file.quant}: about {planned.tokens_per_second:.0f} tokens/s here, "
                    f"{planned.memory_bytes / 1e9:.1f} GB at {planned.n_ctx:,} tokens of context"
                )
                best = (
                    key,
                    Recommendation(
                        entry.repo,
                        file.name,
                        planned.memory_bytes,
                        reason,
                        tokens_per_second=planned.tokens_per_second,
                        n_ctx=planned.n_ctx,
                    ),
                )
    return best[1] if best else None


def best_quant(entry: CatalogueEntry, *, ram: int, free: int) -> str:
    """The best quantization of ``entry``'s GGUF files that fits this computer ("" if none fits):
    what the convert wizard preselects for the full weights of the same model."""
    fitting = [
        f.quant
        for f in entry.files
        if f.quant in RECOMMENDED_QUANTS
        and memory_needed(entry, f) <= ram * MEMORY_SHARE
        and f.size + DISK_MARGIN <= free
    ]
    return min(fitting, key=RECOMMENDED_QUANTS.index) if fitting else ""


def models_dir_from_settings(settings: Any, default: Path) -> Path:
    """The models folder the settings name ("" or unusable: ``default``)."""
    folder = getattr(settings, "models_folder", "") or ""
    return Path(os.path.expanduser(folder)) if folder else default
