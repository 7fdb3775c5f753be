"""What-if impact: which promises break, for whom, why, and who must act."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path

from servicegraph_api import examples
from servicegraph_api.answers import JsonAnswer
from servicegraph_api.deps import AnswerSizeDep, QuestionsDep
from servicegraph_api.errors import responses
from servicegraph_api.paths import SEGMENT
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import ImpactOut, ImpactRequest, NodeExplanationOut

router = APIRouter(prefix="/impact", tags=["impact"], route_class=ModelRoute)

_BODY_EXAMPLES = {
    "data feed": {"summary": "The new-hire data feed fails",
                  "value": examples.IMPACT_REQUEST},
    "redundancy": {"summary": "Two of three web servers fail",
                   "value": {"down": ["web-1", "web-2"]}},
    "degraded": {"summary": "The storage array only degrades",
                 "value": {"degraded": ["san"]}},
}
Scenario = Annotated[ImpactRequest, Body(openapi_examples=_BODY_EXAMPLES)]


@router.post(
    "", response_model=ImpactOut, summary="Impact of a hypothetical failure (what-if)",
    description="Given components that fail (`down`) or degrade (`degraded`), answers the "
                "promises broken and at risk, the service acts and business services "
                "affected, the providers who must act (their components failed) or are "
                "affected, with `counts` of each, and a page of the impacted nodes "
                "(`limit`, `offset`, filtered by `kind` or by the body's `within`). Each "
                "listed node is explained: the dependencies that caused its state, the rule, "
                "and `via`, the next hop of a shortest chain back to a failed component; "
                "promises carry the whole `chain`. Nothing is written. Unknown ids answer "
                "404 naming them.",
    responses=responses(404, 413),
)
def what_if(scenario: Scenario, questions: QuestionsDep, size: AnswerSizeDep) -> JsonAnswer:
    return JsonAnswer(questions.impact(scenario.down, scenario.degraded,
                                       **size.of(within=scenario.within)))


@router.post(
    "/explain/{node_id:" + SEGMENT + "}", response_model=NodeExplanationOut,
    summary="Why one node is in its state under a scenario",
    description="The explanation of one node under the scenario in the body (same body as "
                "`POST /v1/impact`): its state, the rule that set it, its causes and the chain "
                "back to a failed component. A node the scenario leaves ok answers state "
                "`ok` with no causes; an unknown node answers 404.",
    responses=responses(404, 413),
)
def explain(node_id: Annotated[str, Path(description="the node to explain, percent-encoded "
                                                     "(`/` as `%2F`)",
                                         examples=["web-tier"])],
            scenario: Scenario, questions: QuestionsDep) -> JsonAnswer:
    return JsonAnswer(questions.explain(node_id, scenario.down, scenario.degraded))
