"""Every write to the service graph, through one mechanism.

A write takes the store's write lock (:meth:`~servicegraph.store.GraphStore.transact`);
holding it, the process's live graph catches up on every change committed before
(from the journal), the change is planned on the graph as it then stands (reading
from the store only the stored versions of the items it changes), and the store
writes it with its journal entry; the entry is then applied to the live graph.
Writers of every process queue on that lock, so none plans on a graph another has
changed meanwhile: there is nothing to lose and nothing to retry. Within a process
writes go one at a time, waiting at most ``write_timeout``; questions never wait
on a write's store I/O.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar, cast

from servicegraph.ingest.alerts import Delivery
from servicegraph.ingest.ndjson import NdjsonReader
from servicegraph.ingest.push import (
    Counts,
    PushPlan,
    check_batch,
    check_source,
    refuse_empty_sync,
)
from servicegraph.ingest.status import StatusUpdate
from servicegraph.live import plan as planning
from servicegraph.live.alert_plan import plan_alerts, plan_mapping
from servicegraph.live.replica import Replica
from servicegraph.live.state import LiveGraph
from servicegraph.model.acknowledgements import CLEARED, RECOVERED, Acknowledgement, NotImpacted
from servicegraph.model.alert_mapping import AlertMapping
from servicegraph.model.errors import Problem, UnknownNodeError, ValidationError
from servicegraph.model.graph import GraphData
from servicegraph.model.maintenance import CANCELLED, Window
from servicegraph.model.times import iso
from servicegraph.model.validate import given_twice
from servicegraph.runtime.questions import ANSWERED, Questions
from servicegraph.runtime.recorder import Noted, Recorder, observes_only
from servicegraph.store.base import (
    Change,
    ChangeInfo,
    GraphStore,
    RecordStore,
    StoreError,
    StoreUnavailable,
    SyncClosed,
    SyncMark,
    SyncSession,
    SyncSuperseded,
    WriteView,
)

R = TypeVar("R")
log = logging.getLogger("servicegraph.record")

log = logging.getLogger("servicegraph.runtime")

#: A write planned on the live graph inside the store's transaction: the change to write
#: (``None``: nothing), what it is, and what the write answers.
Plan = Callable[[WriteView, LiveGraph], tuple[Change | None, ChangeInfo, R]]


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


class _Behind(Exception):
    """The live graph cannot catch up from the journal inside a write's transaction."""


