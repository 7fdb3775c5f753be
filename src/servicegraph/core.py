"""The library's front door: a store, the live graph in memory, and the questions.

The process holds the graph, its index and the current impact in memory (a
:class:`~servicegraph.live.Replica`). A write is planned against that state,
written in one store transaction that checks the version it was planned on,
then applied to memory: no write reads the whole graph. When another process
wrote first, the write catches up from the store's journal and plans again, a
bounded number of times. Questions are answered from memory, after a cheap
check that the store has not moved on; while the store does not answer they
are answered from memory anyway, marked stale.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from servicegraph.impact.analysis import ImpactResult, analyse, scenario
from servicegraph.impact.index import GraphIndex
from servicegraph.impact.spof_cache import SpofAnswer, SpofCache
from servicegraph.ingest.live import Broadcaster, diff, promise_states
from servicegraph.ingest.push import check_source, refuse_empty_sync
from servicegraph.ingest.status import StatusUpdate, iso
from servicegraph.live import plan as planning
from servicegraph.live.replica import Replica
from servicegraph.live.state import LiveGraph
from servicegraph.model.errors import UnknownNodeError, ValidationError
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.kinds import NodeKind, State
from servicegraph.store.base import (
    Change,
    ChangeInfo,
    GraphStore,
    JournalEntry,
    StoreUnavailable,
    SyncClosed,
    SyncMark,
    SyncSession,
    WriteView,
)

log = logging.getLogger("servicegraph.live")

R = TypeVar("R")

#: When the question being answered was asked (monotonic seconds), if known: reads
#: look at the store once per question, not once per step of its answer.
ASKED_AT: ContextVar[float | None] = ContextVar("servicegraph_asked_at", default=None)


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


@dataclass(frozen=True)
class Freshness:
    """How current an answer is: the version it reflects, and whether the store
    could be asked (``stale`` when it could not: the answer is what was known)."""

    version: int
    stale: bool
    stale_since: str | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"version": self.version, "stale": self.stale,
                "stale_since": self.stale_since, "reason": self.reason}


def _now() -> datetime:
    return datetime.now(UTC)


class ServiceGraph:
    """A service graph in a store, held in memory, with the questions it answers.

    Parameters
    ----------
    store : GraphStore
        Where the graph lives.
    precedence : sequence of str
        Source names, best first, for reconciling sources that describe the
        same component (see :mod:`servicegraph.ingest.reconcile`).
    retention : timedelta
        How long retired items are kept before a push purges them.
    write_timeout : float
        Seconds a write waits for this process's other writes before giving up
        (the store is then reported busy).
    write_retries : int
        How many times a write plans again after another process wrote first.
    check_interval, retry_interval : float
        How often reads ask the store whether it moved on, and how soon after a
        failure they ask again (see :class:`~servicegraph.live.Replica`).
    """

    def __init__(self, store: GraphStore, *, precedence: Sequence[str] = (),
                 retention: timedelta = timedelta(days=30), write_timeout: float = 30.0,
                 write_retries: int = 12, check_interval: float = 0.0,
                 retry_interval: float = 1.0) -> None:
        self.store = store
        self.precedence = list(precedence)
        self.retention = retention
        self.write_timeout = write_timeout
        self.write_retries = write_retries
        self.replica = Replica(store, check_interval=check_interval,
                               retry_interval=retry_interval)
        self._follower: threading.Thread | None = None
        self._loader: threading.Thread | None = None
        self._stop = threading.Event()
        self.events = Broadcaster()
        self._writing = threading.Lock()
        self._cache_lock = threading.Lock()
        self._snapshot: tuple[int, GraphIndex] | None = None
        self._whole: tuple[int, GraphData] | None = None
        self._current: tuple[int, ImpactResult] | None = None
        self._promises: dict[str, State] | None = None
        self.replica.listen(self._changed)

    # --- the live graph -----------------------------------------------------------------

    def refresh(self, *, force: bool = False) -> Freshness:
        """Catch up with the store (loading the graph the first time) and say how
        current the answers are."""
        self.replica.refresh(force=force)
        return self.freshness()

    def freshness(self) -> Freshness:
        """How current the answers are, without asking the store."""
        since = self.replica.stale_since
        return Freshness(self.replica.version, since is not None,
                         None if since is None else
                         iso(datetime.fromtimestamp(since, UTC)), self.replica.stale_reason)

    @contextmanager
    def reading(self) -> Iterator[LiveGraph]:
        """The live graph, current as far as the store answers, unchanged while held.

        It includes every change committed before the question was asked
        (:data:`ASKED_AT`, or now), unless the store does not answer: then it is what
        this process knew, and :meth:`freshness` says so.
        """
        self.replica.refresh(since=ASKED_AT.get())
        with self.replica.reading() as graph:
            yield graph

    @property
    def version(self) -> int:
        """The version the answers reflect."""
        return self.replica.version

    # --- reading ------------------------------------------------------------------------

    def graph(self) -> GraphData:
        """The whole stored graph as model objects (retired items included, claims
        left out: see :meth:`provenance`). Built once per version: for views that
        need all of it."""
        with self.reading() as live:
            with self._cache_lock:
                if self._whole is not None and self._whole[0] == live.version:
                    return self._whole[1]
            whole = live.graph()
            with self._cache_lock:
                self._whole = (live.version, whole)
            return whole

    def index(self) -> GraphIndex:
        """A frozen copy of the impact index at the current version (built once per
        change of the graph's structure), safe to use for as long as wanted."""
        with self.reading() as live:
            key = live.index.structure
            with self._cache_lock:
                if self._snapshot is not None and self._snapshot[0] == key:
                    return self._snapshot[1]
            frozen = live.index.snapshot()
            with self._cache_lock:
                self._snapshot = (key, frozen)
            return frozen

    def node(self, node_id: str) -> Node:
        """One node, retired or not (without its claims); raises :class:`UnknownNodeError`."""
        with self.reading() as live:
            node = live.node(node_id)
        if node is None:
            raise UnknownNodeError([node_id])
        return node

    def node_page(self, *, kind: NodeKind | None = None, query: str | None = None,
                  limit: int = 100, offset: int = 0) -> tuple[list[Node], int]:
        """A page of the stored nodes (of ``kind``, matching ``query`` in id or name), in
        id order (exact matches first), and how many match."""
        with self.reading() as live:
            found = live.find_nodes(kind, query)
            return [live.node_at(v) for v in found[offset:offset + limit]], len(found)

    def edge_page(self, *, source: str | None = None, target: str | None = None,
                  limit: int = 1000, offset: int = 0
                  ) -> tuple[list[tuple[Edge, bool]], int]:
        """A page of the stored edges (from ``source``, to ``target``) ordered by
        (from, to), each with whether it is dangling (touches a retired node), and how
        many match. Provenance is read from the store for the page; while the store
        does not answer the edges come without it."""
        with self.reading() as live:
            found = live.ordered_edges(live.edge_numbers(source, target))
            page = found[offset:offset + limit]
            dangling = set(live.dangling(page))
            edges = [(live.edge_at(e), e in dangling) for e in page]
        try:
            stored = self.store.fetch([], [e.key for e, _ in edges]).edges
            claims = {e.key: e.claims for e in stored}
        except StoreUnavailable:
            claims = {}
        return [(edge.with_claims(claims.get(edge.key, ())), d) for edge, d in edges], len(found)

    def ping(self) -> None:
        """Raise unless the store answers now."""
        self.store.ping()

    # --- impact -------------------------------------------------------------------------

    def impact(self, down: Sequence[str] = (), degraded: Sequence[str] = ()) -> ImpactResult:
        """What breaks if ``down`` fail and ``degraded`` degrade (a what-if), on a frozen
        copy of the index: the result may be kept and read at leisure."""
        return analyse(self.index(), scenario(down, degraded))

    def impact_answer(self, down: Sequence[str] = (), degraded: Sequence[str] = (),
                      **size: Any) -> dict[str, Any]:
        """The answer to a what-if, sized by ``size`` (see :meth:`ImpactResult.answer`),
        computed on the live index: the fast way for a server."""
        with self.reading() as live:
            result = analyse(live.index, scenario(down, degraded))
            return {**result.answer(**size), "as_of": self.freshness().to_dict()}

    def explain(self, node_id: str, down: Sequence[str] = (), degraded: Sequence[str] = ()
                ) -> dict[str, Any]:
        """One node's explanation under a what-if (state ``ok``, no causes, when the
        scenario leaves it alone), with its whole chain."""
        with self.reading() as live:
            return _explained(node_id, analyse(live.index, scenario(down, degraded)))

    def explain_current(self, node_id: str) -> dict[str, Any]:
        """One node's explanation under the states observed now, with its whole chain."""
        with self.reading() as live:
            return _explained(node_id, self._current_on(live))

    def _observed(self, live: LiveGraph) -> dict[str, State]:
        idx = live.index
        return {idx.ids[v]: seen.state for v, seen in live.observed.items()
                if seen.state > State.OK and idx.counted(v)}

    def _current_on(self, live: LiveGraph) -> ImpactResult:
        with self._cache_lock:
            cached = self._current
        if cached is not None and cached[0] == live.version:
            return cached[1]
        result = analyse(live.index, self._observed(live))
        with self._cache_lock:
            self._current = (live.version, result)
        return result

    def current(self) -> ImpactResult:
        """The impact of the states integrators observed, as of now (on a frozen copy
        of the index, like :meth:`impact`)."""
        index = self.index()
        with self.reading() as live:
            observed = self._observed(live)
        return analyse(index, observed)

    def current_answer(self, **size: Any) -> dict[str, Any]:
        """The current impact, sized by ``size``, computed on the live index."""
        with self.reading() as live:
            return {**self._current_on(live).answer(**size),
                    "as_of": self.freshness().to_dict()}

    def states(self) -> Mapping[str, State]:
        """The current promise states (all promises, ok ones included)."""
        with self.reading() as live:
            return promise_states(self._current_on(live))

    def watch_start(self) -> None:
        """Record the promise states now, so later changes report from here."""
        states = dict(self.states())
        with self._cache_lock:
            if self._promises is None:
                self._promises = states

    def _changed(self, entries: list[JournalEntry]) -> None:
        """After changes were applied (own or replayed): tell the listeners of the
        promises whose state changed."""
        if self._promises is None or not self.events.listening:
            return
        with self.replica.reading() as live:
            result = self._current_on(live)
            with self._cache_lock:
                before, self._promises = self._promises, promise_states(result)
            changes = diff(before, result, entries[-1].info.at)
        if changes:
            self.events.publish(changes)

    # --- writing ------------------------------------------------------------------------

    @contextmanager
    def _writer(self) -> Iterator[None]:
        # Writes of this process go one at a time, so they do not conflict with each
        # other; waiting is bounded, and reads never wait on it.
        if not self._writing.acquire(timeout=self.write_timeout):
            raise StoreUnavailable(f"this process's writes are queued for more than "
                                   f"{self.write_timeout:g} s; retry later")
        try:
            yield
        finally:
            self._writing.release()

    def _commit(self, plan: Callable[[WriteView, LiveGraph], tuple[Change | None,
                                                                   ChangeInfo, R]],
                ) -> tuple[R, int | None]:
        """Plan and write one change in one store transaction, then apply it here.

        Inside the transaction the store's write lock is held: the live graph first
        catches up on every change committed before it (from the journal), then
        ``plan`` decides on the graph as it stands, reading stored items through the
        view, and the store writes what it decided. Writers of all processes queue on
        that lock; none plans on a graph another has changed meanwhile.

        Returns what ``plan`` answered and the version written (``None`` when it
        wrote nothing).
        """
        def inside(view: WriteView) -> tuple[Change | None, ChangeInfo, R]:
            if not self.replica.catch_up_in(view):
                raise _Behind
            with self.replica.reading() as live:
                return plan(view, live)

        with self._writer():
            for _ in range(self.write_retries):
                if not self.replica.refresh(force=True):
                    raise StoreUnavailable(f"the store does not answer: "
                                           f"{self.replica.stale_reason}")
                try:
                    entry, answer = self.store.transact(inside)
                except _Behind:
                    continue  # the journal no longer reaches back: read the graph, again
                if entry is None:
                    return answer, None
                # The entry the store wrote: the change is turned into rows once.
                self.replica.apply_own(entry)
                return answer, entry.version
        raise StoreUnavailable("the graph kept changing in bulk while this write waited; "
                               "retry")

    def load(self, batch: GraphData, *, replace: bool = False) -> LoadSummary:
        """Validate ``batch`` whole, then write it in one transaction (by hand).

        With ``replace`` the batch becomes the whole graph; otherwise it is
        upserted onto the stored one (nodes by id, edges by pair). Provenance and
        observed states already stored for a node are kept; a node loaded by hand
        is live again if it was retired. Raises
        :class:`~servicegraph.model.ValidationError` and writes nothing when any
        item is wrong.
        """
        def plan(view: WriteView, live: LiveGraph) -> tuple[Change, ChangeInfo, None]:
            stored = GraphData() if replace else view.fetch([n.id for n in batch.nodes], [])
            change, _ = planning.plan_load(live, batch, stored, replace=replace)
            return change, ChangeInfo(iso(_now()), "load"), None

        self._commit(plan)
        with self.replica.reading() as live:
            return LoadSummary(len(batch.nodes), len(batch.edges), live.node_count,
                               live.edge_count)

    def remove(self, node_ids: Sequence[str] = (),
               edge_keys: Sequence[tuple[str, str]] = ()) -> None:
        """Delete nodes (with their edges) and edges, if what remains is valid.

        Raises ``UnknownNodeError`` / ``UnknownEdgeError`` for unknown items and
        ``ValidationError`` when a redundancy group would be left short; nothing
        is written then.
        """
        def plan(_: WriteView, live: LiveGraph) -> tuple[Change, ChangeInfo, None]:
            change = planning.plan_removal(live, node_ids, edge_keys)
            return change, ChangeInfo(iso(_now()), "remove"), None

        self._commit(plan)

    def push(self, source: str, batch: GraphData, *, full_sync: bool = False,
             dry_run: bool = False, allow_empty: bool = False,
             now: datetime | None = None, session: str | None = None) -> dict[str, Any]:
        """A batch from an integrator, keyed by ``source`` + external id.

        Validated whole, written in one transaction, idempotent; with
        ``full_sync`` what this source pushed before and not now is retired
        (other sources' items are never touched). A full sync with no items is
        refused unless ``allow_empty`` says the source is now empty, since it
        would retire everything the source pushed. Returns the counts (created /
        updated / unchanged / retired), the version written, and the dependencies
        of other sources left on a node this push retired (``dangling``).
        A push that repeats what is stored is recognised in memory and writes nothing.

        With ``session`` the batch is one page of that sync session (see
        :meth:`open_sync`): written like any push, its keys recorded for the commit.
        """
        if full_sync and not allow_empty:
            refuse_empty_sync(source, batch)
        moment = now or _now()
        if session is not None:
            self._open_session(session, source, moment)
            if full_sync:
                raise ValueError("a page of a sync session is not itself a full sync: "
                                 "commit the session to retire what it did not assert")

        info = ChangeInfo(iso(moment), "push", source)
        if session is None and not full_sync:
            # A push that repeats what is stored is known here: it never reaches the store.
            with self.reading() as live:
                work = planning.push_work(live, source, batch, full_sync=False)
                if work.nothing:
                    found = planning.plan_push(live, work, GraphData(), source, batch,
                                               full_sync=False, precedence=self.precedence,
                                               now=info.at)
                    answer = {**found.to_dict(dry_run=dry_run), "version": live.version,
                              "dangling": []}
                    due = self._retention_due(live, moment)
            if work.nothing:
                if due and not dry_run:
                    self.purge(older_than=self.retention, now=moment)
                return answer

        def plan(view: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, dict[str, Any]]:
            work = planning.push_work(live, source, batch, full_sync=full_sync)
            stored = GraphData() if work.nothing else view.fetch(
                [*(n.id for n in work.changed.nodes), *work.retire_nodes],
                [*(e.key for e in work.changed.edges), *work.retire_edges])
            found = planning.plan_push(live, work, stored, source, batch,
                                       full_sync=full_sync, precedence=self.precedence,
                                       now=info.at)
            answer = found.to_dict(dry_run=dry_run)
            change = None if dry_run or not found.changes_anything else found.change
            if session is not None and not dry_run:
                mark = SyncMark(session, tuple(n.id for n in batch.nodes),
                                tuple(e.key for e in batch.edges))
                change = replace(change or Change(), sync=mark)
            return change, info, answer

        answer, version = self._commit(plan)
        with self.replica.reading() as live:
            answer["version"] = version if version is not None else live.version
            answer["dangling"] = (planning.dangling_view(live, live.dangling())
                                  if full_sync else [])
            due = self._retention_due(live, moment)
        if due and not dry_run:
            self.purge(older_than=self.retention, now=moment)
        return answer

    def _retention_due(self, live: LiveGraph, moment: datetime) -> bool:
        cutoff = iso(moment - self.retention)
        return any(at <= cutoff for at in live.node_retired.values()) or any(
            at <= cutoff for at in live.edge_retired.values())

    # --- sync sessions --------------------------------------------------------------------

    def open_sync(self, source: str, *, ttl: timedelta = timedelta(hours=1),
                  now: datetime | None = None) -> SyncSession:
        """Open a sync session: a full sync of ``source`` spread over many pushes.

        Push its pages with ``push(source, page, session=id)``, each validated and
        written whole; :meth:`commit_sync` then retires, in one transaction, what the
        source claims and no page asserted. A session not committed within ``ttl``
        expires; an expired or abandoned session retires nothing.
        """
        problems = check_source(source)
        if problems:
            raise ValidationError(problems)
        moment = now or _now()
        return self.store.open_sync(source, iso(moment), iso(moment + ttl))

    def sync_session(self, session: str, *, source: str | None = None) -> SyncSession:
        """A sync session's state; raises :class:`SyncClosed` (state ``unknown``) when
        there is none (of ``source``, when given)."""
        found = self.store.sync_session(session)
        if found is None or (source is not None and found.source != source):
            raise SyncClosed(session, "unknown")
        return found

    def _open_session(self, session: str, source: str, moment: datetime) -> SyncSession:
        found = self.store.sync_session(session)
        if found is None or found.source != source:
            raise SyncClosed(session, "unknown")
        if found.state == "open" and found.expires_at < iso(moment):
            self.store.close_sync(session, "expired")
            raise SyncClosed(session, "expired")
        if found.state != "open":
            raise SyncClosed(session, found.state)
        return found

    def commit_sync(self, source: str, session: str, *, allow_empty: bool = False,
                    now: datetime | None = None) -> dict[str, Any]:
        """End a sync session: retire what ``source`` claims and no page of the
        session asserted, in one transaction; answers the counts like a full sync."""
        moment = now or _now()
        self._open_session(session, source, moment)

        def plan(view: WriteView, live: LiveGraph
                 ) -> tuple[Change, ChangeInfo, dict[str, Any]]:
            asserted = view.sync_keys(session)
            if not allow_empty and not asserted[0] and not asserted[1]:
                refuse_empty_sync(source, GraphData())
            work = planning.push_work(live, source, GraphData(), full_sync=True,
                                      asserted=asserted)
            stored = view.fetch(work.retire_nodes, work.retire_edges)
            found = planning.plan_push(live, work, stored, source, GraphData(),
                                       full_sync=True, precedence=self.precedence,
                                       now=iso(moment))
            change = replace(found.change, sync=SyncMark(session, close="committed"))
            answer = {**found.to_dict(dry_run=False), "session": session}
            return change, ChangeInfo(iso(moment), "sync", source), answer

        answer, version = self._commit(plan)
        with self.replica.reading() as live:
            answer["version"] = version
            answer["dangling"] = planning.dangling_view(live, live.dangling())
        return answer

    def abandon_sync(self, source: str, session: str) -> SyncSession:
        """End a sync session without retiring anything (its pages stay written)."""
        self._open_session(session, source, _now())
        self.store.close_sync(session, "abandoned")
        return self.sync_session(session)

    def push_status(self, source: str, updates: Sequence[StatusUpdate]) -> dict[str, Any]:
        """Observed states from ``source``; answers applied / stale counts. Only the
        observed state is written: a status never touches a node's other attributes."""
        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, dict[str, Any]]:
            found, observe = planning.plan_status(live, source, updates)
            change = Change(observe=observe) if observe else None
            return change, ChangeInfo(iso(_now()), "status", source), found.to_dict()

        answer, _ = self._commit(plan)
        answer["version"] = self.replica.version
        return answer

    def purge(self, *, older_than: timedelta | None = None,
              now: datetime | None = None) -> dict[str, int]:
        """Delete retired items (all of them, or those retired before ``now - older_than``).

        A retired node that another source's live dependency still needs is kept.
        """
        cutoff = iso((now or _now()) - older_than) if older_than is not None else None

        def plan(_: WriteView, live: LiveGraph) -> tuple[Change, ChangeInfo, dict[str, int]]:
            change, counts = planning.plan_purge(live, cutoff)
            return change, ChangeInfo(iso(_now()), "purge"), counts

        counts, _ = self._commit(plan)
        return counts

    def provenance(self, node_id: str) -> dict[str, Any]:
        """Who says what about a node, and since when (read from the store)."""
        found = self.store.fetch([node_id], []).nodes
        if not found:
            raise UnknownNodeError([node_id])
        node = found[0]
        return {"id": node.id, "retired_at": node.retired_at,
                "claims": [c.to_dict() for c in node.claims],
                "observed": node.observed.to_dict() if node.observed else None}

    def dangling(self) -> list[dict[str, Any]]:
        """Every live dependency on a retired node: what one source stopped asserting
        and another still needs. Impact keeps flowing through them."""
        with self.reading() as live:
            return planning.dangling_view(live, live.dangling())

    def load_soon(self) -> None:
        """Start reading the graph in the background if it was never read (a probe
        that finds the store back starts it; questions wait for it)."""
        with self._cache_lock:
            if self.replica.loaded or (self._loader is not None and self._loader.is_alive()):
                return

            def run() -> None:
                try:
                    self.replica.refresh(force=True)
                except Exception:
                    log.exception("reading the graph failed")

            self._loader = threading.Thread(target=run, name="servicegraph-load", daemon=True)
            self._loader.start()

    def follow(self, interval: float) -> None:
        """Keep up with the store in the background, every ``interval`` seconds, so
        that changes made by other processes reach this process's listeners (the
        promise events) without waiting for a question. Loads the graph first."""
        if self._follower is not None:
            return

        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.replica.refresh(force=not self.replica.loaded)
                except Exception:
                    log.exception("keeping up with the store failed; trying again")
                self._stop.wait(interval)

        self._follower = threading.Thread(target=run, name="servicegraph-follower",
                                          daemon=True)
        self._follower.start()

    # --- single points of failure: one table per structure, computed in the background ---

    _spof: SpofCache | None = None

    def single_points(self, *, wait: float = 0.5) -> SpofAnswer:
        """The single points of failure of every promise, as last computed: current when
        computed on the graph's present dependencies, else the previous table (or none)
        while the current one is computed in the background, waited for at most
        ``wait`` seconds (see :class:`~servicegraph.impact.spof_cache.SpofCache`)."""
        with self._cache_lock:
            if self._spof is None:
                self._spof = SpofCache(self.reading)
            cache = self._spof
        return cache.answer(wait=wait)

    def close(self) -> None:
        """Stop following and close the store."""
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
        self.store.close()



def _explained(node_id: str, result: ImpactResult) -> dict[str, Any]:
    found = result.explain(node_id)
    if found is None:
        return {"node": node_id, "state": "ok", "rule": None, "given": None, "causes": [],
                "via": None, "chain": []}
    return {"node": node_id, **found.to_dict()}


class _Behind(Exception):
    """The live graph cannot catch up from the journal inside a write's transaction."""
