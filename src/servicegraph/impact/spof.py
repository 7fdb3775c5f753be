"""Single points of failure: components whose failure alone breaks a promise.

A component is a single point of failure of a promise when taking it down, and
nothing else, leaves the promise down. These functions answer for one graph in,
one answer out: they compute every promise's single points of failure at once
(:class:`~servicegraph.impact.spof_table.SpofTable`, see
:mod:`~servicegraph.impact.spof_breakage` for how) and read the answer off. A server
keeps that table per graph version instead
(:class:`~servicegraph.impact.spof_cache.SpofCache`).
"""

from __future__ import annotations

from collections.abc import Collection

from servicegraph.impact.index import GraphIndex
from servicegraph.impact.spof_table import COMPONENT_KINDS, SinglePoint, SpofTable
from servicegraph.model.kinds import NodeKind

__all__ = ["SinglePoint", "single_points_of_failure", "spof_ranking"]


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
    return SpofTable.compute(index).of_promise(promise)[0]


def spof_ranking(
    index: GraphIndex,
    *,
    kinds: Collection[NodeKind] = COMPONENT_KINDS,
    limit: int | None = None,
) -> list[SinglePoint]:
    """Components of ``kinds`` that break at least one promise alone, across the catalogue.

    Parameters
    ----------
    index : GraphIndex
        The graph, left untouched.
    kinds : collection of NodeKind
        Which kinds of component to consider (service systems and CIs by default;
        promises are never components).
    limit : int, optional
        Keep only the first ``limit`` entries (at least 1); all when ``None``.

    Returns
    -------
    list of SinglePoint
        Ranked like :func:`single_points_of_failure`: most promises broken first,
        then by id.

    Raises
    ------
    ValueError
        When ``limit`` is below 1.

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
    return SpofTable.compute(index).ranking(kinds, limit=limit)[0]
