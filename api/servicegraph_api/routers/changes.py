"""Change impact: planned changes judged before they happen."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from servicegraph.impact.change import PlannedChange
from servicegraph.model.kinds import State
from servicegraph_api.deps import QuestionsDep
from servicegraph_api.errors import responses
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import ChangeAssessmentOut, ChangesRequest

router = APIRouter(prefix="/changes", tags=["change impact"], route_class=ModelRoute)


@router.post(
    "/assess", response_model=ChangeAssessmentOut, summary="Assess planned changes",
    description="Each change takes its components down (or degrades them) for a time window. "
                "Answers each change's impact alone (the promises it breaks or puts at risk, "
                "every node it impacts) and the conflicts: pairs of changes whose windows "
                "overlap and whose combined impact is worse than either alone, e.g. two "
                "members of a 2-of-3 redundancy group patched by two teams at once. "
                "Windows are half-open; give times with a UTC offset. Unknown components "
                "answer 404; duplicate change ids, an end not after its start or mixed "
                "naive and aware times answer 422.",
    responses=responses(404, 413),
)
def assess(body: ChangesRequest, questions: QuestionsDep) -> dict[str, Any]:
    return questions.assess([PlannedChange(c.id, tuple(c.components), c.start, c.end,
                                           State.parse(c.state)) for c in body.changes])
