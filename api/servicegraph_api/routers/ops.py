"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from servicegraph_api.deps import GraphDep, MetricsDep, authorize
from servicegraph_api.errors import responses
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"], route_class=ModelRoute)
log = logging.getLogger("servicegraph.api")


@router.get(
    "/healthz", response_model=HealthOut, summary="Liveness",
    description="Answers 200 while the process lives. It touches neither the store nor "
                "the graph, and runs on the event loop itself, so no number of requests "
                "waiting on a slow store can hold it up.",
)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=ReadyOut, summary="Readiness",
    description="200 `ready` when the graph is in memory and the store answers a trivial "
                "query now. Otherwise 503, saying which: `loading` (the graph is being read "
                "at start-up), `stale` (the store does not answer: questions are answered "
                "from memory, as of `version`, marked stale; writes answer 503), or "
                "`unavailable` (no graph yet and no store). The store is asked on every "
                "call (at most 5 s), so readiness comes back by itself when it does.",
    responses={503: {"model": ReadyOut, "description": "Not ready: the status says why.",
                     "content": {"application/json": {"example": {
                         "status": "stale", "store": "neo4j:bolt://db:7687/neo4j",
                         "reason": "StoreUnavailable: Neo4j does not answer now",
                         "version": 1234, "stale_since": "2026-11-23T08:00:00.000000Z"}}}}},
)
def readyz(graph: GraphDep, request: Request) -> JSONResponse:
    store = graph.store.description
    reason = request.app.state.readiness.check(graph.questions)
    fresh = graph.questions.freshness()
    loaded = graph.loaded
    if reason is None and not loaded:
        graph.background.load_soon()
    if reason is None and loaded:
        return JSONResponse({"status": "ready", "store": store, "reason": None,
                             "version": fresh.version, "stale_since": None})
    status = "loading" if reason is None else "stale" if loaded else "unavailable"
    why = reason or "the graph is being read from the store"
    log.warning("not ready (%s): %s", status, why)
    return JSONResponse({"status": status, "store": store, "reason": why,
                         "version": fresh.version if loaded else None,
                         "stale_since": fresh.stale_since}, 503)


@router.get(
    "/metrics", summary="Prometheus metrics",
    description="Requests by route template, method and status; request latencies; items "
                "pushed by source and kind; promises currently broken. Under several "
                "worker processes every scrape answers the totals of all workers, "
                "whichever takes it, so counters never go back. The first "
                "`SERVICEGRAPH_METRICS_MAX_SOURCES` (default 100) distinct sources are "
                "counted under their own name, later ones under the source `<other>`. "
                "Needs the `read` scope when API keys are configured.",
    dependencies=[Depends(authorize)],
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}, "example":
                     "servicegraph_broken_promises 0.0\n"}},
                     "description": "The Prometheus text exposition format."},
               **responses(401, 403)},
)
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=metrics.content_type)
