"""The job agent: copied into each job's folder on the SSH host and run there by the host's Python.

It uses the standard library only (the host may have nothing else) and is run by one fixed
command whose only variable word is the job specification's path (``python3 JOBDIR/agent.py start
JOBDIR/spec.json``, each word quoted), so no user text reaches the remote shell:

* ``start SPEC``: checks the specification, then detaches (fork, ``setsid``: a new session and
  process group, no terminal; SIGHUP ignored, as ``nohup`` does) and runs the job's command,
  ``PYTHON -m MODULE --spec SCRIPT_SPEC [ARGS...]``, as an argv list (no shell), in the job folder,
  with ``code/`` on ``PYTHONPATH``. The job's stdout (its JSON lines) goes to ``log.jsonl``, its
  stderr to ``stderr.log``. The agent records its pid and process group in ``agent.json`` before
  the job starts and the job's exit in ``exit.json`` when it ends, then prints one JSON line and
  the starting command returns: the job survives the connection dropping and the app closing.
* ``status SPEC``: one JSON line: ``running``, ``finished``, ``failed``, ``stopped`` or ``lost``
  (no exit record and no agent: the host rebooted, or the agent was killed), the exit status,
  the log's size.
* ``stop SPEC``: ends the job's whole process group: SIGINT, then SIGTERM after a grace period,
  then SIGKILL, until no process of the group is left.

Every file it writes it writes whole (a temporary name, then a rename).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

SPEC_VERSION = 1
MAX_SPEC_BYTES = 1024 * 1024
#: Seconds between SIGINT, SIGTERM and SIGKILL when stopping.
STOP_GRACE_S = 3.0
#: The longest grace after SIGINT a job may ask for (``stop_grace_s``: a training step and its checkpoint).
MAX_STOP_GRACE_S = 600.0
#: How long ``start`` waits for the detached agent to report that the job runs.
START_WAIT_S = 20.0

AGENT_FILE = "agent.json"
EXIT_FILE = "exit.json"
STOP_FILE = "stop-requested"
LOG_FILE = "log.jsonl"
STDERR_FILE = "stderr.log"
CODE_DIR = "code"


class SpecProblem(Exception):
    """The specification cannot be used (the text says why)."""


def _write_json(path: str, data: dict) -> None:
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _read_json(path: str) -> dict | None:
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_SPEC_BYTES + 1)
    except FileNotFoundError:
        return None
    if len(raw) > MAX_SPEC_BYTES:
        return None
    try:
        # Standard library only (this file is uploaded alone), so not runtime.untrusted_json: the
        # spec is the one this app uploaded, bounded in size above.
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def load_spec(spec_path: str) -> dict:
    """Read and check the job specification."""
    spec = _read_json(spec_path)
    if spec is None:
        raise SpecProblem(f"{spec_path} is missing, too large or not a JSON object")
    if spec.get("version") != SPEC_VERSION:
        raise SpecProblem(f"{spec_path} has version {spec.get('version')!r}; this agent reads {SPEC_VERSION}")
    for key in ("module", "python"):
        if not isinstance(spec.get(key), str) or not spec[key]:
            raise SpecProblem(f"{spec_path}: {key} must be a non-empty string")
    module = spec["module"]
    if not all(part.isidentifier() for part in module.split(".")):
        raise SpecProblem(f"{spec_path}: module {module!r} is not a Python module name")
    args = spec.get("args", [])
    if not isinstance(args, list) or not all(isinstance(arg, str) for arg in args):
        raise SpecProblem(f"{spec_path}: args must be a list of strings")
    env = spec.get("env", {})
    if not isinstance(env, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in env.items()):
        raise SpecProblem(f"{spec_path}: env must map strings to strings")
    script_spec = spec.get("script_spec") or ""
    if not isinstance(script_spec, str):
        raise SpecProblem(f"{spec_path}: script_spec must be a string")
    grace = spec.get("stop_grace_s", STOP_GRACE_S)
    if type(grace) not in (int, float) or not 0 <= grace <= MAX_STOP_GRACE_S:
        raise SpecProblem(f"{spec_path}: stop_grace_s must be a number of seconds from 0 to {MAX_STOP_GRACE_S}")
    return spec


def job_command(spec: dict, spec_path: str) -> list[str]:
    """The job's argv: ``PYTHON -m MODULE --spec SCRIPT_SPEC ARGS...`` (never through a shell)."""
    job_dir = os.path.dirname(os.path.abspath(spec_path))
    script_spec = spec.get("script_spec") or ""
    target = os.path.join(job_dir, script_spec) if script_spec else os.path.abspath(spec_path)
    return [spec["python"], "-m", spec["module"], "--spec", target, *spec.get("args", [])]


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            text = handle.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count from the last ")".
    fields = text[text.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else None


def _alive(pid: int, started: str | None) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return started is None or _start_time(pid) in (None, started)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _say(data: dict) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def start(spec_path: str) -> int:
    """Detach and run the job; print ``{"state": "running", "pid": ..., "pgid": ...}`` or the failure."""
    spec_path = os.path.abspath(spec_path)
    job_dir = os.path.dirname(spec_path)
    try:
        spec = load_spec(spec_path)
    except SpecProblem as exc:
        _say({"state": "failed", "error": str(exc), "code": "spec"})
        return 2
    if os.path.exists(os.path.join(job_dir, AGENT_FILE)):
        _say({"state": "failed", "error": "this job was started already", "code": "started"})
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the detached agent
        try:
            _detached(spec, spec_path, job_dir)
        finally:
            os._exit(0)
    deadline = time.monotonic() + START_WAIT_S
    while time.monotonic() < deadline:
        os.waitpid(pid, os.WNOHANG)  # reap it should it end early
        done = _read_json(os.path.join(job_dir, EXIT_FILE))
        if done is not None and done.get("error"):
            _say({"state": "failed", "error": done["error"], "code": done.get("code", "")})
            return 1
        info = _read_json(os.path.join(job_dir, AGENT_FILE))
        if info is not None and "job_pid" in info:
            _say({"state": "running", **info})
            return 0
        time.sleep(0.05)
    _say({"state": "failed", "error": f"the job did not start within {START_WAIT_S:.0f} s", "code": "timeout"})
    return 1


def _detached(spec: dict, spec_path: str, job_dir: str) -> None:
    os.setsid()
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    devnull = os.open(os.devnull, os.O_RDWR)
    agent_log = os.open(os.path.join(job_dir, "agent.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(devnull, 0)
    os.dup2(agent_log, 1)
    os.dup2(agent_log, 2)
    # Nothing of the SSH session may stay open here, or the starting command would not return.
    os.closerange(3, 65536)
    stop = {"signal": 0}

    def remember(signum: int, frame: object) -> None:
        # The agent outlives SIGINT and SIGTERM (they are for the job) to record how it ended.
        stop["signal"] = signum

    signal.signal(signal.SIGINT, remember)
    signal.signal(signal.SIGTERM, remember)
    me = os.getpid()
    info = {"pid": me, "pgid": os.getpgid(0), "started": _start_time(me), "time": time.time()}
    _write_json(os.path.join(job_dir, AGENT_FILE), info)
    env = dict(os.environ)
    env.update(spec.get("env", {}))
    code_dir = os.path.join(job_dir, CODE_DIR)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (code_dir, env.get("PYTHONPATH", "")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    env["PYTHONIOENCODING"] = "utf-8"
    command = job_command(spec, spec_path)
    try:
        with (
            open(os.path.join(job_dir, LOG_FILE), "ab") as out,
            open(os.path.join(job_dir, STDERR_FILE), "ab") as err,
        ):
            # Same process group as the agent: stopping the group ends the job and all it started.
            proc = subprocess.Popen(command, cwd=job_dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        if isinstance(exc, FileNotFoundError):
            reason = f"the interpreter {spec['python']!r} was not found on this host"
        _write_json(
            os.path.join(job_dir, EXIT_FILE),
            {"returncode": None, "error": reason, "code": "python_missing", "time": time.time()},
        )
        return
    _write_json(os.path.join(job_dir, AGENT_FILE), {**info, "job_pid": proc.pid})
    while True:
        try:
            returncode = proc.wait()
            break
        except InterruptedError:
            continue
    _write_json(
        os.path.join(job_dir, EXIT_FILE),
        {
            "returncode": returncode,
            "stopped": os.path.exists(os.path.join(job_dir, STOP_FILE)),
            "time": time.time(),
        },
    )


def status(spec_path: str) -> dict:
    """The job's state, exit status and log size."""
    job_dir = os.path.dirname(os.path.abspath(spec_path))
    try:
        log_size = os.path.getsize(os.path.join(job_dir, LOG_FILE))
    except OSError:
        log_size = 0
    stopped = os.path.exists(os.path.join(job_dir, STOP_FILE))
    done = _read_json(os.path.join(job_dir, EXIT_FILE))
    info = _read_json(os.path.join(job_dir, AGENT_FILE))
    result: dict = {"log_size": log_size}
    if done is not None:
        returncode = done.get("returncode")
        if done.get("error"):
            state = "failed"
            result["error"] = done["error"]
            result["code"] = done.get("code", "")
        elif done.get("stopped") or stopped:
            state = "stopped"
        else:
            state = "finished" if returncode == 0 else "failed"
        result["returncode"] = returncode
    elif info is None:
        state = "lost" if os.path.exists(os.path.join(job_dir, "agent.log")) else "not_started"
    elif _alive(int(info["pid"]), info.get("started")):
        state = "running"
    else:
        state = "stopped" if stopped else "lost"
    if info is not None:
        result["pid"] = info.get("pid")
        result["pgid"] = info.get("pgid")
        if state in ("stopped", "lost") and isinstance(info.get("pgid"), int) and _group_alive(info["pgid"]):
            result["leftover"] = True  # processes of the group still run: stop ends them
    result["state"] = state
    return result


def stop(spec_path: str) -> dict:
    """End the job's process group: SIGINT, SIGTERM, SIGKILL, until none of it is left."""
    job_dir = os.path.dirname(os.path.abspath(spec_path))
    info = _read_json(os.path.join(job_dir, AGENT_FILE))
    with open(os.path.join(job_dir, STOP_FILE), "w", encoding="ascii") as handle:
        handle.write(f"{time.time()}\n")
    if info is None or not isinstance(info.get("pgid"), int) or info["pgid"] <= 1:
        return {"stopped": True, "signals": []}
    pgid = info["pgid"]
    spec = _read_json(spec_path) or {}
    grace = spec.get("stop_grace_s", STOP_GRACE_S)
    if type(grace) not in (int, float) or not 0 <= grace <= MAX_STOP_GRACE_S:
        grace = STOP_GRACE_S
    sent = []
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
        if not _group_alive(pgid):
            break
        try:
            os.killpg(pgid, signum)
        except ProcessLookupError:
            break
        sent.append(signal.Signals(signum).name)
        wait = grace if signum == signal.SIGINT else STOP_GRACE_S if signum == signal.SIGTERM else 10.0
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and _group_alive(pgid):
            time.sleep(0.05)
    if not os.path.exists(os.path.join(job_dir, EXIT_FILE)):
        # The agent was killed with its group before it could write this.
        _write_json(os.path.join(job_dir, EXIT_FILE), {"returncode": None, "stopped": True, "time": time.time()})
    return {"stopped": not _group_alive(pgid), "signals": sent}


def main(argv: list[str]) -> int:
    """``agent.py start|status|stop SPEC``."""
    if len(argv) != 2 or argv[0] not in ("start", "status", "stop"):
        sys.stderr.write("usage: agent.py start|status|stop SPEC\n")
        return 2
    command, spec_path = argv
    if command == "start":
        return start(spec_path)
    if command == "status":
        _say(status(spec_path))
        return 0
    _say(stop(spec_path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
