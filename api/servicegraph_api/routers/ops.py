"""Operations: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from servicegraph_api.deps import GraphDep, MetricsDep, authorize
from servicegraph_api.errors import responses
from servicegraph_api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["operations"])
log = logging.getLogger("servicegraph.api")


@router.get(
    "/healthz", response_model=HealthOut, summary="Liveness",
    description="Answers 200 while the process lives; it does not touch the store.",
)
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=ReadyOut, summary="Readiness",
    description="200 when the store answers a trivial query now, else 503 with the reason "
                "(after at most 5 s). The store is asked on every call, so readiness comes "
                "back by itself when Neo4j does.",
    responses={503: {"model": ReadyOut, "description": "The store does not answer.",
                     "content": {"application/json": {"example": {
                         "status": "unavailable", "store": "neo4j:bolt://db:7687/neo4j",
                         "reason": "ServiceUnavailable: Couldn't connect to db:7687"}}}}},
)
def readyz(graph: GraphDep, request: Request) -> JSONResponse:
    store = graph.store.description
    reason = request.app.state.readiness.check(graph)
    if reason is not None:
        log.warning("not ready: %s", reason)
        return JSONResponse({"status": "unavailable", "store": store, "reason": reason}, 503)
    return JSONResponse({"status": "ready", "store": store, "reason": None})


@router.get(
    "/metrics", summary="Prometheus metrics",
    description="Requests by route template, method and status; request latencies; items "
                "pushed by source and kind; promises currently broken. Needs the `read` "
                "scope when API keys are configured.",
    dependencies=[Depends(authorize)],
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}, "example":
                     "servicegraph_broken_promises 0.0\n"}},
                     "description": "The Prometheus text exposition format."},
               **responses(401, 403)},
)
def metrics(metrics: MetricsDep) -> Response:
    return Response(metrics.render(), media_type=metrics.content_type)
