"""The one narrow interface every store implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from servicegraph.model.graph import Edge, GraphData, Node


@dataclass(frozen=True)
class Change:
    """One atomic write: applied whole, in one transaction, or not at all.

    Deletions happen first, then upserts (nodes by id, edges by their pair).
    With ``replace`` the store is emptied first: the change becomes the graph.
    """

    upsert_nodes: tuple[Node, ...] = ()
    upsert_edges: tuple[Edge, ...] = ()
    delete_edges: tuple[tuple[str, str], ...] = ()
    delete_nodes: tuple[str, ...] = ()
    replace: bool = False

    @classmethod
    def upsert(cls, batch: GraphData, *, replace: bool = False) -> Change:
        """A change that upserts a whole batch."""
        return cls(batch.nodes, batch.edges, replace=replace)


@runtime_checkable
class GraphStore(Protocol):
    """Where the graph lives. Callers validate before they write (see
    :mod:`servicegraph.core`); a store only guarantees atomicity."""

    #: A short description for humans, e.g. ``sqlite:servicegraph.db``.
    description: str

    def read(self) -> GraphData:
        """The whole graph: nodes ordered by id, edges by (from, to)."""
        ...

    def apply(self, change: Change) -> None:
        """Write one change atomically."""
        ...

    def ping(self) -> None:
        """Raise unless the store answers now (readiness)."""
        ...

    def version(self) -> int:
        """A number that changes when another process writes the graph, so a
        cached copy can be checked cheaply."""
        ...

    def clear(self) -> None:
        """Remove everything."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...
