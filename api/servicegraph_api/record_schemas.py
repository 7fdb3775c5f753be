"""Answer shapes of the promise record (``servicegraph.record.exports`` writes them).

Each part is declared once; the answers are built from the parts.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicegraph_api.schemas import StateWord

PERIOD_EXAMPLE: dict[str, Any] = {
    "from": "2026-03-01T00:00:00+01:00", "to": "2026-04-01T00:00:00+02:00", "as_of": None,
    "tz": "Europe/Berlin", "hours": None, "counted_seconds": 2674800.0}
_RECOVERY = {"mean_seconds": 2520.0, "longest_seconds": 2520.0, "breaks": 1}
_NONE = {"mean_seconds": None, "longest_seconds": None, "breaks": 0}
NODE_EXAMPLE: dict[str, Any] = {
    "id": "onboarding", "layer": "promise", "name": "New staff are productive on day one",
    "owner": "HR", "period_seconds": 2674800.0, "kept_seconds": 2672280.0,
    "at_risk_seconds": 0.0, "broken_seconds": 2520.0, "share_kept": 0.99905787,
    "planned": {"at_risk_seconds": 0.0, "broken_seconds": 0.0},
    "unplanned": {"at_risk_seconds": 0.0, "broken_seconds": 2520.0}, "break_count": 1,
    "recovery": {"all": _RECOVERY, "planned": _NONE, "unplanned": _RECOVERY},
    "target": {"kept": 99.9, "allowed_broken_seconds": 2674.8, "budget_left_seconds": 154.8,
               "met": True, "share_kept_unplanned": 0.99905787}}
BREAK_EXAMPLE: dict[str, Any] = {
    "start": "2026-03-02T10:00:00+01:00", "end": "2026-03-02T10:42:00+01:00", "open": False,
    "duration_seconds": 2520.0, "planned_seconds": 0.0, "planned": False,
    "time_to_recover_seconds": 2520.0,
    "causes": [{"component": "feed-job", "state": "down", "provider": "IT", "owner": "IT",
                "planned": False, "window": None}],
    "providers": [{"provider": "IT", "seconds": 2520.0}]}
PROVIDER_EXAMPLE: dict[str, Any] = {
    "provider": "IT", "broken_seconds": 2520.0, "broken_minutes": 42.0,
    "planned_seconds": 0.0, "unplanned_seconds": 2520.0, "breaks": 1,
    "promises": ["onboarding"]}
ROLL_UP_EXAMPLE: dict[str, Any] = {
    "name": "HR", "promises": ["onboarding"], "period_seconds": 2674800.0,
    "kept_seconds": 2672280.0, "at_risk_seconds": 0.0, "broken_seconds": 2520.0,
    "planned_broken_seconds": 0.0, "unplanned_broken_seconds": 2520.0, "breaks": 1,
    "share_kept": 0.99905787}


def _example(value: dict[str, Any]) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class RecordPeriodOut(BaseModel):
    """The period of a record, as asked for."""

    model_config = _example(PERIOD_EXAMPLE)

    from_: str = Field(alias="from", description="start (ISO 8601, in the time zone `tz`)")
    to: str = Field(description="end, excluded")
    as_of: str | None = Field(description="later time is not counted (it has not happened "
                                          "yet); null for a period in the past")
    tz: str = Field(description="the IANA time zone of the calendar and the business hours")
    hours: str | None = Field(description="the business hours, when only they count")
    counted_seconds: float = Field(description="the time that counts: the period up to "
                                               "`as_of`, within the business hours")


class TimeSplitOut(BaseModel):
    """Time at risk and broken, of one kind (planned or unplanned)."""

    at_risk_seconds: float
    broken_seconds: float


class RecoveryOut(BaseModel):
    """Time to recover over the breaks that ended (open ones have none yet)."""

    mean_seconds: float | None
    longest_seconds: float | None
    breaks: int = Field(description="the breaks that ended, which the figures are over")


class RecoveriesOut(BaseModel):
    """Time to recover of all breaks, of the planned ones and of the unplanned ones."""

    all: RecoveryOut
    planned: RecoveryOut
    unplanned: RecoveryOut


class TargetOut(BaseModel):
    """The record against the node's own target (`properties.target.kept`, percent)."""

    kept: float = Field(description="the target share kept, in percent")
    allowed_broken_seconds: float = Field(description="broken time the target allows")
    budget_left_seconds: float = Field(description="allowed less unplanned broken time; "
                                                   "negative when the target was missed")
    met: bool
    share_kept_unplanned: float | None = Field(
        description="the share of the period not broken by unplanned breaks")


