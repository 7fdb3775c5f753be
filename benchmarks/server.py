"""``servicegraph serve`` as a real OS process for the benchmark."""

from __future__ import annotations

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
import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    started: float  # perf_counter when the process was spawned

    def rss(self) -> int:
        """Resident memory of the server and its worker processes, in bytes."""
        root = psutil.Process(self.process.pid)
        return sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def serve(work: Path, store: str, *, args: Sequence[str] = (), name: str = "server",
          env: dict[str, str] | None = None, timeout: float = 600.0) -> Iterator[Server]:
    """A server over ``store`` on a free loopback port, stopped on exit; waits until
    ``/healthz`` answers (the graph itself is read on the first question)."""
    work.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = work / f"{name}.log"
    environ = {**os.environ, "SERVICEGRAPH_STORE": store,
               "SERVICEGRAPH_API_KEYS_FILE": str(work / "keys.json"), **(env or {})}
    with log.open("wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "servicegraph.cli", "serve", "--port", str(port), *args],
            stdout=out, stderr=subprocess.STDOUT, env=environ, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{log.read_text(errors='replace')}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield Server(url, process, log, started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
