"""Single points of failure: components whose failure alone breaks a promise.

A component is a single point of failure for a promise when taking it down, and
nothing else, leaves the promise down. Only nodes the promise transitively
depends on can do that, so each question first collects that upstream set with
a breadth-first search over the forward CSR of the index, then runs the engine
once per candidate.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from servicegraph.impact.engine import Propagation, propagate
from servicegraph.impact.engine import reachable as reach
from servicegraph.impact.index import GraphIndex
from servicegraph.model.kinds import NodeKind, State

_DOWN, _DEGRADED = int(State.DOWN), int(State.DEGRADED)


@dataclass(frozen=True)
class SinglePoint:
    """A component and the promises its failure alone (state down) breaks or puts at risk."""

    component: str
    kind: NodeKind
    breaks: tuple[str, ...]
    at_risk: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"component": self.component, "kind": self.kind.value,
                "breaks": list(self.breaks), "at_risk": list(self.at_risk)}


def reachable(index: GraphIndex, starts: Iterable[int]) -> set[int]:
    """Node numbers reachable from ``starts`` along dependencies, ``starts`` included.

    Following ``DEPENDS_ON`` forward gives everything the start nodes need, i.e.
    every node whose failure could possibly reach them.

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node
    >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B"),
    ...                   Node("c", NodeKind.CI, "C")], [Edge("a", "b")])
    >>> idx = GraphIndex.from_graph(g)
    >>> sorted(idx.ids[n] for n in reachable(idx, [idx.position["a"]]))
    ['a', 'b']
    """
    return set(reach(index, list(starts)).tolist())


def _promises(p: Propagation, state: int) -> tuple[str, ...]:
    idx = p.index
    return tuple(sorted(idx.ids[n] for n, s in p.state.items()
                        if s == state and idx.kind(n) is NodeKind.PROMISE))


def _alone(index: GraphIndex, node: int) -> SinglePoint:
    """What node number ``node`` down, and nothing else, does to the promises."""
    p = propagate(index, {node: _DOWN})
    return SinglePoint(index.ids[node], index.kind(node),
                       _promises(p, _DOWN), _promises(p, _DEGRADED))


def _ranked(points: Iterable[SinglePoint]) -> list[SinglePoint]:
    return sorted(points, key=lambda sp: (-len(sp.breaks), sp.component))


def single_points_of_failure(index: GraphIndex, promise: str) -> list[SinglePoint]:
    """Every component whose failure alone breaks ``promise``.

    Parameters
    ----------
    index : GraphIndex
        The graph, left untouched.
    promise : str
        The id of a promise.

    Returns
    -------
    list of SinglePoint
        Nodes upstream of the promise (its transitive dependencies, of any
        kind) that leave it down when they alone are down, each with every
        promise it breaks or puts at risk; most promises broken first, then by id.

    Raises
    ------
    UnknownNodeError
        When ``promise`` is not in the graph.
    ValueError
        When ``promise`` names a node that is not a promise.

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node
    >>> g = GraphData.of([Node("p", NodeKind.PROMISE, "P"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App"),
    ...                   Node("db", NodeKind.CI, "DB")], [Edge("p", "app"), Edge("app", "db")])
    >>> [sp.component for sp in single_points_of_failure(GraphIndex.from_graph(g), "p")]
    ['app', 'db']
    """
    (target,) = index.lookup([promise])
    if index.kind(target) is not NodeKind.PROMISE:
        raise ValueError(f"{promise!r} is a {index.kind(target).value}, not a promise")
    points = []
    for node in reachable(index, [target]) - {target}:
        sp = _alone(index, node)
        if promise in sp.breaks:
            points.append(sp)
    return _ranked(points)


def spof_ranking(
    index: GraphIndex,
    *,
    kinds: Collection[NodeKind] = (NodeKind.SERVICE_SYSTEM, NodeKind.CI),
    limit: int | None = None,
) -> list[SinglePoint]:
    """Components of ``kinds`` that break at least one promise alone, across the catalogue.

    Parameters
    ----------
    index : GraphIndex
        The graph, left untouched.
    kinds : collection of NodeKind
        Which kinds of component to consider (service systems and CIs by default).
    limit : int, optional
        Keep only the first ``limit`` entries (at least 1); all when ``None``.

    Returns
    -------
    list of SinglePoint
        Ranked like :func:`single_points_of_failure`: most promises broken first,
        then by id.

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node
    >>> g = GraphData.of([Node("p", NodeKind.PROMISE, "P"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App"),
    ...                   Node("db", NodeKind.CI, "DB")], [Edge("p", "app"), Edge("app", "db")])
    >>> [(sp.component, sp.breaks) for sp in spof_ranking(GraphIndex.from_graph(g),
    ...                                                     kinds=[NodeKind.CI])]
    [('db', ('p',))]
    """
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    wanted = frozenset(kinds)
    promises = [n for n in range(index.node_count) if index.kind(n) is NodeKind.PROMISE]
    # Only what some promise depends on can break one: skip the rest of the catalogue.
    points = []
    for node in reachable(index, promises):
        if index.kind(node) in wanted and index.kind(node) is not NodeKind.PROMISE:
            sp = _alone(index, node)
            if sp.breaks:
                points.append(sp)
    ranked = _ranked(points)
    return ranked if limit is None else ranked[:limit]
