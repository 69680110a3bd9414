"""Set up a virtual environment on the GPU host: run there as a detached job, standard library only.

``python -m envsetup --spec job.json`` (uploaded beside the job's spec; the job folder is its working
directory) reads ``{"venv": DIR, "requirements": [...], "pip_args": [...]}``, creates the virtual
environment with the host Python's ``venv`` module when it is not there yet, and installs the
requirements with its pip, reporting JSON lines like every job::

    {"event": "stage", "stage": "venv", "path": "/home/u/.alpaca-desk/venv"}
    {"event": "log", "line": "Collecting torch ..."}
    {"event": "result", "python": "/home/u/.alpaca-desk/venv/bin/python"}
    {"event": "error", "message": "...", "code": "remote_env_failed"}

Requirements and pip arguments are argv words of pip, never shell text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys


def _say(event: dict) -> None:
    sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def _python_of(venv: str) -> str:
    return os.path.join(venv, "Scripts", "python.exe") if os.name == "nt" else os.path.join(venv, "bin", "python")


def _stream(command: list[str]) -> int:
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.decode("utf-8", errors="replace").rstrip()
        if line:
            _say({"event": "log", "line": line[:2000]})
    return proc.wait()


def main(argv: list[str]) -> int:
    """Create the environment and install the requirements; 0 when done."""
    spec_path = argv[argv.index("--spec") + 1]
    with open(spec_path, encoding="utf-8") as handle:
        spec = json.load(handle)  # the spec this app uploaded; standard library only (uploaded alone)
    venv = os.path.expanduser(str(spec["venv"]))
    requirements = [str(item) for item in spec.get("requirements", [])]
    pip_args = [str(item) for item in spec.get("pip_args", [])]
    python = _python_of(venv)
    if not os.path.exists(python):
        _say({"event": "stage", "stage": "venv", "path": venv})
        if _stream([sys.executable, "-m", "venv", venv]) != 0 or not os.path.exists(python):
            _say(
                {
                    "event": "error",
                    "message": f"{sys.executable} could not create a virtual environment in {venv} "
                    "(on Debian and Ubuntu, install the python3-venv package)",
                    "code": "remote_env_failed",
                }
            )
            return 1
    if requirements:
        _say({"event": "stage", "stage": "install", "requirements": requirements})
        command = [python, "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar", "off"]
        if _stream([*command, *pip_args, *requirements]) != 0:
            _say(
                {
                    "event": "error",
                    "message": f"pip could not install {', '.join(requirements)}",
                    "code": "remote_env_failed",
                }
            )
            return 1
    _say({"event": "result", "python": python})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
