"""Single points of failure: one promise's, and ranked across the catalogue.

Both are answered from the table the server keeps per structure of the graph
(:class:`~servicegraph.impact.spof_cache.SpofCache`): at once when it is current;
while a newer graph is being computed, from the previous table marked with its
version, ``current: false`` and ``Retry-After``; before any table exists, 503 with
``Retry-After``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from servicegraph.impact.spof_cache import SpofAnswer, SpofResult
from servicegraph.impact.spof_table import COMPONENT_KINDS, SinglePoint
from servicegraph.ingest.status import iso
from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.kinds import NodeKind
from servicegraph_api.deps import GraphDep
from servicegraph_api.errors import responses
from servicegraph_api.paths import SEGMENT
from servicegraph_api.schemas import PromiseSpofOut, SpofPendingOut, SpofRankingOut

router = APIRouter(tags=["single points of failure"])

_PENDING: dict[int | str, dict[str, Any]] = {503: {"model": SpofPendingOut, "description": (
    "No single points of failure are computed yet for this graph (or the store does not "
    "answer): ask again after `Retry-After` seconds.")}}

Limit = Annotated[int, Query(ge=1, le=10000, examples=[100],
                             description="the most single points in the answer")]
Offset = Annotated[int, Query(ge=0, examples=[0],
                              description="single points to skip before the page")]


def _pending(retry_after: int) -> JSONResponse:
    return JSONResponse(
        {"detail": "the single points of failure are being computed; ask again in "
                   f"{retry_after} s", "retry_after": retry_after},
        503, {"Retry-After": str(retry_after)})


def _answer(found: SpofAnswer, result: SpofResult, points: list[SinglePoint], total: int,
            limit: int, offset: int, **extra: Any) -> JSONResponse:
    body = {**extra, "version": result.version, "computed_at": iso(result.computed_at),
            "current": found.current, "page": {"total": total, "limit": limit, "offset": offset},
            "single_points": [p.to_dict() for p in points]}
    headers = {} if found.current else {"Retry-After": str(found.retry_after)}
    return JSONResponse(body, headers=headers)


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
    graph: GraphDep,
    limit: Limit = 100,
    offset: Offset = 0,
) -> JSONResponse:
    found = graph.single_points()
    if found.result is None:
        return _pending(found.retry_after)
    try:
        points, total = found.result.table.of_promise(promise_id, limit=limit, offset=offset)
    except UnknownNodeError:
        if found.current:
            raise
        return _pending(found.retry_after)  # it may be newer than the answer at hand
    return _answer(found, found.result, points, total, limit, offset,
                   promise=promise_id)


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
    graph: GraphDep,
    limit: Limit = 100,
    offset: Offset = 0,
    kind: Annotated[list[NodeKind] | None, Query(
        examples=[["ci"]], description="only components of these kinds (repeat to name "
                                       "several); promises are never components")] = None,
) -> JSONResponse:
    found = graph.single_points()
    if found.result is None:
        return _pending(found.retry_after)
    points, total = found.result.table.ranking(kind or COMPONENT_KINDS, limit=limit,
                                               offset=offset)
    return _answer(found, found.result, points, total, limit, offset)
