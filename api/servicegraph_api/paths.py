"""Ids in URL paths: one path segment each, percent-encoded (``/`` as ``%2F``).

Ids come from integrators and may hold any character, ``/`` included. A client
puts one in a path percent-encoded, as HTTP and OpenAPI say (``a/b`` is
``a%2Fb``), so it stays one segment. Starlette routes on the decoded path, where
``a%2Fb`` and ``a/b`` look alike, so :class:`EncodedSlashMiddleware` gives the
router the path with ``%2F`` (and ``%25``, so a literal ``%2F`` in an id stays
what it is) still encoded, and routes name their id parameters with the
``segment`` convertor (``/nodes/{node_id:segment}``), which decodes the two.

Importing this module registers the convertor; a router module using it imports
:data:`SEGMENT` before declaring its routes.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send

#: The convertor name for id parameters: ``"/nodes/{node_id:" + SEGMENT + "}"``.
SEGMENT = "segment"

_KEPT = re.compile("(%2[Ff]|%25)")
_DECODE = re.compile("%(2[Ff]|25)")


def decode_segment(value: str) -> str:
    """A path segment as the router sees it, decoded to the id it carries.

    >>> decode_segment("a%2Fb"), decode_segment("100%25"), decode_segment("a%252F")
    ('a/b', '100%', 'a%2F')
    """
    return _DECODE.sub(lambda m: "/" if m.group(1) in ("2F", "2f") else "%", value)


def encode_segment(value: str) -> str:
    """Inverse of :func:`decode_segment` (for building URLs).

    >>> encode_segment("a/b%")
    'a%2Fb%25'
    """
    return value.replace("%", "%25").replace("/", "%2F")


class SegmentConvertor(Convertor[str]):
    """One path segment, its ``%2F`` and ``%25`` decoded."""

    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return decode_segment(value)

    def to_string(self, value: str) -> str:
        return encode_segment(value)


register_url_convertor(SEGMENT, SegmentConvertor())


def routing_path(path: str, raw_path: bytes | None, root_path: str = "") -> str:
    """The path to route on: the raw path decoded, but for ``%2F`` and ``%25``.

    The raw path is what the client sent; ``path`` is only used when the server
    gave none (then a ``%`` in it is written ``%25``, so decoding gives it back).

    >>> routing_path("/v1/nodes/a/b", b"/v1/nodes/a%2fb")
    '/v1/nodes/a%2Fb'
    >>> routing_path("/v1/nodes/caf\u00e9", b"/v1/nodes/caf%C3%A9?q=1")
    '/v1/nodes/caf\xe9'
    >>> routing_path("/v1/nodes/100%", None)
    '/v1/nodes/100%25'
    """
    if raw_path is None:
        return path.replace("%", "%25")
    raw = raw_path.split(b"?", 1)[0].decode("latin-1")
    kept = "".join(part.upper() if _KEPT.fullmatch(part) else unquote(part)
                   for part in _KEPT.split(raw))
    # Servers disagree on whether the raw path holds the root path; the path does.
    if root_path and path.startswith(root_path) and not kept.startswith(root_path):
        kept = root_path + kept
    return kept


class EncodedSlashMiddleware:
    """Pure ASGI middleware: route on the path with ``%2F`` and ``%25`` kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            raw = scope.get("raw_path")
            scope["path"] = routing_path(scope["path"], raw if isinstance(raw, bytes) else None,
                                         scope.get("root_path", ""))
        await self.app(scope, receive, send)
