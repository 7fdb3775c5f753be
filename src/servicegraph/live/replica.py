"""One process's copy of the stored graph, and how it keeps up with the store.

A :class:`Replica` loads the whole graph once, then catches up on changes by
replaying the store's journal from its own version: its own writes and every
other process's alike. It reads the whole graph again only when the journal no
longer reaches back to its version, or holds a change too big to keep inline.
Given a directory of saved snapshots, it starts from the newest usable one instead
and replays the journal from there (see :mod:`servicegraph.live.snapshots`).

How often it looks at the store: without a board, every read looks (or trusts a
look for ``check_interval``). With a :class:`~servicegraph.live.board.VersionBoard`
shared by the processes of one server, it announces every version it commits or
replays there, and a question looks at the store only when the board names a newer
version than it holds (reads not made for a question, such as a background
follower's, still look every time). :meth:`Replica.reach` catches up to a version a
client names (its read-your-writes token), whoever wrote it.

While the store does not answer, the replica keeps answering from memory and
says since when it could not check (:attr:`Replica.stale_since`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from servicegraph.live.board import VersionBoard
from servicegraph.live.lock import ReadWriteLock
from servicegraph.live.snapshots import Header, SnapshotDirectory, SnapshotRejected, read_columns
from servicegraph.live.state import FrozenGraph, LiveGraph
from servicegraph.store.base import (
    GraphStore,
    JournalEntry,
    StoreError,
    StoreUnavailable,
    WriteView,
)

log = logging.getLogger("servicegraph.live")

#: Called with the entries just applied (in version order), under the read lock.
Listener = Callable[[list[JournalEntry]], None]


class Replica:
    """The live graph of this process, in step with the store.

    Parameters
    ----------
    store : GraphStore
        The store of record.
    check_interval : float
        Seconds during which a checked version is trusted: reads within it do not
        ask the store again.
    retry_interval : float
        After the store failed to answer, seconds before asking it again (reads
        meanwhile answer from memory at once).
    wait : float
        Seconds a read waits for another thread's catch-up before answering from
        memory.
    snapshots : SnapshotDirectory, optional
        Saved snapshots of the live graph to start from instead of reading the whole
        graph, when one is usable.
    """

    def __init__(self, store: GraphStore, *, check_interval: float = 0.0,
                 retry_interval: float = 1.0, wait: float = 0.5,
                 snapshots: SnapshotDirectory | None = None) -> None:
        self.store = store
        self.snapshots = snapshots
        #: How the graph was last read: ``snapshot`` or ``store`` (``None`` before).
        self.started_from: str | None = None
        self.check_interval = check_interval
        self.retry_interval = retry_interval
        self.wait = wait
        self.lock = ReadWriteLock()
        self._graph: LiveGraph | None = None
        self._sync = threading.Lock()  # one catch-up at a time
        self._checked = 0.0  # monotonic time of the last successful check
        self._failed: float | None = None  # monotonic time of the last failure
        #: Wall-clock time (epoch seconds) since which the store has not answered.
        self.stale_since: float | None = None
        self.stale_reason: str | None = None
        self._listeners: list[Listener] = []
        #: Versions announced by the processes of this server (see :meth:`announce_on`).
        self.board: VersionBoard | None = None

    # --- state ----------------------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether the graph was read at least once."""
        return self._graph is not None

    @property
    def graph(self) -> LiveGraph:
        """The live graph (hold :meth:`reading` while using it)."""
        if self._graph is None:
            raise StoreError("the graph has not been read from the store yet")
        return self._graph

    @property
    def version(self) -> int:
        """The version the live graph reflects (0 before the first load)."""
        return self._graph.version if self._graph is not None else 0

    @contextmanager
    def reading(self) -> Iterator[LiveGraph]:
        """The live graph, unchanged while held."""
        with self.lock.reading():
            yield self.graph

    def announce_on(self, board: VersionBoard | None) -> None:
        """Announce versions on ``board``, and let questions trust it (``None``: every
        question looks at the store again, after ``check_interval``)."""
        self.board = board
        if board is not None and self._graph is not None:
            self._announce(self._graph.version)

    def _announce(self, version: int) -> None:
        board = self.board
        if board is None or version <= 0:
            return
        try:
            board.announce(version)
        except (OSError, ValueError) as exc:  # the board is a shortcut: without it, poll
            log.warning("announcing version %d failed (%s): questions ask the store "
                        "again", version, exc)
            self.board = None

    def _announced_ahead(self) -> bool | None:
        """Whether the board names a newer version than the live graph (``None``:
        there is no board to trust)."""
        board = self.board
        if board is None or self._graph is None:
            return None
        try:
            return board.read() > self._graph.version
        except (OSError, ValueError):
            return None

    def listen(self, listener: Listener) -> None:
        """Be told of every change applied, own or replayed."""
        self._listeners.append(listener)

    # --- keeping up -----------------------------------------------------------------------

    def _mark_ok(self, started: float) -> None:
        # When the look began, not ended: a write committed meanwhile may not be in it.
        self._checked = started
        self._failed = None
        if self.stale_since is not None:
            log.info("the store answers again; caught up to version %d", self.version)
        self.stale_since = None
        self.stale_reason = None

    def _mark_failed(self, exc: Exception) -> None:
        self._failed = time.monotonic()
        if self.stale_since is None:
            self.stale_since = time.time()
            log.warning("the store does not answer (%s): answering from memory, "
                        "version %d", exc, self.version)
        self.stale_reason = f"{type(exc).__name__}: {exc}"

    def refresh(self, *, force: bool = False, since: float | None = None) -> bool:
        """Catch up with the store if it moved on; whether the store answered.

        Reads call this before answering. It returns at once (unless ``force``):
        when the last look at the store began after ``since`` (the start of the
        request asking), or within ``check_interval`` of it; with a board, for a
        question (``since`` given) when the board names no newer version than the
        graph's; and, after a failure, within ``retry_interval``. While another
        thread is catching up, a read waits for it at most ``wait`` seconds, then
        answers from memory. A store that does not answer is not an error here: the
        caller answers from memory, marked stale. Loads the graph if it never was.
        """
        now = time.monotonic()
        if self._graph is not None and not force:
            if self._failed is not None and now - self._failed < self.retry_interval:
                return False
            ahead = self._announced_ahead() if since is not None else None
            if self._failed is None and (ahead is False or (ahead is None and (
                    (since is not None and self._checked >= since)
                    or now - self._checked < self.check_interval))):
                return True
        blocking = force or self._graph is None
        if not self._sync.acquire(timeout=-1 if blocking else self.wait):
            return self._failed is None
        try:
            if not blocking and self._failed is None and (
                    self._checked >= now
                    or (since is not None and self._announced_ahead() is False)):
                return True  # another thread looked while this one waited
            started = time.monotonic()
            try:
                # Told there is something newer: the journal at once, no version first.
                self._catch_up(announced=not force and since is not None
                               and self._announced_ahead() is True)
            except StoreError as exc:  # stores translate their backend's errors to these
                if self._graph is None:
                    raise
                self._mark_failed(exc)
                return False
            self._mark_ok(started)
            return True
        finally:
            self._sync.release()

    def reach(self, version: int, timeout: float) -> bool:
        """Catch up to at least ``version`` (a client's read-your-writes token),
        looking at the store again until ``timeout`` seconds have passed (a cluster
        member may lag behind the write); whether the live graph now reaches it.

        Raises :class:`StoreError` when the store does not answer.
        """
        deadline = time.monotonic() + timeout
        while True:
            if self._graph is not None and self._graph.version >= version:
                return True
            if not self.refresh(force=True):
                raise StoreUnavailable(f"the store does not answer: {self.stale_reason}")
            if self.version >= version:
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(0.05, left))

    def _catch_up(self, *, announced: bool = False) -> None:
        if self._graph is None:
            self._load()
            return
        if not announced:
            top = self.store.version()
            if top <= self._graph.version:
                return
        entries = self.store.journal(self._graph.version)
        if entries is None or any(e.reload for e in entries):
            self._load()
            return
        self._apply(entries)

    def _from_snapshot(self) -> bool:
        """Start from the newest usable snapshot, replaying the journal from its
        version; whether that was done. Says in one log line why, when no snapshot
        was usable (then the caller reads the whole graph)."""
        if self.snapshots is None:
            return False
        started = time.perf_counter()
        why: list[str] = []
        try:
            top = self.store.version()
            for found in self.snapshots.candidates():
                if not isinstance(found, Header):
                    why.append(f"{found[0].name}: {found[1]}")
                    continue
                name = found.path.name
                if found.version > top:
                    why.append(f"{name}: its version {found.version} is ahead of the "
                               f"store's ({top})")
                    continue
                # From the change of its own version: its commit time must match.
                entries = self.store.journal(max(found.version - 1, 0))
                if entries is None or (found.version and (
                        not entries or entries[0].version != found.version)):
                    why.append(f"{name}: the journal no longer reaches back to its "
                               f"version {found.version}")
                    continue
                if found.version:
                    mine = entries.pop(0)
                    if mine.info.at != found.at:
                        why.append(f"{name}: the store's change {found.version} is not "
                                   "the one it holds (a store restored from a backup?)")
                        continue
                if any(e.reload for e in entries):
                    why.append(f"{name}: a change too big for the journal followed it")
                    continue
                try:
                    fresh = LiveGraph.from_columns(read_columns(found))
                except SnapshotRejected as exc:
                    why.append(f"{name}: {exc}")
                    continue
                for entry in entries:
                    fresh.apply(entry.version, entry.rows)
                with self.lock.writing():
                    self._graph = fresh
                self._announce(fresh.version)
                self.started_from = "snapshot"
                log.info("started from %s: %d nodes and %d edges at version %d, %d "
                         "change(s) replayed to version %d, in %.1f s%s", name,
                         fresh.node_count, fresh.edge_count, found.version, len(entries),
                         fresh.version, time.perf_counter() - started,
                         f" (skipped {'; '.join(why)})" if why else "")
                return True
        except StoreError:
            raise
        except Exception as exc:  # a snapshot must never keep a process from starting
            why.append(f"{type(exc).__name__}: {exc}")
        if why:
            log.warning("no usable snapshot in %s (%s): reading the whole graph",
                        self.snapshots.path, "; ".join(why))
        else:
            log.info("no snapshot in %s: reading the whole graph", self.snapshots.path)
        return False

    def _load(self) -> None:
        """Read the whole graph, replay what was written meanwhile, then swap it in
        (from a saved snapshot when there is a usable one)."""
        if self._from_snapshot():
            return
        started = time.perf_counter()
        for _ in range(5):
            snapshot = self.store.load()
            fresh = LiveGraph.build(snapshot.version, snapshot.nodes, snapshot.edges,
                                    snapshot.alerts, snapshot.windows, snapshot.acks,
                                    snapshot.mappings)
            entries = self.store.journal(fresh.version)
            # A change too big for the journal landed while the graph was read: read again.
            if entries is not None and not any(e.reload for e in entries):
                break
        else:
            raise StoreError("the graph kept changing in bulk while it was read")
        for entry in entries:
            fresh.apply(entry.version, entry.rows)
        with self.lock.writing():
            self._graph = fresh
        self._announce(fresh.version)
        self.started_from = "store"
        log.info("read %d nodes and %d edges at version %d in %.1f s",
                 fresh.node_count, fresh.edge_count, fresh.version,
                 time.perf_counter() - started)

    def save_snapshot(self) -> bool:
        """Save the live graph as a snapshot, if this process has a snapshot directory
        and the graph was read; whether one was written."""
        if self.snapshots is None or self._graph is None:
            return False

        def freeze() -> FrozenGraph:
            with self.lock.reading():
                return self.graph.freeze()

        self.snapshots.write(freeze)
        return True

    def _apply(self, entries: list[JournalEntry]) -> None:
        applied = []
        with self.lock.writing():
            graph = self.graph
            for entry in entries:
                if entry.version <= graph.version:
                    continue
                graph.apply(entry.version, entry.rows)
                applied.append(entry)
        if applied:
            self._announce(applied[-1].version)
            self._tell(applied)

    def catch_up_in(self, view: WriteView) -> bool:
        """Catch up from inside a write's transaction (see
        :meth:`GraphStore.transact`): whether the live graph now stands at the view's
        version. ``False`` when only reading the whole graph would do, which a write
        must not do holding the lock: the caller leaves the transaction and refreshes."""
        with self._sync:
            graph = self.graph
            if view.version <= graph.version:
                return view.version == graph.version
            entries = view.journal(graph.version)
            if entries is None or any(e.reload for e in entries):
                return False
            self._apply(entries)
            return self.graph.version == view.version

    def apply_own(self, entry: JournalEntry) -> None:
        """Apply a change this process just wrote as ``entry``.

        A reader may already have replayed it from the journal (then nothing is
        done), or may be behind it by other processes' changes (then those are
        replayed first, from the store). Announced on the board first, before the
        write's answer leaves, so that every later question of any process of this
        server includes it.
        """
        self._announce(entry.version)
        with self._sync:
            graph = self.graph
            if entry.version <= graph.version:
                return
            if entry.version > graph.version + 1 or entry.reload:
                self._catch_up()
                return
            self._apply([entry])

    def _tell(self, entries: list[JournalEntry]) -> None:
        for listener in self._listeners:
            try:
                listener(entries)
            except Exception:  # a listener's failure must not stop the replica
                log.exception("a change listener failed")


__all__ = ["Listener", "Replica"]
