"""Requests a browser was tricked into sending: cross-site writes and DNS rebinding.

Two checks, before any route runs:

- **Host.** Without any API key configured the API is open to this machine, so a
  page elsewhere must not reach it through a name that resolves to loopback (DNS
  rebinding: the attacker's name is rebound to ``127.0.0.1``, and the browser then
  treats the API as the attacker's own origin). The ``Host`` a request names must be
  loopback (``localhost``, ``127.0.0.0/8``, ``[::1]``, any port) or one of
  ``allowed_hosts``; anything else is answered 421. With keys configured the check
  applies only when ``allowed_hosts`` is set.
- **Origin.** A write (any method but GET, HEAD and OPTIONS) sent by a browser must
  come from the API's own origin. Browsers say where a request comes from: modern
  ones in ``Sec-Fetch-Site`` (``same-origin`` and ``none``, a request the user made
  directly, are accepted), all of them in ``Origin``, which must then name this
  server (the ``Host`` asked for) or one of ``trusted_origins``. Requests that carry
  neither (curl, scripts, the Python client, integrators) are not from a browser and
  pass. Anything else is answered 403. This holds with and without keys: a key in a
  browser's storage must not be usable by a page of another origin either.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``Sec-Fetch-Site`` values of requests the API's own pages, or the user, made.
_SAME_ORIGIN = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def split_host(value: str, default_port: int | None = None) -> tuple[str, int | None]:
    """The host name (lower case, without brackets or a final dot) and port of a
    ``Host`` header or an origin's authority.

    >>> split_host("LocalHost.:8000"), split_host("[::1]:9"), split_host("example.org", 80)
    (('localhost', 8000), ('::1', 9), ('example.org', 80))
    >>> split_host("bad:port")
    ('bad:port', None)
    """
    host, port = value.strip(), default_port
    if host.startswith("["):
        end = host.find("]")
        name, rest = host[1:end], host[end + 1:]
        if rest.startswith(":") and rest[1:].isdigit():
            port = int(rest[1:])
        return name.lower(), port
    if host.count(":") == 1:
        name, _, digits = host.partition(":")
        if not digits.isdigit():
            return host.lower(), None
        host, port = name, int(digits)
    return host.lower().rstrip("."), port


def is_loopback_name(host: str) -> bool:
    """Whether a host name, as a ``Host`` header gives it, can only mean this machine.

    >>> [is_loopback_name(h) for h in ("localhost", "127.0.0.9", "::1", "rebind.test")]
    [True, True, True, False]
    """
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _origin_of(value: str) -> tuple[str, str, int | None] | None:
    """Scheme, host and port of an ``Origin`` header; ``None`` for ``null`` or junk."""
    parts = urlsplit(value.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return None
    host, port = split_host(parts.netloc, _DEFAULT_PORTS[parts.scheme])
    return parts.scheme, host, port


class BrowserGuard:
    """Pure ASGI middleware refusing rebound ``Host`` names and cross-origin writes.

    Parameters
    ----------
    app : ASGIApp
        The application guarded.
    keyless : callable
        Whether the API is open now (no key configured); asked per request, since keys
        come and go while the server runs.
    allowed_hosts : collection of str
        Host names accepted besides loopback (``*`` accepts any).
    trusted_origins : collection of str
        Origins (``https://portal.example.org``) whose pages may write.
    """

    def __init__(self, app: ASGIApp, keyless: Callable[[], bool],
                 allowed_hosts: Collection[str] = (),
                 trusted_origins: Collection[str] = ()) -> None:
        self.app = app
        self.keyless = keyless
        self.any_host = "*" in allowed_hosts
        self.allowed_hosts = {split_host(h)[0] for h in allowed_hosts if h != "*"}
        self.trusted = {o for o in map(_origin_of, trusted_origins) if o is not None}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        problem = self._host_problem(scope, headers) or self._origin_problem(scope, headers)
        if problem is None:
            await self.app(scope, receive, send)
            return
        status, detail = problem
        body = json.dumps({"detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    def _host_problem(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        given = headers.get("host")
        if given is None or self.any_host:
            return None  # HTTP/1.0 without a Host: no browser sends that
        host, _ = split_host(given)
        if is_loopback_name(host) or host in self.allowed_hosts:
            return None
        if not self.allowed_hosts:
            if not self._keyless():
                return None  # keys guard the API; no host list was asked for
            client = scope.get("client")
            if client is not None and not is_loopback_name(split_host(client[0])[0]):
                # Another machine: the open API refuses it (403) whatever it names. A
                # rebound name always comes from a browser on this machine.
                return None
        return 421, (f"this server does not answer for the host {host!r}: it answers for "
                     "loopback names (localhost, 127.0.0.1, [::1])"
                     + (" and its allowed hosts" if self.allowed_hosts else "")
                     + "; add the name to SERVICEGRAPH_ALLOWED_HOSTS to serve it")

    def _keyless(self) -> bool:
        try:
            return self.keyless()
        except Exception:  # an unreadable keys file: the routes refuse (503) anyway
            return False

    def _origin_problem(self, scope: Scope, headers: Headers) -> tuple[int, str] | None:
        if scope.get("method", "GET") in _SAFE_METHODS:
            return None
        site = headers.get("sec-fetch-site")
        origin = headers.get("origin")
        if site in _SAME_ORIGIN or (site is None and origin is None):
            return None  # the API's own page, the user, or not a browser at all
        if origin is not None and self._allowed_origin(
                origin, None if site is not None else headers.get("host")):
            return None
        return 403, (f"a write from another web origin ({origin or site!r}) is refused: "
                     "a page may write only to the server that served it; other tools "
                     "send no Origin header (or list the origin in "
                     "SERVICEGRAPH_TRUSTED_ORIGINS)")

    def _allowed_origin(self, origin: str, host: str | None) -> bool:
        # With Sec-Fetch-Site the browser already said the request is cross-origin:
        # only a trusted origin passes. Without it, the origin must name this server.
        found = _origin_of(origin)
        if found is None:
            return False  # "null": a sandboxed frame, a file, a redirect across sites
        if found in self.trusted:
            return True
        scheme, name, port = found
        return host is not None and split_host(host, _DEFAULT_PORTS[scheme]) == (name, port)
