"""Planned work: maintenance windows, registered, listed, edited and cancelled. While
one is active, the failures it covers, and the breakages they alone cause, are marked
planned in the current impact."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query

from servicegraph.model.maintenance import Window
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


@router.post("/maintenance", response_model=MaintenanceWindowRegisteredOut, status_code=201,
             summary="Register (or replace) a maintenance window", responses=responses(413))
def register(body: MaintenanceWindowIn, writer: WriterDep,
             questions: QuestionsDep) -> dict[str, Any]:
    """Planned work on `components` from `starts_at` to `ends_at`; a window of the same
    id is replaced. The answer assesses the change (the components down for the window,
    as `POST /v1/changes/assess` does). Unknown components are refused (422)."""
    window = writer.save_window(Window.plan(body.id, body.title, body.components,
                                           body.starts_at, body.ends_at, body.owner))
    return questions.registered(window)


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
