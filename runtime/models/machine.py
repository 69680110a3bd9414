"""This computer's figures for the planner: memory, cores, memory bandwidth, per-core throughput.

The bandwidth and the per-core throughput are measured by a short probe (a few hundred
milliseconds of numpy work) and kept in the cache folder, keyed by the CPU's model and count: a
new CPU (a moved home folder, a changed virtual machine) is measured again.
"""

from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from runtime.untrusted_json import read_json_file

#: Overrides the memory the planner counts as free, in bytes (tests: a refusal without allocating).
AVAILABLE_MEMORY_ENV = "ALPACA_DESK_AVAILABLE_MEMORY"
#: Bumped when the probe measures differently, so that older cached figures are measured again.
PROBE_VERSION = 3
# Copied buffer: twice this machine's last-level cache (32 MiB), above most; page faults on a larger one
# made the probe take seconds on a busy machine.
_COPY_BYTES = 64 << 20
# In-cache buffer for the per-core figure: fits a core's L2.
_CORE_BYTES = 256 << 10
# llama.cpp's decode sustains about this share of what numpy's copy measures, read and write
# counted (bench/plan.py on an idle machine: the f32 test models, which are bound by memory,
# read at 0.8 to 1.0 of it at one thread).
BANDWIDTH_EFFICIENCY = 0.85
# Operations (a multiply-add counts two) a core does per second in llama.cpp's quantized dot
# products (SIMD, several values per instruction), per float32 value numpy sums in its cache per
# second: fitted to the Q8_0 bench model and SmolLM2's Q4_1, which decode at about 19 GFLOP/s on
# one thread here where numpy sums 3.6 billion values per second (bench/plan.py, idle).
CORE_RATE_PER_SUM = 5.3


@dataclass(frozen=True)
class Machine:
    """Figures of a computer, for the planner (or described by a test: every field is an input).

    Attributes:
        cpu: the CPU's model name.
        cores: cores this process may use.
        memory_total: bytes of memory.
        memory_available: bytes free for a new model now (the kernel's MemAvailable).
        bandwidth: bytes per second a decode can read from memory.
        core_rate: arithmetic operations per second one core does in llama.cpp's dot products.
    """

    cpu: str
    cores: int
    memory_total: int
    memory_available: int
    bandwidth: float
    core_rate: float

    @classmethod
    def described(cls, *, cores: int, memory_gb: float, bandwidth_gb_s: float, core_gflops: float = 40.0) -> Machine:
        """A machine given by its figures (a test's, or a hypothetical one)."""
        memory = int(memory_gb * 1e9)
        return cls("described", cores, memory, memory, bandwidth_gb_s * 1e9, core_gflops * 1e9)


def cpu_name() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux; the platform's word elsewhere)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()[:200]
    except OSError:
        pass
    return (platform.processor() or platform.machine() or "unknown")[:200]


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def default_threads() -> int:
    """The largest thread count worth trying: all cores on small machines, half on big ones.

    Token generation is memory-bound; past the physical core count, extra threads only contend
    (llama.cpp itself defaults to physical cores). Python cannot see physical cores portably,
    so SMT pairs are assumed above 4 logical CPUs.
    """
    n = usable_cores()
    return n if n <= 4 else n // 2


def memory_figures() -> tuple[int, int]:
    """(total, available) bytes of memory for a new model in this process.

    Available is the least of the kernel's MemAvailable, what this process's control group may
    still take (a container's limit: the machine's free memory is not the container's), and the
    address space its ``RLIMIT_AS`` leaves (a mapped model counts whole), each where it is known;
    :data:`AVAILABLE_MEMORY_ENV` overrides it.
    """
    total = available = 0
    try:
        import psutil

        info = psutil.virtual_memory()
        total, available = int(info.total), int(info.available)
    except Exception:  # noqa: BLE001 - no psutil here: unknown (0), and nothing is refused for it
        pass
    for limit in (cgroup_memory_free(), address_space_free()):
        if limit is not None:
            available = min(available, limit) if available > 0 else limit
    override = os.environ.get(AVAILABLE_MEMORY_ENV, "").strip()
    if override.isdigit():
        available = int(override)
    return total, available


def _read_small(path: str) -> str | None:
    try:
        with open(path, encoding="ascii", errors="replace") as handle:
            return handle.read(4096)
    except OSError:
        return None


#: cgroup v1 writes "no limit" as a page-rounded 2**63 - 1; anything from here up means none.
_NO_CGROUP_LIMIT = 1 << 60


def cgroup_memory_free() -> int | None:
    """Bytes this process's control group may still use (its limit less its use), or None: no
    limit, another system, or nothing readable. cgroup v2 (``memory.max``, ``memory.current``)
    and v1's memory controller (``memory.limit_in_bytes``, ``memory.usage_in_bytes``)."""
    listing = _read_small("/proc/self/cgroup")
    if listing is None:
        return None
    for line in listing.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        if parts[0] == "0" and parts[1] == "":
            folder = "/sys/fs/cgroup" + parts[2].strip().rstrip("/")
            files = (folder + "/memory.max", folder + "/memory.current")
        elif "memory" in parts[1].split(","):
            folder = "/sys/fs/cgroup/memory" + parts[2].strip().rstrip("/")
            files = (folder + "/memory.limit_in_bytes", folder + "/memory.usage_in_bytes")
        else:
            continue
        limit, used = (_read_small(name) for name in files)
        if limit is None or used is None or not limit.strip().isdigit() or not used.strip().isdigit():
            continue  # "max" (no limit), or another hierarchy's files
        if int(limit) >= _NO_CGROUP_LIMIT:
            continue
        return max(0, int(limit) - int(used))
    return None


