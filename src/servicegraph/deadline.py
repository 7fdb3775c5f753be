"""A deadline for a whole HTTP exchange, however slowly the other side sends.

httpx's timeouts bound each read and each write, not the exchange: a server that
sends a byte every few seconds keeps a request going for ever, each read well within
its timeout. Here every socket operation of the exchange in progress waits at most
until that exchange's deadline, so the exchange ends by then, whatever the server
does::

    client = httpx.Client(transport=keep_deadlines(httpx.HTTPTransport()))
    with deadline(30.0):
        try:
            client.get(url)      # done, or an httpx.TimeoutException, within 30 s
        except httpx.TimeoutException:
            if expired():        # the deadline was the reason
                ...
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx


class _Deadline:
    """When the exchange in progress must be over, and whether it ran into that."""

    def __init__(self, at: float) -> None:
        self.at = at
        self.hit = False


#: The deadline of the exchange in progress in this context, if any.
_current: ContextVar[_Deadline | None] = ContextVar("servicegraph_deadline", default=None)

#: Bytes written per socket operation: each waits for the time left then.
_CHUNK = 64 * 1024


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Bound every socket operation in the block by ``seconds`` from now in all
    (``None``: only httpx's own timeouts)."""
    token = _current.set(None if seconds is None else _Deadline(time.monotonic() + seconds))
    try:
        yield
    finally:
        _current.reset(token)


def left() -> float | None:
    """Seconds left before the deadline of the block this runs in (``None``: none)."""
    current = _current.get()
    return None if current is None else current.at - time.monotonic()


def expired() -> bool:
    """Whether the deadline of the block this runs in has cut an operation short, or
    passed."""
    current = _current.get()
    return current is not None and (current.hit or time.monotonic() >= current.at)


@contextmanager
def _bounded(timeout: float | None, error: type[httpcore.TimeoutException]
             ) -> Iterator[float | None]:
    """``timeout`` shortened to the time left before the deadline (``error`` at once
    when none is left); a timeout of the shortened wait is the deadline's doing."""
    current = _current.get()
    if current is None:
        yield timeout
        return
    remaining = current.at - time.monotonic()
    if remaining <= 0:
        current.hit = True
        raise error("the deadline of the request passed")
    shortened = timeout is None or remaining < timeout
    try:
        yield remaining if shortened else timeout
    except httpcore.TimeoutException:
        current.hit = current.hit or shortened
        raise


class _Stream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with _bounded(timeout, httpcore.ReadTimeout) as wait:
            return self._inner.read(max_bytes, wait)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        # In pieces, so that a server reading slowly cannot stretch one write past
        # the deadline.
        for start in range(0, len(buffer), _CHUNK):
            with _bounded(timeout, httpcore.WriteTimeout) as wait:
                self._inner.write(buffer[start:start + _CHUNK], wait)

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        with _bounded(timeout, httpcore.ConnectTimeout) as wait:
            return _Stream(self._inner.start_tls(ssl_context, server_hostname, wait))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Opens connections that keep the deadline (:class:`_Stream`)."""

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        with _bounded(timeout, httpcore.ConnectTimeout) as wait:
            return _Stream(self._inner.connect_tcp(host, port, wait, local_address,
                                                   socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None
                            ) -> httpcore.NetworkStream:
        with _bounded(timeout, httpcore.ConnectTimeout) as wait:
            return _Stream(self._inner.connect_unix_socket(path, wait, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def keep_deadlines(transport: httpx.BaseTransport) -> httpx.BaseTransport:
    """``transport``, its connections made to keep :func:`deadline` (when it is httpx's
    own: other transports, such as the tests' mock ones, are returned as they are)."""
    # httpx does not let one pass httpcore a network backend; its pool keeps the one
    # it uses in this attribute (httpcore 1.x, every pool and proxy class).
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if isinstance(inner, httpcore.NetworkBackend) and not isinstance(inner, _Backend):
        pool._network_backend = _Backend(inner)  # type: ignore[union-attr]
    return transport
