"""The promise record's timeline: every transition of the promises, business services,
service acts and observed components, filtered and paged."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from servicegraph_api.deps import QuestionsDep
from servicegraph_api.errors import responses
from servicegraph_api.history_schemas import HistoryOut, Layer

router = APIRouter(tags=["questions"])


@router.get("/history", response_model=HistoryOut, summary="The record's timeline",
            responses=responses())
def history(
    questions: QuestionsDep,
    node: Annotated[list[str] | None, Query(
        examples=[["onboarding"]], description="only these nodes (a promise, or any node; "
                                               "repeatable)")] = None,
    layer: Annotated[list[Layer] | None, Query(
        examples=[["promise"]], description="only these layers (repeatable)")] = None,
    owner: Annotated[list[str] | None, Query(
        examples=[["HR"]], description="only transitions of nodes, or with causes, of these owners "
                    "(repeatable)")] = None,
    provider: Annotated[list[str] | None, Query(
        examples=[["Northwind Hosting"]],
        description="only transitions caused by components of these providers, and the "
                    "recovery that ends each (repeatable; `(no provider)` for components "
                    "without one)")] = None,
    start: Annotated[str | None, Query(
        alias="from", examples=["2026-12-01T00:00:00Z"],
        description="from this moment on (ISO 8601 with a time zone; included)")] = None,
    end: Annotated[str | None, Query(
        alias="to", examples=["2026-12-08T00:00:00Z"],
        description="before this moment (ISO 8601 with a time zone; excluded)")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000, examples=[100],
                                         description="transitions per page")] = 100,
    offset: Annotated[int, Query(ge=0, examples=[0], description="transitions to skip")] = 0,
) -> dict[str, Any]:
    """Transitions in time order: when each promise, business service, service act or
    observed component changed state, why (the failed components and their providers
    as they stood), planned or not, and the graph version that caused it. A moment
    that cannot be read is refused (422 naming it)."""
    return questions.history(nodes=node, layers=layer, owners=owner, providers=provider,
                             start=start, end=end, limit=limit, offset=offset)
