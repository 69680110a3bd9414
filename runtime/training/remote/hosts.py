"""Saved SSH hosts: ``hosts.json`` in the app's config folder, checked when loaded, written atomically.

A host is a name the user chose and how to reach it: address, port, user, a key file or the SSH
agent, the Python to run the agent with, and the folder on the host where jobs go. Passphrases
are never part of it (see :mod:`runtime.training.remote.secrets`). The file is untrusted input
(edited by hand, damaged, from another version): it is read with a size limit, every entry is
checked, a bad entry is left out with a notice, and a file that is not JSON is kept aside as
``hosts.json.bad-YYYYmmdd-HHMMSS``, as :mod:`runtime.settings` does with the settings.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from runtime.errors import Notice, RemoteError, UntrustedJsonError
from runtime.paths import app_paths, keep_aside, write_atomic
from runtime.untrusted_json import read_json_file

HOSTS_VERSION = 1
#: A hosts file larger than this is not a hosts file (it is read whole).
MAX_HOSTS_FILE_BYTES = 1024 * 1024
MAX_HOSTS = 200
DEFAULT_PORT = 22
DEFAULT_PYTHON = "python3"
#: Where jobs go on the host, relative to the login folder unless absolute.
DEFAULT_REMOTE_DIR = ".alpaca-desk/jobs"

# A name is shown in lists and typed on the command line: letters (any script), digits, and
# ". _ -" inside, no spaces at either end.
_NAME = re.compile(r"^\w(?:[\w.\- ]{0,62}[\w.\-])?$")
# An address or user never starts with "-" (it would read as an option to any tool it reaches)
# and holds no whitespace or control characters.
_ADDRESS = re.compile(r"^[A-Za-z0-9_.:\[\]%-]{1,253}$")
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Host:
    """A saved SSH host.

    Attributes:
        name: What the user calls it (unique).
        address: Host name or IP address.
        port: SSH port.
        user: Login name.
        key_file: A private key file on this computer; empty: the SSH agent's keys.
        use_agent: Also try the SSH agent's keys.
        python: The Python on the host that runs the job agent (a name on its PATH or a full path).
        remote_dir: The folder on the host where job folders are made (relative: to the login folder).
    """

    name: str
    address: str
    port: int = DEFAULT_PORT
    user: str = ""
    key_file: str = ""
    use_agent: bool = True
    python: str = DEFAULT_PYTHON
    remote_dir: str = DEFAULT_REMOTE_DIR

    def __post_init__(self) -> None:
        problem = _problem(self)
        if problem is not None:
            field_name, reason = problem
            raise RemoteError(
                f"Host {self.name!r}: {field_name} {reason}.",
                code="host_invalid",
                params={"name": self.name, "field": field_name, "reason": reason},
            )

    @property
    def known_hosts_name(self) -> str:
        """The name its key has in a known-hosts file (OpenSSH's ``[address]:port`` off port 22)."""
        return self.address if self.port == DEFAULT_PORT else f"[{self.address}]:{self.port}"

    @property
    def target(self) -> str:
        """``user@address:port``, for messages."""
        return f"{self.user}@{self.address}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        """The JSON object saved in ``hosts.json``."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: object) -> Host:
        """Check a decoded JSON object and build the host.

        Raises:
            RemoteError: Not an object, a missing or unknown field, a wrong type or a bad value.
        """
        if not isinstance(data, dict):
            raise RemoteError("A host entry is not a JSON object.", code="host_invalid", params=_params("?", "entry"))
        name = data.get("name")
        shown = name if isinstance(name, str) else "?"
        types = {f.name: f.type for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        for key, value in data.items():
            if key not in types:
                continue  # a newer version's field: ignored, as the settings do
            expected = int if types[key] == "int" else bool if types[key] == "bool" else str
            if type(value) is not expected:
                raise RemoteError(
                    f"Host {shown!r}: {key} must be {expected.__name__}.",
                    code="host_invalid",
                    params=_params(shown, key, f"must be {expected.__name__}"),
                )
            values[key] = value
        for required in ("name", "address"):
            if required not in values:
                raise RemoteError(
                    f"Host {shown!r}: {required} is missing.",
                    code="host_invalid",
                    params=_params(shown, required, "is missing"),
                )
        return cls(**values)


def _params(name: str, field_name: str, reason: str = "is not valid") -> dict[str, object]:
    return {"name": name, "field": field_name, "reason": reason}


def _problem(host: Host) -> tuple[str, str] | None:
    """The first field of ``host`` that is not valid, and why; None when all are."""
    if not _NAME.match(host.name):
        return "name", "must be 1-64 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit"
    if not _ADDRESS.match(host.address) or host.address.startswith("-"):
        return "address", "must be a host name or an IP address"
    if not 1 <= host.port <= 65535:
        return "port", "must be between 1 and 65535"
    if not _USER.match(host.user):
        return "user", "must be a login name (letters, digits, '.', '_', '-', '@')"
    for field_name, value, limit in (
        ("key_file", host.key_file, 4096),
        ("python", host.python, 255),
        ("remote_dir", host.remote_dir, 1024),
    ):
        if len(value) > limit or _CONTROL.search(value):
            return field_name, f"must be at most {limit} characters without control characters"
    if not host.python:
        return "python", "is empty"
    if not host.remote_dir:
        return "remote_dir", "is empty"
    return None


class LoadedHosts(NamedTuple):
    """What :func:`load_hosts` found: the valid hosts and what the user must be told."""

    hosts: list[Host]
    notices: list[Notice]


def hosts_file() -> Path:
    """``hosts.json`` in the config folder."""
    return app_paths().config / "hosts.json"


def load_hosts(path: Path | None = None) -> LoadedHosts:
    """Read the saved hosts (``path``: default :func:`hosts_file`).

    A missing file gives no hosts. A file that is too large, not JSON or not a hosts file is kept
    aside (never overwritten) with a notice; an invalid or repeated entry is left out with a
    notice naming it.
    """
    path = path or hosts_file()
    try:
        data = read_json_file(path, max_bytes=MAX_HOSTS_FILE_BYTES)
    except FileNotFoundError:
        return LoadedHosts([], [])
    except UntrustedJsonError as exc:
        # Too large, nested too deeply, not UTF-8 or not JSON: kept aside like the settings.
        return LoadedHosts([], [_notice(path, f"was not read: {exc.reason}")])
    except OSError as exc:
        return LoadedHosts([], [_notice(path, f"cannot be read ({exc.strerror or exc})", keep=False)])
    if not isinstance(data, dict) or not isinstance(data.get("hosts"), list):
        return LoadedHosts([], [_notice(path, 'is not a hosts file (an object with a "hosts" list)')])
    hosts: list[Host] = []
    notices: list[Notice] = []
    for entry in data["hosts"][:MAX_HOSTS]:
        try:
            host = Host.from_dict(entry)
        except RemoteError as exc:
            notices.append(Notice(f"{path}: a saved host was left out: {exc}", code=exc.code, params=exc.params))
            continue
        if any(other.name == host.name for other in hosts):
            notices.append(
                Notice(
                    f"{path}: a second host named {host.name!r} was left out.",
                    code="host_invalid",
                    params=_params(host.name, "name", "is used twice"),
                )
            )
            continue
        hosts.append(host)
    return LoadedHosts(hosts, notices)


def _notice(path: Path, reason: str, *, keep: bool = True) -> Notice:
    kept = ""
    if keep:
        try:
            kept = f" It was kept as {keep_aside(path, 'bad').name}."
        except OSError:
            pass
    return Notice(
        f"The saved SSH hosts file {path} {reason}; no hosts were loaded.{kept}",
        code="hosts_file_bad",
        params={"path": str(path), "reason": reason},
    )


def save_hosts(hosts: list[Host], path: Path | None = None) -> None:
    """Write the hosts file atomically."""
    path = path or hosts_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {"version": HOSTS_VERSION, "hosts": [host.to_dict() for host in hosts]}
    write_atomic(path, (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def get_host(name: str, path: Path | None = None) -> Host:
    """The saved host called ``name``.

    Raises:
        RemoteError: No such host (``host_not_found``).
    """
    for host in load_hosts(path).hosts:
        if host.name == name:
            return host
    raise RemoteError(
        f"No saved host is called {name!r}. Add it with: alpaca-desk hosts add {name} ADDRESS --user USER",
        code="host_not_found",
        params={"name": name},
    )


def add_host(host: Host, *, replace: bool = False, path: Path | None = None) -> None:
    """Save ``host`` (a host of that name is replaced only with ``replace``).

    Raises:
        RemoteError: A host of that name exists (``host_exists``).
    """
    hosts = load_hosts(path).hosts
    if any(other.name == host.name for other in hosts) and not replace:
        raise RemoteError(
            f"A host called {host.name!r} is already saved; choose another name or remove it first.",
            code="host_exists",
            params={"name": host.name},
        )
    save_hosts([*(other for other in hosts if other.name != host.name), host], path)


def remove_host(name: str, path: Path | None = None) -> None:
    """Forget the saved host ``name`` (its accepted host key stays in the known-hosts file).

    Raises:
        RemoteError: No such host.
    """
    hosts = load_hosts(path).hosts
    if not any(host.name == name for host in hosts):
        get_host(name, path)  # raises host_not_found
    save_hosts([host for host in hosts if host.name != name], path)
