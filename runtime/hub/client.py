"""How Alpaca Desk talks to a model hub: the endpoint, proxy, token, offline mode and network log.

Every request the app makes to a hub goes through one ``httpx2`` client built here
(:func:`http_client`), which ``huggingface_hub`` also uses (its ``set_client_factory``): so one
place refuses requests in offline mode (before any socket is opened), applies the proxy, and
writes each request to the network log the settings show (:func:`read_network_log`).

The token is stored with the operating system's keyring, under the endpoint it was saved for
(:mod:`runtime.hub.token`): a token saved for ``https://huggingface.co`` is never sent to a
mirror the user switched to, and the Hugging Face token file or ``HF_TOKEN`` are never read
(``token=False`` everywhere unless the user approved one for this endpoint).
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from runtime.errors import HubError
from runtime.hub.endpoint import DEFAULT_ENDPOINT, normalize_endpoint
from runtime.hub.manifest import check_repo_id
from runtime.untrusted_json import parse_json

#: The seconds a download may go without a byte before it counts as stalled (and is retried).
STALL_TIMEOUT_S = 30.0
#: Seconds the hub's host name may take to resolve. A name that does not resolve is the surest
#: sign of a computer that is offline (or of a name server that blocks the hub): said at once, not
#: after a minute of retries that cannot succeed.
NAME_LOOKUP_S = 3.0
#: The network log is rotated past this size (one older file is kept), so it never grows unbounded.
NETWORK_LOG_MAX_BYTES = 1_000_000

# huggingface_hub reads these when it is imported: no telemetry, ever (issue 11).
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.setdefault("HF_HUB_DISABLE_IMPLICIT_TOKEN", "1")


class HubOffline(HubError):
    """Offline mode is on: nothing may be sent."""


def origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of ``url``: requests to the same origin may carry the endpoint's token."""
    parts = urlsplit(url)
    default_port = {"http": 80, "https": 443}.get(parts.scheme, 0)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default_port


@dataclass(frozen=True)
class HubConfig:
    """Where and how to reach the hub.

    Attributes:
        endpoint: The hub (``https://huggingface.co`` or a mirror such as ``https://hf-mirror.com``).
        proxy: An HTTP(S) proxy URL, or "" for the system's (environment) settings.
        offline: Make no connection at all.
        token: The access token approved for this endpoint (see :mod:`runtime.hub.token`), or None.
        network_log: The file every request is appended to, or None.
        stall_timeout: Seconds without a byte before a transfer is retried.
    """

    endpoint: str = DEFAULT_ENDPOINT
    proxy: str = ""
    offline: bool = False
    token: str | None = field(default=None, repr=False)
    network_log: Path | None = None
    stall_timeout: float = STALL_TIMEOUT_S

    def with_token(self, token: str | None) -> HubConfig:
        """A copy with ``token``."""
        return replace(self, token=token)

    def token_for(self, url: str) -> str | None:
        """The token if ``url`` is on the endpoint it was approved for, else None."""
        if self.token and origin(url) == origin(self.endpoint):
            return self.token
        return None

    def check_resolvable(self, what: str, *, lookup: Any = None) -> None:
        """Raise ``hub_name_unresolved`` when the endpoint's host name does not resolve within
        :data:`NAME_LOOKUP_S` seconds (no check through a proxy, which resolves names itself, or
        for an address given as numbers).

        Args:
            what: What was about to be asked, for the message.
            lookup: ``socket.getaddrinfo`` (the default) or one with its signature (tests pass a
                resolver that never answers).
        """
        lookup = lookup or socket.getaddrinfo
        host = urlsplit(self.endpoint).hostname
        if self.proxy or not host or _is_ip_address(host):
            return
        outcome: list[BaseException | None] = []

        def resolve() -> None:
            try:
                lookup(host, None)
                outcome.append(None)
            except OSError as exc:
                outcome.append(exc)

        # getaddrinfo takes no timeout (the system resolver may retry for 20 s or more), so it runs
        # on a thread of its own that is left behind when it does not answer in time.
        resolver = threading.Thread(target=resolve, name="hub-name-lookup", daemon=True)
        resolver.start()
        resolver.join(NAME_LOOKUP_S)
        if outcome and outcome[0] is None:
            return
        reason = f"no answer within {NAME_LOOKUP_S:.0f} s" if not outcome else str(outcome[0])
        raise HubError(
            f"The hub's address {host} cannot be resolved ({reason}), so {what} cannot be asked of it: this "
            f"computer looks offline, or its name server blocks the hub. Turn on offline mode in Settings → "
            f"Model hub to use only the models you have, or enter a mirror's address there.",
            code="hub_name_unresolved",
            params={"host": host, "what": what, "reason": reason[:200]},
        )

    def check_online(self, what: str) -> None:
        """Raise :class:`HubOffline` in offline mode, naming what was about to be asked."""
        if self.offline:
            raise HubOffline(
                f"Offline mode is on, so {what} was not asked of the hub. Turn offline mode off in "
                f"Settings → Model hub to download models or refresh the catalogue.",
                code="hub_offline",
                params={"what": what},
            )


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def hub_config_from_settings(settings: Any, *, logs: Path | None = None) -> HubConfig:
    """The :class:`HubConfig` of the user's settings (token looked up in the keyring for the endpoint)."""
    from runtime.hub.token import load_token

    endpoint = normalize_endpoint(getattr(settings, "hub_endpoint", "") or DEFAULT_ENDPOINT)
    offline = bool(getattr(settings, "hub_offline", False))
    # Offline: the keyring (a D-Bus service on Linux, not the network) is not asked either.
    token = None if offline else load_token(endpoint)
    return HubConfig(
        endpoint=endpoint,
        proxy=str(getattr(settings, "hub_proxy", "") or ""),
        offline=offline,
        token=token,
        network_log=(logs / "network.log") if logs is not None else None,
    )


