"""Single points of failure: one promise's, and ranked across the catalogue.

Both are answered from the table the server keeps per structure of the graph
(:class:`~servicegraph.impact.spof_cache.SpofCache`): at once when it is current;
while a newer graph is being computed, from the previous table marked with its
version, ``current: false`` and ``Retry-After``; before any table exists, 503 with
``Retry-After``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from servicegraph.impact.spof_table import COMPONENT_KINDS
from servicegraph.model.kinds import NodeKind
from servicegraph.runtime import SpofPage
from servicegraph_api.deps import QuestionsDep
from servicegraph_api.errors import responses
from servicegraph_api.paths import SEGMENT
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import PromiseSpofOut, SpofPendingOut, SpofRankingOut

router = APIRouter(tags=["single points of failure"], route_class=ModelRoute)

_PENDING: dict[int | str, dict[str, Any]] = {503: {"model": SpofPendingOut, "description": (
    "No single points of failure are computed yet for this graph (or the store does not "
    "answer): ask again after `Retry-After` seconds.")}}

Limit = Annotated[int, Query(ge=1, le=10000, examples=[100],
                             description="the most single points in the answer")]
Offset = Annotated[int, Query(ge=0, examples=[0],
                              description="single points to skip before the page")]


def _answered(page: SpofPage, response: Response) -> dict[str, Any]:
    if not page.current:
        response.headers["Retry-After"] = str(page.retry_after)
    return page.body


@router.get(
    "/promises/{promise_id:" + SEGMENT + "}/spof", response_model=PromiseSpofOut,
    summary="Single points of failure of a promise",
    description="Every component (of any kind) whose failure alone breaks the promise, with "
                "every promise it breaks or puts at risk; most promises broken first, then "
                "by id, a page of them (`limit` from `offset`; `page.total` counts them all). "
                "`version` is the graph version they were computed on, `current` whether "
                "the graph's dependencies are still those (else a newer answer is being "
                "computed: see `Retry-After`). 404 for an unknown id, 422 for a node that is "
                "not a promise, 503 with `Retry-After` before anything is computed.",
    responses={**responses(404), **_PENDING},
)
def promise_spof(
    promise_id: Annotated[str, Path(description="a promise id, percent-encoded (`/` as `%2F`)",
                                    examples=["onboarding"])],
    questions: QuestionsDep,
    response: Response,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    return _answered(questions.promise_spof(promise_id, limit=limit, offset=offset), response)


@router.get(
    "/spof", response_model=SpofRankingOut,
    summary="Single points of failure across the catalogue",
    description="Components of the given kinds (service systems and CIs unless `kind` says "
                "otherwise) whose failure alone breaks at least one promise, most promises "
                "broken first, then by id: a page of them (`limit` from `offset`; "
                "`page.total` counts them all). `version`, `current` and 503 as for one "
                "promise.",
    responses=_PENDING,
)
def ranking(
    questions: QuestionsDep,
    response: Response,
    limit: Limit = 100,
    offset: Offset = 0,
    kind: Annotated[list[NodeKind] | None, Query(
        examples=[["ci"]], description="only components of these kinds (repeat to name "
                                       "several); promises are never components")] = None,
) -> dict[str, Any]:
    return _answered(questions.spof_ranking(kinds=kind or COMPONENT_KINDS, limit=limit,
                                            offset=offset), response)
