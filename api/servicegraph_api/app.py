"""The FastAPI application: one store, the routers, security, errors, observation."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from servicegraph import __version__
from servicegraph.core import ServiceGraph
from servicegraph.notify import DeliveryPolicy, Dispatcher, Subscriptions
from servicegraph.settings import Settings
from servicegraph.store.base import OutboxStore
from servicegraph_api import errors
from servicegraph_api.auth import KeyFile, Scope
from servicegraph_api.browser_guard import BrowserGuard
from servicegraph_api.deps import asked, authorize, require
from servicegraph_api.freshness import FreshnessMiddleware, attach_board, caught_up
from servicegraph_api.health import READY_TIMEOUT, Readiness
from servicegraph_api.limits import BodyLimitMiddleware, describe
from servicegraph_api.metrics import Metrics, shared_directory
from servicegraph_api.middleware import ObservationMiddleware, RouteTemplates
from servicegraph_api.paths import EncodedSlashMiddleware
from servicegraph_api.routers import (
    acknowledgements,
    alerts,
    catalogue,
    changes,
    export,
    graph,
    history,
    impact,
    imports,
    ingest,
    maintenance,
    model,
    ops,
    page,
    record,
    rootcause,
    spof,
    subscriptions,
    syncs,
)
from servicegraph_api.security_headers import SecurityHeadersMiddleware

log = logging.getLogger("servicegraph.api")

DESCRIPTION = """
Which promises break, for whom, why, and who must act.

The model (node kinds, the layer table, the propagation rules, the interchange and
answer formats) is described in [the model](/model.md) (`docs/model.md` in the
repository).

servicegraph models IT in the customer's language: **promises**, the **business
services** and **service acts** through which they are kept, the **service systems**
that perform the acts and the **CIs** beneath. Integrators push CI data and status;
everyone asks for impact.

**Security.** Send an API key as `Authorization: Bearer <key>` or `X-API-Key: <key>`.
GET routes and the questions asked by POST (impact, explanations, change assessment,
root cause: they write nothing) need the `read` scope; every write needs `ingest` or
`admin` (both imply `read`); purging retired items and webhook subscriptions need
`admin`. Keys are made
with `servicegraph keys add`. With no key configured the API is open and the server
binds to loopback only. `/healthz`, `/readyz` and the documentation are always open.

**Errors.** Every bad input gets a 4xx whose body says what is wrong: 422 lists each
offending item (`problems`: section, index, item, field, message), 404 names unknown
ids (and, of the first few, which are retired nodes and which ids the others likely
meant), 413 states the body size limit ({limit}). 503 means the store does not answer.

