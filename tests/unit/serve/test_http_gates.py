"""The server's gates, in raw HTTP: key, Host header, CORS, bad bodies, body size, binding, stop."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

from tests.unit.serve.conftest import ALLOWED_ORIGIN, KEY, PATIENT_S, REPO_ROOT, Server, cli_command

AUTH = {"Authorization": f"Bearer {KEY}"}


def request(
    server: Server, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; the status, the headers (lowercase names) and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=PATIENT_S)
    try:
        conn.request(method, path, body=body, headers={**AUTH, **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def error_of(body: bytes) -> dict[str, Any]:
    error = json.loads(body)["error"]
    assert {"message", "type", "code"} <= set(error)
    assert "Traceback" not in error["message"]
    return dict(error)


def test_no_key_or_a_wrong_key_gets_401(server: Server) -> None:
    for auth in ("", "Bearer wrong-key", f"Basic {KEY}", f"Bearer {KEY}x"):
        status, headers, body = request(server, "GET", "/v1/models", headers={"Authorization": auth})
        assert status == 401, auth
        assert error_of(body)["code"] == "invalid_api_key"
        assert headers["www-authenticate"] == "Bearer"
    status, _, _ = request(server, "GET", "/v1/models")
    assert status == 200


def test_a_foreign_host_header_gets_403(server: Server) -> None:
    for host in ("attacker.example", f"attacker.example:{server.port}", "127.0.0.1:1", f"localhost.evil:{server.port}"):
        status, _, body = request(server, "GET", "/v1/models", headers={"Host": host})
        assert status == 403, host
        assert error_of(body)["code"] == "host_not_allowed"
    for host in (f"localhost:{server.port}", f"127.0.0.1:{server.port}", f"LocalHost:{server.port}"):
        assert request(server, "GET", "/v1/models", headers={"Host": host})[0] == 200, host


def test_cors_only_for_the_allowed_origin(server: Server) -> None:
    preflight = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"}
    _, foreign, _ = request(
        server, "OPTIONS", "/v1/chat/completions", headers={"Origin": "http://evil.example", **preflight}
    )
    assert "access-control-allow-origin" not in foreign
    _, foreign_get, _ = request(server, "GET", "/v1/models", headers={"Origin": "http://evil.example"})
    assert "access-control-allow-origin" not in foreign_get

    status, allowed, _ = request(
        server, "OPTIONS", "/v1/chat/completions", headers={"Origin": ALLOWED_ORIGIN, **preflight}
    )
    assert status == 200
    assert allowed["access-control-allow-origin"] == ALLOWED_ORIGIN
    _, allowed_get, _ = request(server, "GET", "/v1/models", headers={"Origin": ALLOWED_ORIGIN})
    assert allowed_get["access-control-allow-origin"] == ALLOWED_ORIGIN


def test_bad_json_and_wrong_types_get_400_error_objects(server: Server) -> None:
    json_type = {"Content-Type": "application/json"}
    status, _, body = request(server, "POST", "/v1/chat/completions", b'{"messages": [', json_type)
    assert status == 400 and error_of(body)["code"] == "invalid_json"
    status, _, body = request(server, "POST", "/v1/chat/completions", b"[1, 2]", json_type)
    assert status == 400 and error_of(body)["code"] == "invalid_type"
    wrong = {"messages": [{"role": "user", "content": "hi"}], "max_tokens": "ten"}
    status, _, body = request(server, "POST", "/v1/chat/completions", json.dumps(wrong).encode(), json_type)
    error = error_of(body)
    assert status == 400 and error["code"] == "invalid_type" and error["param"] == "max_tokens"
    status, _, body = request(server, "POST", "/v1/completions", json.dumps({"prompt": 5}).encode(), json_type)
    assert status == 400 and error_of(body)["param"] == "prompt"
    status, _, body = request(server, "POST", "/v1/completions", json.dumps({"prompt": "a", "temperature": 9}).encode())
    assert status == 400 and "temperature" in error_of(body)["message"]
    status, _, body = request(server, "POST", "/detokenize", json.dumps({"tokens": [1, 10**9]}).encode())
    assert status == 400 and error_of(body)["param"] == "tokens"


def _raw_exchange(server: Server, head: bytes, body_parts: list[bytes]) -> bytes:
    """Send a request by hand (no client library pads or checks it) and read the answer's head."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=PATIENT_S) as sock:
        sock.sendall(head)
        for part in body_parts:
            sock.sendall(part)
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
        return answer


