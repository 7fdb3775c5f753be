"""Single points of failure: one promise's, and ranked across the catalogue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from servicegraph.impact.spof import single_points_of_failure, spof_ranking
from servicegraph_api.deps import GraphDep
from servicegraph_api.errors import responses
from servicegraph_api.paths import SEGMENT
from servicegraph_api.schemas import PromiseSpofOut, SpofRankingOut

router = APIRouter(tags=["single points of failure"])


@router.get(
    "/promises/{promise_id:" + SEGMENT + "}/spof", response_model=PromiseSpofOut,
    summary="Single points of failure of a promise",
    description="Every component (of any kind) whose failure alone breaks the promise, with "
                "every promise it breaks or puts at risk; most promises broken first, then "
                "by id. 404 for an unknown id, 422 for a node that is not a promise.",
    responses=responses(404),
)
def promise_spof(
    promise_id: Annotated[str, Path(description="a promise id, percent-encoded (`/` as `%2F`)",
                                    examples=["onboarding"])],
    graph: GraphDep,
) -> JSONResponse:
    points = single_points_of_failure(graph.index(), promise_id)
    return JSONResponse({"promise": promise_id, "single_points": [p.to_dict() for p in points]})


@router.get(
    "/spof", response_model=SpofRankingOut,
    summary="Single points of failure across the catalogue",
    description="Service systems and CIs whose failure alone breaks at least one promise, "
                "most promises broken first, then by id.",
)
def ranking(
    graph: GraphDep,
    limit: Annotated[int | None, Query(ge=1, le=10000, description="keep the first N",
                                       examples=[10])] = None,
) -> JSONResponse:
    points = spof_ranking(graph.index(), limit=limit)
    return JSONResponse({"single_points": [p.to_dict() for p in points]})
