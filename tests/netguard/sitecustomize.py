"""Records every network attempt of a Python process, for the offline tests (tests/e2e/test_offline.py).

Python imports ``sitecustomize`` at start-up from ``sys.path``, so putting this folder on
``PYTHONPATH`` watches a process and every Python child it starts (the inference host, job
processes). Audit hooks see each socket connect and name lookup made through Python, whatever
library makes it (huggingface_hub, requests, httpx, urllib). When ``ALPACA_DESK_NET_LOG`` is set,
each event is appended to that file as one line: ``pid event detail``, and anything not aimed at
this machine is stopped (an OSError), so a test that catches a leak never sends the packet.
"""

import os
import sys

_LOG = os.environ.get("ALPACA_DESK_NET_LOG")
_WATCHED = {"socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyname_ex"}
_LOCAL = ("localhost", "127.", "::1")


def _record(event: str, args: tuple) -> None:
    if event not in _WATCHED:
        return
    if event == "socket.connect":
        sock, address = args
        if getattr(sock, "family", None) == getattr(__import__("socket"), "AF_UNIX", object()):
            return  # a local pipe, not the network
        target = address[0] if isinstance(address, tuple) and address else address
    else:
        target = args[0] if args else ""
    with open(_LOG, "a", encoding="utf-8") as handle:  # type: ignore[arg-type]
        handle.write(f"{os.getpid()} {event} {target!r}\n")
    text = target.decode("ascii", "replace") if isinstance(target, bytes) else str(target)
    if not text.startswith(_LOCAL):
        raise OSError(f"network access blocked by the offline test guard: {event} {text}")


if _LOG:
    sys.addaudithook(_record)
