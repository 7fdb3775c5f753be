"""Dependencies of the routes, as typed aliases.

``GraphDep`` is the one :class:`~servicegraph.ServiceGraph` of the app (opened by
the lifespan); ``QuestionsDep`` and ``WriterDep`` its questions and its writes (what
the handlers call); ``TransitionsDep`` the transitions its store recorded (for the promise record);
``SettingsDep`` its settings; ``MetricsDep`` its metrics.
Access control, applied to the ``/v1`` routers by
:func:`~servicegraph_api.app.create_app`: routers that only answer questions
need ``read`` whatever the method (``require(Scope.READ)``); routers that write
get :func:`authorize` (GET needs ``read``, any other method ``ingest`` or
``admin``). :func:`require` also builds a stricter check for one route, e.g.
``dependencies=[Depends(require(Scope.ADMIN))]``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from servicegraph.core import ASKED_AT, ServiceGraph
from servicegraph.model.kinds import NodeKind
from servicegraph.runtime import PromiseFeed, Questions, Writer
from servicegraph.runtime.record import TransitionSource
from servicegraph.settings import Settings
from servicegraph_api.auth import ApiKey, KeyFile, KeyFileError, Scope, is_loopback
from servicegraph_api.limits import use_ndjson_limit
from servicegraph_api.metrics import Metrics, get_metrics


async def asked(request: Request) -> None:
    """Note when the question was asked: the graph looks at the store once for it.

    ``async`` on purpose: it runs in the request's own context (no I/O, no thread),
    so the moment it sets is seen by the handler that answers.
    """
    ASKED_AT.set(time.monotonic())


# The dependencies below only look something up: ``async``, so that FastAPI calls
# them on the event loop rather than handing each to a worker thread and back (a
# round trip per dependency per request, which a loaded machine makes costly).


async def get_graph(request: Request) -> ServiceGraph:
    """The app's service graph."""
    graph: ServiceGraph = request.app.state.graph
    return graph


async def get_questions(request: Request) -> Questions:
    """The app's questions."""
    graph: ServiceGraph = request.app.state.graph
    return graph.questions


async def get_writer(request: Request) -> Writer:
    """The app's writes."""
    graph: ServiceGraph = request.app.state.graph
    return graph.writes


async def get_feed(request: Request) -> PromiseFeed:
    """The app's promise feed."""
    graph: ServiceGraph = request.app.state.graph
    return graph.feed


async def get_transitions(request: Request) -> TransitionSource:
    """The recorded transitions of the app's store (``Questions.record_transitions``)."""
    graph: ServiceGraph = request.app.state.graph
    found: TransitionSource | None = getattr(graph.questions, "record_transitions", None)
    if found is None:
        raise HTTPException(501, "this server keeps no record of transitions")
    return found


async def get_settings(request: Request) -> Settings:
    """The app's settings."""
    settings: Settings = request.app.state.settings
    return settings


async def get_keys(request: Request) -> KeyFile:
    """The app's API keys."""
    keys: KeyFile = request.app.state.keys
    return keys


