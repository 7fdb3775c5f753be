"""Planned work: maintenance windows, registered, listed, edited and cancelled. While
one is active, the failures it covers, and the breakages they alone cause, are marked
planned in the current impact."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from servicegraph.impact.change import PlannedChange
from servicegraph.model.maintenance import Window
from servicegraph.model.times import iso
from servicegraph_api.deps import QuestionsDep, WriterDep
from servicegraph_api.errors import responses
from servicegraph_api.maintenance_schemas import (
    MaintenanceWindowIn,
    MaintenanceWindowListOut,
    MaintenanceWindowOut,
    MaintenanceWindowRegisteredOut,
)

router = APIRouter(tags=["change impact"])

WindowId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$",
                               description="the window's id", examples=["chg-4711"])]


def _window(body: MaintenanceWindowIn) -> Window:
    if body.starts_at.tzinfo is None or body.ends_at.tzinfo is None:
        raise HTTPException(422, "starts_at and ends_at need a time zone, e.g. "
                                 "2030-01-01T22:00:00Z")
    if body.ends_at <= body.starts_at:
        raise HTTPException(422, f"window {body.id!r}: ends_at must be after starts_at")
    return Window(body.id, body.title, tuple(dict.fromkeys(body.components)),
                  iso(body.starts_at.astimezone(UTC)), iso(body.ends_at.astimezone(UTC)),
                  body.owner)


@router.post("/maintenance", response_model=MaintenanceWindowRegisteredOut, status_code=201,
             summary="Register (or replace) a maintenance window", responses=responses(413))
def register(body: MaintenanceWindowIn, writer: WriterDep,
             questions: QuestionsDep) -> dict[str, Any]:
    """Planned work on `components` from `starts_at` to `ends_at`; a window of the same
    id is replaced. The answer assesses the change (the components down for the window,
    as `POST /v1/changes/assess` does). Unknown components are refused (422)."""
    window = writer.save_window(_window(body))
    assessment = questions.assess([PlannedChange(window.id, window.components,
                                                 body.starts_at, body.ends_at)])
    return {"window": questions.window(window.id), "assessment": assessment}


@router.get("/maintenance", response_model=MaintenanceWindowListOut, summary="Maintenance windows",
            responses=responses())
def list_windows(questions: QuestionsDep,
                 phase: Annotated[Literal["upcoming", "active", "ended", "cancelled"] | None,
                                  Query(examples=["active"], description="only these")
                                  ] = None) -> dict[str, Any]:
    """Every window, or those of one phase now, by start."""
    return {"windows": questions.windows(phase=phase)}


@router.get("/maintenance/{window_id}", response_model=MaintenanceWindowOut,
            summary="One maintenance window", responses=responses(404))
def get_window(window_id: WindowId, questions: QuestionsDep) -> dict[str, Any]:
    """A window with its phase now."""
    found = questions.window(window_id)
    if found is None:
        raise HTTPException(404, f"no maintenance window {window_id!r}")
    return found


@router.delete("/maintenance/{window_id}", response_model=MaintenanceWindowOut,
               summary="Cancel a maintenance window", responses=responses(404))
def cancel(window_id: WindowId, writer: WriterDep, questions: QuestionsDep) -> dict[str, Any]:
    """The window is kept, marked cancelled: from now its components' failures are
    unplanned."""
    if writer.cancel_window(window_id) is None:
        raise HTTPException(404, f"no maintenance window {window_id!r}")
    found = questions.window(window_id)
    assert found is not None
    return found
