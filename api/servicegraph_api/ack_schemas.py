"""Request and answer shapes of the acknowledgement routes, and the acknowledged part of
the current impact."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

ACK_EXAMPLE: dict[str, Any] = {"node": "erp-db", "by": "alice",
                               "comment": "restoring from the replica"}


class AcknowledgementIn(BaseModel):
    """An acknowledgement: someone is on this failure."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [ACK_EXAMPLE]})

    node: str = Field(min_length=1, max_length=512, description=(
        "the node acknowledged: a failed component, a broken or at-risk promise, or any "
        "other node the current impact reaches"))
    by: str = Field(min_length=1, max_length=1024, pattern=r"\S",
                    description="who is on it")
    comment: str | None = Field(None, max_length=10_000, description="what is being done")


class AcknowledgementBriefOut(BaseModel):
    """What answers show of an acknowledgement."""

    by: str
    at: str = Field(description="when it was given (ISO 8601 UTC)")
    comment: str | None


class AcknowledgementOut(AcknowledgementBriefOut):
    """An acknowledgement as kept."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        **ACK_EXAMPLE, "at": "2030-01-01T22:05:00.000000Z", "state": "down", "now": "down",
        "ended_at": None, "ended": None}]})

    node: str
    state: Literal["down", "degraded"] = Field(description="the node's state when acknowledged")
    now: Literal["ok", "down", "degraded"] = Field(description=(
        "the node's state now (`ok` once it ended by recovery)"))
    ended_at: str | None = Field(description="when it ended (null while it holds)")
    ended: Literal["recovered", "cleared"] | None = Field(description=(
        "why it ended: the node recovered, or it was withdrawn"))


class AcknowledgementListOut(BaseModel):
    """The acknowledgements that hold, by node."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"acknowledgements": [
        AcknowledgementOut.model_config["json_schema_extra"]["examples"][0]]}]})  # type: ignore[index]

    acknowledgements: list[AcknowledgementOut]


class AcknowledgedOut(BaseModel):
    """What of the current impact is acknowledged."""

    nodes: dict[str, AcknowledgementBriefOut] = Field(default_factory=dict, description=(
        "impacted nodes (failed components, broken promises, ...) acknowledged -> by whom, "
        "when, and the comment"))
    promises: list[str] = Field(default_factory=list, description=(
        "broken or at-risk promises that count as acknowledged: acknowledged themselves, "
        "or every failed component behind them is"))
