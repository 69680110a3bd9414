"""``python -m app``: the desktop app (or ``chat`` / ``host`` subcommands)."""

from app.main import entry

raise SystemExit(entry())
