"""The command line against servers that are not (or not quite) servicegraph servers,
and against input that is not a file: one clear line and a non-zero exit each time,
never a traceback, and never a wait beyond the deadline.

The fake servers are plain sockets on 127.0.0.1, in the test's own process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

#: A guard only, far beyond the deadline the commands are given: a command still
#: running then has hung.
GUARD = 120.0

#: The deadline given to the commands (seconds).
DEADLINE = "2"


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``servicegraph ARGS`` as its own process, as a person runs it."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SERVICEGRAPH_")}
    environ.update({"SERVICEGRAPH_CLI_TIMEOUT": DEADLINE, **env})
    return subprocess.run([sys.executable, "-m", "servicegraph.cli", *args],
                          capture_output=True, text=True, env=environ, cwd=tmp_path,
                          timeout=GUARD)


def one_line(out: subprocess.CompletedProcess[str], code: int) -> str:
    """The single line a failed command says, after checking there is nothing else."""
    assert out.returncode == code, (out.returncode, out.stdout, out.stderr)
    assert "Traceback" not in out.stderr + out.stdout, out.stderr
    lines = [line for line in out.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, out.stderr
    return lines[0]


Handler = Callable[[socket.socket], None]


@contextmanager
def fake_server(handle: Handler) -> Iterator[str]:
    """A server on 127.0.0.1 that gives each connection to ``handle`` (in a thread)."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    conns: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        for conn in conns:
            conn.close()


