"""Request bodies and response documents of the HTTP API.

Responses are the library's own ``to_dict()`` answers; the models here
describe them for OpenAPI (and the tests validate real answers against them).
Request models are strict (no coercion, no unknown fields): what passes them
is handed to the library, which applies the graph rules.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)

from servicegraph.model.bounds import (
    DESCRIPTION_PATTERN,
    IDENTIFIER_PATTERN,
    LINE_PATTERN,
    MAX_DESCRIPTION_LENGTH,
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    MAX_PROPERTIES_BYTES,
    MAX_PROPERTIES_DEPTH,
)
from servicegraph.model.errors import Problem, ValidationError, show
from servicegraph.model.graph import GraphData
from servicegraph.model.interchange import parse_document
from servicegraph.model.kinds import Impact, NodeKind
from servicegraph.model.redundancy import SHARE_PATTERN, shape_problem
from servicegraph_api import examples
from servicegraph_api.ack_schemas import AcknowledgedOut
from servicegraph_api.alert_schemas import AlertBriefOut
from servicegraph_api.planned_schemas import PlannedOut

StateWord = Literal["ok", "degraded", "down"]
FailState = Literal["degraded", "down"]

# The text the model accepts (servicegraph.model.bounds), stated for the schema.
#: An id, group name or external id.
Identifier = Annotated[str, StringConstraints(
    min_length=1, max_length=MAX_ID_LENGTH, pattern=IDENTIFIER_PATTERN)]
#: A name: not blank, no control characters.
Name = Annotated[str, StringConstraints(
    min_length=1, max_length=MAX_NAME_LENGTH, pattern=IDENTIFIER_PATTERN)]
#: One line of text: owner, provider, silo.
Line = Annotated[str, StringConstraints(max_length=MAX_NAME_LENGTH, pattern=LINE_PATTERN)]
#: A description: tab and line breaks allowed.
Description = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_LENGTH,
                                               pattern=DESCRIPTION_PATTERN)]
#: Free properties: any JSON mapping within the model's bounds.
Properties = Annotated[dict[str, Any], Field(description=(
    "free JSON data: text, finite numbers, true/false, null, lists and mappings, nested at "
    f"most {MAX_PROPERTIES_DEPTH} levels (this mapping is the first) and at most "
    f"{MAX_PROPERTIES_BYTES} bytes as compact JSON; beyond, 422 naming the item"))]
_AMOUNT_SCHEMA = {"oneOf": [
    {"type": "integer", "minimum": 1},
    {"type": "string", "pattern": SHARE_PATTERN,
     "description": "a share of the group's current members, '1%' to '100%', rounded "
                    "up, at least one member"}]}


def _rule(value: Any) -> Any:
    """A group's rule as sent, its form checked by the model's own rule (one message,
    in the model's words, whatever form was meant)."""
    wrong = shape_problem(value)
    if wrong is not None:
        raise ValueError(wrong)
    return value


#: Redundancy groups: group name -> rule. Stated by hand: pydantic would put the
#: key pattern in `patternProperties`, which lets other keys through.
Redundancy = Annotated[dict[Identifier, Annotated[Any, AfterValidator(_rule)]], WithJsonSchema({
    "type": "object",
    "propertyNames": {"type": "string", "minLength": 1, "maxLength": MAX_ID_LENGTH,
                      "pattern": IDENTIFIER_PATTERN},
    "additionalProperties": {"oneOf": [
        *_AMOUNT_SCHEMA["oneOf"],
        {"type": "object", "required": ["min_ok"], "additionalProperties": False,
         "properties": {"min_ok": _AMOUNT_SCHEMA, "ok_at": _AMOUNT_SCHEMA}}]},
    "description": "redundancy group -> its rule: how many of the group's members (the "
                   "node's edges with that `group`) must be up (`min_ok`): a count (at "
                   "most their number) or a share ('50%': of the current members, rounded "
                   "up); or `{min_ok, ok_at}`, each a count or a share: below `min_ok` "
                   "members up the group is down, below `ok_at` members ok (all by "
                   "default) it is degraded; `ok_at` may not be below `min_ok`",
})]


def _example(value: Any) -> ConfigDict:
    return ConfigDict(json_schema_extra={"examples": [value]})


class Strict(BaseModel):
    """A request body: unknown fields refused (and strict scalars, no coercion)."""

    model_config = ConfigDict(extra="forbid")


# --- errors -------------------------------------------------------------------------


class ProblemOut(BaseModel):
    """One thing wrong with the input, precise enough to fix it."""

    section: str = Field(description="nodes, edges or document")
    index: int | None = Field(description="position of the item in its section, if known")
    item: str = Field(description="the item: a node id, or `from -> to` for an edge")
    field: str = Field(description="the offending field")
    message: str


class ErrorOut(BaseModel):
    """An error. ``detail`` says what is wrong; graph-rule failures list ``problems``.

    Request-shape errors (FastAPI's own validation) keep FastAPI's form:
    ``detail`` is then a list of ``{loc, msg, type}`` entries.
    """

    model_config = _example(examples.VALIDATION_ERROR)

    detail: str | list[dict[str, Any]]
    problems: list[ProblemOut] | None = Field(
        None, description="every rule the submitted items break (422 from the graph rules)")
    ids: list[str] | None = Field(None, description="the unknown ids (404)")
    retired: dict[str, str | None] | None = Field(
        None, description="of the first unknown ids, those that name retired nodes (stored, "
                          "no part of impact), with when they were retired (404)")
    suggestions: dict[str, list[str]] | None = Field(
        None, description="live ids the first unknown ids likely meant: those containing "
                          "them, then close spellings (404; graphs of up to 50,000 nodes)")
    limit_bytes: int | None = Field(None, description="the body size limit (413)")


# --- impact -------------------------------------------------------------------------


class ImpactRequest(Strict):
    """A failure scenario: components down, components degraded."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [examples.IMPACT_REQUEST]})

    down: list[str] = Field(default_factory=list, description="ids of failed components")
    degraded: list[str] = Field(default_factory=list,
                                description="ids of degraded components (down wins if in both)")
    within: list[str] | None = Field(
        None, description="only these nodes in the page of `impacted` (e.g. the nodes a "
                          "picture shows); unknown ids answer 404")


class CauseOut(BaseModel):
    """One dependency that put its dependant in its state."""

    dependency: str
    state: StateWord
    rule: Literal["hard", "soft", "group"]
    group: str | None = Field(description="the redundancy group (rule `group`), else null")
    headroom: str | None = Field(description="what is left of the group, e.g. "
                                 "`1 of 3 up, needs 2` (rule `group`), else null")


class ExplanationOut(BaseModel):
    """Why a node is in its state."""

    state: StateWord
    rule: str | None = Field(description="`failed` for a node given its state, else the rule "
                             "of its first cause; null when ok")
    given: FailState | None = Field(description="the node's own state in the scenario")
    causes: list[CauseOut]
    via: str | None = Field(description="the next node on a shortest chain of causes back to "
                                        "a failed node; null for a node that failed itself")
    chain: list[str] | None = Field(
        description="a shortest chain of causes from this node back to a failed node. Answers "
                    "about many nodes give it for promises only (null for the others: follow "
                    "`via`), so their size stays linear")


class NodeExplanationOut(ExplanationOut):
    """One node's explanation (state `ok` and no causes when it is not impacted)."""

    model_config = _example(examples.EXPLAIN_RESPONSE)

    node: str


class ProviderOut(BaseModel):
    """A provider (or owner) who must act (failed) or is affected."""

    provider: str
    failed: list[str]
    affected: list[str]


class ImpactCountsOut(BaseModel):
    """Totals of the answer, whatever its lists and page show."""

    impacted: int = Field(description="nodes not ok, the failed ones included")
    down: int
    degraded: int
    broken_promises: int
    at_risk_promises: int
    service_acts: int = Field(description="service acts not ok")
    business_services: int = Field(description="business services not ok")
    providers: int = Field(description="providers (or owners) to call")


class PageOut(BaseModel):
    """Which part of the impacted nodes `impacted` shows."""

    total: int = Field(description="impacted nodes matching `kind` and `within`")
    limit: int | None
    offset: int
    kind: NodeKind | None


class AsOfOut(BaseModel):
    """How current an answer is."""

    version: int = Field(description="the graph version the answer reflects")
    stale: bool = Field(description="true when the store did not answer: the answer is what "
                                    "this process knew, maybe missing recent changes")
    stale_since: str | None = None
    reason: str | None = None


class ImpactOut(BaseModel):
    """What breaks: the promises broken or at risk, the acts and business services hit,
    who must act, a page of the impacted nodes, and why.

    Every list holds at most `limit` entries (promises, acts and business services
    in id order); `counts` gives the totals."""

    model_config = _example(examples.IMPACT_RESPONSE)

    counts: ImpactCountsOut
    broken_promises: list[str]
    at_risk_promises: list[str]
    service_acts: dict[str, FailState]
    business_services: dict[str, FailState]
    providers: list[ProviderOut]
    impacted: dict[str, FailState] = Field(
        description="a page of the nodes not ok (the failed ones included), ordered by id")
    page: PageOut
    explanations: dict[str, ExplanationOut] = Field(
        description="why: for the promises, acts and business services listed and the "
                    "page's nodes (none with `explain=false`)")
    as_of: AsOfOut | None = Field(None, description="how current the answer is")
    alerts: dict[str, list[AlertBriefOut]] = Field(default_factory=dict, description=(
        "the current impact only: the firing alerts behind each failed component of "
        "the page of impacted nodes"))
    planned: PlannedOut = Field(default_factory=PlannedOut, description=(
        "the current impact only: what of it is planned work (active maintenance windows)"))
    acknowledged: AcknowledgedOut = Field(default_factory=AcknowledgedOut, description=(
        "the current impact only: what of it is acknowledged (someone is on it)"))


# --- change impact ------------------------------------------------------------------


class ChangeIn(Strict):
    """A planned change: these components go down (or degrade) for a time window."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, description="your change id, unique in the request")
    components: list[str] = Field(min_length=1)
    start: datetime = Field(description="ISO 8601; use a UTC offset")
    end: datetime = Field(description="ISO 8601, after start (half-open window)")
    state: FailState = "down"


class ChangesRequest(Strict):
    """Planned changes to assess together."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [examples.CHANGES_REQUEST]})

    changes: list[ChangeIn]


class WindowOut(BaseModel):
    """A time window (ISO 8601)."""

    start: str
    end: str


class ChangeImpactOut(BaseModel):
    """The impact of one change alone."""

    window: WindowOut | None = None
    components: list[str] | None = None
    state: FailState | None = None
    broken_promises: list[str]
    at_risk_promises: list[str]
    impacted: dict[str, FailState]


class ConflictOut(BaseModel):
    """Overlapping changes that together do worse than each alone."""

    changes: list[str]
    start: str
    end: str
    worse: dict[str, FailState] = Field(description="nodes worse off together, with that state")
    broken_promises: list[str]
    at_risk_promises: list[str]


class ChangeAssessmentOut(BaseModel):
    """Each change's impact alone (by change id), and the conflicts between them."""

    model_config = _example(examples.CHANGES_RESPONSE)

    changes: dict[str, ChangeImpactOut]
    conflicts: list[ConflictOut]


# --- single points of failure, root cause ---------------------------------------------


class SinglePointOut(BaseModel):
    """A component whose failure alone breaks promises."""

    component: str
    kind: NodeKind
    breaks: list[str] = Field(description="promises it breaks alone, by id")
    at_risk: list[str] = Field(description="promises it puts at risk alone, by id")


class SpofPageOut(BaseModel):
    """Which part of the single points of failure `single_points` shows."""

    total: int = Field(description="how many there are, over all pages")
    limit: int
    offset: int


class SpofAnswerOut(BaseModel):
    """When the single points of failure were computed, and on which graph."""

    version: int = Field(description="the graph version they were computed on; they hold "
                                     "for every later version that changed no dependency")
    computed_at: datetime
    current: bool = Field(description="whether they were computed on the dependencies the "
                                      "graph has now; `false` while a newer graph is being "
                                      "computed (ask again after `Retry-After` seconds)")
    page: SpofPageOut
    single_points: list[SinglePointOut] = Field(
        description="most promises broken first, then by id")


class PromiseSpofOut(SpofAnswerOut):
    """The single points of failure of one promise, most promises broken first."""

    model_config = _example(examples.SPOF_RESPONSE)

    promise: str


class SpofRankingOut(SpofAnswerOut):
    """Single points of failure across the catalogue, most promises broken first."""

    model_config = _example(examples.SPOF_RANKING_RESPONSE)


class SpofPendingOut(BaseModel):
    """No single points of failure computed yet: ask again after ``retry_after`` seconds
    (also sent as ``Retry-After``)."""

    model_config = _example(examples.SPOF_PENDING)

    detail: str
    retry_after: int


class RootCauseRequest(Strict):
    """What is observed, which kinds of component may be the cause, how many
    candidates to return."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [examples.ROOT_CAUSE_REQUEST]})

    observed: dict[str, StateWord] = Field(
        description="node id -> observed state. Failing ones (at least one degraded or down) "
                    "are to be explained; healthy ones (`ok`) rule out every component whose "
                    "failure would have them fail. Unknown ids answer 404")
    limit: StrictInt = Field(10, ge=1, le=1000, description="the most candidates returned")
    kinds: list[NodeKind] | None = Field(
        None, min_length=1, description="the kinds of component that may be the cause "
                                        "(default: service_system and ci)")


class CandidateOut(BaseModel):
    """A component whose failure alone is consistent with every observation and produces
    some of the failing ones."""

    component: str
    kind: NodeKind
    state: FailState = Field(description="the failure assumed: down, or only degraded")
    explains: list[str] = Field(description="failing observations it produces exactly")
    unexplained: list[str] = Field(description="failing observations it does not produce "
                                               "(it predicts them better than seen)")
    extra: int = Field(description="nodes it would put out of ok that nobody observed (the "
                                   "component itself included when it was not observed)")
    evidence: StateWord | None = Field(description="the component's own observed state, "
                                                   "if it was observed")
    explains_all: bool
    chains: dict[str, list[str]] = Field(
        description="for each observation it explains, the chain of causes from that node "
                    "back to the component")


class RootCauseOut(BaseModel):
    """Candidates, best first: most failing observations explained, then fewest failures
    predicted that nobody observed, then the most evidence on the component itself (its
    own observed state), then id."""

    model_config = _example(examples.ROOT_CAUSE_RESPONSE)

    candidates: list[CandidateOut]


# --- catalogues -------------------------------------------------------------------------


class PromiseRow(BaseModel):
    """A service promise and what it is kept through."""

    id: str
    name: str
    owner: str | None
    description: str | None
    properties: dict[str, Any]
    kept_through: list[str]


class PromiseCatalogueOut(BaseModel):
    """The list of service promises."""

    model_config = _example(examples.PROMISES_RESPONSE)

    items: list[PromiseRow]


class ServiceSystemRow(BaseModel):
    """A service system: visible or hidden, who provides and owns it, what it performs."""

    id: str
    name: str
    visible: bool | None
    provider: str | None
    owner: str | None
    description: str | None
    performs: list[str]
    depends_on: list[str]


class ServiceSystemCatalogueOut(BaseModel):
    """The list of service systems."""

    model_config = _example(examples.SERVICE_SYSTEMS_RESPONSE)

    items: list[ServiceSystemRow]


class ServiceActRow(BaseModel):
    """A service act: who performs it and what it serves."""

    id: str
    name: str
    description: str | None
    performed_by: list[str]
    serves: list[str]


class ServiceActCatalogueOut(BaseModel):
    """The list of service acts."""

    model_config = _example(examples.SERVICE_ACTS_RESPONSE)

    items: list[ServiceActRow]


class MatrixCell(BaseModel):
    """The CIs of one silo a service depends on."""

    silo: str
    service: str
    cis: list[str]


class MatrixOut(BaseModel):
    """The silo x service matrix; empty cells are left out."""

    model_config = _example(examples.MATRIX_RESPONSE)

    silos: list[str]
    services: list[str]
    cells: list[MatrixCell]


# --- nodes and edges (the interchange format) -------------------------------------------


class NodeIn(Strict):
    """A node in the interchange format, as pushed by an integrator.

    Rules that span items cannot be stated here and answer 422 naming the item:
    each group in `redundancy` needs member edges (`group`) from this node, its counts
    at most their number, and `ok_at` not below `min_ok`; `kind` must fit the layers of
    the node's edges; ids are unique in a batch.
    """

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [examples.NODE_PUSH_ITEM]})

    id: Identifier
    kind: NodeKind
    name: Name | None = Field(None, description="defaults to the id")
    owner: Line | None = None
    provider: Line | None = None
    visible: StrictBool | None = None
    silo: Line | None = None
    description: Description | None = None
    source: Identifier | None = None
    external_id: Identifier | None = Field(
        None, description="the source's own key for the node (default: the id)")
    properties: Properties | None = None
    redundancy: Redundancy | None = None

    def raw(self) -> dict[str, Any]:
        """The interchange form as sent (fields left out or null dropped).

        Field by field, not ``model_dump()``: a JSON dump would turn NaN into null
        and stop at pydantic's depth limit before the model's bounds could name the
        problem.
        """
        return {name: value for name, value in self if value is not None}


class NodePutIn(NodeIn):
    """A node in the interchange format; ``id`` may be left out (the path names it)."""

    model_config = ConfigDict(extra="forbid",
                              json_schema_extra={"examples": [examples.NODE_PUT_REQUEST]})

    id: Identifier | None = Field(  # type: ignore[assignment]
        None, description="must equal the id in the path when given")

    def batch(self, node_id: str) -> GraphData:
        """This node, with the path's id, as a one-node batch (bounds checked by the
        library)."""
        if self.id is not None and self.id != node_id:
            raise ValidationError([Problem("nodes", 0, show(self.id), "id",
                                           f"must equal the id in the path ({show(node_id)}) "
                                           "or be left out")])
        return parse_document({"nodes": [{**self.raw(), "id": node_id}]})


class ObservedStateOut(BaseModel):
    """The last observed state of a node."""

    state: StateWord
    at: str
    source: str


class NodeOut(BaseModel):
    """A stored node, in the interchange format (absent attributes left out)."""

    model_config = _example(examples.NODE)

    id: str
    kind: NodeKind
    name: str
    owner: str | None = None
    provider: str | None = None
    visible: bool | None = None
    silo: str | None = None
    description: str | None = None
    source: str | None = None
    external_id: str | None = None
    properties: dict[str, Any] | None = None
    redundancy: dict[str, Any] | None = Field(
        None, description="redundancy group -> its rule as declared: a count, a share "
                          "('50%') or `{min_ok, ok_at}`")
    retired_at: str | None = Field(
        None, description="set when every source that pushed it stopped (full sync): "
                          "out of impact answers, purged after the retention period")
    observed: ObservedStateOut | None = Field(
        None, description="the last state an integrator observed, if any")


class NodePageOut(BaseModel):
    """One page of nodes, ordered by id."""

    model_config = _example(examples.NODE_PAGE_RESPONSE)

    items: list[NodeOut]
    total: int = Field(description="how many nodes match, over all pages")
    limit: int
    offset: int


class EdgeIn(Strict):
    """A dependency in the interchange format: ``from`` needs ``to``.

    Rules that span items answer 422 naming the item: both ends must exist (in the
    graph or the batch) and fit the layers; a `group` needs its `min_ok` declared in
    the `redundancy` of the `from` node; a soft edge has no group; no node depends
    on itself; one edge per pair.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={
        "examples": [examples.EDGE_PUT_REQUEST],
        # Within the item, so stated: a soft edge has no group.
        "not": {"required": ["impact", "group"],
                "properties": {"impact": {"const": "soft"}, "group": {"type": "string"}}}})

    source: Identifier = Field(alias="from", description="the dependant's id")
    target: Identifier = Field(alias="to", description="the dependency's id")
    # Before `group`, so the group's check sees it.
    impact: Impact = Impact.HARD
    group: Identifier | None = Field(
        None, description="redundancy group (hard edges only); its min_ok is declared in "
                          "the `redundancy` of the `from` node")

    @field_validator("group")
    @classmethod
    def _soft_has_no_group(cls, group: str | None, info: ValidationInfo) -> str | None:
        if group is not None and info.data.get("impact") is Impact.SOFT:
            raise ValueError("a soft dependency cannot be in a redundancy group")
        return group

    def raw(self) -> dict[str, Any]:
        """The interchange form as sent."""
        out: dict[str, Any] = {"from": self.source, "to": self.target,
                               "impact": self.impact.value}
        if self.group is not None:
            out["group"] = self.group
        return out

    def batch(self) -> GraphData:
        """This edge as a one-edge batch (bounds checked by the library)."""
        return parse_document({"edges": [self.raw()]})


