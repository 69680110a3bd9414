"""``alpaca-desk hosts`` (saved SSH hosts) and ``alpaca-desk remote`` (jobs running on them).

``hosts add|list|test|forget-key|remove`` keep the hosts; ``hosts test`` connects, shows the host
key's fingerprint for the user to accept when it is new (``--accept SHA256:...`` accepts exactly that
key without asking), and reports the GPUs, Python, free disk and what is missing. ``remote run HOST
MODULE`` uploads and starts a job; ``remote status|attach|stop|download JOB_ID`` follow it:
``attach`` prints the log this computer already has, then follows the host's from there,
reconnecting when the connection drops; ``download`` fetches a training run's adapter only (its
checkpoints too with ``--with-checkpoints``).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
import threading
from typing import Any

from runtime.errors import RemoteError

# runtime.training.remote (paramiko, cryptography) is imported by the commands that use it, so that
# the inference host, which a frozen build starts through this package, does not pay for it.

#: Exit status when the host key is unknown and was not accepted.
UNKNOWN_KEY_EXIT = 3


def add_parsers(sub: Any) -> None:
    """Add ``hosts`` and ``remote`` to the ``alpaca-desk`` subcommands."""
    hosts = sub.add_parser("hosts", help="saved SSH hosts to train on")
    actions = hosts.add_subparsers(dest="hosts_command", required=True)
    add = actions.add_parser("add", help="save a host")
    add.add_argument("name", help="what to call it")
    add.add_argument("address", help="host name or IP address")
    add.add_argument("--port", type=int, default=22)
    add.add_argument("--user", default=None, help="login name (default: yours here)")
    add.add_argument("--key", default="", help="private key file (default: the SSH agent's keys)")
    add.add_argument("--no-agent", action="store_true", help="do not use the SSH agent's keys")
    add.add_argument("--python", default="python3", help="the host's Python (default: python3)")
    add.add_argument("--remote-dir", default=".alpaca-desk/jobs", help="where jobs go on the host")
    add.add_argument("--replace", action="store_true", help="replace a saved host of that name")
    add.set_defaults(run=run_hosts_add)
    listing = actions.add_parser("list", help="list the saved hosts")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(run=run_hosts_list)
    test = actions.add_parser("test", help="connect and show GPUs, Python, free disk and what is missing")
    test.add_argument("name")
    test.add_argument("--accept", metavar="SHA256:...", help="accept a new host key with exactly this fingerprint")
    test.add_argument("--passphrase-stdin", action="store_true", help="read the key's passphrase from stdin")
    test.add_argument("--json", action="store_true")
    test.set_defaults(run=run_hosts_test)
    setup = actions.add_parser(
        "setup", help="create a virtual environment on the host with the training packages, and use it"
    )
    setup.add_argument("name")
    setup.add_argument("requirements", nargs="*", help="what to install (default: the train extra's packages)")
    setup.add_argument("--venv", default=".alpaca-desk/venv", help="where (relative: in the login folder)")
    setup.add_argument("--pip-arg", action="append", default=[], help="an argument for pip (repeat)")
    setup.add_argument("--passphrase-stdin", action="store_true")
    setup.set_defaults(run=run_hosts_setup)
    forget = actions.add_parser("forget-key", help="forget a host's recorded key (after it was reinstalled)")
    forget.add_argument("name")
    forget.set_defaults(run=run_hosts_forget_key)
    remove = actions.add_parser("remove", help="remove a saved host")
    remove.add_argument("name")
    remove.set_defaults(run=run_hosts_remove)

    remote = sub.add_parser("remote", help="jobs running on saved SSH hosts")
    jobs = remote.add_subparsers(dest="remote_command", required=True)
    start = jobs.add_parser("run", help="upload a job to a saved host and start it there, detached")
    start.add_argument("host", help="a saved host's name")
    start.add_argument("module", help="the Python module the job runs (python -m MODULE --spec SPEC ...)")
    start.add_argument("--script-spec", help="a JSON file: the job's own specification (uploaded as job.json)")
    start.add_argument("--code", action="append", default=[], help="a package folder to put on PYTHONPATH (repeat)")
    start.add_argument(
        "--file", nargs=2, action="append", default=[], metavar=("LOCAL", "NAME"), help="a data file and its name"
    )
    start.add_argument("--arg", action="append", default=[], help="an argument for the job, passed as it is (repeat)")
    start.add_argument("--python", default="", help="the job's interpreter on the host (default: the host's)")
    start.add_argument("--follow", action="store_true", help="then print its log until it ends")
    start.add_argument("--passphrase-stdin", action="store_true")
    start.set_defaults(run=run_remote_run)
    status = jobs.add_parser("status", help="list the remote runs, or ask a host how one is")
    status.add_argument("job_id", nargs="?")
    status.add_argument("--json", action="store_true")
    status.set_defaults(run=run_remote_status)
    attach = jobs.add_parser("attach", help="print a run's log and follow it until the job ends")
    attach.add_argument("job_id")
    attach.add_argument("--passphrase-stdin", action="store_true", help="read the key's passphrase from stdin")
    attach.set_defaults(run=run_remote_attach)
    stop = jobs.add_parser("stop", help="stop a run (its whole process group on the host)")
    stop.add_argument("job_id")
    stop.add_argument("--passphrase-stdin", action="store_true")
    stop.set_defaults(run=run_remote_stop)
    fetch = jobs.add_parser(
        "download", help="download a finished run's adapter (out/adapter; a job without one: its out/ folder)"
    )
    fetch.add_argument("job_id")
    fetch.add_argument("--out", required=True, help="the folder to create here")
    fetch.add_argument(
        "--with-checkpoints", action="store_true", help="the whole out/ folder: the adapter and every checkpoint"
    )
    fetch.add_argument("--passphrase-stdin", action="store_true")
    fetch.set_defaults(run=run_remote_download)


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def run_hosts_add(args: argparse.Namespace) -> int:
    """Save a host."""
    from runtime.training.remote import Host, add_host

    host = Host(
        name=args.name,
        address=args.address,
        port=args.port,
        user=args.user or getpass.getuser(),
        key_file=args.key,
        use_agent=not args.no_agent,
        python=args.python,
        remote_dir=args.remote_dir,
    )
    add_host(host, replace=args.replace)
    _say(f"Saved {host.name} ({host.target}). Test it with: alpaca-desk hosts test {host.name}")
    return 0


def run_hosts_list(args: argparse.Namespace) -> int:
    """List the saved hosts."""
    from runtime.training.remote import load_hosts

    loaded = load_hosts()
    for notice in loaded.notices:
        sys.stderr.write(f"{notice}\n")
    if args.json:
        _say(json.dumps([host.to_dict() for host in loaded.hosts], ensure_ascii=False))
        return 0
    if not loaded.hosts:
        _say("No saved hosts. Add one with: alpaca-desk hosts add NAME ADDRESS --user USER --key KEYFILE")
    for host in loaded.hosts:
        key = host.key_file or "SSH agent"
        _say(f"{host.name}\t{host.target}\t{key}\tpython: {host.python}\tjobs: {host.remote_dir}")
    return 0


def _passphrase(host: Any, args: argparse.Namespace) -> str | None:
    """The key's passphrase: from stdin (``--passphrase-stdin``), the keyring, or asked at a terminal.

    None when the key has none (or there is no key file: the SSH agent's keys need none here).
    """
    from runtime.training.remote.connection import needs_passphrase
    from runtime.training.remote.secrets import stored_passphrase

    if getattr(args, "passphrase_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    if not needs_passphrase(host):
        return None
    stored = stored_passphrase(host)
    if stored is not None:
        return stored
    if sys.stdin.isatty():
        return getpass.getpass(f"Passphrase of {host.key_file}: ")
    return None


def _connect(host: Any, args: argparse.Namespace, *, accept: str | None = None) -> Any:
    """Connect, asking for a new host key's acceptance where a terminal allows (or ``accept`` matches)."""
    from runtime.training.remote import HostKeyUnknown, accept_host_key, connect

    passphrase = _passphrase(host, args)
    try:
        return connect(host, passphrase=passphrase)
    except HostKeyUnknown as unknown:
        if accept is not None:
            if accept != unknown.key.fingerprint:
                raise RemoteError(
                    f"{host.name} presents the key {unknown.key.fingerprint}, not {accept}; nothing was accepted.",
                    code="ssh_host_key_mismatch",
                    params={"name": host.name, "fingerprint": unknown.key.fingerprint, "expected": accept},
                ) from unknown
        elif sys.stdin.isatty():
            sys.stderr.write(f"{unknown}\n")
            answer = input(f"Accept the key {unknown.key.fingerprint} of {host.name}? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                raise
        else:
            raise
        accept_host_key(host, unknown.key)
        _say(f"Accepted the host key {unknown.key.fingerprint} of {host.name}.")
    return connect(host, passphrase=passphrase)


def run_hosts_test(args: argparse.Namespace) -> int:
    """Connect to a saved host and report what it has and lacks."""
    from dataclasses import asdict

    from runtime.training.remote import HostKeyUnknown, get_host, probe_host

    host = get_host(args.name)
    try:
        conn = _connect(host, args, accept=args.accept)
    except HostKeyUnknown as unknown:
        sys.stderr.write(
            f"error: {unknown}\nTo accept it: alpaca-desk hosts test {host.name} --accept {unknown.key.fingerprint}\n"
        )
        return UNKNOWN_KEY_EXIT
    with conn:
        report = probe_host(conn)
    if args.json:
        _say(json.dumps(asdict(report), ensure_ascii=False))
        return 0
    _say(f"{host.name} ({host.target}): connected.")
    _say("GPUs: " + ("; ".join(report.gpus) if report.gpus else f"none ({report.gpu_note})"))
    _say(f"Python: {report.python or 'none'}")
    if report.free_bytes is not None:
        _say(f"Free disk in {report.disk_path}: {report.free_bytes / 1024**3:.1f} GB")
    if report.missing:
        _say("Missing:")
        for item in report.missing:
            _say(f"  - {item}")
    else:
        _say("Ready to train.")
    return 0


def run_hosts_setup(args: argparse.Namespace) -> int:
    """Set up the host's virtual environment as a detached job, follow it, then make it the host's Python."""
    import dataclasses

    from runtime.training.remote import add_host, follow, get_host, read_mirror, start_job
    from runtime.training.remote.runner import environment_spec, parse_line, train_requirements

    host = get_host(args.name)
    requirements = args.requirements or train_requirements()
    spec = environment_spec(venv=args.venv, requirements=requirements, pip_args=args.pip_arg)
    passphrase = _passphrase(host, args)
    with _connect(host, args) as conn:
        run = start_job(conn, spec)
    _say(f"Setting up {args.venv} on {host.name} ({run.job_id}): {' '.join(requirements) or 'no packages'}")

    def show(lines: list[str]) -> None:
        for line in lines:
            event = parse_line(line)
            _say(str(event.get("line") or event.get("message") or event.get("stage") or line))

    ended = follow(run, on_lines=show, passphrase=passphrase, host=host)
    python = next((str(e["python"]) for e in map(parse_line, read_mirror(run.job_id)) if e["event"] == "result"), "")
    if ended.state != "finished" or not python:
        sys.stderr.write(
            f"error: the set-up on {host.name} {ended.state}; its log: alpaca-desk remote attach {run.job_id}\n"
        )
        return 1
    add_host(dataclasses.replace(host, python=python), replace=True)
    _say(f"{host.name} now runs jobs with {python}.")
    return 0


def run_hosts_forget_key(args: argparse.Namespace) -> int:
    """Forget a host's recorded key."""
    from runtime.training.remote import forget_host_key, get_host

    host = get_host(args.name)
    if forget_host_key(host):
        _say(f"Forgot the recorded key of {host.name}; the next connection shows the new one to accept.")
    else:
        _say(f"No key of {host.name} was recorded.")
    return 0


def run_hosts_remove(args: argparse.Namespace) -> int:
    """Remove a saved host."""
    from runtime.training.remote import remove_host

    remove_host(args.name)
    _say(f"Removed {args.name}.")
    return 0


def run_remote_run(args: argparse.Namespace) -> int:
    """Upload and start a job; print its id (and follow it with ``--follow``)."""
    from pathlib import Path

    from runtime.training.launcher import MAX_SPEC_BYTES
    from runtime.training.remote import RemoteJobSpec, get_host, start_job
    from runtime.untrusted_json import read_json_file

    host = get_host(args.host)
    script_spec = None
    if args.script_spec:
        path = Path(args.script_spec).expanduser()
        try:
            script_spec = read_json_file(path, max_bytes=MAX_SPEC_BYTES)
        except (OSError, ValueError) as exc:  # UntrustedJsonError is a ValueError
            raise RemoteError(
                f"The job specification {path} cannot be read as JSON: {exc}.",
                code="remote_spec_invalid",
                params={"reason": f"{path}: {exc}"},
            ) from exc
        if not isinstance(script_spec, dict):
            raise RemoteError(
                f"The job specification {path} is not a JSON object.",
                code="remote_spec_invalid",
                params={"reason": f"{path} is not a JSON object"},
            )
    spec = RemoteJobSpec(
        module=args.module,
        script_spec=script_spec,
        args=tuple(args.arg),
        python=args.python,
        code=tuple(Path(folder).expanduser() for folder in args.code),
        files=tuple((Path(local).expanduser(), name) for local, name in args.file),
    )
    with _connect(host, args) as conn:
        run = start_job(conn, spec)
    _say(f"Started {run.job_id} on {host.name} in {run.job_dir}")
    if not args.follow:
        return 0
    args.job_id = run.job_id
    args.passphrase_stdin = False
    return run_remote_attach(args)


def run_remote_status(args: argparse.Namespace) -> int:
    """List the recorded runs, or ask the host how one is."""
    from dataclasses import asdict

    from runtime.training.remote import get_host, job_status, list_runs, load_run

    if args.job_id is None:
        runs = list_runs()
        if args.json:
            _say(json.dumps([asdict(run) for run in runs], ensure_ascii=False))
            return 0
        if not runs:
            _say("No remote runs.")
        for run in runs:
            _say(f"{run.job_id}\t{run.host}\t{run.state}\t{run.module}\t{run.job_dir}")
        return 0
    run = load_run(args.job_id)
    with _connect(get_host(run.host), args) as conn:
        status = job_status(conn, run)
    if args.json:
        _say(json.dumps(asdict(status), ensure_ascii=False))
    else:
        extra = f" (exit status {status.returncode})" if status.returncode is not None else ""
        _say(f"{run.job_id} on {run.host}: {status.state}{extra}{': ' + status.error if status.error else ''}")
    return 0


def run_remote_attach(args: argparse.Namespace) -> int:
    """Print the run's log so far, then follow it until the job ends (0: finished)."""
    from runtime.training.remote import follow, get_host, load_run, read_mirror

    run = load_run(args.job_id)
    host = get_host(run.host)
    passphrase = _passphrase(host, args)
    for line in read_mirror(run.job_id):
        _say(line)

    def show(lines: list[str]) -> None:
        for line in lines:
            _say(line)

    def state(name: str) -> None:
        if name in ("reconnecting",):
            sys.stderr.write(f"connection to {host.name} lost; reconnecting...\n")

    ended = follow(run, on_lines=show, on_state=state, passphrase=passphrase, host=host, cancel=threading.Event())
    sys.stderr.write(f"{run.job_id}: {ended.state}{': ' + ended.error if ended.error else ''}\n")
    return 0 if ended.state == "finished" else 1


def run_remote_stop(args: argparse.Namespace) -> int:
    """Stop a run's process group on its host."""
    from runtime.training.remote import get_host, load_run, stop_job

    run = load_run(args.job_id)
    with _connect(get_host(run.host), args) as conn:
        status = stop_job(conn, run)
    _say(f"{run.job_id} on {run.host}: {status.state}")
    return 0 if not status.leftover else 1


def run_remote_download(args: argparse.Namespace) -> int:
    """Download a run's adapter (or its whole out/ folder with ``--with-checkpoints``)."""
    from pathlib import Path

    from runtime.training.remote import download, get_host, load_run
    from runtime.training.remote.runner import results_folder

    run = load_run(args.job_id)
    shown = [-1]

    def progress(p: Any) -> None:
        percent = p.done * 100 // p.total if p.total else 100
        if sys.stderr.isatty() and percent != shown[0]:
            shown[0] = percent
            sys.stderr.write(f"\r{p.done / 1e6:.1f} of {p.total / 1e6:.1f} MB ({percent}%)")
            sys.stderr.flush()

    with _connect(get_host(run.host), args) as conn:
        remote = results_folder(conn, run, with_checkpoints=args.with_checkpoints)
        target = download(conn, run, Path(args.out).expanduser(), remote=remote, on_progress=progress)
    if shown[0] >= 0:
        sys.stderr.write("\n")
    size = sum(path.stat().st_size for path in target.rglob("*") if path.is_file())
    _say(f"Downloaded {remote} of {run.job_id} ({size / 1e6:.1f} MB) to {target}")
    return 0
