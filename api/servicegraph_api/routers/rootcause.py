"""Root-cause candidates for what is observed failing."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from servicegraph.impact.rootcause import COMPONENTS
from servicegraph.model.kinds import State
from servicegraph_api.deps import QuestionsDep
from servicegraph_api.errors import responses
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import RootCauseOut, RootCauseRequest

router = APIRouter(tags=["root cause"], route_class=ModelRoute)


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
def root_cause(body: RootCauseRequest, questions: QuestionsDep) -> dict[str, Any]:
    return questions.root_cause(
        {node: State.parse(state) for node, state in body.observed.items()},
        limit=body.limit, kinds=COMPONENTS if body.kinds is None else frozenset(body.kinds))