# -- the network log -------------------------------------------------------------------------------

_log_lock = threading.Lock()


def _shown_url(url: str) -> str:
    # Signed CDN addresses carry credentials in their query: the log keeps the path only.
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def log_request(log: Path | None, method: str, url: str, status: int | str) -> None:
    """Append one request to the network log (one JSON line; rotated past its size limit)."""
    if log is None:
        return
    line = json.dumps(
        {"time": round(time.time(), 3), "pid": os.getpid(), "method": method, "url": _shown_url(url), "status": status}
    )
    with _log_lock:
        try:
            log.parent.mkdir(parents=True, exist_ok=True)
            if log.exists() and log.stat().st_size > NETWORK_LOG_MAX_BYTES:
                os.replace(log, log.with_name(log.name + ".1"))
            # One short write with O_APPEND: lines of several processes (the GUI, download jobs)
            # do not interleave.
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, (line + "\n").encode("utf-8"))
            finally:
                os.close(fd)
        except OSError:
            pass  # a log folder that cannot be written costs the log, never the download


def read_network_log(log: Path, *, limit: int = 500) -> list[dict[str, Any]]:
    """The newest ``limit`` requests of the network log and its rotated file (each read from its
    last 256 KiB at most)."""
    entries: list[dict[str, Any]] = []
    for path in (log.with_name(log.name + ".1"), log):
        try:
            with path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(0, size - 256 * 1024))
                tail = handle.read()
        except OSError:
            continue
        for raw in tail.splitlines()[-limit:]:
            try:
                entry = parse_json(raw, source=str(path), max_bytes=64 * 1024)
            except ValueError:
                continue  # the first line of the tail may be cut
            if isinstance(entry, dict):
                entries.append(entry)
    return entries[-limit:]


# -- the HTTP client -------------------------------------------------------------------------------


