"""Real API server processes for tests: ``servicegraph serve`` started as an OS process."""

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

#: Ports already handed out in this process: the kernel may offer a released port again
#: at once, and two parts of one test (a receiver, then a server) must not share one.
_GIVEN: set[int] = set()


def free_port() -> int:
    """A TCP port nobody listens on now, and not handed out before in this process."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


@dataclass(frozen=True)
class Namespace:
    """A network namespace of the test's own, joined to this one by a veth pair: a
    host that is not loopback, for requests that must come from "another machine"."""

    name: str
    #: The namespace's address (where a server inside it listens).
    inside: str
    #: This side's address (where requests from inside come from, and go to).
    outside: str

    def run(self, *command: str) -> list[str]:
        """``command`` as run inside the namespace."""
        return ["ip", "netns", "exec", self.name, *command]


@contextmanager
def namespace() -> Iterator[Namespace]:
    """A fresh network namespace with a veth pair to this one, removed on exit.

    Its addresses are in 198.18.0.0/15, the range set aside for network tests
    (RFC 2544): no real host is there. Needs root (CI runs as root).
    """
    tag = f"{os.getpid() % 10000}{int(time.monotonic() * 1000) % 100:02d}"
    name, here, there = f"sgns{tag}", f"sgh{tag}", f"sgn{tag}"
    third = int(tag) % 250 + 1
    net = Namespace(name, inside=f"198.18.{third}.2", outside=f"198.18.{third}.1")

    def ip(*args: str) -> None:
        subprocess.run(["ip", *args], check=True, capture_output=True)

    ip("netns", "add", name)
    try:
        ip("link", "add", here, "type", "veth", "peer", "name", there)
        ip("link", "set", there, "netns", name)
        ip("addr", "add", f"{net.outside}/30", "dev", here)
        ip("link", "set", here, "up")
        ip("netns", "exec", name, "ip", "addr", "add", f"{net.inside}/30", "dev", there)
        ip("netns", "exec", name, "ip", "link", "set", there, "up")
        ip("netns", "exec", name, "ip", "link", "set", "lo", "up")
        yield net
    finally:
        subprocess.run(["ip", "link", "del", here], capture_output=True)
        subprocess.run(["ip", "netns", "del", name], capture_output=True)


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
          name: str = "server", inside: Namespace | None = None) -> Iterator[Server]:
    """``servicegraph serve`` on a free port over ``store``, stopped on exit; run in the
    network namespace ``inside`` when given (its URL is then the namespace's address)."""
    port = free_port()
    log = tmp_path / f"{name}.log"
    environ = {**os.environ, "SERVICEGRAPH_STORE": store,
               "SERVICEGRAPH_API_KEYS_FILE": str(tmp_path / "keys.json"), **(env or {})}
    with log.open("wb") as out:
        command = [sys.executable, "-m", "servicegraph.cli", "serve", "--host", host,
                   "--port", str(port), *args]
        process = subprocess.Popen(inside.run(*command) if inside else command, stdout=out,
                                   stderr=subprocess.STDOUT, env=environ, cwd=tmp_path)
    url = f"http://{inside.inside if inside else '127.0.0.1'}:{port}"
    try:
        wait_ready(url, process, log)
        yield Server(url, port, process, log)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    """Ask a process to stop (SIGTERM), and kill it if it has not within 20 s."""
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def example_store(tmp_path: Path) -> str:
    """The example enterprise in a fresh embedded store, loaded by the command line as a
    person would; the store's path."""
    from servicegraph.examples import example_text

    source = tmp_path / "enterprise.yaml"
    source.write_text(example_text(), encoding="utf-8")
    store = str(tmp_path / "graph.db")
    subprocess.run([sys.executable, "-m", "servicegraph.cli", "load", str(source),
                    "--store", store], check=True, capture_output=True)
    return store
