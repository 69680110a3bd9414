"""The hub's address: the default, and what counts as a valid endpoint (settings, command line, keyring keys).

Apart from the client so that the token store (:mod:`runtime.hub.token`), which the client uses,
can key tokens by endpoint without importing the client back.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from runtime.errors import HubError

DEFAULT_ENDPOINT = "https://huggingface.co"
#: The longest endpoint or proxy URL accepted from settings or the command line.
MAX_URL_LENGTH = 300


def normalize_endpoint(url: str) -> str:
    """``url`` as an endpoint: ``scheme://host[:port][/path]`` without a trailing slash.

    Raises:
        HubError: it is not an http(s) URL (``hub_bad_endpoint``).
    """
    text = (url or "").strip()
    parts = urlsplit(text)
    if (
        len(text) > MAX_URL_LENGTH
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or parts.username
        or parts.password
    ):
        raise HubError(
            f"The hub address {text[:80]!r} is not an http:// or https:// address of a server. Enter one "
            f"like {DEFAULT_ENDPOINT}, or a mirror's address.",
            code="hub_bad_endpoint",
            params={"endpoint": text[:80]},
        )
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path.rstrip("/"), "", ""))
