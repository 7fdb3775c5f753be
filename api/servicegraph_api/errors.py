"""Library errors as HTTP answers, and the documented error responses of each route.

- :class:`~servicegraph.model.ValidationError` -> 422 with every problem
  (section, index, item, field, message); nothing was written.
- :class:`~servicegraph.model.UnknownNodeError` -> 404 naming the ids.
- ``ValueError`` from a library call -> 422 with its message.
- The store unreachable (Neo4j down, SQLite locked) -> 503; retry later.
- FastAPI's own request validation stays 422 in FastAPI's form.
- A path no route has answers 404 saying so (and, for a trailing slash, the path
  without it); a method a path does not have answers 405 listing in ``Allow``
  every method the path has; ``OPTIONS`` answers 204 with that ``Allow``.

Anything else is a bug: it is logged with its traceback and answered with a
bare 500 that leaks nothing.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from typing import Any

import neo4j.exceptions
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import Scope

from servicegraph.model.errors import UnknownNodeError, ValidationError
from servicegraph_api.limits import BodyTooLarge
from servicegraph_api.schemas import ErrorOut

log = logging.getLogger("servicegraph.api")

#: What each documented error status means, for OpenAPI.
_MEANING = {
    400: "The body cannot be read at all (e.g. it is not UTF-8 text).",
    401: "No API key, or an unknown one (send `Authorization: Bearer <key>` or `X-API-Key`).",
    403: "The API key lacks the scope this route needs (`read` for GET and questions, "
         "`ingest` or `admin` for writes).",
    404: "An id names nothing in the graph; `ids` lists them.",
    413: "The request body is larger than the configured limit (`limit_bytes`).",
    422: "The input is invalid: a request-shape error (FastAPI's `detail` list) or a graph "
         "rule broken (`problems`, each naming its item and field); nothing was written.",
    503: "The store does not answer (e.g. Neo4j is down); retry later.",
}

#: Statuses every route under /v1 may answer.
COMMON = (401, 403, 422, 503)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries documenting these error statuses.

    A route that may answer 413 has a body, so it may answer 400 too (a body
    that cannot be decoded): asking for 413 documents both.
    """
    wanted = sorted({*codes, 400} if 413 in codes else set(codes))
    return {code: {"model": ErrorOut, "description": _MEANING[code]} for code in wanted}


def _json(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
          ) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return _json(422, {"detail": str(exc), "problems": [p.to_dict() for p in exc.problems]})


def _unknown(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownNodeError)
    return _json(404, {"detail": str(exc), "ids": list(exc.ids)})


def _value(_: Request, exc: Exception) -> JSONResponse:
    return _json(422, {"detail": str(exc)})


def _too_large(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return _json(413, {"detail": exc.detail, "limit_bytes": exc.limit})


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    if str(getattr(exc, "code", "")).endswith("MemoryPoolOutOfMemoryError"):
        # A batch is one transaction; past Neo4j's transaction memory limit a retry
        # cannot succeed, so say so instead of inviting one.
        log.warning("batch too large for one Neo4j transaction: %s %s", request.method,
                    request.url.path)
        return _json(413, {"detail": "the batch is too large for one Neo4j transaction "
                                     "(dbms.memory.transaction.total.max): split it into "
                                     "smaller pushes, or give Neo4j more heap; nothing was "
                                     f"written. Neo4j said: {exc}"})
    log.warning("store unavailable during %s %s: %s", request.method, request.url.path, exc)
    return _json(503, {"detail": f"the store is unavailable: {type(exc).__name__}: {exc}"},
                 {"Retry-After": "5"})


#: The methods a path may have, in the order ``Allow`` lists them.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(scope: Scope, path: str | None = None) -> list[str]:
    """Every method some route of the app answers on ``path`` (default: the request's),
    ``OPTIONS`` included when there is any; empty when no route has the path."""
    routes = scope["app"].router.routes
    found = []
    for method in METHODS:
        probe: Scope = {"type": "http", "method": method, "path": path or scope["path"],
                        "root_path": scope.get("root_path", ""), "headers": []}
        if any(route.matches(probe)[0] is Match.FULL for route in routes):
            found.append(method)
    return [*found, "OPTIONS"] if found else []


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 405:
        # The router names the methods of the first route that has the path only;
        # the path may have more (GET, PUT and DELETE /v1/nodes/{id}).
        allow = allowed_methods(request.scope)
        headers = {**(exc.headers or {}), "Allow": ", ".join(allow)}
        if request.method == "OPTIONS":
            return Response(status_code=204, headers=headers)
        return _json(405, {"detail": f"{request.method} is not a method of "
                                     f"{request.url.path}: use {', '.join(allow)}"}, headers)
    if exc.status_code == 404 and exc.detail == "Not Found":  # the router's: no route
        return _json(404, {"detail": _no_route(request)})
    return _json(exc.status_code, {"detail": exc.detail}, exc.headers)


def _no_route(request: Request) -> str:
    path = request.url.path
    if path.endswith("/") and path != "/":
        bare = path.rstrip("/")
        if allowed_methods(request.scope, request.scope["path"].rstrip("/")):
            return f"no route {path}: drop the trailing slash ({bare})"
    return f"no route {path}; the routes are listed at /docs"


def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, {"detail": "internal error (a bug: it has been logged)"})


def register(app: FastAPI) -> None:
    """Install the handlers on ``app``.

    Also turns off the redirect of a trailing slash: an empty 307 leaves most API
    clients (which do not follow a redirect of a POST) with nothing to go on; the
    404 says what to do instead.
    """
    app.router.redirect_slashes = False
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(ValidationError, _validation)
    app.add_exception_handler(UnknownNodeError, _unknown)
    app.add_exception_handler(ValueError, _value)
    for unavailable in (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired,
                        neo4j.exceptions.TransientError, sqlite3.OperationalError):
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(Exception, _bug)
