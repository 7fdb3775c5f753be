"""The three catalogues (promises, service systems, service acts) and the silo x service matrix."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from servicegraph.model.kinds import NodeKind
from servicegraph_api.answers import JsonAnswer
from servicegraph_api.deps import QuestionsDep
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import (
    MatrixOut,
    PromiseCatalogueOut,
    ServiceActCatalogueOut,
    ServiceSystemCatalogueOut,
)

router = APIRouter(tags=["catalogues"], route_class=ModelRoute)


@router.get(
    "/catalogue/promises", response_model=PromiseCatalogueOut,
    summary="The promise catalogue",
    description="Every service promise made to the customer, with its owner, targets "
                "(`properties`) and what it is kept through, ordered by id.",
)
def promises(questions: QuestionsDep) -> JsonAnswer:
    return JsonAnswer(questions.catalogue("promises"))


@router.get(
    "/catalogue/service-systems", response_model=ServiceSystemCatalogueOut,
    summary="The service system catalogue",
    description="Every service system (the higher-level CIs: people, process, software, "
                "hardware), internal or outsourced, with its provider and owner, the acts it "
                "performs and what it depends on. `visible=true` keeps those the customer "
                "sees; `visible=false` the hidden ones (explicitly hidden or not said).",
)
def service_systems(
    questions: QuestionsDep,
    visible: Annotated[bool | None, Query(description="filter on visibility to the customer",
                                          examples=[True])] = None,
) -> JsonAnswer:
    return JsonAnswer(questions.catalogue("service-systems", visible=visible))


@router.get(
    "/catalogue/service-acts", response_model=ServiceActCatalogueOut,
    summary="The service act catalogue",
    description="Every service act (what the support portal lists), who performs it and "
                "which business services or promises it serves.",
)
def service_acts(questions: QuestionsDep) -> JsonAnswer:
    return JsonAnswer(questions.catalogue("service-acts"))


Columns = Literal["business_service", "promise", "service_act", "service_system"]


@router.get(
    "/matrix", response_model=MatrixOut, summary="The silo x service matrix",
    description="Technology silos (rows, from the CIs' `silo`; `unassigned` last) against "
                "services (columns: business services by default, or promises, service acts, "
                "service systems); each non-empty cell lists the CIs of that silo the service "
                "transitively depends on.",
)
def matrix(
    questions: QuestionsDep,
    columns: Annotated[Columns, Query(description="the kind of node for the columns",
                                      examples=["business_service"])] = "business_service",
) -> JsonAnswer:
    return JsonAnswer(questions.matrix(NodeKind(columns)))
