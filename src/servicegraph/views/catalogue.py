"""The three catalogues and the silo x service matrix.

The model replaces the one "service catalogue" by three lists: the promises
made to the customer, the service systems (the higher-level CIs) and the
service acts the customer can get. The matrix maps the technology silos
against the services they deliver. All are pure functions of a graph; entries
are ordered by id so the answer does not depend on the order a store returns.

Each reads its graph through :class:`Links`: a :class:`~servicegraph.model.GraphData`
is read whole (:class:`GraphLinks`), while a process's live graph answers from its
index and columns, so that a catalogue costs what it lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from servicegraph.model.graph import GraphData, Node
from servicegraph.model.kinds import NodeKind

#: The row for CIs that name no silo.
UNASSIGNED = "unassigned"


class Links(Protocol):
    """What the catalogues and the matrix read of a graph (its live part)."""

    def of_kind(self, kind: NodeKind) -> list[Node]:
        """Nodes of one kind, by id."""
        ...

    def needs(self, node_id: str, *kinds: NodeKind) -> list[str]:
        """Ids ``node_id`` depends on directly (of ``kinds``, or all when none given), sorted."""
        ...

    def needed_by(self, node_id: str, *kinds: NodeKind) -> list[str]:
        """Ids that depend directly on ``node_id`` (of ``kinds``, or all), sorted."""
        ...

    def ci_silos(self) -> Mapping[str, str | None]:
        """Every CI's silo (``None`` when it names none), by id."""
        ...

    def descendants(self, node_id: str) -> Iterable[str]:
        """Ids ``node_id`` depends on directly or not (itself excluded)."""
        ...


class GraphLinks:
    """:class:`Links` of a :class:`~servicegraph.model.GraphData` (read as given)."""

    def __init__(self, graph: GraphData) -> None:
        self.graph = graph
        self.nodes = graph.node_map()
        self.out: dict[str, list[str]] = {}
        self.into: dict[str, list[str]] = {}
        for e in graph.edges:
            self.out.setdefault(e.source, []).append(e.target)
            self.into.setdefault(e.target, []).append(e.source)
        self._nx: Any = None

    def _of(self, ids: list[str], kinds: frozenset[NodeKind] | None) -> list[str]:
        return sorted(n for n in ids
                      if n in self.nodes and (kinds is None or self.nodes[n].kind in kinds))

    def needs(self, node_id: str, *kinds: NodeKind) -> list[str]:
        """Ids ``node_id`` depends on directly (of ``kinds``, or all when none given)."""
        return self._of(self.out.get(node_id, []), frozenset(kinds) or None)

    def needed_by(self, node_id: str, *kinds: NodeKind) -> list[str]:
        """Ids that depend directly on ``node_id`` (of ``kinds``, or all)."""
        return self._of(self.into.get(node_id, []), frozenset(kinds) or None)

    def of_kind(self, kind: NodeKind) -> list[Node]:
        """Nodes of one kind, by id."""
        return sorted((n for n in self.nodes.values() if n.kind is kind), key=lambda n: n.id)

    def ci_silos(self) -> dict[str, str | None]:
        """Every CI's silo, by id."""
        return {n.id: n.silo for n in self.graph.nodes if n.kind is NodeKind.CI}

    def descendants(self, node_id: str) -> set[str]:
        """Ids ``node_id`` depends on directly or not."""
        if self._nx is None:
            # networkx is loaded by the one view that walks with it, not by every command.
            from servicegraph.impact.reference import to_networkx

            self._nx = to_networkx(self.graph)
        import networkx as nx

        return nx.descendants(self._nx, node_id)  # type: ignore[no-any-return]


def links_of(graph: GraphData | Links) -> Links:
    """``graph`` as :class:`Links`."""
    return GraphLinks(graph) if isinstance(graph, GraphData) else graph


def promise_catalogue(graph: GraphData | Links) -> list[dict[str, Any]]:
    """The list of service promises, each with what it is kept through.

    Examples
    --------
    >>> from servicegraph.model import Edge, Node
    >>> g = GraphData.of([Node("p", NodeKind.PROMISE, "P", owner="HR"),
    ...                   Node("bs", NodeKind.BUSINESS_SERVICE, "BS")], [Edge("p", "bs")])
    >>> promise_catalogue(g)[0]["kept_through"]
    ['bs']
    """
    links = links_of(graph)
    return [
        {"id": n.id, "name": n.name, "owner": n.owner, "description": n.description,
         "properties": dict(n.properties),
         "kept_through": links.needs(n.id, NodeKind.BUSINESS_SERVICE, NodeKind.SERVICE_ACT,
                                     NodeKind.SERVICE_SYSTEM)}
        for n in links.of_kind(NodeKind.PROMISE)
    ]


