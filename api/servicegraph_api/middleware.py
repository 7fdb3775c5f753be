"""Request observation: a request id, one structured log line, and metrics per request.

A request whose client hung up before sending its whole body is logged as a
``disconnect`` (not an error) and counted with status 499, whatever the app did.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicegraph_api.metrics import Metrics

#: The logger of the per-request lines; each record carries them in ``record.fields``.
access_log = logging.getLogger("servicegraph.api.access")

REQUEST_ID_HEADER = "x-request-id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
#: The route label of requests that matched no route (keeps label cardinality bounded).
UNMATCHED = "<unmatched>"
#: The status recorded for a request whose client hung up before its body was in
#: (nginx's "499 Client Closed Request"): no answer reached anyone.
CLIENT_CLOSED = 499


def request_id(headers: Headers) -> str:
    """The caller's request id when it is sane, else a new one."""
    given = headers.get(REQUEST_ID_HEADER, "")
    return given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex


class RouteTemplates:
    """The full path template of each route, router prefixes included.

    Recent FastAPI versions put the router's own route object (path without the
    prefix it was included under) in ``scope["route"]``; older ones a copy with
    the full path. Routes registered here answer with their full template;
    others with their own path.
    """

    def __init__(self) -> None:
        self._full: dict[int, str] = {}
        self._keep: list[object] = []

    def register(self, routes: list[Any], prefix: str) -> None:
        """Remember the routes of a router included under ``prefix``."""
        for route in routes:
            # The format, not the path: "/nodes/{node_id}", without the convertor.
            path = getattr(route, "path_format", None) or getattr(route, "path", None)
            if isinstance(path, str):
                self._full[id(route)] = prefix + path
                self._keep.append(route)

    def of(self, scope: Scope) -> str:
        """The template of the route that answered (``/v1/nodes/{node_id}``)."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED
        known = self._full.get(id(route))
        if known is not None:
            return known
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        return path if isinstance(path, str) else UNMATCHED


class ObservationMiddleware:
    """Pure ASGI middleware: it sees every answer, 413s and 500s included."""

    def __init__(self, app: ASGIApp, metrics: Metrics, templates: RouteTemplates) -> None:
        self.app = app
        self.metrics = metrics
        self.templates = templates

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = rid
        status = 500
        start = time.perf_counter()
        body_read = hung_up = False

        async def watched() -> Message:
            # A client that hangs up before its body is all in is a disconnect: whatever
            # the app answers then (a 400, an error) reaches nobody and is not the
            # server's fault.
            nonlocal body_read, hung_up
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_read = True
            elif message["type"] == "http.disconnect" and not body_read:
                hung_up = True
            return message

        async def observed(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, watched, observed)
        finally:
            elapsed = time.perf_counter() - start
            if hung_up:
                status = CLIENT_CLOSED
            route = self.templates.of(scope)
            method = str(scope.get("method", ""))
            self.metrics.observe(route, method, status, elapsed)
            client = scope.get("client")
            fields: dict[str, Any] = {
                "event": "disconnect" if hung_up else "request",
                "request_id": rid,
                "method": method,
                "path": scope.get("path", ""),
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
                "client": f"{client[0]}:{client[1]}" if client else None,
            }
            level = logging.ERROR if status >= 500 and not hung_up else logging.INFO
            access_log.log(level, "%s %s %s", method, fields["path"], status,
                           extra={"fields": fields})
