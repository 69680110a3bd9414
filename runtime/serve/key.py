"""The window's server key, kept by the operating system's keyring like the hub token
(:mod:`runtime.hub.token`), never in a plain-text file."""

from __future__ import annotations

import logging

from runtime.serve.server import new_api_key

log = logging.getLogger(__name__)

KEYRING_SERVICE = "Alpaca Desk local server"
KEYRING_USER = "api-key"
#: Keys from :func:`new_api_key` are 46 characters; anything far longer is not one of them.
MAX_KEY_LENGTH = 400


def load_api_key() -> str | None:
    """The saved key, or None (none yet, or no keyring on this computer)."""
    try:
        import keyring

        key = keyring.get_password(KEYRING_SERVICE, KEYRING_USER)
    except Exception as exc:  # noqa: BLE001 - no keyring (a headless machine) means no saved key
        log.info("no keyring for the server key: %s", exc)
        return None
    if not key or len(key) > MAX_KEY_LENGTH or any(ch.isspace() for ch in key):
        return None
    return key


def make_api_key() -> tuple[str, bool]:
    """A fresh key, saved in the keyring when there is one: ``(key, saved)``.

    Without a keyring the key lasts until the app ends (it is never written to a file)."""
    key = new_api_key()
    try:
        import keyring

        keyring.set_password(KEYRING_SERVICE, KEYRING_USER, key)
    except Exception as exc:  # noqa: BLE001 - the key still works for this session
        log.info("the server key could not be saved in a keyring: %s", exc)
        return key, False
    return key, True
