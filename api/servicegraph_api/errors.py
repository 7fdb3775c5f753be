"""Library errors as HTTP answers, and the documented error responses of each route.

- :class:`~servicegraph.model.ValidationError` -> 422 with every problem
  (section, index, item, field, message); nothing was written.
- :class:`~servicegraph.model.UnknownNodeError` -> 404 naming the ids.
- ``ValueError`` from a library call -> 422 with its message.
- The store unreachable (Neo4j down, SQLite locked) -> 503; retry later.
- A request that runs out of memory (``MemoryError``) -> 503 saying it was too large
  to process: the store's transaction was not committed, so nothing was written, and
  the process goes on answering.
- A request that does not fit the schema answers 422 with FastAPI's ``detail``
  list (without the input, which may be large) and the same ``problems`` as the
  graph rules, each naming its item; a body sent without a JSON (or, where
  accepted, YAML) content type answers 415 saying what to send.
- A path no route has answers 404 saying so (and, for a trailing slash, the path
  without it); a method a path does not have answers 405 listing in ``Allow``
  every method the path has; ``OPTIONS`` answers 204 with that ``Allow``.

Anything else is a bug: it is logged with its traceback and answered with a
bare 500 that leaks nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import Scope

from servicegraph.model.acknowledgements import NotImpacted
from servicegraph.model.bounds import DESCRIPTION_PATTERN, IDENTIFIER_PATTERN, LINE_PATTERN
from servicegraph.model.errors import (
    Problem,
    UnknownEdgeError,
    UnknownNodeError,
    ValidationError,
    short,
    show,
)
from servicegraph.runtime import SpofPending
from servicegraph.runtime.unknown import hints
from servicegraph.store.base import ChangeTooLarge, StoreError, StoreUnavailable, SyncClosed
from servicegraph_api.limits import BodyTooLarge
from servicegraph_api.media import accepted_media, is_json
from servicegraph_api.middleware import CLIENT_CLOSED
from servicegraph_api.schemas import ErrorOut

log = logging.getLogger("servicegraph.api")

#: What each documented error status means, for OpenAPI.
_MEANING = {
    400: "The body cannot be read at all (e.g. it is not UTF-8 text, or nested too deeply).",
    401: "No API key, or an unknown one (send `Authorization: Bearer <key>` or `X-API-Key`).",
    403: "The API key lacks the scope this route needs (`read` for GET and questions, "
         "`ingest` or `admin` for writes).",
    404: ("An id names nothing in the live graph; `ids` lists them, `retired` those that "
          "name retired nodes, `suggestions` the ids the others likely meant."),
    413: "The request body is larger than the configured limit (`limit_bytes`).",
    409: "The state forbids it: a sync session no longer open (committed, abandoned, "
         "expired or superseded by a newer full sync of its source; `state` names which: "
         "open a new one), or an acknowledgement of a node that is not failing or broken "
         "now (`node` names it).",
    412: "`X-ServiceGraph-Min-Version` names a version the store did not show within the "
         "server's wait (a cluster member lagging behind the write: retry after "
         "`Retry-After`; or a version of another store).",
    415: "The body was not sent as JSON (`Content-Type: application/json`; the push routes "
         "also take YAML): `detail` says what to send.",
    422: "The input is invalid: a request-shape error (FastAPI's `detail` list) or a graph "
         "rule broken (`problems`, each naming its item and field); nothing was written.",
    503: "The store does not answer (e.g. Neo4j is down); retry later. Also a request "
         "too large to process in the memory the server has; nothing was written.",
}

#: Statuses every route under /v1 may answer.
COMMON = (401, 403, 422, 503)


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries documenting these error statuses.

    A route that may answer 413 has a body, so it may answer 400 too (a body
    that cannot be decoded) and 415 (a body of another media type): asking for
    413 documents all three.
    """
    wanted = sorted({*codes, 400, 415} if 413 in codes else set(codes))
    return {code: {"model": ErrorOut, "description": _MEANING[code]} for code in wanted}


