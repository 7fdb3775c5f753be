"""Root-cause candidates for what is observed failing."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from servicegraph.impact.rootcause import COMPONENTS, root_cause_candidates
from servicegraph.model.kinds import State
from servicegraph_api.deps import GraphDep
from servicegraph_api.errors import responses
from servicegraph_api.schemas import RootCauseOut, RootCauseRequest

router = APIRouter(tags=["root cause"])


@router.post(
    "/root-cause", response_model=RootCauseOut, summary="Root-cause candidates",
    description="Given what is observed (nodes down or degraded, and nodes seen ok), the "
                "components (service systems and CIs, or the `kinds` asked for) whose failure "
                "alone, down or only degraded, is consistent with every observation (it "
                "would make no node seen ok fail, nor any node worse than seen) and produces "
                "some of the failing ones. Ranked by the failing observations they explain, "
                "then the fewest failures they predict that nobody observed, then the "
                "evidence on the component itself, then id; each with the chain from every "
                "observation it explains back to it. Unknown ids answer 404; nothing "
                "observed failing answers 422.",
    responses=responses(404, 413),
)
def root_cause(body: RootCauseRequest, graph: GraphDep) -> JSONResponse:
    observed = {node: State.parse(state) for node, state in body.observed.items()}
    kinds = COMPONENTS if body.kinds is None else frozenset(body.kinds)
    found = root_cause_candidates(graph.index(), observed, limit=body.limit, kinds=kinds)
    return JSONResponse({"candidates": [c.to_dict() for c in found]})
