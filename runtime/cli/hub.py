"""``alpaca-desk models``, ``alpaca-desk download`` and ``alpaca-desk verify``: the model hub.

``models`` lists the catalogue with what is on disk (from the shipped snapshot: no network, unless
``--refresh``); ``download REPO [FILE ...]`` fetches files into the models folder with progress on
stderr, resuming what an earlier run left and verifying each file, and prints where they are;
``verify PATH`` re-checks a downloaded file or folder against the manifest's SHA-256.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from runtime.errors import AppError


def add_parsers(sub: Any) -> None:
    """Add ``models``, ``download`` and ``verify`` to the ``alpaca-desk`` subcommands."""
    models = sub.add_parser("models", help="list the model catalogue (Chinese-LLaMA/Alpaca) and what is on disk")
    models.add_argument("--json", action="store_true", help="print one JSON object")
    models.add_argument("--refresh", action="store_true", help="ask the hub for the current file lists and sizes")
    models.set_defaults(run=run_models)

    download = sub.add_parser("download", help="download model files from the hub: resumable and verified")
    download.add_argument("repo", help="the repository, e.g. hfl/chinese-alpaca-2-7b-gguf")
    download.add_argument("files", nargs="*", help="file names in it (default: every file)")
    download.add_argument("--endpoint", help="the hub or a mirror (default: the one in the settings)")
    download.add_argument("--json", action="store_true", help="print the result as one JSON object")
    download.set_defaults(run=run_download)

    verify = sub.add_parser("verify", help="re-check a downloaded model file or folder against its SHA-256")
    verify.add_argument("path", help="a file or folder in the models folder")
    verify.add_argument("--json", action="store_true", help="print one JSON object")
    verify.set_defaults(run=run_verify)


def _context() -> tuple[Any, Path, Path]:
    """The settings, the models folder and the logs folder."""
    from runtime.hub.catalogue import models_dir_from_settings
    from runtime.paths import app_paths
    from runtime.settings import load_settings

    paths = app_paths()
    settings, notices = load_settings(paths.settings_file)
    for notice in notices:
        sys.stderr.write(f"{notice}\n")
    return settings, models_dir_from_settings(settings, paths.models), paths.logs


def run_models(args: argparse.Namespace) -> int:
    """List the catalogue."""
    from runtime.hub import HubClient, files_on_disk, hub_config_from_settings, load_catalogue, recommend, refresh_entry
    from runtime.hub.catalogue import free_disk, total_memory

    settings, models_dir, logs = _context()
    catalogue = load_catalogue()
    entries = list(catalogue.entries)
    source = f"snapshot {catalogue.snapshot}"
    if args.refresh:
        client = HubClient(hub_config_from_settings(settings, logs=logs))
        entries = [refresh_entry(entry, client) for entry in entries]
        source = client.config.endpoint
    from runtime.models.machine import this_machine

    pick = recommend(
        type(catalogue)(tuple(entries), catalogue.snapshot),
        ram=total_memory(),
        free=free_disk(models_dir),
        machine=this_machine(),  # measured once per CPU (a few hundred ms), then cached
    )
    listed = type(catalogue)(tuple(entries), catalogue.snapshot)
    rows = []
    for entry in entries:
        on_disk = {name: str(path) for name, path in files_on_disk(entry, models_dir).items()}
        row = asdict(entry)
        chosen = pick.file if pick and pick.repo == entry.repo else None
        row["files"] = [
            {**asdict(f), "on_disk": on_disk.get(f.name), "recommended": f.name == chosen} for f in entry.files
        ]
        row["on_disk"] = sorted(on_disk.values())
        drafter = listed.drafter_for(entry)
        row["drafter"] = drafter.repo if drafter else None  # for chat/serve --speculative draft --draft
        rows.append(row)
    if args.json:
        result = {
            "source": source,
            "models_dir": str(models_dir),
            "recommended": asdict(pick) if pick else None,
            "entries": rows,
        }
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        return 0
    sys.stdout.write(f"Catalogue ({source}); models folder {models_dir}\n")
    for row in rows:
        kind = {"gguf": "GGUF", "full": "full weights (convert)", "lora": "LoRA (needs LLaMA + merge)"}[row["format"]]
        size = sum(f["size"] for f in row["files"]) or row["total_size"]
        mark = "  [on disk]" if row["on_disk"] else ""
        after = f"  (merged after {row['merge_after']})" if row.get("merge_after") else ""
        after += f"  (drafter: {row['drafter']})" if row["drafter"] else ""
        sys.stdout.write(
            f"{row['repo']:<42} {row['role']:<8} gen {row['generation']} {row['params']:>5} ctx {row['context']:>6}  "
            f"{kind:<26} {size / 1e9:7.1f} GB{mark}{after}\n"
        )
    if pick:
        sys.stdout.write(f"Recommended for this computer: {pick.repo} {pick.file} ({pick.reason})\n")
    return 0


def run_download(args: argparse.Namespace) -> int:
    """Download, with progress on stderr; print the files' paths (or JSON)."""
    from runtime.hub import DownloadProgress, download_files, hub_config_from_settings
    from runtime.hub.endpoint import normalize_endpoint
    from runtime.hub.token import load_token

    settings, models_dir, logs = _context()
    config = hub_config_from_settings(settings, logs=logs)
    if args.endpoint:
        endpoint = normalize_endpoint(args.endpoint)
        # The token saved for the settings' endpoint is not sent to another one.
        config = type(config)(
            endpoint=endpoint, proxy=config.proxy, offline=config.offline,
            token=None if config.offline else load_token(endpoint), network_log=config.network_log,
        )  # fmt: skip
    last = [0.0]
    shown = [False]

    def progress(p: DownloadProgress) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5 and p.done < p.total:
            return
        last[0] = now
        shown[0] = True
        eta = f"{p.eta:.0f} s" if p.eta is not None else "?"
        sys.stderr.write(
            f"\r{p.file}: {p.file_done / 1e6:.1f}/{p.file_total / 1e6:.1f} MB, total {p.done / 1e6:.1f}/"
            f"{p.total / 1e6:.1f} MB, {p.speed / 1e6:.1f} MB/s, {eta} left   "
        )
        sys.stderr.flush()

    cancel = threading.Event()
    try:
        paths = download_files(config, args.repo, args.files, models_dir, on_progress=progress, cancel=cancel)
    except KeyboardInterrupt:
        sys.stderr.write("\nStopped; run the same command again to resume.\n")
        return 130
    finally:
        if shown[0]:
            sys.stderr.write("\n")
    if args.json:
        sys.stdout.write(json.dumps({"repo": args.repo, "files": [str(p) for p in paths]}, ensure_ascii=False) + "\n")
    else:
        for path in paths:
            sys.stdout.write(f"{path}\n")
    return 0


def run_verify(args: argparse.Namespace) -> int:
    """Re-check files; exit 1 when one is damaged or missing."""
    from runtime.hub import verify

    _settings, models_dir, _logs = _context()
    try:
        results = verify(Path(args.path).expanduser(), models_dir=models_dir)
    except AppError:
        raise
    bad = [r for r in results if r.status in ("mismatch", "missing")]
    if args.json:
        sys.stdout.write(json.dumps({"ok": not bad, "files": [asdict(r) for r in results]}, ensure_ascii=False) + "\n")
    else:
        words = {
            "ok": "OK (SHA-256 matches the hub's)",
            "mismatch": "DAMAGED: checksum mismatch, download it again",
            "missing": "MISSING",
            "unknown": "not downloaded by Alpaca Desk; SHA-256",
        }
        for r in results:
            detail = f" {r.actual}" if r.status == "unknown" else ""
            sys.stdout.write(f"{r.path}: {words[r.status]}{detail}\n")
        if not results:
            sys.stdout.write(f"No downloaded files are recorded under {args.path}.\n")
    return 1 if bad else 0
