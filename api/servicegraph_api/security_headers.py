"""Security headers on every answer: a content security policy, no framing, no sniffing,
no referrer.

Every answer carries ``X-Frame-Options: DENY``, ``X-Content-Type-Options: nosniff``,
``Referrer-Policy: no-referrer`` and a ``Content-Security-Policy`` with
``frame-ancestors 'none'``, so no other site can frame the explorer (clickjacking) and
a browser never guesses a script out of an answer. The policy depends on what answers:

- the dependency explorer (``/`` and ``/page/...``) loads only its own files:
  scripts, styles, API calls and images from the server itself, no inline script or
  style (:data:`PAGE_POLICY`);
- the interactive API documentation (``/docs``, its OAuth2 redirect and ``/redoc``)
  is FastAPI's: Swagger UI and ReDoc come from the jsDelivr CDN and start with an
  inline script, and ReDoc draws with inline styles and a worker, so those routes
  alone allow exactly that (:data:`DOCS_POLICY`);
- everything else (JSON, exports, the event stream, ``/model.md``) is data, never a
  document to render: nothing may load from it (:data:`API_POLICY`).

An answer that sets one of these headers itself keeps its own value. Added outermost,
the middleware sees every answer the app gives, refusals and errors included, except a
bug's bare 500: Starlette answers an unhandled exception in its own outermost layer,
which no middleware added to the app wraps.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: The explorer: its own files only (Cytoscape draws on a canvas and styles its elements
#: through the DOM, which a policy does not restrict; its one inline ``<style>`` is
#: already in the page's stylesheet, see ``index.html``).
PAGE_POLICY = ("default-src 'self'; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: Swagger UI and ReDoc as FastAPI serves them: bundles and styles from jsDelivr, an
#: inline start script, ReDoc's fonts from Google Fonts, its inline styles and its
#: ``blob:`` worker, FastAPI's favicon.
DOCS_POLICY = ("default-src 'self'; "
               "script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
               "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net "
               "https://fonts.googleapis.com; "
               "font-src 'self' https://fonts.gstatic.com; "
               "img-src 'self' data: https://fastapi.tiangolo.com https://cdn.jsdelivr.net; "
               "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
#: Data answers: nothing to load, nothing to frame.
API_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

#: The same on every answer, whatever its policy.
COMMON = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
}

#: Where FastAPI serves its documentation unless the app says otherwise.
_DOCS_DEFAULTS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def docs_paths(app: object) -> frozenset[str]:
    """The paths of the interactive documentation of ``app`` (a FastAPI app), or
    FastAPI's defaults for anything else.

    >>> sorted(docs_paths(object()))
    ['/docs', '/docs/oauth2-redirect', '/redoc']
    """
    names = ("docs_url", "swagger_ui_oauth2_redirect_url", "redoc_url")
    if not all(hasattr(app, name) for name in names):
        return frozenset(_DOCS_DEFAULTS)
    return frozenset(p for p in (getattr(app, name) for name in names) if isinstance(p, str))


def policy_for(path: str, docs: frozenset[str]) -> str:
    """The content security policy of the answer to ``path``.

    >>> policy_for("/", frozenset()) == PAGE_POLICY
    True
    >>> policy_for("/page/app/main.js", frozenset()) == PAGE_POLICY
    True
    >>> policy_for("/docs", frozenset({"/docs"})) == DOCS_POLICY
    True
    >>> policy_for("/v1/nodes", frozenset({"/docs"})) == API_POLICY
    True
    """
    if path == "/" or path.startswith("/page/"):
        return PAGE_POLICY
    if path in docs:
        return DOCS_POLICY
    return API_POLICY


class SecurityHeadersMiddleware:
    """Pure ASGI middleware adding the security headers to every HTTP answer.

    Parameters
    ----------
    app : ASGIApp
        The application it wraps.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = policy_for(str(scope.get("path", "")), docs_paths(scope.get("app")))

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", policy)
                for name, value in COMMON.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, guarded)
