"""Plain data for the service graph: nodes, edges and a whole graph.

These are immutable values; stores read and write them, the engine indexes them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from servicegraph.model import fields
from servicegraph.model.kinds import Impact, NodeKind, State
from servicegraph.model.redundancy import Rule

#: Optional descriptive attributes a node may carry besides ``properties`` (declared in
#: :mod:`servicegraph.model.fields`).
ATTRIBUTES = fields.ATTRIBUTES


@dataclass(frozen=True)
class Claim:
    """What one source asserted about one item, and since when.

    ``key`` is the source's own key for the item (its external id; ``a->b`` for
    an edge); ``fields`` the attributes it asserted, in interchange form.
    ``at`` is when the source first asserted exactly these fields.
    """

    source: str
    key: str
    at: str
    fields: Mapping[str, Any]

    @property
    def digest(self) -> str:
        """Identity of the asserted content (a repeated push compares equal)."""
        return json.dumps([self.key, self.fields], sort_keys=True, default=str)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"source": self.source, "key": self.key, "at": self.at,
                "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Claim:
        """Inverse of :meth:`to_dict`."""
        return cls(raw["source"], raw["key"], raw["at"], dict(raw["fields"]))


@dataclass(frozen=True)
class Observation:
    """A state observed by a source (monitoring) at a time."""

    state: State
    at: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"state": self.state.word, "at": self.at, "source": self.source}


@dataclass(frozen=True)
class Node:
    """One node: a promise, business service, service act, service system or CI."""

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
    properties: Mapping[str, Any] = field(default_factory=dict)
    #: group name -> its rule (see :mod:`servicegraph.model.redundancy`): how many
    #: members of that redundancy group this node needs, and from how many it is ok.
    redundancy: Mapping[str, Rule] = field(default_factory=dict)
    #: Provenance: what each source pushed (empty for nodes written by hand).
    claims: tuple[Claim, ...] = ()
    #: Set when every source that claimed the node stopped claiming it.
    retired_at: str | None = None
    #: The last state a source observed, if any.
    observed: Observation | None = None

    def to_dict(self) -> dict[str, Any]:
        """The interchange form of this node (absent attributes left out)."""
        out: dict[str, Any] = {"id": self.id, "kind": self.kind.value, "name": self.name}
        for attr in ATTRIBUTES:
            value = getattr(self, attr)
            if value is not None:
                out[attr] = value
        if self.properties:
            out["properties"] = dict(self.properties)
        if self.redundancy:
            out["redundancy"] = dict(self.redundancy)
        return out

    def with_changes(self, **changes: Any) -> Node:
        """A copy with some fields changed."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Edge:
    """``source -[:DEPENDS_ON]-> target``: the source needs the target."""

    source: str
    target: str
    group: str | None = None
    impact: Impact = Impact.HARD
    claims: tuple[Claim, ...] = ()
    retired_at: str | None = None

    @property
    def key(self) -> tuple[str, str]:
        """The identity of an edge: one dependency per ordered pair."""
        return (self.source, self.target)

    def with_claims(self, claims: tuple[Claim, ...]) -> Edge:
        """A copy carrying ``claims``."""
        return replace(self, claims=claims)

    def to_dict(self) -> dict[str, Any]:
        """The interchange form of this edge."""
        out: dict[str, Any] = {"from": self.source, "to": self.target}
        if self.group is not None:
            out["group"] = self.group
        if self.impact is not Impact.HARD:
            out["impact"] = self.impact.value
        return out


@dataclass(frozen=True)
class GraphData:
    """A whole graph (or a batch): nodes and edges, in input order."""

    nodes: tuple[Node, ...] = ()
    edges: tuple[Edge, ...] = ()

    @classmethod
    def of(cls, nodes: Iterable[Node] = (), edges: Iterable[Edge] = ()) -> GraphData:
        """Build from any iterables."""
        return cls(tuple(nodes), tuple(edges))

    def node_map(self) -> dict[str, Node]:
        """Nodes by id (last one wins; validation rejects duplicates first)."""
        return {n.id: n for n in self.nodes}

    def merged_with(self, batch: GraphData) -> GraphData:
        """This graph with ``batch`` upserted on top: nodes by id, edges by key.

        >>> a = GraphData.of([Node("x", NodeKind.CI, "X")])
        >>> b = GraphData.of([Node("x", NodeKind.CI, "X2"), Node("y", NodeKind.CI, "Y")])
        >>> [n.name for n in a.merged_with(b).nodes]
        ['X2', 'Y']
        """
        nodes = self.node_map()
        nodes.update((n.id, n) for n in batch.nodes)
        edges = {e.key: e for e in self.edges}
        edges.update((e.key, e) for e in batch.edges)
        return GraphData(tuple(nodes.values()), tuple(edges.values()))

    def live(self) -> GraphData:
        """The graph impact answers are about: every edge not retired, every node not
        retired, and the retired nodes a live edge still touches.

        A node one source stopped asserting may still be needed by another source's
        dependency; dropping it would silently stop impact from flowing there, so it
        stays (retired, and its dependency is reported as dangling) until that
        dependency goes too.

        >>> g = GraphData.of([Node("a", NodeKind.CI, "A", retired_at="2026-01-01T00:00:00Z")])
        >>> g.live().nodes
        ()
        >>> held = GraphData.of([g.nodes[0], Node("b", NodeKind.CI, "B")], [Edge("b", "a")])
        >>> [n.id for n in held.live().nodes]
        ['a', 'b']
        """
        if not any(n.retired_at for n in self.nodes) and not any(
                e.retired_at for e in self.edges):
            return self
        edges = tuple(e for e in self.edges if e.retired_at is None)
        touched = {end for e in edges for end in e.key}
        nodes = tuple(n for n in self.nodes if n.retired_at is None or n.id in touched)
        return GraphData(nodes, edges)

    def to_dict(self) -> dict[str, Any]:
        """The interchange document for this graph."""
        return {
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
        }
