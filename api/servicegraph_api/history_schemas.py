"""The promise record's timeline over HTTP: a transition, the history, and time
travel's answer (the figures over a period are in :mod:`servicegraph_api.record_schemas`).

Each model is declared once here, from the record's own values
(:mod:`servicegraph.model.record`), and derived where an answer nests it."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicegraph_api import examples
from servicegraph_api.schemas import AsOfOut, FailState, StateWord

#: The layers of the record: the customer-facing kinds, and the observed states.
Layer = Literal["promise", "business_service", "service_act", "observed"]


class RecordCauseOut(BaseModel):
    """A failed component behind a transition, and who answers for it."""

    component: str
    state: StateWord
    provider: str | None = Field(description="the component's provider, as it stood")
    owner: str | None = Field(description="the component's owner, as it stood")
    planned: bool = Field(description="its failure was covered by an active maintenance "
                                      "window")
    window: str | None = Field(description="the window that covered it")


class TransitionOut(BaseModel):
    """`node` entered `state` at `at`, and stayed in it until its next transition."""

    at: str = Field(description="ISO 8601, UTC")
    node: str
    layer: Layer = Field(description="the node's kind, or `observed` for a component's "
                                     "observed state")
    state: StateWord
    planned: bool = Field(description="not ok only because of failures under active "
                                      "maintenance windows")
    causes: list[RecordCauseOut] = Field(description=(
        "the failed components behind it (an observed transition: the component)"))
    version: int | None = Field(description=(
        "the graph version whose change caused it; null when the clock did (a "
        "maintenance window that started or ended)"))
    acknowledged_by: str | None = None
    inputs: dict[str, Any] = Field(description=(
        "for an observed transition, what was observed: `alerts` (fingerprints by "
        "source) and `status` (`source`, `state`)"))


class HistoryPageOut(BaseModel):
    """Which part of the timeline `transitions` shows."""

    total: int = Field(description="how many transitions match, over all pages")
    limit: int
    offset: int


class HistoryOut(BaseModel):
    """A page of the record's timeline, in time order."""

    model_config = ConfigDict(json_schema_extra={"examples": [examples.HISTORY_RESPONSE]})

    transitions: list[TransitionOut]
    page: HistoryPageOut


class RecordedExplanationOut(BaseModel):
    """Why a node was in its state then, as the record kept it."""

    state: FailState
    since: str = Field(description="when it entered that state")
    version: int | None
    planned: bool
    causes: list[RecordCauseOut]


class RecordedCountsOut(BaseModel):
    """Totals of a time-travel answer."""

    promises_broken: int
    promises_at_risk: int
    service_acts: int
    business_services: int
    observed: int
    providers: int


class RecordedProviderOut(BaseModel):
    """A provider (else the owner) whose components failed then."""

    provider: str
    failed: list[str]


class RecordedPlannedOut(BaseModel):
    """What was planned work then."""

    promises: list[str]
    components: dict[str, str | None] = Field(description="planned component -> window")


class ObservedThenOut(BaseModel):
    """A component observed failing then, with what was observed."""

    state: FailState
    since: str
    planned: bool
    inputs: dict[str, Any]


class StructureOut(BaseModel):
    """Which structure of the graph a time-travel answer used."""

    used: Literal["record"]
    detail: str


class RecordReachOut(BaseModel):
    """How far the record reaches."""

    reaches: int = Field(description="every change up to this graph version is recorded")


class RecordedImpactOut(BaseModel):
    """What `GET /v1/current` answered at `at`, rebuilt from the promise record."""

    model_config = ConfigDict(json_schema_extra={
        "examples": [examples.RECORDED_IMPACT_RESPONSE]})

    at: str = Field(description="the moment asked about, ISO 8601 UTC")
    structure: StructureOut
    counts: RecordedCountsOut
    broken_promises: list[str]
    at_risk_promises: list[str]
    service_acts: dict[str, FailState]
    business_services: dict[str, FailState]
    explanations: dict[str, RecordedExplanationOut] = Field(description=(
        "for every promise, act and business service listed: its recorded causes"))
    providers: list[RecordedProviderOut]
    planned: RecordedPlannedOut
    observed: dict[str, ObservedThenOut]
    record: RecordReachOut
    as_of: AsOfOut | None = None