**Reading your writes.** Every answer of the graph's routes carries
`X-ServiceGraph-Version`, the graph version it reflects (for a write, at least the
version it wrote). The worker processes of one server announce each version they
commit to each other before the write's answer leaves, so any later question sees the
write whichever worker takes it. Against a server on another machine (or to be sure of
writes made elsewhere), send the version back as `X-ServiceGraph-Min-Version`: the
answer waits until the graph includes it (412 if the store does not show it in time).
"""

TAGS = [
    {"name": "integrators", "description": "Pushes of CI data and status from sources; the "
                                           "current impact and its live changes."},
    {"name": "impact", "description": "What-if: the impact of failing components."},
    {"name": "change impact", "description": "Planned changes assessed before they happen."},
    {"name": "single points of failure", "description": "What breaks a promise alone."},
    {"name": "root cause", "description": "Which single component explains what is seen."},
    {"name": "record", "description": "Was each promise kept over a period, and whose part "
                                      "failed: the promise record, per promise, provider, "
                                      "owner and business service."},
    {"name": "catalogues", "description": "The three catalogues (promises, service systems, "
                                          "service acts) and the silo x service matrix."},
    {"name": "graph", "description": "Node and edge reads and writes; neighbourhoods."},
    {"name": "exports", "description": "The graph for other tools."},
    {"name": "subscriptions", "description": "Webhooks: promise events pushed to receivers, "
                                             "signed, at least once, in order."},
    {"name": "operations", "description": "Health, readiness and metrics."},
]

#: Routers that only answer questions (their POSTs write nothing): the ``read`` scope.
QUESTIONS = (impact.router, changes.router, spof.router, rootcause.router, catalogue.router,
             export.router, page.api_router, record.router, history.router)
#: Routers that read and write: GET needs ``read``, writes ``ingest`` or ``admin``.
READ_WRITE = (graph.router, ingest.router, syncs.router, imports.router, alerts.router,
              maintenance.router, acknowledgements.router)


def _dispatcher(settings: Settings, served: ServiceGraph) -> Dispatcher | None:
    """Start this process's webhook dispatcher (only the lease holder of all the
    processes on the store delivers)."""
    if not isinstance(served.store, OutboxStore):
        return None
    policy = DeliveryPolicy(
        allowed_networks=tuple(settings.subscription_allowed_networks),
        timeout=settings.subscription_timeout_seconds,
        max_attempts=settings.subscription_max_attempts,
        backoff=settings.subscription_backoff_seconds,
        backoff_max=settings.subscription_backoff_max_seconds,
        lease_seconds=settings.subscription_lease_seconds,
        interval=settings.subscription_interval_seconds,
        keep_days=settings.subscription_keep_days)
    dispatcher = Dispatcher(served.store, served.replica, served.questions, policy)
    dispatcher.start()
    return dispatcher


def create_app(settings: Settings | None = None, *, graph: ServiceGraph | None = None,
               ready_timeout: float = READY_TIMEOUT) -> FastAPI:
    """The HTTP API.

    Parameters
    ----------
    settings : Settings, optional
        Read from the environment when not given.
    graph : ServiceGraph, optional
        Serve this graph instead of opening ``settings.store`` (tests, embedding).
        The app closes only what it opened: a graph passed in stays open.
    ready_timeout : float
        Seconds ``/readyz`` waits for the store before answering 503.
    """
    settings = settings or Settings()
    metrics = Metrics(settings.metrics_max_sources, shared=shared_directory())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = graph is None
        served = ServiceGraph.open(settings) if graph is None else graph
        app.state.graph = served
        # The workers of one server tell each other the versions they commit, so that
        # questions ask the store only when there is something newer.
        board = attach_board(served, settings) if owned else None
        app.state.readiness = Readiness(ready_timeout)

        def broken_now() -> float:
            try:
                counts = served.questions.current(limit=1, explain=False)["counts"]
                return float(counts["broken_promises"])
            except Exception:  # the store may be down: a scrape must still answer
                return float("nan")

        # Read at scrape time, so the gauge is right from the start, not from the
        # first push after a restart.
        metrics.broken_promises.set_function(broken_now)
        log.info("serving %s", served.store.description)
        if owned and settings.follow_interval > 0:
            # Reads the graph now (not at the first question) and keeps up with the
            # other processes' writes, so their events reach this process's listeners.
            served.background.follow(settings.follow_interval)
        if owned:
            served.background.save_snapshots(settings.snapshot_interval)
        # Only a server that opened its store delivers: a graph passed in (tests,
        # embedding) belongs to its owner, who starts a dispatcher if it wants one.
        dispatcher = _dispatcher(settings, served) if owned else None
        app.state.subscriptions = Subscriptions(served.store,  # type: ignore[arg-type]
                                                settings.subscription_allowed_networks)
        try:
            yield
        finally:
            if dispatcher is not None:
                dispatcher.close()
            app.state.readiness.close()
            metrics.close()
            if owned:
                served.close()
            if board is not None:
                board.close()

    app = FastAPI(
        title="servicegraph",
        version=__version__,
        summary="Service impact in the customer's language: promises, acts, systems, CIs.",
        description=DESCRIPTION.replace("{limit}", describe(settings.max_body_bytes)),
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    keys = app.state.keys = KeyFile(settings.api_keys_file)

    errors.register(app)
    app.include_router(ops.router)
    app.include_router(model.router)
    app.include_router(page.router)
    templates = RouteTemplates()
    common = errors.responses(*errors.COMMON)
    # Reads and writes of the graph take a read-your-writes token (412 out of reach).
    asking = errors.responses(*errors.COMMON, 412)
    for router in QUESTIONS:
        app.include_router(router, prefix="/v1", responses=asking,
                           dependencies=[Depends(asked), Depends(require(Scope.READ)),
                                         Depends(caught_up)])
        templates.register(router.routes, "/v1")
    for router in READ_WRITE:
        app.include_router(router, prefix="/v1", responses=asking,
                           dependencies=[Depends(asked), Depends(authorize),
                                         Depends(caught_up)])
        templates.register(router.routes, "/v1")
    app.include_router(subscriptions.router, prefix="/v1", responses=common,
                       dependencies=[Depends(asked), Depends(require(Scope.ADMIN))])
    templates.register(subscriptions.router.routes, "/v1")
    # Added last = outermost: observation sees every answer, 413s included.
    app.add_middleware(FreshnessMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(EncodedSlashMiddleware)
    # Inside observation, so that refused requests are logged and counted too.
    app.add_middleware(BrowserGuard, keyless=lambda: not keys.configured(),
                       allowed_hosts=settings.allowed_hosts,
                       trusted_origins=settings.trusted_origins)
    app.add_middleware(ObservationMiddleware, metrics=metrics, templates=templates)
    app.add_middleware(SecurityHeadersMiddleware)  # outside all: on every answer
    return app
