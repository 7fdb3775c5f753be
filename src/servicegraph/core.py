"""The library's front door: a store, the rules, and a cached index for answers.

Every write goes the same way: read the stored graph, plan the change as a
pure function, validate the graph it leaves, write it as one atomic change.
Writes are serialised by one lock per process; the index for impact questions
is rebuilt lazily after a write, and the live promise states are re-derived
so that followers hear of every change.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from servicegraph.impact.analysis import ImpactResult, analyse, scenario
from servicegraph.impact.index import GraphIndex
from servicegraph.ingest.live import Broadcaster, diff, promise_states
from servicegraph.ingest.push import PushPlan, plan_push, refuse_empty_sync
from servicegraph.ingest.status import StatusPlan, StatusUpdate, iso, plan_status
from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.graph import GraphData, Node
from servicegraph.model.kinds import State
from servicegraph.model.validate import validate, validate_removal
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


def _now() -> datetime:
    return datetime.now(UTC)


class ServiceGraph:
    """A service graph in a store, with the questions it answers.

    Parameters
    ----------
    store : GraphStore
        Where the graph lives.
    precedence : sequence of str
        Source names, best first, for reconciling sources that describe the
        same component (see :mod:`servicegraph.ingest.reconcile`).
    retention : timedelta
        How long retired items are kept before a push purges them.
    """

    def __init__(self, store: GraphStore, *, precedence: Sequence[str] = (),
                 retention: timedelta = timedelta(days=30)) -> None:
        self.store = store
        self.precedence = list(precedence)
        self.retention = retention
        self.events = Broadcaster()
        # Reentrant: cached readers call one another while holding it.
        self._lock = threading.RLock()
        self._write_lock = threading.Lock()
        self._graph: GraphData | None = None
        self._version: int | None = None
        self._nodes: dict[str, Node] | None = None
        self._index: GraphIndex | None = None
        self._current: ImpactResult | None = None
        self._promises: dict[str, State] | None = None

    # --- reading -------------------------------------------------------------

    def graph(self) -> GraphData:
        """The stored graph, retired items included.

        Cached until the next write, through this object or any other process
        (the store's write counter is checked on every call).
        """
        with self._lock:
            version = self.store.version()
            if self._graph is not None and version != self._version:
                self.refresh()
            if self._graph is None:
                self._graph, self._version = self.store.read(), version
            return self._graph

    def index(self) -> GraphIndex:
        """The impact index of the live graph (retired items left out)."""
        graph = self.graph()
        with self._lock:
            if self._index is None:
                self._index = GraphIndex.from_graph(graph.live())
            return self._index

    def node(self, node_id: str) -> Node:
        """One node, retired or not; raises :class:`UnknownNodeError`."""
        graph = self.graph()
        with self._lock:
            if self._nodes is None:
                self._nodes = graph.node_map()
            node = self._nodes.get(node_id)
        if node is None:
            raise UnknownNodeError([node_id])
        return node

    def refresh(self) -> None:
        """Forget the cache, e.g. after another process wrote to the store."""
        with self._lock:
            self._graph = None
            self._nodes = None
            self._index = None
            self._current = None

    def ping(self) -> None:
        """Raise unless the store answers now."""
        self.store.ping()

    # --- impact --------------------------------------------------------------

    def impact(self, down: Sequence[str] = (), degraded: Sequence[str] = ()) -> ImpactResult:
        """What breaks if ``down`` fail and ``degraded`` degrade (a what-if)."""
        return analyse(self.index(), scenario(down, degraded))

    def current(self) -> ImpactResult:
        """The impact of the states integrators observed, as of now."""
        index, graph = self.index(), self.graph()
        with self._lock:
            if self._current is None:
                observed = {n.id: n.observed.state for n in graph.live().nodes
                            if n.observed is not None and n.observed.state > State.OK}
                self._current = analyse(index, observed)
            return self._current

    def _after_write(self) -> None:
        self.refresh()
        result = self.current()
        with self._lock:
            before, self._promises = self._promises, promise_states(result)
        if before is not None and self.events.listening:
            self.events.publish(diff(before, result, iso(_now())))

    def watch_start(self) -> None:
        """Record the promise states now, so later writes report changes from here."""
        states = promise_states(self.current())
        with self._lock:
            if self._promises is None:
                self._promises = states

    # --- writing -------------------------------------------------------------

    def load(self, batch: GraphData, *, replace: bool = False) -> LoadSummary:
        """Validate ``batch`` whole, then write it in one transaction (by hand).

        With ``replace`` the batch becomes the whole graph; otherwise it is
        upserted onto the stored one (nodes by id, edges by pair). Provenance and
        observed states already stored for a node are kept; a node loaded by hand
        is live again if it was retired. Raises
        :class:`~servicegraph.model.ValidationError` and writes nothing when any
        item is wrong.
        """
        with self._write_lock:
            existing = None if replace else self.store.read()
            if existing is not None:
                known = existing.node_map()
                batch = GraphData(tuple(
                    n.with_changes(claims=known[n.id].claims, observed=known[n.id].observed)
                    if n.id in known else n for n in batch.nodes), batch.edges)
            merged = validate(batch, existing.live() if existing else None)
            self.store.apply(Change.upsert(batch, replace=replace))
            self._after_write()
        return LoadSummary(len(batch.nodes), len(batch.edges), len(merged.nodes),
                           len(merged.edges))

    def remove(self, node_ids: Sequence[str] = (),
               edge_keys: Sequence[tuple[str, str]] = ()) -> GraphData:
        """Delete nodes (with their edges) and edges, if what remains is valid.

        Returns the remaining graph; raises ``UnknownNodeError`` /
        ``UnknownEdgeError`` for unknown items and ``ValidationError`` when a
        redundancy group would be left short; nothing is written then.
        """
        with self._write_lock:
            remaining = validate_removal(self.store.read(), node_ids, edge_keys)
            self.store.apply(Change(delete_edges=tuple(edge_keys),
                                    delete_nodes=tuple(node_ids)))
            self._after_write()
        return remaining

    def push(self, source: str, batch: GraphData, *, full_sync: bool = False,
             dry_run: bool = False, allow_empty: bool = False,
             now: datetime | None = None) -> dict[str, Any]:
        """A batch from an integrator, keyed by ``source`` + external id.

        Validated whole, written in one transaction, idempotent; with
        ``full_sync`` what this source pushed before and not now is retired
        (other sources' items are never touched). A full sync with no items is
        refused unless ``allow_empty`` says the source is now empty, since it
        would retire everything the source pushed. Returns the counts
        (created / updated / unchanged / retired).
        """
        if full_sync and not allow_empty:
            refuse_empty_sync(source, batch)
        moment = now or _now()
        with self._write_lock:
            stored = self.store.read()
            plan: PushPlan = plan_push(stored, source, batch, full_sync=full_sync,
                                       precedence=self.precedence, now=iso(moment))
            if not dry_run and plan.changes_anything:
                self.store.apply(plan.change)
                self._after_write()
        # Retention is enforced by pushes; look in what was just read before paying
        # for a purge (which reads the store again), since usually nothing is due.
        cutoff = iso(moment - self.retention)
        retired = [n.retired_at for n in stored.nodes] + [e.retired_at for e in stored.edges]
        if not dry_run and any(r is not None and r <= cutoff for r in retired):
            self.purge(older_than=self.retention, now=moment)
        return plan.to_dict(dry_run=dry_run)

    def push_status(self, source: str, updates: Sequence[StatusUpdate]) -> dict[str, Any]:
        """Observed states from ``source``; answers applied / stale counts."""
        with self._write_lock:
            plan: StatusPlan = plan_status(self.store.read(), source, updates)
            if plan.nodes:
                self.store.apply(Change(upsert_nodes=plan.nodes))
                self._after_write()
        return plan.to_dict()

    def purge(self, *, older_than: timedelta | None = None,
              now: datetime | None = None) -> dict[str, int]:
        """Delete retired items (all of them, or those retired before ``now - older_than``)."""
        cutoff = iso((now or _now()) - older_than) if older_than is not None else None
        with self._write_lock:
            graph = self.store.read()

            def due(retired_at: str | None) -> bool:
                return retired_at is not None and (cutoff is None or retired_at <= cutoff)

            nodes = tuple(n.id for n in graph.nodes if due(n.retired_at))
            edges = tuple(e.key for e in graph.edges if due(e.retired_at))
            if nodes or edges:
                self.store.apply(Change(delete_edges=edges, delete_nodes=nodes))
                self._after_write()
        return {"nodes": len(nodes), "edges": len(edges)}

    def provenance(self, node_id: str) -> dict[str, Any]:
        """Who says what about a node, and since when."""
        node = self.node(node_id)
        return {"id": node.id, "retired_at": node.retired_at,
                "claims": [c.to_dict() for c in node.claims],
                "observed": node.observed.to_dict() if node.observed else None}

    def states(self) -> Mapping[str, State]:
        """The current promise states (all promises, ok ones included)."""
        return promise_states(self.current())

    def close(self) -> None:
        """Close the store."""
        self.store.close()
