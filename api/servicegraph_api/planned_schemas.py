"""The planned part of the current impact (see the maintenance routes)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class PlannedWindowOut(BaseModel):
    """An active window that covers a failed component."""

    id: str
    title: str
    owner: str | None
    starts_at: str
    ends_at: str
    components: list[str] = Field(description="its failed components")


class PlannedOut(BaseModel):
    """What of the current impact is planned work (never hidden: marked)."""

    windows: list[PlannedWindowOut] = Field(default_factory=list)
    components: dict[str, str] = Field(
        default_factory=dict, description="failed components an active window covers -> it")
    promises: list[str] = Field(default_factory=list, description=(
        "broken or at-risk promises the failures outside active windows alone would leave "
        "ok: their breakage is the planned work's"))