def service_system_catalogue(graph: GraphData | Links) -> list[dict[str, Any]]:
    """The list of service systems: who provides and owns each, what acts it performs.

    ``depends_on`` lists its direct dependencies (service systems and CIs).

    Examples
    --------
    >>> from servicegraph.model import Edge, Node
    >>> g = GraphData.of([Node("act", NodeKind.SERVICE_ACT, "Act"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App", visible=True)],
    ...                  [Edge("act", "app")])
    >>> row = service_system_catalogue(g)[0]
    >>> row["performs"], row["visible"]
    (['act'], True)
    """
    links = links_of(graph)
    return [
        {"id": n.id, "name": n.name, "visible": n.visible, "provider": n.provider,
         "owner": n.owner, "description": n.description,
         "performs": links.needed_by(n.id, NodeKind.SERVICE_ACT),
         "depends_on": links.needs(n.id)}
        for n in links.of_kind(NodeKind.SERVICE_SYSTEM)
    ]


def service_act_catalogue(graph: GraphData | Links) -> list[dict[str, Any]]:
    """The list of service acts: what the customer can get, who performs it, what it serves.

    Examples
    --------
    >>> from servicegraph.model import Edge, Node
    >>> g = GraphData.of([Node("bs", NodeKind.BUSINESS_SERVICE, "BS"),
    ...                   Node("act", NodeKind.SERVICE_ACT, "Act"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App")],
    ...                  [Edge("bs", "act"), Edge("act", "app")])
    >>> row = service_act_catalogue(g)[0]
    >>> row["performed_by"], row["serves"]
    (['app'], ['bs'])
    """
    links = links_of(graph)
    return [
        {"id": n.id, "name": n.name, "description": n.description,
         "performed_by": links.needs(n.id, NodeKind.SERVICE_SYSTEM),
         "serves": links.needed_by(n.id, NodeKind.BUSINESS_SERVICE, NodeKind.PROMISE)}
        for n in links.of_kind(NodeKind.SERVICE_ACT)
    ]


@dataclass(frozen=True)
class SiloMatrix:
    """Technology silos (rows) against services (columns).

    ``cells[(silo, service)]`` holds the CIs of that silo the service
    transitively depends on; empty cells are absent.
    """

    silos: tuple[str, ...]
    services: tuple[str, ...]
    cells: Mapping[tuple[str, str], tuple[str, ...]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: the axes, then the non-empty cells row by row."""
        return {
            "silos": list(self.silos),
            "services": list(self.services),
            "cells": [{"silo": silo, "service": service, "cis": list(self.cells[(silo, service)])}
                      for silo in self.silos for service in self.services
                      if (silo, service) in self.cells],
        }


def silo_matrix(graph: GraphData | Links, *,
                columns: NodeKind = NodeKind.BUSINESS_SERVICE) -> SiloMatrix:
    """The silo x service matrix.

    Parameters
    ----------
    graph : GraphData or Links
        The graph, left untouched.
    columns : NodeKind
        The kind of node to use as columns: business services by default,
        promises, service acts or service systems also work (not CIs).

    Returns
    -------
    SiloMatrix
        Rows are the silos of the CIs, sorted, with ``"unassigned"`` (CIs
        without a silo) last; columns are the nodes of kind ``columns``, sorted.

    Examples
    --------
    >>> from servicegraph.model import Edge, Node
    >>> g = GraphData.of([Node("bs", NodeKind.BUSINESS_SERVICE, "BS"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App"),
    ...                   Node("db", NodeKind.CI, "DB", silo="storage")],
    ...                  [Edge("bs", "app"), Edge("app", "db")])
    >>> m = silo_matrix(g)
    >>> m.silos, m.services, m.cells
    (('storage',), ('bs',), {('storage', 'bs'): ('db',)})
    """
    if columns is NodeKind.CI:
        raise ValueError("columns must be a kind of service, not ci")
    links = links_of(graph)
    silo_of = {i: silo or UNASSIGNED for i, silo in links.ci_silos().items()}
    named = sorted({s for s in silo_of.values() if s != UNASSIGNED})
    silos = (*named, UNASSIGNED) if UNASSIGNED in silo_of.values() else tuple(named)
    services = tuple(n.id for n in links.of_kind(columns))
    cells: dict[tuple[str, str], list[str]] = {}
    for service in services:
        for dep in links.descendants(service):
            if dep in silo_of:
                cells.setdefault((silo_of[dep], service), []).append(dep)
    return SiloMatrix(silos, services, {k: tuple(sorted(v)) for k, v in cells.items()})
