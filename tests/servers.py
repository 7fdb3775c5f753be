"""Real API server processes for tests: ``servicegraph serve`` started as an OS process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def outside_address() -> str:
    """An address of this machine that is not loopback, so a request to it comes from a
    non-loopback client address (as a request from another machine would)."""
    found = json.loads(subprocess.run(["ip", "-j", "-4", "addr"], check=True,
                                      capture_output=True, text=True).stdout)
    for link in found:
        for addr in link.get("addr_info", []):
            if not addr["local"].startswith("127."):
                return str(addr["local"])
    raise RuntimeError("this machine has no IPv4 address besides loopback")


@dataclass
class Server:
    """A running server process."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        """What the server logged so far."""
        return self.log.read_text(errors="replace")


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path,
               timeout: float = 60.0) -> None:
    """Wait until ``url/healthz`` answers, or fail with the server's log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n"
                               f"{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within {timeout} s:\n"
                       f"{log.read_text(errors='replace')}")


@contextmanager
def serve(tmp_path: Path, store: str, *, host: str = "127.0.0.1",
          args: Sequence[str] = (), env: dict[str, str] | None = None,
          name: str = "server") -> Iterator[Server]:
    """``servicegraph serve`` on a free port over ``store``, stopped on exit."""
    port = free_port()
    log = tmp_path / f"{name}.log"
    environ = {**os.environ, "SERVICEGRAPH_STORE": store,
               "SERVICEGRAPH_API_KEYS_FILE": str(tmp_path / "keys.json"), **(env or {})}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "servicegraph.cli", "serve", "--host", host,
             "--port", str(port), *args], stdout=out, stderr=subprocess.STDOUT, env=environ,
            cwd=tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log)
        yield Server(url, port, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
