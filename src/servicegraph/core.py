"""The library's front door: a store, the rules, and a cached index for answers.

Writes are validated whole against the stored graph before anything is
written, then written as one atomic change; the index for impact questions is
rebuilt lazily after a write.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from servicegraph.impact.analysis import ImpactResult, analyse, scenario
from servicegraph.impact.index import GraphIndex
from servicegraph.model.graph import GraphData
from servicegraph.model.validate import validate
from servicegraph.store.base import Change, GraphStore


@dataclass(frozen=True)
class LoadSummary:
    """What a load did."""

    nodes: int
    edges: int
    total_nodes: int
    total_edges: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"nodes": self.nodes, "edges": self.edges,
                "total_nodes": self.total_nodes, "total_edges": self.total_edges}


class ServiceGraph:
    """A service graph in a store, with the questions it answers."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._graph: GraphData | None = None
        self._index: GraphIndex | None = None

    def graph(self) -> GraphData:
        """The stored graph (cached until the next write through this object)."""
        with self._lock:
            if self._graph is None:
                self._graph = self.store.read()
            return self._graph

    def index(self) -> GraphIndex:
        """The impact index of the stored graph (cached likewise)."""
        graph = self.graph()
        with self._lock:
            if self._index is None:
                self._index = GraphIndex.from_graph(graph)
            return self._index

    def refresh(self) -> None:
        """Forget the cache, e.g. after another process wrote to the store."""
        with self._lock:
            self._graph = None
            self._index = None

    def load(self, batch: GraphData, *, replace: bool = False) -> LoadSummary:
        """Validate ``batch`` whole, then write it in one transaction.

        With ``replace`` the batch becomes the whole graph; otherwise it is
        upserted onto the stored one (nodes by id, edges by pair). Raises
        :class:`~servicegraph.model.ValidationError` and writes nothing when
        any item is wrong.
        """
        existing = None if replace else self.store.read()
        merged = validate(batch, existing)
        self.store.apply(Change.upsert(batch, replace=replace))
        self.refresh()
        return LoadSummary(len(batch.nodes), len(batch.edges), len(merged.nodes),
                           len(merged.edges))

    def impact(self, down: list[str] | tuple[str, ...] = (),
               degraded: list[str] | tuple[str, ...] = ()) -> ImpactResult:
        """What breaks if ``down`` fail and ``degraded`` degrade."""
        return analyse(self.index(), scenario(down, degraded))

    def close(self) -> None:
        """Close the store."""
        self.store.close()
