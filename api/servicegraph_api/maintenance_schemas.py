"""Request and answer shapes of the maintenance routes, and the planned part of the
current impact."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from servicegraph_api.schemas import ChangeAssessmentOut

WINDOW_EXAMPLE: dict[str, Any] = {
    "id": "chg-4711", "title": "Patch the ERP database", "owner": "IT operations",
    "components": ["erp-db"], "starts_at": "2030-01-01T22:00:00Z",
    "ends_at": "2030-01-01T23:30:00Z"}


class MaintenanceWindowIn(BaseModel):
    """A maintenance window: planned work on these components, for this time."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [WINDOW_EXAMPLE]})

    id: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$",
                    description="your change or window id")
    title: str = Field(min_length=1, max_length=1024)
    owner: str | None = Field(None, max_length=1024, description="who does the work")
    components: list[str] = Field(min_length=1, max_length=10_000,
                                  description="the node ids the work touches")
    starts_at: datetime = Field(description="ISO 8601 with a time zone")
    ends_at: datetime = Field(description="ISO 8601, after starts_at (half-open)")


class MaintenanceWindowOut(BaseModel):
    """A maintenance window as kept, with its phase now."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **WINDOW_EXAMPLE, "starts_at": "2030-01-01T22:00:00.000000Z",
        "ends_at": "2030-01-01T23:30:00.000000Z", "state": "scheduled", "phase": "upcoming",
        "created_at": "2029-12-30T09:00:00.000000Z",
        "updated_at": "2029-12-30T09:00:00.000000Z"}]})

    id: str
    title: str
    owner: str | None
    components: list[str]
    starts_at: str
    ends_at: str
    state: Literal["scheduled", "cancelled"]
    phase: Literal["upcoming", "active", "ended", "cancelled"]
    created_at: str
    updated_at: str


class MaintenanceWindowRegisteredOut(BaseModel):
    """A registered window, with the assessment of the change it makes."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "window": MaintenanceWindowOut.model_config["json_schema_extra"]["examples"][0],  # type: ignore[index]
        "assessment": {"changes": {"chg-4711": {
            "window": {"start": "2030-01-01T22:00:00+00:00", "end": "2030-01-01T23:30:00+00:00"},
            "components": ["erp-db"], "state": "down", "broken_promises": ["order-anytime"],
            "at_risk_promises": [], "impacted": {"erp-db": "down"}}}, "conflicts": []}}]})

    window: MaintenanceWindowOut
    assessment: ChangeAssessmentOut = Field(description=(
        "what the window's components going down would break, as `POST "
        "/v1/changes/assess` answers it"))


class MaintenanceWindowListOut(BaseModel):
    """Maintenance windows, by start."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"windows": [
        MaintenanceWindowOut.model_config["json_schema_extra"]["examples"][0]]}]})  # type: ignore[index]

    windows: list[MaintenanceWindowOut]
