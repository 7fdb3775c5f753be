"""Library errors as HTTP answers, and the documented error responses of each route.

- :class:`~servicegraph.model.ValidationError` -> 422 with every problem
  (section, index, item, field, message); nothing was written.
- :class:`~servicegraph.model.UnknownNodeError` -> 404 naming the ids.
- ``ValueError`` from a library call -> 422 with its message.
- The store unreachable (Neo4j down, SQLite locked) -> 503; retry later.
- FastAPI's own request validation stays 422 in FastAPI's form.

Anything else is a bug: it is logged with its traceback and answered with a
bare 500 that leaks nothing.
"""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

import neo4j.exceptions
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from servicegraph.model.errors import UnknownNodeError, ValidationError
from servicegraph.store.base import StoreUnavailable
from servicegraph.store.neo4j import ChangeTooLarge
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


def _json(status: int, body: dict[str, Any], headers: dict[str, str] | None = None
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


def _too_big(request: Request, exc: Exception) -> JSONResponse:
    # A batch is one transaction; past Neo4j's transaction memory a retry cannot help.
    log.warning("batch too large for one transaction: %s %s", request.method,
                request.url.path)
    return _json(413, {"detail": f"{exc}; nothing was written"})


def _bug(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error in %s %s", request.method, request.url.path, exc_info=exc)
    return _json(500, {"detail": "internal error (a bug: it has been logged)"})


def register(app: FastAPI) -> None:
    """Install the handlers on ``app``."""
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(ValidationError, _validation)
    app.add_exception_handler(UnknownNodeError, _unknown)
    app.add_exception_handler(ValueError, _value)
    for unavailable in (StoreUnavailable, neo4j.exceptions.ServiceUnavailable,
                        neo4j.exceptions.SessionExpired, neo4j.exceptions.TransientError,
                        sqlite3.OperationalError):
        app.add_exception_handler(unavailable, _unavailable)
    app.add_exception_handler(ChangeTooLarge, _too_big)
    app.add_exception_handler(Exception, _bug)