def http_client(config: HubConfig) -> Any:
    """An ``httpx2.Client`` for ``config``: offline refusal, proxy, network log, stall timeout.

    Raises:
        HubOffline: in offline mode (no client is built, so no socket can be opened).
    """
    config.check_online("anything")
    import httpx2

    def on_request(request: Any) -> None:
        # A second guard: a client built before offline mode was switched on refuses as well.
        if config.offline:
            raise HubOffline("offline mode is on", code="hub_offline", params={"what": str(request.url)})

    def on_response(response: Any) -> None:
        log_request(config.network_log, response.request.method, str(response.request.url), response.status_code)

    timeout = httpx2.Timeout(connect=15.0, read=config.stall_timeout, write=30.0, pool=15.0)
    return httpx2.Client(
        proxy=config.proxy or None,
        follow_redirects=True,
        timeout=timeout,
        event_hooks={"request": [on_request], "response": [on_response]},
    )


_installed: dict[str, Any] = {}


def use_config(config: HubConfig) -> None:
    """Make ``huggingface_hub`` send its requests through :func:`http_client` of ``config``."""
    from huggingface_hub import set_client_factory

    if _installed.get("config") == config:
        return
    _installed["config"] = config
    set_client_factory(lambda: http_client(config))


# -- the hub API (huggingface_hub) -----------------------------------------------------------------


#: At most this many files are read from one repository listing (a hostile listing must not
#: exhaust memory; the largest hfl repositories have a few dozen).
MAX_LISTED_FILES = 5_000
#: A listing (the file list, a search) is paged by the hub with ``Link: rel="next"``. These bound a
#: listing that never ends (a next link to itself, or a new cursor on every page of folders): at
#: most this many pages, entries of any kind (files and folders) and seconds, and no page twice.
#: The hub sends 1,000 entries a page, so a real file list is one page.
MAX_LISTING_PAGES = 50
MAX_LISTED_ENTRIES = 20_000
LISTING_TIME_S = 30.0
#: One page of a listing is at most this many bytes (the hub's 1,000 entries are about 300 KB).
MAX_PAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class RemoteFile:
    """A file of a repository as the hub lists it.

    Attributes:
        path: The path in the repository (checked by :func:`runtime.hub.manifest.safe_repo_path`
            before it names anything on disk).
        size: Bytes.
        sha256: The LFS SHA-256 when the file is stored with LFS, else "".
        blob_id: The git blob id (SHA-1 of ``blob <size>\\0`` + content).
    """

    path: str
    size: int
    sha256: str = ""
    blob_id: str = ""


@dataclass(frozen=True)
class FileMetadata:
    """What a HEAD of a file's ``resolve`` address says: where to GET it and how to check it."""

    url: str
    size: int
    etag: str
    commit: str


def _wrap(exc: Exception, repo_id: str, endpoint: str) -> HubError:
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    if isinstance(exc, HubError):
        return exc
    if isinstance(exc, GatedRepoError):
        return HubError(
            f"{repo_id} is gated on {endpoint}: accept its licence on the hub's page, then save an access "
            f"token for this hub in Settings → Model hub.",
            code="hub_gated",
            params={"repo": repo_id, "endpoint": endpoint},
        )
    if isinstance(exc, RepositoryNotFoundError):
        return HubError(
            f"{repo_id} was not found on {endpoint}. Check the name, or the hub address in Settings → Model hub.",
            code="hub_not_found",
            params={"repo": repo_id, "endpoint": endpoint},
        )
    return HubError(
        f"The hub {endpoint} could not be reached for {repo_id}: {exc}. Check the network, the proxy and the "
        f"hub address in Settings → Model hub, or try a mirror.",
        code="hub_unreachable",
        params={"repo": repo_id, "endpoint": endpoint, "detail": str(exc)[:200]},
    )