def read_request(conn: socket.socket) -> bytes:
    """The request's head (and what came with it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def answering(status: str, content_type: str, body: bytes) -> Handler:
    """A handler that answers every request alike."""
    def handle(conn: socket.socket) -> None:
        try:
            while read_request(conn):
                conn.sendall(f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
        except OSError:
            pass
    return handle


def never_answering(conn: socket.socket) -> None:
    """Reads the request, then holds the connection open and says nothing."""
    try:
        read_request(conn)
        while conn.recv(65536):
            pass
    except OSError:
        pass


def dripping(conn: socket.socket) -> None:
    """Answers a byte at a time, each well within any read timeout, for ever."""
    try:
        read_request(conn)
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Pad: "
        for byte in head:
            conn.sendall(bytes([byte]))
            time.sleep(0.05)
        while True:
            conn.sendall(b"a")
            time.sleep(0.2)
    except OSError:
        pass


QUESTIONS = [["impact", "web-1"], ["spof"], ["catalogue", "promises"], ["nodes"],
             ["root-cause", "web-1"], ["matrix"], ["status", "mon", "web-1=down"]]


def test_a_server_that_never_answers_is_given_up_at_the_deadline(tmp_path: Path) -> None:
    with fake_server(never_answering) as url:
        out = run(["impact", "web-1", "--server", url], tmp_path)
    line = one_line(out, 1)
    assert f"no whole answer to POST /v1/impact from {url} within 2 s" in line
    assert "SERVICEGRAPH_CLI_TIMEOUT" in line


def test_a_server_that_drips_is_cut_off_at_the_deadline(tmp_path: Path) -> None:
    with fake_server(dripping) as url:
        out = run(["catalogue", "promises", "--server", url], tmp_path)
    line = one_line(out, 1)
    assert f"no whole answer to GET /v1/catalogue/promises from {url} within 2 s" in line


def test_a_web_page_is_not_an_answer(tmp_path: Path) -> None:
    page = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
    with fake_server(answering("200 OK", "text/html; charset=utf-8", page)) as url:
        for args in [*QUESTIONS, ["export"]]:
            line = one_line(run([*args, "--server", url], tmp_path), 1)
            assert line.startswith(f"{url}: the answer to "), line
            assert "text/html" in line and "servicegraph server" in line


def test_json_of_another_shape_is_not_an_answer(tmp_path: Path) -> None:
    from concurrent.futures import ThreadPoolExecutor

    for body in ({"hello": "world"}, [1, 2, 3], "a string", None):
        with fake_server(answering("200 OK", "application/json",
                                   json.dumps(body).encode())) as url, \
                ThreadPoolExecutor(4) as pool:
            # Each command a process of its own, a few at a time: the suite stays quick.
            runs = pool.map(lambda args: run([*args, "--server", url], tmp_path), QUESTIONS)
            for out in runs:
                line = one_line(out, 1)
                assert line.startswith(f"{url}: the answer to "), line
                assert "servicegraph server" in line


def test_json_right_outside_but_wrong_inside_is_not_an_answer(tmp_path: Path) -> None:
    # The outline of a single-points-of-failure answer, with entries that are not.
    body = {"single_points": [{"component": "db"}]}
    with fake_server(answering("200 OK", "application/json",
                               json.dumps(body).encode())) as url:
        line = one_line(run(["spof", "--server", url], tmp_path), 1)
    assert line.startswith(f"{url}: its answer is not a document this command can read")


def test_a_refusal_as_a_web_page_is_one_short_line(tmp_path: Path) -> None:
    page = b"<html><body>" + b"<p>Not here.</p>\n" * 500 + b"</body></html>"
    with fake_server(answering("404 Not Found", "text/html", page)) as url:
        line = one_line(run(["nodes", "--server", url], tmp_path), 2)
    assert line.startswith("the server refused (HTTP 404): <html><body><p>Not here.</p>")
    assert len(line) < 400


@pytest.mark.parametrize("url", ["http://[::1", "http://[::1]:notaport", "localhost:8000",
                                 "ftp://127.0.0.1/", "http://"])
def test_a_url_that_names_no_server(tmp_path: Path, url: str) -> None:
    line = one_line(run(["impact", "web-1", "--server", url], tmp_path), 2)
    assert line.startswith(repr(url)) and "give the server as http://HOST:PORT" in line


@pytest.mark.parametrize("key", ["abc\r\nX-Injected: yes", "abc\ndef", "clé-secrète",
                                 "two words"])
def test_a_key_that_cannot_be_sent(tmp_path: Path, key: str) -> None:
    with fake_server(answering("200 OK", "application/json", b"{}")) as url:
        out = run(["nodes", "--server", url, "--api-key", key], tmp_path)
    line = one_line(out, 2)
    assert line.startswith("the API key holds a space, a line break, a control or a "
                           "non-ASCII character")
    assert key not in out.stderr  # a key is never echoed


def test_a_device_is_not_read(tmp_path: Path) -> None:
    out = run(["import", "csv", "/dev/zero", "--source", "s", "--store",
               str(tmp_path / "g.db")], tmp_path)
    assert one_line(out, 2) == ("/dev/zero: not a regular file (a FIFO, a device or a "
                                "socket): give a file")
    assert not (tmp_path / "g.db").exists()


def test_a_fifo_is_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "nodes.csv"
    os.mkfifo(fifo)
    for args in (["import", "csv", str(fifo), "--source", "s"], ["push", "s", str(fifo)],
                 ["load", str(fifo)], ["changes", "assess", str(fifo)]):
        out = run([*args, "--store", str(tmp_path / "g.db")], tmp_path)
        assert one_line(out, 2) == (f"{fifo}: not a regular file (a FIFO, a device or a "
                                    "socket): give a file"), args
    assert not (tmp_path / "g.db").exists()


def test_a_file_over_the_bound_is_not_read(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("nodes: []\n" + "# padding\n" * 200)
    for args in (["push", "s", str(big)], ["load", str(big)],
                 ["import", "backstage", str(big), "--source", "s"]):
        out = run([*args, "--store", str(tmp_path / "g.db")], tmp_path,
                  SERVICEGRAPH_CLI_MAX_FILE_BYTES="1000")
        assert one_line(out, 2) == (f"{big}: larger than 1000 bytes, the most a command "
                                    "reads (set SERVICEGRAPH_CLI_MAX_FILE_BYTES to read "
                                    "larger files)"), args
    # Within the bound, the same file is read.
    out = run(["push", "s", str(big), "--store", str(tmp_path / "g.db")], tmp_path,
              SERVICEGRAPH_CLI_MAX_FILE_BYTES="4096")
    assert out.returncode == 0, out.stderr


def dripping_body(conn: socket.socket) -> None:
    """Sends its head at once, then a long body a byte at a time."""
    try:
        read_request(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 1000000\r\n\r\n")
        while True:
            conn.sendall(b" ")
            time.sleep(0.2)
    except OSError:
        pass


@pytest.mark.parametrize("handle", [never_answering, dripping, dripping_body])
def test_the_client_keeps_its_deadline_whatever_the_server_does(handle: Handler) -> None:
    from servicegraph.client import DeadlineError, ServiceGraphClient

    with fake_server(handle) as url, ServiceGraphClient(url, deadline=1.0, retries=2,
                                                        backoff=0.1) as client:
        with pytest.raises(DeadlineError, match="no whole answer to GET /v1/matrix"):
            client.matrix()
        # The next call has a deadline of its own.
        with pytest.raises(DeadlineError):
            client.nodes()
