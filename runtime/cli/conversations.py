"""``alpaca-desk conversations recover DAMAGED``: copy what a damaged database still holds.

The app keeps a damaged conversation database aside (``conversations.sqlite3.damaged-...``) and
offers this in its banner once; the command does the same at any later time, or into another
database (``--into``).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from runtime.paths import app_paths
from runtime.store import open_store, recover_conversations


def add_parsers(sub: Any) -> None:
    """Add ``conversations`` to the ``alpaca-desk`` subcommands."""
    group = sub.add_parser("conversations", help="the conversation database: recover a damaged one")
    actions = group.add_subparsers(dest="action", required=True)
    recover = actions.add_parser(
        "recover", help="copy the messages that can still be read from a damaged database into the app's"
    )
    recover.add_argument("damaged", help="the damaged file, e.g. conversations.sqlite3.damaged-20240101-120000")
    recover.add_argument("--into", help="the database to add them to (default: the app's)")
    recover.add_argument("--json", action="store_true", help="print one JSON object with the counts")
    recover.set_defaults(run=run_recover)


def run_recover(args: argparse.Namespace) -> int:
    """Recover into the app's database (or ``--into``); the recovered conversations are new ones."""
    into = Path(args.into).expanduser() if args.into else app_paths().conversations_db
    # The app may be running on the same file: leave its answer in progress alone.
    store, notices = open_store(into, mark_interrupted=False)
    for notice in notices:
        sys.stderr.write(f"{notice}\n")
    with store:
        report = recover_conversations(Path(args.damaged).expanduser(), store)
    if args.json:
        sys.stdout.write(json.dumps({**asdict(report), "damaged": str(report.damaged)}, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(f"{report}\n")
    return 0
