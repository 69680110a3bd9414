"""Alpaca Desk runtime: everything that is not GUI. Never imports Qt (a test checks)."""

__version__ = "0.1.0"
