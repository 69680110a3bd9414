"""Entry point of the frozen build (alpaca-desk.spec): the same as ``python -m app``.

The GUI by default; ``alpaca-desk host`` (the inference host), ``alpaca-desk job ...`` and
``alpaca-desk chat ...`` go to the command line. The isolation check runs first (app.main.entry).
"""

from app.main import entry

raise SystemExit(entry())