class EdgeClaimOut(BaseModel):
    """One source's claim on a dependency."""

    source: str
    key: str
    at: str


class EdgeOut(BaseModel):
    """A stored dependency."""

    model_config = ConfigDict(populate_by_name=True,
                              json_schema_extra={"examples": [examples.EDGE]})

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    group: str | None = None
    impact: Impact = Impact.HARD
    retired_at: str | None = Field(
        None, description="set when every source that pushed it stopped (full sync)")
    provenance: list[EdgeClaimOut] | None = Field(
        None, description="which sources pushed it, under which key, since when")
    dangling: bool | None = Field(
        None, description="true when it is live but touches a retired node: another "
                          "source stopped asserting a node this dependency needs")


class EdgeListOut(BaseModel):
    """Dependencies, ordered by (from, to), one page of them."""

    model_config = _example(examples.EDGES_RESPONSE)

    items: list[EdgeOut]
    total: int = Field(description="how many edges match, over all pages")
    limit: int
    offset: int


class SubgraphOut(BaseModel):
    """The part of the graph around ``center``; ``truncated`` when the limit cut it."""

    model_config = _example(examples.NEIGHBOURHOOD_RESPONSE)

    center: str
    truncated: bool
    nodes: list[NodeOut]
    edges: list[EdgeOut]


class GraphOut(BaseModel):
    """A whole graph in the interchange format."""

    nodes: list[NodeOut]
    edges: list[EdgeOut]


# --- operations ---------------------------------------------------------------------------


class HealthOut(BaseModel):
    """The process lives."""

    model_config = _example({"status": "ok"})

    status: Literal["ok"]


class ReadyOut(BaseModel):
    """Whether this process can answer current questions; ``reason`` says why not."""

    model_config = _example({"status": "ready", "store": "sqlite:servicegraph.db",
                             "reason": None, "version": 42, "stale_since": None})

    status: Literal["ready", "loading", "stale", "unavailable"]
    store: str
    reason: str | None = None
    version: int | None = Field(None, description="the graph version the answers reflect")
    stale_since: str | None = Field(None, description="since when the store does not answer")
