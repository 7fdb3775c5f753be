"""Acknowledgements: an incident manager is on a failure. They show in the current
impact, and in the events subscribers receive, until the node recovers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from servicegraph_api.ack_schemas import (
    AcknowledgementIn,
    AcknowledgementListOut,
    AcknowledgementOut,
)
from servicegraph_api.deps import QuestionsDep, WriterDep
from servicegraph_api.errors import responses

router = APIRouter(tags=["impact"])

NodeId = Annotated[str, Path(min_length=1, max_length=512, description="the node's id",
                             examples=["erp-db"])]


@router.post("/acknowledgements", response_model=AcknowledgementOut, status_code=201,
             summary="Acknowledge a failure", responses=responses(404, 409, 413))
def acknowledge(body: AcknowledgementIn, writer: WriterDep,
                questions: QuestionsDep) -> dict[str, Any]:
    """Say that `by` is on `node`: a failed component, a broken or at-risk promise, or
    any node the current impact reaches. It replaces the one the node held, and ends by
    itself when the node recovers (the next breakage is unacknowledged). A node that is
    ok now is refused (409), an unknown one too (404)."""
    ack = writer.acknowledge(body.node, body.by, body.comment)
    found = questions.acknowledgement(ack.node)
    # Recovered between the write and this read: the ack as written, ended by recovery.
    return found or {**ack.to_dict(), "now": "ok"}


@router.get("/acknowledgements", response_model=AcknowledgementListOut,
            summary="Acknowledgements that hold", responses=responses())
def list_acks(questions: QuestionsDep) -> dict[str, Any]:
    """The acknowledgements of nodes impacted now, by node."""
    return {"acknowledgements": questions.acknowledgements()}


@router.get("/acknowledgements/{node}", response_model=AcknowledgementOut,
            summary="One node's acknowledgement", responses=responses(404))
def get_ack(node: NodeId, questions: QuestionsDep) -> dict[str, Any]:
    """The acknowledgement the node holds (404 when it holds none, or is unknown)."""
    found = questions.acknowledgement(node)
    if found is None:
        raise HTTPException(404, f"node {node!r} holds no acknowledgement")
    return found


@router.delete("/acknowledgements/{node}", response_model=AcknowledgementOut,
               summary="Withdraw an acknowledgement", responses=responses(404))
def clear(node: NodeId, writer: WriterDep, questions: QuestionsDep) -> dict[str, Any]:
    """The node is unacknowledged from now (the acknowledgement is kept, ended as
    `cleared`)."""
    ended = writer.clear_ack(node)
    if ended is None:
        raise HTTPException(404, f"node {node!r} holds no acknowledgement")
    return {**ended.to_dict(), "now": questions.explain_current(node)["state"]}
