"""The request-size limit: a declared or streamed body past the limit gets a 413.

The middleware gives every request a :class:`BodyLimit` (``max_body_bytes``)
and counts the body as the app reads it: a ``Content-Length`` above the limit
is refused before a byte is read, a chunked body as soon as it passes the
limit. A route that streams a big NDJSON sync raises its own request's limit
to ``max_ndjson_bytes`` with the :func:`use_ndjson_limit` dependency (the
``NdjsonLimit`` alias in :mod:`servicegraph_api.deps`) and then reads
``request.stream()``; the same 413 applies beyond that limit.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SCOPE_KEY = "servicegraph.body_limit"


def describe(n: int) -> str:
    """A byte count for humans.

    >>> describe(16 * 1024 * 1024), describe(1500)
    ('16 MiB', '1500 bytes')
    """
    for unit, size in (("GiB", 1024 ** 3), ("MiB", 1024 ** 2), ("KiB", 1024)):
        if n >= size and n % size == 0:
            return f"{n // size} {unit}"
    return f"{n} bytes"


class BodyTooLarge(HTTPException):
    """413: the request body is larger than this route accepts."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(413, f"request body larger than the limit of {limit} bytes "
                              f"({describe(limit)})")


@dataclass
class BodyLimit:
    """The limit of one request, and how much of its body was read so far."""

    limit: int
    declared: int | None
    read: int = 0

    def check(self) -> None:
        """Raise :class:`BodyTooLarge` when the body is, or is declared, too large."""
        if (self.declared is not None and self.declared > self.limit) or self.read > self.limit:
            raise BodyTooLarge(self.limit)


class BodyLimitMiddleware:
    """Pure ASGI middleware counting each request's body against its limit."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            declared: int | None = int(Headers(scope=scope).get("content-length", ""))
        except ValueError:
            declared = None
        state = BodyLimit(self.max_body_bytes, declared)
        scope[SCOPE_KEY] = state

        async def limited() -> Message:
            state.check()
            message = await receive()
            if message["type"] == "http.request":
                state.read += len(message.get("body", b""))
                state.check()
            return message

        await self.app(scope, limited, send)


def use_ndjson_limit(request: Request) -> int:
    """Dependency: raise this request's body limit to ``max_ndjson_bytes``; returns it.

    Only for routes without a body parameter that read ``request.stream()``
    themselves (FastAPI reads declared bodies before dependencies run).
    """
    limit: int = request.app.state.settings.max_ndjson_bytes
    state = request.scope.get(SCOPE_KEY)
    if isinstance(state, BodyLimit):
        state.limit = limit
    return limit
