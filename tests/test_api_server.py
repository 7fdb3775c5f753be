"""The API as a real server process (``servicegraph serve``), with real sockets: slow
clients cannot hold connections for ever, a client that hangs up mid-upload is a
disconnect (not a server error), ids with ``/`` route by their encoded path."""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
import time
from pathlib import Path
from urllib.parse import quote

import httpx

from servers import Server, serve

#: Generous: the server is given 1 s, the test allows for a loaded machine.
BOUND = 45.0


def slow_clients(server: Server, count: int) -> list[socket.socket]:
    """``count`` connections that each start a request and never finish its headers."""
    socks = []
    for _ in range(count):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        s.setblocking(False)
        socks.append(s)
    return socks


def test_slow_clients_cannot_hold_connections_open(tmp_path: Path) -> None:
    env = {"SERVICEGRAPH_HEADER_TIMEOUT_SECONDS": "1"}
    with serve(tmp_path, str(tmp_path / "g.db"), env=env) as server:
        socks = slow_clients(server, 300)
        answers: dict[socket.socket, bytes] = {s: b"" for s in socks}
        selector = selectors.DefaultSelector()
        for s in socks:
            selector.register(s, selectors.EVENT_READ)
        open_ = set(socks)
        deadline = time.monotonic() + BOUND
        next_trickle = 0.0
        while open_ and time.monotonic() < deadline:
            if time.monotonic() >= next_trickle:
                # One more header line a while: each client keeps "sending its request".
                for s in list(open_):
                    with contextlib.suppress(OSError):
                        s.send(b"X-Slow: 1\r\n")
                next_trickle = time.monotonic() + 0.3
            for key, _ in selector.select(timeout=0.1):
                s = key.fileobj
                assert isinstance(s, socket.socket)
                try:
                    chunk = s.recv(4096)
                except ConnectionResetError:
                    chunk = b""
                except BlockingIOError:
                    continue
                answers[s] += chunk
                if not chunk:
                    selector.unregister(s)
                    open_.discard(s)
        # Meanwhile the server kept answering everyone else.
        assert httpx.get(f"{server.url}/healthz", timeout=10).status_code == 200
        for s in socks:
            s.close()
        assert not open_, f"{len(open_)} of 300 slow connections still open after {BOUND} s"
        assert all(a.startswith(b"HTTP/1.1 408 ") for a in answers.values())


def test_a_client_hanging_up_mid_upload_is_a_disconnect(tmp_path: Path) -> None:
    with serve(tmp_path, str(tmp_path / "g.db")) as server:
        for path, content_type in (("/v1/sources/bulk/push.ndjson", "application/x-ndjson"),
                                   ("/v1/sources/bulk/push", "application/json")):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            s.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
                      f"Content-Length: 1000000\r\n\r\n".encode()
                      + b'{"node": {"id": "a", "kind": "ci", "name": "A"}}\n' * 10)
            time.sleep(0.2)
            s.close()
        # Both requests are over once the metrics count them (no timing is assumed).
        deadline = time.monotonic() + BOUND
        while time.monotonic() < deadline:
            metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
            counted = [line for line in metrics.splitlines()
                       if line.startswith("servicegraph_http_requests_total")
                       and "/v1/sources/{source}/push" in line]
            if len(counted) >= 2:
                break
            time.sleep(0.2)
        assert len(counted) == 2, metrics
        assert all('status="499"' in line for line in counted), counted
        records = [json.loads(line) for line in server.output().splitlines()
                   if line.startswith("{")]
        assert not [r for r in records if r["level"] in ("error", "critical")], records
        hangups = [r for r in records if r.get("event") == "disconnect"]
        assert {r["route"] for r in hangups} == {"/v1/sources/{source}/push",
                                                 "/v1/sources/{source}/push.ndjson"}


def test_ids_with_slashes_over_a_real_server(tmp_path: Path) -> None:
    with serve(tmp_path, str(tmp_path / "g.db")) as server:
        node = "db/primary%1"
        url = f"{server.url}/v1/nodes/{quote(node, safe='')}"
        r = httpx.put(url, json={"kind": "ci", "name": "Primary"}, timeout=10)
        assert r.status_code == 201, r.text
        assert httpx.get(url, timeout=10).json()["id"] == node
        assert httpx.get(f"{url}/provenance", timeout=10).json()["id"] == node
        assert httpx.options(url, timeout=10).headers["allow"] == "GET, PUT, DELETE, OPTIONS"
