"""A bound on the time a client may take to send a request's headers.

uvicorn closes a connection left idle between requests (its keep-alive timeout),
but once a client has sent one byte of a request it waits for the rest for ever:
a few hundred clients sending their headers a byte at a time ("slow loris") hold
as many connections open indefinitely. :func:`protocol_with_header_timeout` makes
uvicorn's h11 protocol close a connection whose request headers are not complete
within the bound, counted from when the connection is ready for a request (opened,
or done with the previous response): with a 408 when part of a request had come,
silently when nothing had.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("servicegraph.api")


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's headers."""

    #: Seconds from "ready for a request" to its complete headers.
    header_timeout: float = 10.0

    _deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._follow()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop()
        super().connection_lost(exc)

    def _follow(self) -> None:
        """Arm the deadline while the connection waits for a request's headers (h11's
        peer state IDLE), disarm it once they are in."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if waiting and self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._expired)
        elif not waiting:
            self._stop()

    def _stop(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        started, _ = self.conn.trailing_data
        client = f"{self.client[0]}:{self.client[1]}" if self.client else "?"
        if started:
            log.info("closed the connection of %s: its request headers were not complete "
                     "within %s s", client, self.header_timeout)
            body = (f"request headers not complete within {self.header_timeout:g} s\n"
                    .encode("ascii"))
            self.transport.write(b"HTTP/1.1 408 Request Timeout\r\n"
                                 b"content-type: text/plain; charset=utf-8\r\n"
                                 b"connection: close\r\n"
                                 b"content-length: " + str(len(body)).encode() + b"\r\n\r\n"
                                 + body)
        self.transport.close()


def protocol_with_header_timeout(seconds: float) -> type[HeaderTimeoutProtocol]:
    """uvicorn's ``http`` protocol class, with this bound on the headers.

    >>> protocol_with_header_timeout(2.5).header_timeout
    2.5
    """
    attrs: dict[str, Any] = {"header_timeout": seconds}
    return type("HeaderTimeoutProtocol", (HeaderTimeoutProtocol,), attrs)


class EnvironmentProtocol(HeaderTimeoutProtocol):
    """The same, with the bound of ``SERVICEGRAPH_HEADER_TIMEOUT_SECONDS``: worker
    processes (``serve --workers``) build their server from the environment, and a
    class made at run time cannot be handed to them."""

    header_timeout = float(os.environ.get("SERVICEGRAPH_HEADER_TIMEOUT_SECONDS",
                                          HeaderTimeoutProtocol.header_timeout))
