"""How current an answer is, on every answer of the graph's routes, and how a client
asks for one at least as current as its own writes.

``X-ServiceGraph-Version`` names the graph version the answer reflects (on a write's
answer: at least the version it wrote); ``X-ServiceGraph-Stale: true`` says the
store did not answer the last time this process looked, so the answer is what this
process knew (questions keep being answered from memory while the store is away;
writes answer 503). A question looks only when a newer version was announced; the
background follower looks every ``follow_interval``.

``X-ServiceGraph-Min-Version``, sent by a client, is its read-your-writes token: the
version of its last write's answer (or of any answer it saw). The process taking
the request catches up to at least that version before answering, whichever
process or machine wrote it, waiting at most ``min_version_wait`` seconds for the
store to show it (then 412).

The worker processes of one server share a version board (see
:mod:`servicegraph.live.board`) in a fresh directory of their run, found through
the environment: :func:`version_board` makes it, :func:`attach_board` joins it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

from fastapi import Header, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicegraph.core import ServiceGraph
from servicegraph.live.board import BoardRejected, VersionBoard
from servicegraph.runtime.questions import ANSWERED, AnswerMark
from servicegraph.settings import Settings

log = logging.getLogger("servicegraph.api")

VERSION_HEADER = "x-servicegraph-version"
STALE_HEADER = "x-servicegraph-stale"
MIN_VERSION_HEADER = "X-ServiceGraph-Min-Version"
#: The board file of the server this process is a worker of (set by ``serve``).
BOARD_ENV = "SERVICEGRAPH_VERSION_BOARD"
#: The largest version a store can name (a signed 64-bit integer).
MAX_VERSION = 2**63 - 1


@contextmanager
def version_board() -> Iterator[Path]:
    """A fresh board file, in a directory readable by this user only, for the worker
    processes about to start (which find it in the environment); removed at the end.

    Fresh for each run, like the run itself: it holds no version before the workers
    read the graph.
    """
    directory = Path(tempfile.mkdtemp(prefix="servicegraph-run-"))
    path = directory / "versions"
    before = os.environ.get(BOARD_ENV)
    os.environ[BOARD_ENV] = str(path)
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(BOARD_ENV, None)
        else:
            os.environ[BOARD_ENV] = before
        shutil.rmtree(directory, ignore_errors=True)


def attach_board(graph: ServiceGraph, settings: Settings) -> VersionBoard | None:
    """Join the board of this server's run, if it has one and versions are announced;
    the board joined. Without one, questions ask the store (``check_interval``)."""
    found = os.environ.get(BOARD_ENV)
    if not found or not settings.announce_versions:
        return None
    try:
        board = VersionBoard(Path(found), graph.store.description)
    except (OSError, ValueError, BoardRejected) as exc:
        log.warning("no version board (%s): every question asks the store", exc)
        return None
    graph.replica.announce_on(board)
    return board


async def caught_up(request: Request, min_version: Annotated[int | None, Header(
        alias=MIN_VERSION_HEADER, ge=0, le=MAX_VERSION, description=(
            "Read-your-writes token: answer only from a graph that includes at least "
            "this version (the `X-ServiceGraph-Version` of the client's last write, "
            "through whichever server process or machine). The answer waits for it up "
            "to the server's `min_version_wait` seconds; 412 when the store does not "
            "show it by then."), examples=[1])] = None) -> None:
    """Catch up to the client's token before its request is handled. ``async`` so that
    a request without one costs no thread; with one, the wait runs in a worker thread."""
    if min_version is None:
        return
    graph: ServiceGraph = request.app.state.graph
    settings: Settings = request.app.state.settings
    if not await run_in_threadpool(graph.replica.reach, min_version,
                                   settings.min_version_wait):
        raise HTTPException(412, detail=(
            f"{MIN_VERSION_HEADER}: {min_version} is ahead of the store, which shows "
            f"version {graph.version} after {settings.min_version_wait:g} s; a cluster "
            "member may still lag behind the write (retry), or the version was not "
            "given by this service's store"), headers={"Retry-After": "1"})


class FreshnessMiddleware:
    """Pure ASGI middleware adding the two headers to answers under ``prefix``."""

    def __init__(self, app: ASGIApp, prefix: str = "/v1/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).startswith(self.prefix):
            await self.app(scope, receive, send)
            return

        async def marked(message: Message) -> None:
            graph = getattr(scope["app"].state, "graph", None)
            if message["type"] == "http.response.start" and graph is not None:
                # The freshness the answer was read at, when a question read the graph;
                # else the graph's now (memory only: no store I/O on the event loop).
                fresh = mark.freshness or graph.questions.freshness()
                headers = MutableHeaders(scope=message)
                # A write's answer names at least the version it wrote: the token its
                # client sends back to read its write wherever it asks next.
                headers[VERSION_HEADER] = str(max(fresh.version, mark.written or 0))
                headers[STALE_HEADER] = "true" if fresh.stale else "false"
            await send(message)

        mark = AnswerMark()
        token = ANSWERED.set(mark)
        try:
            await self.app(scope, receive, marked)
        finally:
            ANSWERED.reset(token)
