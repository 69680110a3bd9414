"""The ``alpaca-desk`` command line: a thin layer over the same runtime functions the GUI uses."""

from runtime.cli.parser import build_parser, main

__all__ = ["build_parser", "main"]