GraphDep = Annotated[ServiceGraph, Depends(get_graph)]
QuestionsDep = Annotated[Questions, Depends(get_questions)]
WriterDep = Annotated[Writer, Depends(get_writer)]
FeedDep = Annotated[PromiseFeed, Depends(get_feed)]
TransitionsDep = Annotated[TransitionSource, Depends(get_transitions)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
KeysDep = Annotated[KeyFile, Depends(get_keys)]
#: For the NDJSON sync route: raises this request's body limit to ``max_ndjson_bytes``.
NdjsonLimit = Annotated[int, Depends(use_ndjson_limit)]



@dataclass(frozen=True)
class AnswerSize:
    """How much of an impact answer to send: the query parameters of every route
    that answers one (``POST /v1/impact``, ``GET /v1/current``)."""

    limit: int = 1000
    offset: int = 0
    kind: NodeKind | None = None
    explain: bool = True

    def of(self, *, within: list[str] | None = None) -> dict[str, Any]:
        """The sizes as the questions take them, with the page restricted to ``within``."""
        return {"limit": self.limit, "offset": self.offset, "kind": self.kind,
                "within": within, "explain": self.explain}


async def answer_size(
    limit: Annotated[int, Query(ge=1, le=10000, examples=[1000], description=(
        "the most entries in each list of the answer (promises, acts, business services, "
        "providers, the page of impacted nodes); `counts` gives the totals"))] = 1000,
    offset: Annotated[int, Query(ge=0, examples=[0], description=(
        "impacted nodes to skip before the page"))] = 0,
    kind: Annotated[NodeKind | None, Query(examples=["ci"], description=(
        "only impacted nodes of this kind in the page"))] = None,
    explain: Annotated[bool, Query(examples=[True], description=(
        "explain the listed promises, acts, business services and the page's nodes"))] = True,
) -> AnswerSize:
    """The :class:`AnswerSize` asked for (on the event loop: see above)."""
    return AnswerSize(limit, offset, kind, explain)


AnswerSizeDep = Annotated[AnswerSize, Depends(answer_size)]

_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer sg_...`")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: sg_...`")

#: The principal of a request when no key is configured (the API is open).
OPEN = ApiKey("anonymous", "", (Scope.ADMIN,), "")

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_WRITE_SCOPES = (Scope.INGEST, Scope.ADMIN)


def _configured(keys: KeyFile) -> bool:
    try:
        return keys.configured()
    except KeyFileError:
        # Fail closed: an unreadable keys file is not "no keys". The log names the file;
        # the answer does not (it would show the server's file layout to anyone).
        raise HTTPException(503, "the server's API keys cannot be read, so every request "
                                 "that needs a key is refused; the server log says why") from None


def _caller(request: Request, keys: KeyFile, bearer: HTTPAuthorizationCredentials | None,
            header: str | None) -> ApiKey:
    if not _configured(keys):
        # Checked on every request, not only at start-up: a server started on a public
        # address with keys stays closed to other machines once its keys are gone.
        client = request.client.host if request.client is not None else None
        if not is_loopback(client):
            raise HTTPException(403, "no API key is configured on this server, so it answers "
                                     "only requests from its own machine (loopback); add a "
                                     "key with `servicegraph keys add NAME --scope read`")
        return OPEN
    presented = (bearer.credentials if bearer is not None else None) or header
    if not presented:
        raise HTTPException(401, "an API key is required: send `Authorization: Bearer <key>` "
                                 "or `X-API-Key: <key>`", {"WWW-Authenticate": "Bearer"})
    key = keys.authenticate(presented)
    if key is None:
        raise HTTPException(401, "unknown API key", {"WWW-Authenticate": "Bearer"})
    request.state.api_key = key.name
    return key


def _admit(request: Request, keys: KeyFile, bearer: HTTPAuthorizationCredentials | None,
           header: str | None, any_of: tuple[Scope, ...]) -> ApiKey:
    key = _caller(request, keys, bearer, header)
    if not key.allows(*any_of):
        wanted = " or ".join(s.value for s in any_of)
        raise HTTPException(403, f"the key {key.name!r} lacks the {wanted} scope")
    return key


# The checks of access run on the event loop too: a look at the keys file's stamp (it is
# read again only when it changed) and a SHA-256, cheaper than a worker thread's round trip.


def require(*any_of: Scope) -> Callable[..., Awaitable[ApiKey]]:
    """A dependency admitting keys that hold one of ``any_of`` (or imply it)."""
    async def check(request: Request, keys: KeysDep,
                    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                    header: Annotated[str | None, Depends(_header)]) -> ApiKey:
        return _admit(request, keys, bearer, header, any_of)
    return check


_read = require(Scope.READ)
_write = require(*_WRITE_SCOPES)
_admin = require(Scope.ADMIN)

#: A route parameter that admits keys with ``read`` (or more), e.g. ``key: ReadKey``.
ReadKey = Annotated[ApiKey, Depends(_read)]
#: Admits keys with ``ingest`` or ``admin``.
IngestKey = Annotated[ApiKey, Depends(_write)]
#: Admits keys with ``admin`` only.
AdminKey = Annotated[ApiKey, Depends(_admin)]


async def authorize(request: Request, keys: KeysDep,
                    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
                    header: Annotated[str | None, Depends(_header)]) -> ApiKey:
    """GET (and HEAD) needs ``read``; every other method ``ingest`` or ``admin``."""
    scopes = (Scope.READ,) if request.method in _READ_METHODS else _WRITE_SCOPES
    return _admit(request, keys, bearer, header, scopes)


#: The caller's key, for routes that want to know who calls.
CallerDep = Annotated[ApiKey, Depends(authorize)]