class HubClient:
    """The questions Alpaca Desk asks a hub, through ``huggingface_hub``'s API.

    Args:
        config: Endpoint, proxy, offline mode, token, network log.
    """

    def __init__(self, config: HubConfig) -> None:
        self.config = config

    def _api(self) -> Any:
        self.config.check_online("the model list")
        self.config.check_resolvable("the model list")
        use_config(self.config)
        from huggingface_hub import HfApi

        # token=False, not None: None would make huggingface_hub read HF_TOKEN or its token file and
        # send that to whatever endpoint is set.
        return HfApi(endpoint=self.config.endpoint, token=self.config.token or False)

    def list_files(self, repo_id: str, *, revision: str | None = None) -> list[RemoteFile]:
        """Every file of ``repo_id`` with its size and hashes (at most :data:`MAX_LISTED_FILES`).

        Raises:
            HubError: offline, unreachable, not found, gated, a listing that is not one
                (``hub_bad_listing``), or one that does not end (``hub_listing_endless``).
        """
        from urllib.parse import quote

        check_repo_id(repo_id)
        self.config.check_online(f"the file list of {repo_id}")
        rev = quote(revision, safe="") if revision is not None else "main"
        url = f"{self.config.endpoint}/api/models/{repo_id}/tree/{rev}"
        files: list[RemoteFile] = []
        try:
            for item in self._listing(url, {"recursive": "true", "expand": "false"}, repo_id):
                if len(files) >= MAX_LISTED_FILES:
                    break
                if not isinstance(item, dict):
                    raise TypeError("an entry is not an object")
                if item.get("type") != "file":
                    continue  # a folder
                lfs = item.get("lfs")
                sha256 = lfs.get("oid", "") if isinstance(lfs, dict) else ""
                files.append(
                    RemoteFile(
                        path=_listed_text(item["path"], 1000),
                        size=_bounded_int(item["size"]),
                        sha256=_listed_text(sha256 or "", 200).lower(),
                        blob_id=_listed_text(item.get("oid") or "", 200),
                    )
                )
            return files
        except (KeyError, TypeError, ValueError) as exc:
            # UntrustedJsonError (a ValueError): a page too large, nested too deeply, or not JSON.
            raise HubError(
                f"The hub {self.config.endpoint} answered with a file list for {repo_id} that cannot be read "
                f"({getattr(exc, 'reason', exc)}). Try again later, or another hub address.",
                code="hub_bad_listing",
                params={"repo": repo_id, "endpoint": self.config.endpoint},
            ) from exc
        except Exception as exc:
            raise _wrap(exc, repo_id, self.config.endpoint) from exc

    def _listing(self, url: str, params: dict[str, str], what: str) -> Iterator[Any]:
        """The entries of a paged listing, page after page, within the bounds above.

        Ours rather than ``HfApi.list_repo_tree`` / ``list_models``: huggingface_hub's paginator
        follows ``Link: rel="next"`` with no bound on pages, entries or time (a next link to the
        same page loops for ever), and reads each answer whole with ``response.json()``, with no
        size or nesting bound. The requests still go through :func:`http_client`, and
        huggingface_hub still names the failures (``hf_raise_for_status``).

        Raises:
            HubError: ``hub_listing_endless`` past a bound or on a page asked twice;
                ``hub_bad_listing`` for a next page on another origin.
            UntrustedJsonError: A page too large, nested too deeply, or not JSON.
            ValueError: A page that is not a list.
        """
        from huggingface_hub.utils import build_hf_headers

        deadline = time.monotonic() + LISTING_TIME_S
        seen: set[str] = set()
        pages = entries = 0
        next_url: str | None = url
        with http_client(self.config) as client:
            while next_url is not None:
                if next_url in seen:
                    raise self._endless(what, pages, entries, "it sent the same page again")
                if pages >= MAX_LISTING_PAGES:
                    raise self._endless(what, pages, entries, f"more than {MAX_LISTING_PAGES} pages")
                if time.monotonic() > deadline:
                    raise self._endless(what, pages, entries, f"more than {LISTING_TIME_S:.0f} seconds")
                if origin(next_url) != origin(self.config.endpoint):
                    raise HubError(
                        f"The hub {self.config.endpoint} sent the next page of the list for {what} on another "
                        f"address ({_shown_url(next_url)}), which is not followed. Try again later, or another "
                        f"hub address.",
                        code="hub_bad_listing",
                        params={"repo": what, "endpoint": self.config.endpoint},
                    )
                headers = build_hf_headers(token=self.config.token_for(next_url) or False)
                request = client.build_request("GET", next_url, params=params if pages == 0 else None, headers=headers)
                seen.add(str(request.url))
                page, next_url = self._page(client, request, deadline, what)
                pages += 1
                if not isinstance(page, list):
                    raise ValueError("a page of the list is not a list")
                entries += len(page)
                if entries > MAX_LISTED_ENTRIES:
                    raise self._endless(what, pages, entries, f"more than {MAX_LISTED_ENTRIES:,} entries")
                yield from page

    def _page(self, client: Any, request: Any, deadline: float, what: str) -> tuple[Any, str | None]:
        """One page: its decoded entries and the next page's address (None: the last page)."""
        import httpx2
        from huggingface_hub.utils import hf_raise_for_status

        response = client.send(request, stream=True)
        try:
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_PAGE_BYTES or time.monotonic() > deadline:
                    break  # refused below (too large), or at the next page (too slow)
            if response.status_code >= 400:
                # huggingface_hub names it (not found, gated, ...) from the status, headers and body.
                hf_raise_for_status(
                    httpx2.Response(
                        response.status_code,
                        headers=response.headers,
                        content=bytes(body[:65536]),
                        request=response.request,
                    )
                )
            next_page = response.links.get("next", {}).get("url")
        finally:
            response.close()
        if time.monotonic() > deadline:
            raise self._endless(what, 1, 0, f"more than {LISTING_TIME_S:.0f} seconds")
        page = parse_json(bytes(body), source=f"the hub's list for {what}", max_bytes=MAX_PAGE_BYTES)
        return page, (str(next_page) if next_page else None)

    def _endless(self, what: str, pages: int, entries: int, reason: str) -> HubError:
        return HubError(
            f"The hub {self.config.endpoint} kept sending the list for {what} with no end ({reason}; {pages} "
            f"pages, {entries:,} entries); it was stopped. Try again later, or another hub address.",
            code="hub_listing_endless",
            params={"repo": what, "endpoint": self.config.endpoint, "reason": reason},
        )

    def file_metadata(self, repo_id: str, path: str, *, revision: str | None = None) -> FileMetadata:
        """HEAD the file's ``resolve`` address: the URL to GET, size, ETag (the LFS SHA-256) and commit.

        Raises:
            HubError: offline, unreachable, not found or gated.
        """
        check_repo_id(repo_id)
        self.config.check_online(f"{path} of {repo_id}")
        use_config(self.config)
        from huggingface_hub import get_hf_file_metadata, hf_hub_url

        url = hf_hub_url(repo_id, path, revision=revision, endpoint=self.config.endpoint)
        try:
            meta = get_hf_file_metadata(url, token=self.config.token_for(url) or False, endpoint=self.config.endpoint)
        except Exception as exc:
            raise _wrap(exc, repo_id, self.config.endpoint) from exc
        return FileMetadata(
            url=str(meta.location or url),
            size=_bounded_int(meta.size or 0),
            etag=str(meta.etag or "").strip('"').lower(),
            commit=str(meta.commit_hash or ""),
        )

    def search_gguf(self, text: str, *, limit: int = 50) -> list[str]:
        """Repository ids on the hub whose name matches ``text`` and that hold GGUF files."""
        self.config.check_online("a search")
        limit = max(1, min(limit, 200))
        params = {"search": text[:100], "filter": "gguf", "limit": str(limit)}
        try:
            found = []
            for model in self._listing(f"{self.config.endpoint}/api/models", params, f"the search {text[:100]!r}"):
                repo_id = model.get("id") if isinstance(model, dict) else None
                if isinstance(repo_id, str) and repo_id and len(repo_id) <= 200:
                    found.append(repo_id)
                if len(found) >= limit:
                    break
            return found
        except Exception as exc:
            raise _wrap(exc, text, self.config.endpoint) from exc


def _listed_text(value: Any, limit: int) -> str:
    if not isinstance(value, str) or len(value) > limit:
        raise ValueError(f"{value!r:.80} is not a name or hash")
    return value


def _bounded_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1 << 50:
        raise ValueError(f"size {value!r} is not a file size")
    return value
