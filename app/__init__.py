"""Alpaca Desk's Qt GUI. The only package that imports Qt."""