class CauseOut(BaseModel):
    """A failed component behind a break, and who answers for it."""

    component: str
    state: StateWord
    provider: str | None
    owner: str | None
    planned: bool
    window: str | None


class ShareOut(BaseModel):
    """A provider's share of a break."""

    provider: str
    seconds: float


class BreakOut(BaseModel):
    """A time the node was broken."""

    model_config = _example(BREAK_EXAMPLE)

    start: str = Field(description="when it broke (possibly before the period)")
    end: str | None = Field(description="when it recovered; null while open")
    open: bool
    duration_seconds: float = Field(description="its counted time within the period")
    planned_seconds: float
    planned: bool = Field(description="all of its counted time was planned")
    time_to_recover_seconds: float | None = Field(
        description="counted time from its start to its end; null while open")
    causes: list[CauseOut]
    providers: list[ShareOut] = Field(description="its duration shared among the "
                                                  "providers of its causes")


class NodeRecordOut(BaseModel):
    """The record of one promise, business service or service act."""

    model_config = _example(NODE_EXAMPLE)

    id: str
    layer: Literal["promise", "business_service", "service_act"]
    name: str | None
    owner: str | None
    period_seconds: float
    kept_seconds: float = Field(description="ok")
    at_risk_seconds: float = Field(description="degraded")
    broken_seconds: float = Field(description="down")
    share_kept: float | None = Field(description="share of the period not broken")
    planned: TimeSplitOut
    unplanned: TimeSplitOut
    break_count: int
    recovery: RecoveriesOut
    target: TargetOut | None
    breaks: list[BreakOut] | None = Field(None, description="one node's record only")


class ProviderShareOut(BaseModel):
    """A provider's part in the broken promises."""

    model_config = _example(PROVIDER_EXAMPLE)

    provider: str
    broken_seconds: float
    broken_minutes: float
    planned_seconds: float
    unplanned_seconds: float
    breaks: int
    promises: list[str]


class RollUpOut(BaseModel):
    """The promises of one owner or business service, summed."""

    model_config = _example(ROLL_UP_EXAMPLE)

    name: str
    promises: list[str]
    period_seconds: float
    kept_seconds: float
    at_risk_seconds: float
    broken_seconds: float
    planned_broken_seconds: float
    unplanned_broken_seconds: float
    breaks: int
    share_kept: float | None


class PromiseRecordOut(BaseModel):
    """One node's record with its breaks, and the providers' part in them."""

    model_config = _example({"period": PERIOD_EXAMPLE,
                             "record": {**NODE_EXAMPLE, "breaks": [BREAK_EXAMPLE]},
                             "providers": [PROVIDER_EXAMPLE]})

    period: RecordPeriodOut
    record: NodeRecordOut
    providers: list[ProviderShareOut]


class RecordOut(BaseModel):
    """The record of every promise at once: by promise (every promise, business service
    and service act), or the promises rolled up by provider, owner or business service.
    Only the list `by` names is sent."""

    model_config = _example({"period": PERIOD_EXAMPLE, "by": "provider",
                             "providers": [PROVIDER_EXAMPLE]})

    period: RecordPeriodOut
    by: Literal["promise", "provider", "owner", "business_service"]
    nodes: list[NodeRecordOut] | None = None
    providers: list[ProviderShareOut] | None = None
    owners: list[RollUpOut] | None = None
    business_services: list[RollUpOut] | None = None
