"""The neighbourhood of one node: what it needs and what needs it, a few hops out.

A page cannot draw a catalogue of thousands of nodes, but it can draw the
part around one of them. "Both" means the union of the two directions, not an
undirected walk: a sibling (another dependant of the same dependency) is not
part of a node's impact story, and an undirected walk would pull it in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.graph import Edge, GraphData, Node

DIRECTIONS = ("upstream", "downstream", "both")


@dataclass(frozen=True)
class Subgraph:
    """Part of a graph around ``center``; ``truncated`` when the node limit cut it."""

    center: str
    graph: GraphData
    truncated: bool

    def to_dict(self) -> dict[str, Any]:
        """The interchange document of the part, with its center and whether it was cut."""
        return {"center": self.center, "truncated": self.truncated, **self.graph.to_dict()}


class Neighbours(Protocol):
    """What a walk reads of a graph: its nodes, and their dependencies and dependants."""

    def node(self, node_id: str) -> Node | None:
        """The node of that id, if the graph has it."""
        ...

    def needs(self, node_id: str) -> Sequence[str]:
        """The ids of the node's dependencies."""
        ...

    def needed_by(self, node_id: str) -> Sequence[str]:
        """The ids of the node's dependants."""
        ...

    def edges_among(self, ids: set[str]) -> list[Edge]:
        """Every edge whose two ends are in ``ids``, in graph order."""
        ...


class GraphNeighbours:
    """:class:`Neighbours` of a :class:`~servicegraph.model.GraphData`."""

    def __init__(self, graph: GraphData) -> None:
        self.graph = graph
        self._nodes = graph.node_map()
        self._needs: dict[str, list[str]] = {}
        self._needed_by: dict[str, list[str]] = {}
        for e in graph.edges:
            self._needs.setdefault(e.source, []).append(e.target)
            self._needed_by.setdefault(e.target, []).append(e.source)

    def node(self, node_id: str) -> Node | None:
        """The node of that id, if any."""
        return self._nodes.get(node_id)

    def needs(self, node_id: str) -> Sequence[str]:
        """The ids of the node's dependencies."""
        return self._needs.get(node_id, ())

    def needed_by(self, node_id: str) -> Sequence[str]:
        """The ids of the node's dependants."""
        return self._needed_by.get(node_id, ())

    def edges_among(self, ids: set[str]) -> list[Edge]:
        """Every edge among ``ids``, in graph order."""
        return [e for e in self.graph.edges if e.source in ids and e.target in ids]


def neighbourhood(graph: GraphData | Neighbours, node_id: str, *, direction: str = "both",
                  depth: int = 2, limit: int = 500) -> Subgraph:
    """The nodes within ``depth`` hops of ``node_id``, and every edge among them.

    Parameters
    ----------
    graph : GraphData or Neighbours
        The graph, left untouched (a live graph is walked through its
        :class:`Neighbours`, so the walk costs what it reaches).
    node_id : str
        The center.
    direction : {"upstream", "downstream", "both"}
        ``"upstream"`` follows dependencies (what the center needs),
        ``"downstream"`` follows dependants (what needs the center), ``"both"``
        takes the union of the two.
    depth : int
        How many hops (0 gives the center alone).
    limit : int
        At most this many nodes (at least 1), nearest first, ids in order
        within a hop; ``truncated`` is set when reachable nodes were left out.

    Returns
    -------
    Subgraph
        Nodes in breadth-first order (the center first), edges in graph order.

    Raises
    ------
    UnknownNodeError
        When ``node_id`` is not in the graph.
    ValueError
        On an unknown direction, a negative depth or a limit below 1.

    Examples
    --------
    >>> from servicegraph.model import Edge, Node, NodeKind
    >>> g = GraphData.of([Node(i, NodeKind.CI, i.upper()) for i in "abcd"],
    ...                  [Edge("a", "b"), Edge("b", "c"), Edge("d", "b")])
    >>> [n.id for n in neighbourhood(g, "b", direction="downstream").graph.nodes]
    ['b', 'a', 'd']
    >>> neighbourhood(g, "b", limit=2).truncated
    True
    """
    if direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    if depth < 0:
        raise ValueError(f"depth must be 0 or more, got {depth}")
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    around = GraphNeighbours(graph) if isinstance(graph, GraphData) else graph
    center = around.node(node_id)
    if center is None:
        raise UnknownNodeError([node_id])
    # One walk per direction, each with its own frontier and visited set, so "both"
    # never turns around mid-walk and one walk never blocks the other.
    walks = [adj for name, adj in (("upstream", around.needs),
                                   ("downstream", around.needed_by))
             if direction in (name, "both")]
    frontiers = [[node_id] for _ in walks]
    visited = [{node_id} for _ in walks]
    order = [node_id]
    kept = {node_id}
    truncated = False
    for _ in range(depth):
        fresh = [_step(adj, frontier, seen)
                 for adj, frontier, seen in zip(walks, frontiers, visited, strict=True)]
        level = sorted(set().union(*fresh) - kept)
        room = limit - len(order)
        if len(level) > room:
            truncated = True
            level = level[:room]
        order.extend(level)
        kept.update(level)
        frontiers = [sorted(f & kept) for f in fresh]
        for seen, frontier in zip(visited, frontiers, strict=True):
            seen.update(frontier)
        if truncated or not any(frontiers):
            break
    nodes = [center, *(around.node(n) for n in order[1:])]
    return Subgraph(node_id, GraphData(tuple(n for n in nodes if n is not None),
                                       tuple(around.edges_among(kept))), truncated)


def _step(adj: Callable[[str], Sequence[str]], frontier: Iterable[str],
          seen: set[str]) -> set[str]:
    """Nodes one hop out from ``frontier`` that this walk has not seen yet."""
    return {m for n in frontier for m in adj(n) if m not in seen}
