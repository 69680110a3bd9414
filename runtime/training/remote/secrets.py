"""Key passphrases: kept in the operating system's keyring when the user asks, never in a file of ours.

Without a keyring (a headless server, a CI machine) nothing is stored and the passphrase is asked
each time; that is a normal case, not an error.
"""

from __future__ import annotations

import logging

from runtime.training.remote.hosts import Host

log = logging.getLogger(__name__)

KEYRING_SERVICE = "alpaca-desk-ssh"


def _account(host: Host) -> str:
    # The key file, not the host, owns the passphrase; the same key may serve several hosts.
    return f"{host.key_file}" if host.key_file else f"agent:{host.target}"


def stored_passphrase(host: Host) -> str | None:
    """The passphrase of ``host``'s key from the keyring, or None (none stored, or no keyring)."""
    try:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(KEYRING_SERVICE, _account(host))
        except KeyringError as exc:
            log.info("no keyring for the passphrase of %s: %s", host.name, exc)
            return None
    except ImportError:
        return None


def remember_passphrase(host: Host, passphrase: str) -> bool:
    """Store the passphrase of ``host``'s key in the keyring; False when there is no keyring."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return False
    try:
        keyring.set_password(KEYRING_SERVICE, _account(host), passphrase)
    except KeyringError as exc:
        log.info("cannot store the passphrase of %s: %s", host.name, exc)
        return False
    return True


def forget_passphrase(host: Host) -> None:
    """Remove a stored passphrase of ``host``'s key (nothing happens when none is stored)."""
    try:
        import keyring
        from keyring.errors import KeyringError, PasswordDeleteError
    except ImportError:
        return
    try:
        keyring.delete_password(KEYRING_SERVICE, _account(host))
    except (PasswordDeleteError, KeyringError):
        pass