def address_space_free() -> int | None:
    """Bytes of address space this process's ``RLIMIT_AS`` still allows, or None: no limit."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY or soft <= 0:
        return None
    status = _read_small("/proc/self/status") or ""
    for line in status.splitlines():
        if line.startswith("VmSize:"):
            return max(0, soft - int(line.split()[1]) * 1024)
    return None


def free_vram() -> int:
    """Free memory (bytes) of the first GPU a GPU build of llama.cpp would use, or 0: a CPU build,
    no GPU, or none that can be asked (NVIDIA's ``nvidia-smi`` is; other vendors' tools are not
    asked yet, so their GPUs count as none here and nothing is offloaded unasked)."""
    try:
        import llama_cpp

        if not llama_cpp.llama_supports_gpu_offload():
            return 0
    except Exception:  # noqa: BLE001 - without llama.cpp there is nothing to offload to
        return 0
    import shutil
    import subprocess

    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0
    try:
        out = subprocess.run(
            [tool, "--query-gpu=memory.free", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        first = out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else ""
        return int(first.strip()) * 2**20 if first.strip().isdigit() else 0
    except (OSError, subprocess.SubprocessError):
        return 0


def measure_bandwidth() -> float:
    """Bytes per second that a copy moves through memory (best of a few, read and write counted)."""
    import numpy as np

    source = np.ones(_COPY_BYTES // 8, dtype=np.float64)
    target = np.empty_like(source)
    np.copyto(target, source)  # fault the pages in before timing
    best = float("inf")
    for _ in range(4):
        start = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - start)
    return 2 * _COPY_BYTES / best


def measure_core_rate() -> float:
    """Operations per second of one core, from a sum over an array that stays in its cache."""
    import numpy as np

    values = np.ones(_CORE_BYTES // 4, dtype=np.float32)
    values.sum()
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        for _ in range(10):
            values.sum()
        best = min(best, (time.perf_counter() - start) / 10)
    return values.size / best * CORE_RATE_PER_SUM


def _cache_file() -> Path:
    from runtime.paths import app_paths

    return app_paths().cache / "machine.json"


#: Probes kept before the figures are settled: a probe that ran while other work shared the cores
#: measures low, so the first few runs each probe again and the best figures are kept.
PROBES_KEPT = 3


def _read_cached(path: Path, cpu: str, cores: int) -> tuple[float, float, int] | None:
    """(bandwidth, core rate, probes so far) cached for this CPU, or None."""
    try:
        # Through the bounded reader: 4 KB of "[" would stop json.loads with a RecursionError.
        data = read_json_file(path, max_bytes=4096)
        if data.get("version") != PROBE_VERSION or data.get("cpu") != cpu or data.get("cores") != cores:
            return None
        bandwidth, core_rate = float(data["bandwidth"]), float(data["core_rate"])
        probes = int(data.get("probes", PROBES_KEPT))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return (bandwidth, core_rate, probes) if bandwidth > 0 and core_rate > 0 else None


def this_machine(*, measure: bool = True) -> Machine | None:
    """This computer's figures: measured once per CPU, then read from the cache folder.

    Args:
        measure: probe when nothing is cached (a few hundred ms); False returns None instead, for
            callers that must not wait (the window's thread).
    """
    cpu, cores = cpu_name(), usable_cores()
    total, available = memory_figures()
    path = _cache_file()
    cached = _read_cached(path, cpu, cores)
    if cached is None and not measure:
        return None
    if cached is None or (measure and cached[2] < PROBES_KEPT):
        bandwidth, core_rate = measure_bandwidth() * BANDWIDTH_EFFICIENCY, measure_core_rate()
        if cached is not None:
            bandwidth, core_rate = max(bandwidth, cached[0]), max(core_rate, cached[1])
        cached = (bandwidth, core_rate, (cached[2] if cached else 0) + 1)
        try:
            from runtime.paths import write_atomic

            path.parent.mkdir(parents=True, exist_ok=True)
            record = {
                "version": PROBE_VERSION,
                "cpu": cpu,
                "cores": cores,
                "bandwidth": cached[0],
                "core_rate": cached[1],
                "probes": cached[2],
            }
            write_atomic(path, json.dumps(record).encode("utf-8"))
        except OSError:
            pass  # a read-only cache folder: measured again next time
    return Machine(cpu, cores, total, available, cached[0], cached[1])


def with_available(machine: Machine, available: int) -> Machine:
    """``machine`` with another figure for free memory."""
    return replace(machine, memory_available=available)


def machine_dict(machine: Machine) -> dict[str, object]:
    return asdict(machine)