class ErrorResponse(JSONResponse):
    """An error as JSON. It may quote what was sent, and what was sent may hold text
    UTF-8 cannot carry (a lone surrogate, escaped in JSON as ``\\ud800``): such an
    answer is written with every non-ASCII character escaped, instead of failing."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except UnicodeEncodeError:
            return json.dumps(content, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")


def _json(status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
          ) -> JSONResponse:
    return ErrorResponse(status_code=status, content=body, headers=headers)


def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ValidationError)
    return _json(422, {"detail": str(exc), "problems": [p.to_dict() for p in exc.problems]})


#: Pattern -> what it asks for, in the words of the model's own messages.
_PATTERNS = {
    IDENTIFIER_PATTERN: "must be text not blank, without control characters",
    LINE_PATTERN: "must be text without control characters",
    DESCRIPTION_PATTERN: "must be text without control characters other than tab and "
                         "line breaks",
}


def _message(error: dict[str, Any]) -> str:
    ctx = error.get("ctx") or {}
    if error.get("type") == "string_pattern_mismatch" and ctx.get("pattern") in _PATTERNS:
        return _PATTERNS[ctx["pattern"]]
    if error.get("type") == "json_invalid":
        return f"not valid JSON: {short(str(ctx.get('error', '')), 200)}"
    if error.get("type") == "value_error" and "error" in ctx:  # our validators' own words
        return short(str(ctx["error"]), 300)
    return short(str(error.get("msg", "")), 300)


def _item(body: Any, section: str, index: int) -> str:
    """The name of ``body[section][index]``: its id, or `from -> to` for an edge."""
    try:
        raw = body[section][index]
    except (KeyError, IndexError, TypeError):
        return "?"
    if not isinstance(raw, dict):
        return "?"
    if section == "edges":
        ends = [raw.get(end) for end in ("from", "to")]
        return " -> ".join(short(e) if isinstance(e, str) else "?" for e in ends)
    name = raw.get("id") or raw.get("external_id")
    return show(name) if isinstance(name, str) else "?"


def _problem(error: dict[str, Any], body: Any, path_params: dict[str, Any]) -> Problem:
    """A request-shape error as a problem: where (section, index), which item, which
    field, what is wrong."""
    loc = [str(part) if not isinstance(part, int) else part for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        return Problem("document", None, "document", "",
                       f"{_message(error)} (at character {loc[-1] if loc else '?'})")
    where, rest = (loc[0], loc[1:]) if loc else ("body", [])
    if where == "body" and len(rest) >= 2 and isinstance(rest[1], int):
        section, index = str(rest[0]), rest[1]
        field = ".".join(str(part) for part in rest[2:])
        return Problem(section, index, _item(body, section, index), field, _message(error))
    field = ".".join(str(part) for part in rest)
    if where == "body":
        named = next((v for v in path_params.values() if isinstance(v, str)), None)
        return Problem("body", None, show(named) if named else "body", field,
                       _message(error))
    return Problem(str(where), None, field or str(where), field, _message(error))


def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [dict(e) for e in exc.errors()]
    if any(tuple(e.get("loc", ())) == ("body",) and e.get("type") != "missing"
           for e in errors):
        wrong = _media_problem(request)
        if wrong:
            return _json(415, {"detail": wrong})
    problems = [_problem(e, exc.body, dict(request.path_params)) for e in errors]
    # FastAPI's list, without the input: it may be the whole body, and a request
    # that does not fit is no reason to send it back.
    detail = [{"type": e.get("type"), "loc": list(e.get("loc", ())), "msg": _message(e)}
              for e in errors]
    return _json(422, {"detail": detail, "problems": [p.to_dict() for p in problems]})


def _media_problem(request: Request) -> str | None:
    """What to send instead, when the body was sent as something this route does not
    read; ``None`` when the content type is one it reads."""
    given = request.headers.get("content-type")
    if given and is_json(given):
        return None
    media = accepted_media(request.scope.get("route"))
    said = f"`Content-Type: {short(given, 60)}`" if given else "no `Content-Type`"
    return (f"the body was sent with {said}; send it as JSON with "
            f"`Content-Type: application/json`{media}")


#: A 404 looks at most this many of its ids up (retired? what was meant?), and suggests
#: only on a graph of at most this many nodes: what a refusal costs stays small.
HINTED_IDS = 5
SUGGEST_MAX_NODES = 50_000


def _unknown(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, UnknownNodeError)
    body: dict[str, Any] = {"detail": str(exc), "ids": list(exc.ids)}
    if not isinstance(exc, UnknownEdgeError):
        body.update(_hints(request, exc.ids))
    return _json(404, body)


def _hints(request: Request, ids: Sequence[str]) -> dict[str, Any]:
    """``retired`` (those of ``ids`` that name retired nodes, and since when) and
    ``suggestions`` (the live ids the others likely meant), when there are any."""
    graph = getattr(request.app.state, "graph", None)
    if graph is None:
        return {}
    try:
        retired, suggestions = hints(graph.questions, ids[:HINTED_IDS],
                                     suggest_max_nodes=SUGGEST_MAX_NODES)
    except Exception:  # the store not answering now: the ids alone say enough
        return {}
    return {k: v for k, v in (("retired", retired), ("suggestions", suggestions)) if v}


def _value(_: Request, exc: Exception) -> JSONResponse:
    return _json(422, {"detail": str(exc)})


def _too_large(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, BodyTooLarge)
    return _json(413, {"detail": exc.detail, "limit_bytes": exc.limit})


def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    log.warning("store unavailable during %s %s: %s", request.method, request.url.path, exc)
    return _json(503, {"detail": f"the store is unavailable: {type(exc).__name__}: {exc}"},
                 {"Retry-After": "5"})


def _sync_closed(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SyncClosed)
    if exc.state == "unknown":
        return _json(404, {"detail": f"no sync session {exc.session!r} of this source"})
    return _json(409, {"detail": f"{exc}: open a new one", "state": exc.state})


def _not_impacted(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NotImpacted)
    return _json(409, {"detail": str(exc), "node": exc.node})


def _spof_pending(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, SpofPending)
    return _json(503, {"detail": str(exc), "retry_after": exc.retry_after},
                 {"Retry-After": str(exc.retry_after)})


def _refused(request: Request, exc: Exception) -> JSONResponse:
    # The store refused for a reason of its own (not "cannot now"): a bug or a broken
    # store, not the caller's fault; logged with its cause.
    log.error("the store refused %s %s: %s", request.method, request.url.path, exc,
              exc_info=exc)
    return _json(500, {"detail": "the store refused the request (logged)"})


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
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        return _json(400, {"detail": _unreadable(exc.__cause__)})
    return _json(exc.status_code, {"detail": exc.detail}, exc.headers)


def _no_route(request: Request) -> str:
    path = request.url.path
    if path.endswith("/") and path != "/":
        bare = path.rstrip("/")
        if allowed_methods(request.scope, request.scope["path"].rstrip("/")):
            return f"no route {path}: drop the trailing slash ({bare})"
    return f"no route {path}; the routes are listed at /docs"


def _unreadable(cause: BaseException | None) -> str:
    """Why FastAPI could not read a body, in a line."""
    if isinstance(cause, RecursionError):
        return "the body is nested too deeply to read; nothing was written"
    if isinstance(cause, UnicodeDecodeError):
        return f"the body is not UTF-8 text (byte {cause.start}); nothing was written"
    reason = f": {short(str(cause), 200)}" if cause is not None else ""
    return f"the body cannot be read{reason}; nothing was written"


def _hung_up(_: Request, exc: Exception) -> Response:
    # Nobody is left to read an answer; the request observation logs the disconnect.
    return Response(status_code=CLIENT_CLOSED)


def _too_big(request: Request, exc: Exception) -> JSONResponse:
    # A batch is one transaction; past Neo4j's transaction memory a retry cannot help.
    log.warning("batch too large for one transaction: %s %s", request.method,
                request.url.path)
    return _json(413, {"detail": f"{exc}; nothing was written"})


def _out_of_memory(request: Request, exc: Exception) -> JSONResponse:
    # The request's own data is what filled memory; it is freed as the answer goes out,
    # so the process answers the next request. A retry of the same request cannot help.
    log.error("out of memory in %s %s", request.method, request.url.path)
    return _json(503, {"detail": "the request was too large to process in the memory the "
                                 "server has; nothing was written: send less at a time"})


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
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(ValidationError, _validation)
    app.add_exception_handler(UnknownNodeError, _unknown)
    app.add_exception_handler(NotImpacted, _not_impacted)
    app.add_exception_handler(ValueError, _value)
    app.add_exception_handler(ClientDisconnect, _hung_up)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(ChangeTooLarge, _too_big)
    app.add_exception_handler(SyncClosed, _sync_closed)
    app.add_exception_handler(StoreError, _refused)
    app.add_exception_handler(SpofPending, _spof_pending)
    app.add_exception_handler(MemoryError, _out_of_memory)
    app.add_exception_handler(Exception, _bug)
