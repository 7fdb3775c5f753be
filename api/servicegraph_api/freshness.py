"""How current an answer is, on every answer of the graph's routes.

``X-ServiceGraph-Version`` names the graph version the answer reflects;
``X-ServiceGraph-Stale: true`` says the store did not answer when it was asked, so
the answer is what this process knew (questions keep being answered from memory
while the store is away; writes answer 503).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicegraph.runtime.questions import ANSWERED, AnswerMark

VERSION_HEADER = "x-servicegraph-version"
STALE_HEADER = "x-servicegraph-stale"


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
                headers[VERSION_HEADER] = str(fresh.version)
                headers[STALE_HEADER] = "true" if fresh.stale else "false"
            await send(message)

        mark = AnswerMark()
        token = ANSWERED.set(mark)
        try:
            await self.app(scope, receive, marked)
        finally:
            ANSWERED.reset(token)
