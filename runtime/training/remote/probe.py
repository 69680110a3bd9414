"""A host's test: its GPUs, its Python, the free disk where jobs go, and what is missing for training.

Each check is one fixed command (argv, quoted word by word); a check that fails becomes a line of
:attr:`HostReport.missing`, not an error: the point is to tell the user everything at once.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from runtime.errors import RemoteError
from runtime.training.remote.connection import Connection
from runtime.training.remote.upload import MIN_PYTHON, free_space
from runtime.untrusted_json import parse_json

#: What the training scripts import on the host (the ``train`` extra), checked without importing.
TRAIN_MODULES = ("torch", "transformers", "peft", "accelerate")
#: Below this much free space where jobs go, the test says so (a 7B LoRA run's checkpoints need a few GB).
LOW_DISK_BYTES = 10 * 1024**3

_FIND_MODULES = (
    "import importlib.util, json, sys\n"
    "print(json.dumps({m: importlib.util.find_spec(m) is not None for m in sys.argv[1:]}))\n"
)


@dataclass(frozen=True)
class HostReport:
    """What :func:`probe_host` found.

    Attributes:
        gpus: One line per GPU (``0, NVIDIA A100-SXM4-80GB, 81920 MiB``).
        gpu_note: Why there is no GPU list (no ``nvidia-smi``, or what it said), else empty.
        python: The Python version, or empty when there is none usable.
        free_bytes: Free space where jobs go (None: unknown).
        disk_path: The folder that was measured.
        modules: Whether each of :data:`TRAIN_MODULES` can be imported.
        missing: What is missing, one sentence each (empty: ready to train).
    """

    gpus: list[str] = field(default_factory=list)
    gpu_note: str = ""
    python: str = ""
    free_bytes: int | None = None
    disk_path: str = ""
    modules: dict[str, bool] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)


def probe_host(conn: Connection) -> HostReport:
    """Test the host behind ``conn``.

    Raises:
        RemoteError: Only when the connection breaks (``ssh_connection_lost``).
    """
    host = conn.host
    missing: list[str] = []
    python = ""
    version = conn.run([host.python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], action="testing")
    text = version.text.strip()
    if version.returncode == 0 and text.count(".") == 2 and all(p.isdigit() for p in text.split(".")):
        python = text
        if tuple(int(p) for p in text.split(".")[:2]) < MIN_PYTHON:
            missing.append(f"Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer (the host's {host.python} is {text})")
    else:
        missing.append(f"Python: {host.python!r} does not run on the host ({version.error_text or 'not found'})")
    modules: dict[str, bool] = {}
    if python:
        found = conn.run([host.python, "-c", _FIND_MODULES, *TRAIN_MODULES], action="testing")
        try:
            decoded = parse_json(found.text, source=f"the module check on {host.name}", max_bytes=65536)
            modules = {name: bool(decoded.get(name)) for name in TRAIN_MODULES}
        except (ValueError, AttributeError):
            modules = {}
        absent = [name for name in TRAIN_MODULES if not modules.get(name)]
        if absent:
            missing.append(
                f"the training packages {', '.join(absent)} (pip install 'alpaca-desk[train]' in the host's Python)"
            )
    gpus: list[str] = []
    gpu_note = ""
    smi = conn.run(
        ["nvidia-smi", "--query-gpu=index,name,memory.total", "--format=csv,noheader"], action="listing GPUs"
    )
    if smi.returncode == 0:
        gpus = [line.strip() for line in smi.text.splitlines() if line.strip()][:64]
    if not gpus:
        if smi.returncode == 127 or "not found" in smi.error_text:
            gpu_note = "nvidia-smi was not found: no NVIDIA driver on this host"
        else:
            gpu_note = f"nvidia-smi lists no GPU ({smi.error_text or smi.text.strip() or 'no output'})"
        missing.append(f"a CUDA GPU ({gpu_note})")
    disk_path = _existing_parent(conn)
    free_bytes = free_space(conn, disk_path)
    if free_bytes is not None and free_bytes < LOW_DISK_BYTES:
        missing.append(f"free disk: {free_bytes / 1024**3:.1f} GB free in {disk_path}, at least 10 GB advised")
    return HostReport(gpus, gpu_note, python, free_bytes, disk_path, modules, missing)


def _existing_parent(conn: Connection) -> str:
    """The jobs folder on the host, or its nearest existing parent (df needs one that exists)."""
    base = conn.host.remote_dir
    home = conn.home()
    path = posixpath.normpath(base if base.startswith("/") else posixpath.join(home, base))
    while path not in ("/", ""):
        try:
            conn.sftp.stat(path)
            return path
        except FileNotFoundError:
            path = posixpath.dirname(path)
        except OSError as exc:
            raise RemoteError(
                f"Cannot look at {path} on {conn.host.name}: {exc}.",
                code="remote_command_failed",
                params={"name": conn.host.name, "reason": str(exc)},
            ) from exc
    return path or "/"
