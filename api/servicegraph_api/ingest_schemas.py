"""Bodies and answers of the integrator routes (pushes, status, provenance)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

PUSH_EXAMPLE: dict[str, Any] = {
    "nodes": [
        {"id": "web-1", "kind": "ci", "name": "srv-web-01", "silo": "compute",
         "external_id": "vm-101", "provider": "Northwind Hosting"},
        {"id": "web-4", "kind": "ci", "name": "srv-web-04", "silo": "compute",
         "external_id": "vm-104"},
    ],
    "edges": [{"from": "web-tier", "to": "web-4", "group": "web"}],
}

STATUS_EXAMPLE: dict[str, Any] = {"statuses": [
    {"id": "web-1", "state": "down", "at": "2026-11-23T08:00:00Z"},
    {"external_id": "vm-102", "state": "degraded", "at": "2026-11-23T08:00:05Z"},
]}


class PushIn(BaseModel):
    """A batch in the interchange format.

    Items are checked by the graph rules, not by this schema, so that every bad
    item is reported at once with its index, field and message.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PUSH_EXAMPLE]})

    nodes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="nodes: id, kind, name, optional owner, provider, visible, silo, "
                    "description, external_id (the source's key; default: id), "
                    "properties, redundancy {group: min_ok}")
    edges: list[dict[str, Any]] = Field(
        default_factory=list, description="dependencies: from, to, optional group, impact")


class CountsOut(BaseModel):
    """Items by outcome."""

    created: int
    updated: int
    unchanged: int
    retired: int


class ProgressOut(BaseModel):
    """How a streamed sync went, phase by phase."""

    lines: int = Field(description="NDJSON lines read")
    bytes: int = Field(description="body bytes read")
    parse_seconds: float
    write_seconds: float = Field(description="planning, validation and the one write")


class DanglingOut(BaseModel):
    """A live dependency on a retired node."""

    model_config = ConfigDict(populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    retired: list[str] = Field(description="which of its ends are retired")


class DanglingListOut(BaseModel):
    """Live dependencies on retired nodes."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"items": [
        {"from": "hr-app", "to": "vm-104", "retired": ["vm-104"]}]}]})

    items: list[DanglingOut]


class PushOut(BaseModel):
    """What a push did (or, with dry_run, would do)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "source": "discovery", "full_sync": False, "dry_run": False, "changed": True,
        "created": 2, "updated": 1, "unchanged": 0, "retired": 0,
        "nodes": {"created": 1, "updated": 1, "unchanged": 0, "retired": 0},
        "edges": {"created": 1, "updated": 0, "unchanged": 0, "retired": 0}}]})

    source: str
    full_sync: bool
    dry_run: bool
    changed: bool = Field(description="false when the push repeated what was stored")
    created: int
    updated: int
    unchanged: int
    retired: int
    nodes: CountsOut
    edges: CountsOut
    progress: ProgressOut | None = None
    version: int | None = Field(None, description="the version of the graph once written "
                                                  "(the version already held when nothing "
                                                  "was written)")
    dangling: list[DanglingOut] = Field(
        default_factory=list, description="after a full sync: live dependencies (of other "
        "sources) on nodes no source asserts any more. Impact keeps flowing through them "
        "until they go too")
    session: str | None = Field(None, description="the sync session it belongs to")


class SyncSessionOut(BaseModel):
    """A full sync spread over many requests: open, push pages, commit."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3f2a9c1e5b7d4e6f8a0b1c2d3e4f5a6b", "source": "cmdb",
        "opened_at": "2026-11-23T08:00:00.000000Z",
        "expires_at": "2026-11-23T09:00:00.000000Z", "state": "open", "pages": 2,
        "items": 10000}]})

    id: str
    source: str
    opened_at: str
    expires_at: str = Field(description="after this, the session retires nothing")
    state: str = Field(description="open, committed, abandoned or expired")
    pages: int
    items: int = Field(description="items its pages asserted")


class StatusIn(BaseModel):
    """Observed states: each item names a node by id, or by this source's external id."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [STATUS_EXAMPLE]})

    statuses: list[dict[str, Any]] = Field(
        description="[{id | external_id, state: ok|degraded|down, at: ISO-8601 time with "
                    "zone (default: now)}]")


class StatusOut(BaseModel):
    """What a status push did."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source": "monitoring", "applied": 2, "stale": 0, "changed": ["web-1", "web-2"],
         "broken_promises": [], "at_risk_promises": ["order-anytime"]}]})

    source: str
    applied: int = Field(description="observations accepted")
    stale: int = Field(description="observations older than the one already stored: ignored")
    changed: list[str] = Field(description="nodes whose observed state changed")
    broken_promises: list[str] = Field(description="broken under the current observations")
    at_risk_promises: list[str]


class ClaimOut(BaseModel):
    """What one source says about an item, since when."""

    source: str
    key: str = Field(description="the source's key (external id)")
    at: str = Field(description="when the source first asserted exactly this")
    fields: dict[str, Any]


class ObservedOut(BaseModel):
    """The last observed state."""

    state: str
    at: str
    source: str


class ProvenanceOut(BaseModel):
    """Who says what about a node."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "web-1", "retired_at": None,
        "claims": [{"source": "discovery", "key": "vm-101", "at": "2026-11-23T08:00:00Z",
                    "fields": {"kind": "ci", "name": "srv-web-01", "silo": "compute",
                               "properties": {}, "redundancy": {}}}],
        "observed": {"state": "down", "at": "2026-11-23T08:00:00Z", "source": "monitoring"}}]})

    id: str
    retired_at: str | None
    claims: list[ClaimOut]
    observed: ObservedOut | None


class PurgeOut(BaseModel):
    """Retired items deleted."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"nodes": 3, "edges": 5}]})

    nodes: int
    edges: int
