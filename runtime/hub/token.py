"""The hub access token, kept by the operating system's keyring (never in a plain-text file).

A token is saved for one endpoint (the keyring entry's user name is the endpoint): the user
approves sending it there by saving it. :class:`runtime.hub.client.HubConfig` sends it only to
that endpoint's origin, so switching to a mirror never hands the mirror the Hugging Face token.
"""

from __future__ import annotations

import logging

from runtime.errors import HubError
from runtime.hub.endpoint import normalize_endpoint

log = logging.getLogger(__name__)

KEYRING_SERVICE = "Alpaca Desk model hub"
#: Hub tokens are about 40 characters; anything far longer is a paste gone wrong.
MAX_TOKEN_LENGTH = 400


def load_token(endpoint: str) -> str | None:
    """The token saved for ``endpoint``, or None (also when no keyring is available)."""
    try:
        import keyring

        token = keyring.get_password(KEYRING_SERVICE, normalize_endpoint(endpoint))
    except Exception as exc:  # noqa: BLE001 - no keyring (a headless machine) means no token, not a crash
        log.info("no keyring for the hub token: %s", exc)
        return None
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    return token


def save_token(endpoint: str, token: str) -> None:
    """Save ``token`` for ``endpoint`` in the keyring ("" removes it).

    Raises:
        HubError: the keyring cannot store it (``hub_no_keyring``); nothing is written elsewhere.
    """
    key = normalize_endpoint(endpoint)
    token = token.strip()
    if len(token) > MAX_TOKEN_LENGTH or any(ch.isspace() for ch in token):
        raise HubError(
            "That access token is not one: a hub token is a single word of letters and digits.",
            code="hub_bad_token",
        )
    try:
        import keyring
        from keyring.errors import PasswordDeleteError

        if token:
            keyring.set_password(KEYRING_SERVICE, key, token)
        else:
            try:
                keyring.delete_password(KEYRING_SERVICE, key)
            except PasswordDeleteError:
                pass
    except Exception as exc:
        raise HubError(
            f"The access token could not be saved: this computer has no usable keyring ({exc}). Alpaca Desk "
            f"never writes tokens to a plain file; install a keyring service (GNOME Keyring, KWallet) to save one.",
            code="hub_no_keyring",
            params={"detail": str(exc)[:200]},
        ) from exc
