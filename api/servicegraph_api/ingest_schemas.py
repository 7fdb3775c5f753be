"""Bodies and answers of the integrator routes (pushes, status, provenance)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from servicegraph.model.graph import GraphData
from servicegraph.model.interchange import parse_document
from servicegraph_api.schemas import EdgeIn, Identifier, NodeIn, StateWord, Strict

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

    Each item's shape is stated here; the rules that span items (ends that exist,
    the layers, redundancy groups, unique ids and external ids) are checked on the
    graph the batch would leave, and every item that breaks one is reported in one
    422 with its index, field and message.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [PUSH_EXAMPLE]})

    nodes: list[NodeIn] = Field(default_factory=list)
    edges: list[EdgeIn] = Field(default_factory=list)

    def batch(self) -> GraphData:
        """The batch as graph data (bounds checked by the library)."""
        return parse_document({"nodes": [n.raw() for n in self.nodes],
                               "edges": [e.raw() for e in self.edges]})


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
    state: str = Field(description="open, committed, abandoned, expired or superseded "
                                   "(another full sync of the source was committed after "
                                   "it opened: it can no longer commit)")
    pages: int
    items: int = Field(description="items its pages asserted")
    opened_version: int = Field(description="the graph version when the session opened")


#: A time as ISO 8601 text; read by the library, which names a bad one.
Timestamp = Annotated[str, Field(max_length=64, json_schema_extra={"format": "date-time"})]


def _one_name(schema: dict[str, Any]) -> None:
    # Exactly one of `id` and `external_id`, and not null: the model's validator says
    # the same, so the schema states what is accepted.
    for key in ("id", "external_id"):
        field = schema["properties"][key]
        text = next(s for s in field.pop("anyOf") if s.get("type") == "string")
        field.update(text)
    schema["oneOf"] = [{"required": ["id"]}, {"required": ["external_id"]}]


class StatusItemIn(Strict):
    """One observation: a node named by `id`, or by the pushing source's `external_id`
    (exactly one of the two), its state, and when it was observed."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_one_name)

    id: Identifier | None = Field(None, description="the node's id")
    external_id: Identifier | None = Field(
        None, description="the node's key in this source (as pushed)")
    state: StateWord
    at: Timestamp | None = Field(
        None, description="when it was observed, ISO 8601 with a time zone (default: now); at "
                    "most `SERVICEGRAPH_STATUS_MAX_SKEW_SECONDS` (default 300) ahead of "
                    "the server's clock")

    @model_validator(mode="after")
    def _exactly_one_name(self) -> StatusItemIn:
        given = {"id", "external_id"} & self.model_fields_set
        if len(given) != 1 or getattr(self, given.pop()) is None:
            raise ValueError("name the node by exactly one of `id` and `external_id`")
        return self

    def raw(self) -> dict[str, Any]:
        """The observation as sent."""
        return {name: value for name, value in self if value is not None}


class StatusIn(BaseModel):
    """Observed states. A node that is not live (unknown, retired, or an external id
    this source did not push) refuses the whole batch with a 422 naming it."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [STATUS_EXAMPLE]})

    statuses: list[StatusItemIn]

    def raw(self) -> list[dict[str, Any]]:
        """The observations as sent."""
        return [item.raw() for item in self.statuses]


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
