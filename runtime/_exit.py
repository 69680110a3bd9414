"""Child processes (the inference host and jobs): how one ended, in words, and ending one with its parent."""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable

#: How often the watchdog of :func:`end_with_parent` looks at the parent.
PARENT_POLL_S = 0.5
# prctl(2) option: the signal this process gets when its parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG = 1


def describe_exit(returncode: int | None) -> str:
    """``exit status 1``, ``signal SIGKILL`` or ``not running`` for a process's return code."""
    if returncode is None:
        return "not running"
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        return f"signal {signal.Signals(-returncode).name}"
    except ValueError:
        return f"signal {-returncode}"


def end_with_parent(
    *,
    death_signal: int = signal.SIGKILL if hasattr(signal, "SIGKILL") else signal.SIGTERM,
    before_exit: Callable[[], None] | None = None,
    status: int = 1,
    kill_after_s: float | None = None,
) -> None:
    """Make this child process end when the process that started it ends, whatever it is doing.

    A child whose parent was killed would otherwise run on as an orphan: the host inside a
    minutes-long model load, a job through its whole corpus, each at full CPU. Two guards:

    * on Linux, ``prctl(PR_SET_PDEATHSIG)``: the kernel sends ``death_signal`` the moment the
      parent ends, even while this process is deep in native code. (The kernel's "parent" is the
      *thread* that started the child: start children from a thread that lives as long as they
      should, as the window's GUI thread and the command line's main thread do.)
    * everywhere, a daemon thread that checks every :data:`PARENT_POLL_S` seconds whether the
      parent ended (POSIX: the parent id changed, as an orphan is adopted by init or a
      subreaper; Windows: the parent's process handle is signalled), then calls ``before_exit``
      and ``os._exit(status)``: no clean-up that could hang. Native calls release the GIL, so the
      thread runs while the main thread is inside llama.cpp.

    Both need Python's lock: a signal handler runs, and the watchdog wakes, only between bytecodes.
    One C call that never returns to the interpreter (``9 ** (10**9)``, a huge string repeat, a
    regular expression that backtracks for ever) keeps both waiting, and such a child ran on as an
    orphan at full CPU after its parent was killed. ``kill_after_s`` adds a guard that needs no lock
    (Linux): a forked guard process that waits for the parent's end on a pidfd and then gives the
    child ``kill_after_s`` seconds to end by itself before it sends SIGKILL. The guard ends with
    the child (its own parent-death signal is SIGKILL) and holds none of the child's files.

    Call it first thing in the child, before it starts threads (the guard is forked). A parent
    that ended before this call is not noticed (the child cannot learn its original parent any
    more); the host still ends when its stdin closes.

    Args:
        death_signal: what the kernel sends on Linux. SIGKILL cannot be caught, so nothing can
            keep the child alive; a job passes SIGTERM, which its handler turns into a cancel
            that removes the job's temporary output. 0: none (the watchdog alone, as elsewhere).
        before_exit: called by the watchdog thread just before it ends the process.
        status: the exit status the watchdog ends the process with.
        kill_after_s: on Linux, SIGKILL this long after the parent ended, whatever the child does
            (for a ``death_signal`` that the child handles itself).
    """
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        _set_parent_death_signal(death_signal)
        if kill_after_s is not None:
            _start_kill_guard(parent, kill_after_s)
    parent_gone = _parent_watch(parent)
    if parent_gone is not None:
        watchdog = threading.Thread(
            target=_watch, args=(parent_gone, before_exit, status), name="parent-watchdog", daemon=True
        )
        watchdog.start()


def _set_parent_death_signal(death_signal: int) -> None:
    try:
        # The process's own symbols include libc's (no library search, which would run ldconfig).
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, int(death_signal), 0, 0, 0)
    except (OSError, AttributeError):
        pass  # no prctl here (another libc): the watchdog thread still guards


def _start_kill_guard(parent: int, grace_s: float) -> None:
    """Fork the guard of :func:`end_with_parent` (Linux; nothing where a pidfd cannot be had)."""
    try:
        parent_fd = os.pidfd_open(parent)
    except (AttributeError, OSError):
        return  # Linux before 5.3, or the parent is already gone (and the death signal sent)
    try:
        guard = os.fork()
    except OSError:
        os.close(parent_fd)
        return
    if guard:
        os.close(parent_fd)
        return
    # The guard, a copy of the child with one thread: it must never return into the child's code.
    try:
        _guard(os.getppid(), parent_fd, grace_s)
    finally:
        os._exit(0)


def _guard(child: int, parent_fd: int, grace_s: float) -> None:
    import select

    # Ended with the child, however the child ends; and holding none of its pipes, so that whoever
    # reads the child's output sees the end of it when the child ends. In a process group of its
    # own: the child's group is the job (cancel signals it, and its end is awaited by the group).
    _set_parent_death_signal(signal.SIGKILL)
    try:
        os.setpgid(0, 0)
    except OSError:
        pass
    for name in ("SIGINT", "SIGTERM"):
        signal.signal(getattr(signal, name), signal.SIG_DFL)
    os.closerange(0, parent_fd)
    os.closerange(parent_fd + 1, _max_fd())
    if os.getppid() != child:
        return  # the child ended before the death signal was set
    select.select([parent_fd], [], [])  # readable once the parent has ended
    time.sleep(grace_s)
    if os.getppid() == child:
        os.kill(child, signal.SIGKILL)


def _max_fd() -> int:
    try:
        return int(os.sysconf("SC_OPEN_MAX"))
    except (OSError, ValueError):
        return 65536


def _parent_watch(parent: int) -> Callable[[], bool] | None:
    """A cheap "has the parent ended?" test, or None where there is none."""
    if sys.platform == "win32":
        # Windows never re-parents an orphan, so its parent id does not change: wait on the
        # parent's process handle instead (opened now, so a reused id cannot fool it).
        synchronize, wait_object_0 = 0x00100000, 0
        kernel32 = ctypes.windll.kernel32
        handle = kernel32.OpenProcess(synchronize, False, parent)
        if not handle:
            return None
        return lambda: bool(kernel32.WaitForSingleObject(handle, 0) == wait_object_0)
    # POSIX re-parents an orphan to init or a subreaper: its parent id changes.
    return lambda: os.getppid() != parent


def _watch(parent_gone: Callable[[], bool], before_exit: Callable[[], None] | None, status: int) -> None:
    while not parent_gone():
        time.sleep(PARENT_POLL_S)
    _exit_now(before_exit, status)


def _exit_now(before_exit: Callable[[], None] | None, status: int) -> None:
    if before_exit is not None:
        try:
            before_exit()
        except Exception:  # noqa: BLE001 - ending the process matters more than the clean-up
            pass
    os._exit(status)