def test_a_9_mib_body_gets_413_before_it_is_read(server: Server) -> None:
    auth = f"Authorization: Bearer {KEY}\r\n".encode()
    host = f"Host: 127.0.0.1:{server.port}\r\n".encode()
    # Declared: refused on its Content-Length, before a byte of the body is read (none is sent).
    head = b"POST /v1/completions HTTP/1.1\r\n" + host + auth + b"Content-Length: 9437184\r\n\r\n"
    assert _raw_exchange(server, head, []).startswith(b"HTTP/1.1 413")
    # Chunked, no length given: refused once more than 8 MiB has arrived. Only that much is sent,
    # so the server closes a connection that holds nothing unread.
    chunk = b"x" * (1024 * 1024)
    chunks = [b"%x\r\n" % len(chunk) + chunk + b"\r\n"] * 8 + [b"400\r\n" + b"x" * 1024 + b"\r\n"]
    head = b"POST /v1/completions HTTP/1.1\r\n" + host + auth + b"Transfer-Encoding: chunked\r\n\r\n"
    answer = _raw_exchange(server, head, chunks)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert request(server, "GET", "/v1/models")[0] == 200  # and the server goes on


def test_listens_on_127_0_0_1_only(server: Server) -> None:
    listening = [c for c in psutil.Process(server.proc.pid).net_connections("inet") if c.status == psutil.CONN_LISTEN]
    assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", server.port)]
    for address in _other_addresses():
        try:
            with socket.create_connection((address, server.port), timeout=5):
                raise AssertionError(f"the server answered on {address}")
        except OSError:
            pass


def _other_addresses() -> list[str]:
    return [
        a.address
        for addresses in psutil.net_if_addrs().values()
        for a in addresses
        if a.family == socket.AF_INET and not a.address.startswith("127.")
    ]


def test_another_address_without_a_key_refuses_to_start(isolated_dirs: Path) -> None:
    result = subprocess.run(
        cli_command("serve", "--host", "0.0.0.0", "--port", "0"),
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_DESK_HOME": str(isolated_dirs), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=PATIENT_S,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: The server would listen on 0.0.0.0")
    assert "--api-key-file" in result.stderr
    assert "Serving" not in result.stdout


def test_sigterm_stops_the_server_and_its_host(own_server: Callable[..., Server]) -> None:
    running = own_server()
    assert "API key: none required" in "\n".join(running.banner)
    hosts = psutil.Process(running.proc.pid).children()
    assert len(hosts) == 1 and "runtime.chat.host" in " ".join(hosts[0].cmdline())
    # A stream in progress does not hold the stop up: its answer is cancelled.
    conn = http.client.HTTPConnection("127.0.0.1", running.port, timeout=PATIENT_S)
    stream = {"prompt": "Once upon a time", "max_tokens": 2000, "stream": True}
    conn.request("POST", "/v1/completions", body=json.dumps(stream))
    response = conn.getresponse()
    assert response.status == 200
    assert response.readline().startswith(b"data: ")
    assert running.stop(signal.SIGTERM) == 0, running.log()
    assert running.proc.stdout is not None and "Stopped." in running.proc.stdout.read()
    gone, alive = psutil.wait_procs(hosts, timeout=PATIENT_S)
    assert not alive
    conn.close()


def _serve_refusal(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command("serve", *args),
        cwd=REPO_ROOT,
        env={**os.environ, "ALPACA_DESK_HOME": str(home), "PYTHONIOENCODING": "utf-8"},
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=PATIENT_S,
        check=False,
    )


def test_a_taken_port_and_a_bad_key_file_are_refused_by_name(isolated_dirs: Path, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = _serve_refusal(isolated_dirs, "--port", str(port))
    assert busy.returncode == 2
    assert f"Cannot listen on 127.0.0.1:{port}" in busy.stderr and "--port" in busy.stderr
    missing = _serve_refusal(isolated_dirs, "--api-key-file", str(tmp_path / "no-such-key"))
    assert missing.returncode == 2 and "no-such-key" in missing.stderr
    two_lines = tmp_path / "key.txt"
    two_lines.write_text("one\ntwo\n", encoding="utf-8")
    bad = _serve_refusal(isolated_dirs, "--api-key-file", str(two_lines))
    assert bad.returncode == 2 and "one key on one line" in bad.stderr


def test_a_draft_mode_without_a_draft_model_is_refused_before_the_load(isolated_dirs: Path) -> None:
    refused = _serve_refusal(isolated_dirs, "--port", "0", "--speculative", "draft")
    assert refused.returncode == 2
    assert "--draft FILE" in refused.stderr and "Serving" not in refused.stdout