class Writer:
    """The write commands of one process.

    Parameters
    ----------
    store : GraphStore
        The store of record.
    replica : Replica
        The process's live graph, which every write plans on and then changes.
    questions : Questions
        For what a write answers beyond its counts (the promises a status breaks).
    precedence : sequence of str
        Source names, best first, for reconciling sources that describe the same
        component (see :mod:`servicegraph.ingest.reconcile`).
    retention : timedelta
        How long retired items are kept before a push purges them.
    write_timeout : float
        Seconds a write waits for this process's other writes before giving up (the
        store is then reported busy).
    reload_attempts : int
        How many times a write reads the whole graph again when, holding the lock,
        it finds the journal no longer reaches back to the live graph's version.
    """

    def __init__(self, store: GraphStore, replica: Replica, questions: Questions, *,
                 precedence: Sequence[str] = (), retention: timedelta = timedelta(days=30),
                 write_timeout: float = 30.0, reload_attempts: int = 12) -> None:
        self.store = store
        self.replica = replica
        self.questions = questions
        self.precedence = list(precedence)
        self.retention = retention
        self.write_timeout = write_timeout
        self.reload_attempts = reload_attempts
        self._writing = threading.Lock()
        self.recorder = Recorder(questions)
        #: Called after each change this process wrote is applied, outside the store's
        #: transaction (the facade hands it the promise feed, so that every write of
        #: this process is told on its own, not merged with the next).
        self.after_write: Callable[[], object] | None = None

    # --- the one way to write -------------------------------------------------------------

    @contextmanager
    def _queued(self) -> Iterator[None]:
        # Writes of this process go one at a time; waiting is bounded, and reads never
        # wait on it.
        if not self._writing.acquire(timeout=self.write_timeout):
            raise StoreUnavailable(f"this process's writes are queued for more than "
                                   f"{self.write_timeout:g} s; retry later")
        try:
            yield
        finally:
            self._writing.release()

    def transact(self, plan: Plan[R]) -> tuple[R, int | None]:
        """Plan and write one change in one store transaction, then apply it here.

        Inside the transaction the store's write lock is held: the live graph first
        catches up on every change committed before it (from the journal), then
        ``plan`` decides on the graph as it stands, reading stored items through the
        view, and the store writes what it decided.

        Returns what ``plan`` answered and the version written (``None`` when it
        wrote nothing).
        """
        with self._queued():
            answer, version = self._transact(plan)
        if version is not None and self.recorder.reach < version:
            # The change's own transitions, at once (a failure leaves them to the next
            # write or the background tick of any process: the write itself stands).
            try:
                self.record()
            except StoreError:
                log.warning("the record of version %d waits for the store", version)
        if version is not None:
            self._end_recovered()
        return answer, version

    def _transact(self, plan: Plan[R]) -> tuple[R, int | None]:
        noted: list[Noted] = []

        def inside(view: WriteView) -> tuple[Change | None, ChangeInfo, R]:
            if not self.replica.catch_up_in(view):
                raise _Behind
            with self.replica.reading() as live:
                # What the record lacks first (written in this same transaction): the
                # version the live graph stands at, if the record does not reach it.
                noted[:] = [self.recorder.due(view, live, iso(_now()))]
                change, info, answer = plan(view, live)
                if change is not None and live.acks:
                    # A write never lands on an acknowledgement whose node recovered
                    # before it: the ack ends first, so the next breakage is
                    # unacknowledged whichever process writes next.
                    named = {a.node for a in change.acks}
                    ended = tuple(a for a in self._recovered(live, info.at)
                                  if a.node not in named)
                    if ended:
                        change = replace(change, acks=(*ended, *change.acks))
                if change is not None and observes_only(change):
                    # Statuses, alerts, windows: their transitions in their transaction.
                    noted[:] = [self.recorder.own(view, live, change, info.at, noted[0])]
            if not noted[0].empty:
                change = replace(change or Change(), record=noted[0].rows,
                                 recorded=noted[0].recorded)
            return change, info, answer

        for _ in range(self.reload_attempts):
            if not self.replica.refresh(force=True):
                raise StoreUnavailable(f"the store does not answer: "
                                       f"{self.replica.stale_reason}")
            try:
                entry, answer = self.store.transact(inside)
            except _Behind:
                continue  # the journal no longer reaches back: read the graph, again
            if noted:
                self.recorder.done(noted[0])
            if entry is None:
                return answer, None
            # The entry the store wrote: the change is turned into rows once.
            self.replica.apply_own(entry)
            mark = ANSWERED.get()
            if mark is not None:  # the answer names the version it wrote (a client's token)
                mark.written = max(mark.written or 0, entry.version)
            if self.after_write is not None:
                self.after_write()
            return answer, entry.version
        raise StoreUnavailable("the graph kept changing in bulk while this write waited; "
                               "retry")

    # --- the promise record ---------------------------------------------------------------

    def record(self) -> None:
        """Write what the record lacks (see :mod:`servicegraph.runtime.recorder`): the
        transitions of the version the store stands at, if not recorded yet, and those
        the clock caused. Writes nothing when nothing is lacking."""
        def nothing(_: WriteView, __: LiveGraph) -> tuple[None, ChangeInfo, None]:
            return None, ChangeInfo(iso(_now()), "record"), None

        with self._queued():
            self._transact(nothing)

    def record_due(self) -> None:
        """:meth:`record`, when the record may lack something: a version it does not
        reach (a process died between a change and its record), or a maintenance
        window that started or ended. For a background tick: cheap otherwise."""
        try:
            if not self.replica.loaded:
                self.replica.refresh(force=True)
            with self.replica.reading() as live:
                version = live.version
                clock = self.recorder.clock_due(live, iso(_now()))
            if clock or (version > self.recorder.reach
                         and cast(RecordStore, self.store).record_reach() < version):
                self.record()
        except StoreError as exc:  # the store is away: the next tick tries again
            log.debug("the record waits for the store: %s", exc)

    # --- by hand --------------------------------------------------------------------------

    def load(self, batch: GraphData, *, replace: bool = False) -> LoadSummary:
        """Validate ``batch`` whole, then write it in one transaction (by hand).

        With ``replace`` the batch becomes the whole graph; otherwise it is upserted
        onto the stored one (nodes by id, edges by pair). Provenance and observed
        states already stored for a node are kept; a node loaded by hand is live again
        if it was retired. Raises :class:`~servicegraph.model.ValidationError` and
        writes nothing when any item is wrong.
        """
        def plan(view: WriteView, live: LiveGraph) -> tuple[Change, ChangeInfo, None]:
            stored = GraphData() if replace else view.fetch([n.id for n in batch.nodes], [])
            change, _ = planning.plan_load(live, batch, stored, replace=replace)
            return change, ChangeInfo(iso(_now()), "load"), None

        self.transact(plan)
        with self.replica.reading() as live:
            return LoadSummary(len(batch.nodes), len(batch.edges), live.node_count,
                               live.edge_count)

    def remove(self, node_ids: Sequence[str] = (),
               edge_keys: Sequence[tuple[str, str]] = ()) -> None:
        """Delete nodes (with their edges) and edges, if what remains is valid.

        Raises ``UnknownNodeError`` / ``UnknownEdgeError`` for unknown items and
        ``ValidationError`` when a redundancy group would be left short; nothing is
        written then.
        """
        def plan(_: WriteView, live: LiveGraph) -> tuple[Change, ChangeInfo, None]:
            change = planning.plan_removal(live, node_ids, edge_keys)
            return change, ChangeInfo(iso(_now()), "remove"), None

        self.transact(plan)

    # --- from integrators -----------------------------------------------------------------

    def push(self, source: str, batch: GraphData, *, full_sync: bool = False,
             dry_run: bool = False, allow_empty: bool = False,
             now: datetime | None = None, session: str | None = None) -> dict[str, Any]:
        """A batch from an integrator, keyed by ``source`` + external id.

        Validated whole, written in one transaction, idempotent; with ``full_sync``
        what this source pushed before and not now is retired (other sources' items
        are never touched). A full sync with no items is refused unless
        ``allow_empty`` says the source is now empty, since it would retire
        everything the source pushed. Returns the counts (created / updated /
        unchanged / retired), the version written, and the dependencies of other
        sources left on a node this push retired (``dangling``). A push that repeats
        what is stored is recognised in memory and writes nothing.

        With ``session`` the batch is one page of that sync session (see
        :meth:`open_sync`): written like any push, its keys recorded for the commit.

        What the batch is on its own (its source name; ids, external ids and
        dependencies given twice) is checked before the store's write lock is taken, as
        are its items' bounds when they were parsed (see
        :func:`~servicegraph.model.validate.batch_problems` for batches built in code);
        inside the lock, only what needs the graph: the items as they resolve with the
        other sources' claims (bounds included: claims merge), and the graph rules.
        """
        check_batch(source, batch)
        problems = given_twice(batch)
        if problems:
            raise ValidationError(problems)
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
            repeated = self._repeated(source, batch, info.at, dry_run)
            if repeated is not None:
                self._purge_if_due(moment, dry_run)
                return repeated

        def plan(view: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, dict[str, Any]]:
            work = planning.push_work(live, source, batch, full_sync=full_sync)
            nodes, edges = planning.held(live, work)
            stored = view.fetch(nodes, edges) if nodes or edges else GraphData()
            found = planning.plan_push(live, work, stored, source, batch,
                                       full_sync=full_sync, precedence=self.precedence,
                                       now=info.at)
            answer = found.to_dict(dry_run=dry_run)
            change = None if dry_run or not found.changes_anything else found.change
            if full_sync and not dry_run:
                change = replace(change or Change(), full_sync=source)
            if session is not None and not dry_run:
                mark = SyncMark(session, tuple(n.id for n in batch.nodes),
                                tuple(e.key for e in batch.edges))
                change = replace(change or Change(), sync=mark)
            return change, info, answer

        answer, version = self.transact(plan)
        with self.replica.reading() as live:
            answer["version"] = version if version is not None else live.version
            answer["dangling"] = (planning.dangling_view(live, live.dangling())
                                  if full_sync else [])
        self._purge_if_due(moment, dry_run)
        return answer

    def push_read(self, source: str, reader: NdjsonReader, *, full_sync: bool = False,
                  dry_run: bool = False, allow_empty: bool = False,
                  now: datetime | None = None) -> dict[str, Any]:
        """:meth:`push` of what ``reader`` read (an NDJSON body), answered the same.

        A push that repeats what its source alone claims is recognised on the lines
        as decoded, compared with the live graph's columns, without reading them into
        the model (a big unchanged sync costs a look-up and a few comparisons per
        item); anything else, a single item that differs or a line that is wrong,
        is read and pushed the full way, which names every problem by line.
        """
        moment = now or _now()
        reader.end()
        if not full_sync and reader.clean and not check_source(source):
            with self.questions.reading() as live:
                if live.repeats(source, reader.raw_nodes, reader.raw_edges):
                    counts = Counts(unchanged=len(reader.raw_nodes))
                    edges = Counts(unchanged=len(reader.raw_edges))
                    answer = {**PushPlan(source, False, counts, edges).to_dict(
                        dry_run=dry_run), "version": live.version, "dangling": []}
                else:
                    answer = None
            if answer is not None:
                self._purge_if_due(moment, dry_run)
                return answer
        return self.push(source, reader.finish(), full_sync=full_sync, dry_run=dry_run,
                         allow_empty=allow_empty, now=moment)

    def _repeated(self, source: str, batch: GraphData, at: str,
                  dry_run: bool) -> dict[str, Any] | None:
        """The answer to a push that repeats what is stored, known in memory (it never
        reaches the store); ``None`` when the push changes something."""
        with self.questions.reading() as live:
            work = planning.push_work(live, source, batch, full_sync=False)
            if not work.nothing:
                return None
            found = planning.plan_push(live, work, GraphData(), source, batch,
                                       full_sync=False, precedence=self.precedence, now=at)
            return {**found.to_dict(dry_run=dry_run), "version": live.version, "dangling": []}

    def push_status(self, source: str, updates: Sequence[StatusUpdate]) -> dict[str, Any]:
        """Observed states from ``source``: answers the applied and stale counts, the
        nodes whose observed state changed, and the promises broken and at risk after
        it. Only the observed state is written: a status never touches a node's other
        attributes."""
        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, dict[str, Any]]:
            found, observe = planning.plan_status(live, source, updates)
            change = Change(observe=observe) if observe else None
            return change, ChangeInfo(iso(_now()), "status", source), found.to_dict()

        answer, _ = self.transact(plan)
        return self._with_impact(answer)

    def push_alerts(self, source: str, deliveries: Sequence[Delivery]) -> dict[str, Any]:
        """Alerts from ``source`` (read by :mod:`servicegraph.ingest.alerts`): each
        kept by its fingerprint, mapped to its node, and its life followed. Answers
        what changed (firing, resolved, unchanged resends, stale deliveries, unmatched
        alerts, the nodes whose alert state changed) and the promises broken and at
        risk after it. A storm is one transaction and one propagation."""
        check_source(source)

        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, dict[str, Any]]:
            at = iso(_now())
            found, alerts = plan_alerts(live, source, deliveries, at)
            change = Change(alerts=alerts) if alerts else None
            return change, ChangeInfo(at, "alerts", source), found.to_dict()

        answer, _ = self.transact(plan)
        return self._with_impact(answer)

    def set_mapping(self, mapping: AlertMapping, *, by: str | None = None) -> dict[str, Any]:
        """Make ``mapping`` its source's alert mapping (read by
        :meth:`AlertMapping.parse <servicegraph.model.alert_mapping.AlertMapping.parse>`):
        stored as the next version of the source's mapping, with when and by whom, and
        every firing alert of the source mapped again under it, in one transaction.
        Answers the mapping as stored, how many alerts it matched that matched no node
        before (``rematched``), moved or changed otherwise (``remapped``) and leaves
        unmatched, the nodes whose alert state changed, and the promises broken and at
        risk after it."""
        problems = check_source(mapping.source)
        if problems:
            raise ValidationError(problems)

        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change, ChangeInfo, dict[str, Any]]:
            at = iso(_now())
            held = live.mappings.get(mapping.source)
            stored = replace(mapping, version=(held.version if held else 0) + 1,
                             updated_at=at, updated_by=by)
            found, alerts = plan_mapping(live, stored)
            return (Change(alerts=alerts, mappings=(stored,)),
                    ChangeInfo(at, "alert-mapping", mapping.source), found.to_dict())

        answer, _ = self.transact(plan)
        return self._with_impact(answer, version_key="graph_version")

    def save_window(self, window: Window) -> Window:
        """Register or edit a maintenance window (by id); answers it as stored. Every
        component must be a node of the graph (a 422 names the others)."""
        def plan(_: WriteView, live: LiveGraph) -> tuple[Change, ChangeInfo, Window]:
            missing = [Problem("components", i, repr(c), "id", f"no node {c!r}")
                       for i, c in enumerate(window.components) if c not in live]
            if missing:
                raise ValidationError(missing)
            at = iso(_now())
            held = live.windows.get(window.id)
            stored = replace(window, created_at=held.created_at if held else at,
                             updated_at=at)
            return Change(windows=(stored,)), ChangeInfo(at, "maintenance"), stored

        stored, _ = self.transact(plan)
        return stored

    def cancel_window(self, window_id: str) -> Window | None:
        """Cancel a maintenance window (kept, marked cancelled); ``None`` when there is
        no window of that id."""
        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, Window | None]:
            at = iso(_now())
            held = live.windows.get(window_id)
            if held is None or held.state == CANCELLED:
                return None, ChangeInfo(at, "maintenance"), held
            stored = replace(held, state=CANCELLED, updated_at=at)
            return Change(windows=(stored,)), ChangeInfo(at, "maintenance"), stored

        stored, _ = self.transact(plan)
        return stored

    # --- acknowledgements -----------------------------------------------------------------

    def acknowledge(self, node: str, by: str, comment: str | None = None) -> Acknowledgement:
        """Acknowledge ``node`` ("on it") for ``by``; answers it as stored. A node the
        current impact leaves ok raises :class:`NotImpacted`, an unknown one
        :class:`UnknownNodeError`; acknowledging it again replaces the one it held."""
        if not by.strip():
            raise ValueError("an acknowledgement needs who gives it ('by')")

        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change, ChangeInfo, Acknowledgement]:
            if node not in live:
                raise UnknownNodeError([node])
            state = self.questions.current_on(live).impacted.get(node)
            if state is None:
                raise NotImpacted(node)
            at = iso(_now())
            ack = Acknowledgement(node, by, at, state.word, comment or None)
            return Change(acks=(ack,)), ChangeInfo(at, "acknowledgement"), ack

        ack, _ = self.transact(plan)
        return ack

    def clear_ack(self, node: str) -> Acknowledgement | None:
        """Withdraw ``node``'s acknowledgement; answers it as ended, ``None`` when it
        held none (:class:`UnknownNodeError` for an unknown node)."""
        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, Acknowledgement | None]:
            if node not in live:
                raise UnknownNodeError([node])
            at = iso(_now())
            held = live.acks.get(node)
            if held is None:
                return None, ChangeInfo(at, "acknowledgement"), None
            ended = replace(held, ended_at=at, ended=CLEARED)
            return Change(acks=(ended,)), ChangeInfo(at, "acknowledgement"), ended

        ended, _ = self.transact(plan)
        return ended

    def _recovered(self, live: LiveGraph, at: str) -> tuple[Acknowledgement, ...]:
        """The acknowledgements ``live`` holds for nodes now ok, ended at ``at``."""
        if not live.acks:
            return ()
        impacted = self.questions.current_on(live).impacted
        return tuple(replace(a, ended_at=at, ended=RECOVERED)
                     for n, a in sorted(live.acks.items()) if n not in impacted)

    def _end_recovered(self) -> None:
        """After a write: end, in a write of their own, the acknowledgements of the
        nodes it made recover (the next write would end them anyway; this one makes
        the store say so at once). A failure here leaves the write done."""
        with self.replica.reading() as live:
            if not live.acks or not self._recovered(live, ""):
                return

        def plan(_: WriteView, live: LiveGraph
                 ) -> tuple[Change | None, ChangeInfo, None]:
            at = iso(_now())
            ended = self._recovered(live, at)
            return (Change(acks=ended) if ended else None,
                    ChangeInfo(at, "acknowledgement"), None)

        try:
            self._transact(plan)
        except StoreError:
            log.warning("could not end the acknowledgements of recovered nodes now; "
                        "the next write ends them", exc_info=True)

    def _with_impact(self, answer: dict[str, Any], *,
                     version_key: str = "version") -> dict[str, Any]:
        with self.replica.reading() as live:
            states = self.questions.current_on(live)
            answer[version_key] = live.version
            answer["broken_promises"] = states.broken_promises
            answer["at_risk_promises"] = states.at_risk_promises
        return answer

    # --- sync sessions --------------------------------------------------------------------

    def open_sync(self, source: str, *, ttl: timedelta = timedelta(hours=1),
                  now: datetime | None = None) -> SyncSession:
        """Open a sync session: a full sync of ``source`` spread over many pushes.

        Push its pages with ``push(source, page, session=id)``, each validated and
        written whole; :meth:`commit_sync` then retires, in one transaction, what the
        source claims and no page asserted. A session not committed within ``ttl``
        expires; an expired or abandoned session retires nothing. A session is
        superseded when another full sync of its source (a session's commit, or a
        full-sync push, even one that changes nothing) is committed after it opened:
        that sync closes it, and its pages and its commit are refused
        (:class:`SyncClosed`, state ``superseded``), so an older snapshot never
        retires what a newer one asserted. Sessions of one source are not exclusive:
        of those open at once, the first to commit wins and supersedes the others.
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
        return self._still_open(self.sync_session(session, source=source), moment)

    def _still_open(self, found: SyncSession, moment: datetime) -> SyncSession:
        """``found``, if it is open; else raise :class:`SyncClosed` naming its state (an
        open session past its time is closed as expired first)."""
        if found.state == "open" and found.expires_at < iso(moment):
            closed = self.store.close_sync(found.id, "expired")
            raise SyncClosed(found.id, closed.state if closed is not None else "unknown")
        if found.state != "open":
            raise SyncClosed(found.id, found.state)
        return found

    def commit_sync(self, source: str, session: str, *, allow_empty: bool = False,
                    now: datetime | None = None) -> dict[str, Any]:
        """End a sync session: retire what ``source`` claims and no page of the session
        asserted, in one transaction; answers the counts like a full sync.

        Raises :class:`SyncClosed` naming the session's state (nothing retired) when
        the session is no longer open when the commit takes the store's write lock:
        committed, abandoned (an abandon won), expired, or superseded (another full
        sync of ``source`` was committed after it opened). The state is checked, and
        the keys read, under that lock, which an abandon takes too: a commit and an
        abandon racing each other are one after the other, never interleaved.
        """
        moment = now or _now()
        self._open_session(session, source, moment)

        def plan(view: WriteView, live: LiveGraph
                 ) -> tuple[Change, ChangeInfo, dict[str, Any]]:
            # Checked again under the lock: an abandon or another commit may have won.
            found = view.sync_session(session)
            if found is None or found.source != source:
                raise SyncClosed(session, "unknown")
            if found.state != "open":
                raise SyncClosed(session, found.state)
            last = view.last_full_sync(source)
            if last > found.opened_version:
                raise SyncSuperseded(found, last)
            asserted = view.sync_keys(session)
            if not allow_empty and not asserted[0] and not asserted[1]:
                refuse_empty_sync(source, GraphData())
            work = planning.push_work(live, source, GraphData(), full_sync=True,
                                      asserted=asserted)
            stored = view.fetch(work.retire_nodes, work.retire_edges)
            planned = planning.plan_push(live, work, stored, source, GraphData(),
                                         full_sync=True, precedence=self.precedence,
                                         now=iso(moment))
            change = replace(planned.change, sync=SyncMark(session, close="committed"),
                             full_sync=source)
            answer = {**planned.to_dict(dry_run=False), "session": session}
            return change, ChangeInfo(iso(moment), "sync", source), answer

        try:
            answer, version = self.transact(plan)
        except SyncSuperseded as superseded:
            # Opened before a full sync that did not close it (it opened while that
            # sync was being committed): closed now; if something else closed it
            # meanwhile, that is its state.
            closed = self.store.close_sync(session, "superseded")
            if closed is not None and closed.state != "superseded":
                raise SyncClosed(session, closed.state) from superseded
            raise
        with self.replica.reading() as live:
            answer["version"] = version
            answer["dangling"] = planning.dangling_view(live, live.dangling())
        return answer

    def abandon_sync(self, source: str, session: str) -> SyncSession:
        """End a sync session without retiring anything (its pages stay written);
        raises :class:`SyncClosed` naming the session's state when it was no longer
        open (a commit won: ``committed``; a newer full sync: ``superseded``)."""
        self._open_session(session, source, _now())
        closed = self.store.close_sync(session, "abandoned")
        if closed is None or closed.state != "abandoned":
            raise SyncClosed(session, closed.state if closed is not None else "unknown")
        return closed

    # --- retention ------------------------------------------------------------------------

    def purge(self, *, older_than: timedelta | None = None,
              now: datetime | None = None) -> dict[str, int]:
        """Delete retired items (all of them, or those retired before ``now -
        older_than``). A retired node that another source's live dependency still
        needs is kept."""
        cutoff = iso((now or _now()) - older_than) if older_than is not None else None

        def plan(_: WriteView, live: LiveGraph) -> tuple[Change, ChangeInfo, dict[str, int]]:
            change, counts = planning.plan_purge(live, cutoff)
            return change, ChangeInfo(iso(_now()), "purge"), counts

        counts, _ = self.transact(plan)
        return counts

    def _purge_if_due(self, moment: datetime, dry_run: bool) -> None:
        """Purge what was retired longer ago than the retention, when there is any."""
        if dry_run:
            return
        cutoff = iso(moment - self.retention)
        with self.replica.reading() as live:
            due = any(at <= cutoff for at in live.node_retired.values()) or any(
                at <= cutoff for at in live.edge_retired.values())
        if due:
            self.purge(older_than=self.retention, now=moment)


__all__ = ["LoadSummary", "Plan", "Writer"]
