"""Alpaca Desk runtime: everything that is not GUI. Never imports Qt (a test checks)."""

import os

__version__ = "0.1.0"

# Private by default: huggingface_hub adds telemetry to its requests and, to build them, may look
# up an agent registry on the hub, even for a lookup in its local cache. Every process of the app
# imports this package before huggingface_hub, and its children inherit the environment.
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
