"""Root-cause candidates for what is observed failing."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from servicegraph.impact.rootcause import root_cause_candidates
from servicegraph.model.kinds import State
from servicegraph_api.deps import GraphDep
from servicegraph_api.errors import responses
from servicegraph_api.schemas import RootCauseOut, RootCauseRequest

router = APIRouter(tags=["root cause"])


@router.post(
    "/root-cause", response_model=RootCauseOut, summary="Root-cause candidates",
    description="Given nodes observed down or degraded, the single components whose failure "
                "alone would explain them: full explainers first, then by most observations "
                "explained, fewest extra impacted nodes, id. Unknown ids answer 404; "
                "nothing observed failing answers 422.",
    responses=responses(404, 413),
)
def root_cause(body: RootCauseRequest, graph: GraphDep) -> JSONResponse:
    observed = {node: State.parse(state) for node, state in body.observed.items()}
    found = root_cause_candidates(graph.index(), observed, limit=body.limit)
    return JSONResponse({"candidates": [c.to_dict() for c in found]})
