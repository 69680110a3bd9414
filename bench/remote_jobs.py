"""Remote jobs over SSH, measured against a real OpenSSH server on 127.0.0.1 (tests/sshd.py).

What the SSH target adds to a training run, apart from the network itself:

* ``connect_s``: connect and log in (host key checked), median of ``--runs``.
* ``start_s``: ``start_job`` for a job with the ``runtime`` package as its code (the payload a
  training run uploads), from the call to the job running detached.
* ``first_line_s``: from the call to the first log line on this computer.
* ``upload_mb_s``: SFTP upload throughput of a 64 MB data file (loopback: the cost of SFTP and the
  ``.part``-then-rename scheme, not of a network).
* ``tail_lag_s``: how long after the job prints a line this computer has it (``follow`` polling
  every 0.5 s), median over the lines of a job printing one line every 0.2 s.
* ``reattach_s``: from a dropped connection to following again (the first retry waits 1 s).

Prints one JSON line; progress goes to stderr. ``python bench/remote_jobs.py [--runs N]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

JOB = """
import json, sys, time
n = int(sys.argv[sys.argv.index("--spec") + 2])
for i in range(n):
    print(json.dumps({"event": "tick", "n": i, "t": time.time()}), flush=True)
    time.sleep(0.2)
"""


def log(message: str) -> None:
    print(f"[remote_jobs] {message}", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="remote-bench-") as tmp:
        root = Path(tmp)
        os.environ["ALPACA_DESK_HOME"] = str(root / "home")
        from runtime.training.remote import (
            Host,
            HostKey,
            RemoteJobSpec,
            accept_host_key,
            add_host,
            connect,
            follow,
            start_job,
        )
        from tests.sshd import make_sshd

        server = make_sshd(root / "sshd").start()
        try:
            host = Host(
                "bench",
                "127.0.0.1",
                port=server.port,
                user=server.user,
                key_file=str(server.client_key),
                use_agent=False,
                python=sys.executable,
                remote_dir=str(root / "jobs"),
            )
            add_host(host)
            import base64

            import paramiko

            key_type, body = server.host_key.with_suffix(".pub").read_text().split()[:2]
            pkey = paramiko.PKey.from_type_string(key_type, base64.b64decode(body))
            accept_host_key(host, HostKey(key_type, body, pkey.fingerprint))

            connects = []
            for _ in range(args.runs):
                began = time.perf_counter()
                with connect(host) as conn:
                    conn.run(["true"])
                connects.append(time.perf_counter() - began)
            log(f"connect: {statistics.median(connects):.3f} s")

            package = root / "src" / "benchjob"
            package.mkdir(parents=True)
            (package / "__init__.py").write_text("")
            (package / "tick.py").write_text(JOB)
            runtime_dir = REPO_ROOT / "runtime"
            starts, firsts = [], []
            for _ in range(args.runs):
                spec = RemoteJobSpec(module="benchjob.tick", args=("3",), code=(package, runtime_dir))
                began = time.perf_counter()
                run = start_job(host, spec)
                starts.append(time.perf_counter() - began)
                first = threading.Event()
                stop = threading.Event()

                def seen(lines: list[str], first: threading.Event = first, stop: threading.Event = stop) -> None:
                    first.set()
                    stop.set()

                follow(run, on_lines=seen, cancel=stop, poll_s=0.05, host=host)
                firsts.append(time.perf_counter() - began)
            log(f"start: {statistics.median(starts):.3f} s, first line: {statistics.median(firsts):.3f} s")

            data = root / "data.bin"
            data.write_bytes(os.urandom(64 * 1024 * 1024))
            spec = RemoteJobSpec(module="benchjob.tick", args=("1",), code=(package,), files=((data, "data/d.bin"),))
            stamps: list[tuple[float, int]] = []
            start_job(host, spec, on_progress=lambda p: stamps.append((time.perf_counter(), p.done)))
            upload_s = stamps[-1][0] - stamps[0][0]
            uploaded_mb = (stamps[-1][1] - stamps[0][1]) / 1024**2
            log(f"upload of 64 MB: {upload_s:.2f} s")

            spec = RemoteJobSpec(module="benchjob.tick", args=("30",), code=(package,))
            run = start_job(host, spec)
            lags: list[float] = []
            dropped_at: list[float] = []
            reattach: list[float] = []

            def on_lines(lines: list[str]) -> None:
                now = time.time()
                for line in lines:
                    event = json.loads(line)
                    lags.append(now - event["t"])

            states: list[str] = []

            def on_state(state: str) -> None:
                states.append(state)
                if state == "running" and "reconnecting" in states and not reattach:
                    reattach.append(time.time() - dropped_at[0])

            def drop_later() -> None:
                time.sleep(2.0)
                dropped_at.append(time.time())
                server.drop_connections()

            threading.Thread(target=drop_later, daemon=True).start()
            follow(run, on_lines=on_lines, on_state=on_state, poll_s=0.5, host=host)
        finally:
            server.stop()
    result = {
        "bench": "remote_jobs",
        "machine": f"{platform.machine()} {os.cpu_count()} cores",
        "connect_s": round(statistics.median(connects), 3),
        "start_s": round(statistics.median(starts), 3),
        "first_line_s": round(statistics.median(firsts), 3),
        "upload_mb_s": round(uploaded_mb / upload_s, 1),
        "tail_lag_s": round(statistics.median(lags), 3),
        "reattach_s": round(reattach[0], 3) if reattach else None,
        "runs": args.runs,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
