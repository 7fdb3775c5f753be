"""The one narrow interface every store implements, and the values it trades in.

A store keeps the graph and a **change journal**: every :class:`Change` gets the
next version number and is recorded, in the same transaction as the change
itself, as a :class:`JournalEntry`. A process that holds the graph in memory
catches up on other processes' writes by replaying the journal from its own
version (:meth:`GraphStore.journal`), and reads the whole graph
(:meth:`GraphStore.load`) only at start-up or when the journal was trimmed past
it. Writes are planned inside the store's transaction, holding its write lock
(:meth:`GraphStore.transact`), so two writers can never lose each other's work.

Every error of a store's backend (the Neo4j driver's, SQLite's) is translated at
the store's boundary into :class:`StoreError` and its kinds below: no caller
needs to know which backend answered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

from servicegraph.model.acknowledgements import Acknowledgement
from servicegraph.model.alert_mapping import AlertMapping
from servicegraph.model.alerts import Alert
from servicegraph.model.graph import Edge, GraphData, Node, Observation
from servicegraph.model.maintenance import Window
from servicegraph.model.record import Columns, Transition

R = TypeVar("R")


class StoreError(RuntimeError):
    """The store refused or failed a request for a reason of its own."""


class StoreUnavailable(StoreError):
    """The store does not answer now (down, unreachable, locked): retry later."""


class ChangeTooLarge(StoreError):
    """The change cannot be written in one transaction (the store ran out of the
    memory a transaction may take): retrying cannot help; split it."""


class SyncClosed(StoreError):
    """The sync session is not open: committed, abandoned, expired or superseded
    (``unknown`` when there is none)."""

    def __init__(self, session: str, state: str, detail: str | None = None) -> None:
        self.session = session
        self.state = state
        if detail is None and state == "superseded":
            detail = (f"sync session {session!r} is superseded: another full sync of its "
                      "source was committed after it opened, and committing this one would "
                      "retire what that sync asserted; it retired nothing")
        super().__init__(detail or f"sync session {session!r} is {state}")


class SyncSuperseded(SyncClosed):
    """Another full sync of the session's source was committed after the session
    opened: committing it would retire what that sync asserted and this one did not."""

    def __init__(self, session: SyncSession, by_version: int) -> None:
        self.by_version = by_version
        super().__init__(session.id, "superseded", (
            f"sync session {session.id!r} is superseded: it opened at version "
            f"{session.opened_version}, and another full sync of {session.source!r} was "
            f"committed after it (version {by_version}); committing this one would retire "
            "what that sync asserted, so it retired nothing"))


@dataclass(frozen=True)
class SyncSession:
    """A full sync of one source spread over many requests."""

    id: str
    source: str
    opened_at: str
    expires_at: str
    state: str  # open, committed, abandoned, expired, superseded
    pages: int = 0
    items: int = 0
    #: The store's version when the session opened: a full sync of the same source
    #: committed after it supersedes the session.
    opened_version: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"id": self.id, "source": self.source, "opened_at": self.opened_at,
                "expires_at": self.expires_at, "state": self.state, "pages": self.pages,
                "items": self.items, "opened_version": self.opened_version}


@dataclass(frozen=True)
class SyncMark:
    """What a change records for a sync session, in the change's own transaction: the
    keys a page asserted, or (``close``) the session's end."""

    session: str
    nodes: tuple[str, ...] = ()
    edges: tuple[tuple[str, str], ...] = ()
    close: str | None = None  # "committed" when the change commits the session


@dataclass(frozen=True)
class Change:
    """One atomic write: applied whole, in one transaction, or not at all.

    With ``replace`` the graph is emptied first. Then deletions (edges, then
    nodes with every edge touching them), then upserts (nodes by id, edges by
    their pair), then observations. A node upsert never touches the node's
    observed state: only ``observe`` writes it.
    """

    upsert_nodes: tuple[Node, ...] = ()
    upsert_edges: tuple[Edge, ...] = ()
    delete_edges: tuple[tuple[str, str], ...] = ()
    delete_nodes: tuple[str, ...] = ()
    #: (node id, what a source observed): only the observed state is written.
    observe: tuple[tuple[str, Observation], ...] = ()
    replace: bool = False
    #: Sync-session bookkeeping written with the change (not part of the graph).
    sync: SyncMark | None = None
    #: The source this change is a complete snapshot of (a full sync, or a session's
    #: commit): sessions of that source opened before it can no longer commit. The
    #: store closes them as ``superseded`` in the change's transaction, even when the
    #: change writes nothing else (a full sync that repeats what is stored is still the
    #: newer snapshot). A change that writes something also records its version as the
    #: source's last full sync, which a commit checks against its session's opening.
    full_sync: str | None = None
    #: Alerts written as they are (upserted by source and fingerprint); a replace
    #: removes every alert first.
    alerts: tuple[Alert, ...] = ()
    #: Maintenance windows written as they are (upserted by id); a replace removes
    #: every window first.
    windows: tuple[Window, ...] = ()
    #: Acknowledgements written as they are (upserted by node: a node keeps its
    #: latest, active or ended); a replace removes every one first.
    acks: tuple[Acknowledgement, ...] = ()
    #: Transitions of the record, appended in the same transaction (they do not count
    #: as a change of the graph: a change of nothing else gets no version).
    record: tuple[Transition, ...] = ()
    #: The version the record now reaches (see :class:`RecordStore`); ``None``: unchanged.
    recorded: int | None = None
    #: Alert mappings written as they are (upserted by source); a replace removes every
    #: mapping first.
    mappings: tuple[AlertMapping, ...] = ()

    @classmethod
    def upsert(cls, batch: GraphData, *, replace: bool = False) -> Change:
        """A change that upserts a whole batch."""
        return cls(batch.nodes, batch.edges, replace=replace)

    @property
    def size(self) -> int:
        """Items written."""
        return (len(self.upsert_nodes) + len(self.upsert_edges) + len(self.delete_edges)
                + len(self.delete_nodes) + len(self.observe) + len(self.alerts)
                + len(self.windows) + len(self.acks)
                + len(self.mappings))

    @property
    def empty(self) -> bool:
        """Whether the change writes nothing to the graph or a session (no version, no
        journal entry; a ``full_sync`` still supersedes the source's open sessions)."""
        return not self.replace and self.size == 0 and self.sync is None


@dataclass(frozen=True)
class ChangeInfo:
    """Who made a change and why, recorded in the journal beside it."""

    at: str
    kind: str  # load, push, status, remove, purge, retire, clear
    source: str | None = None


@dataclass(frozen=True)
class JournalEntry:
    """A change as the journal keeps it: its version, when and why, and what it did.

    ``rows`` holds the change in the stores' row form (see
    :mod:`servicegraph.store.rows`): ``nodes`` and ``edges`` upserted,
    ``delete_nodes``, ``delete_edges``, ``observe`` and ``replace``. A change
    too big to keep inline has ``reload`` set instead: whoever replays it reads
    the whole graph again.
    """

    version: int
    info: ChangeInfo
    rows: dict[str, Any] = field(default_factory=dict)
    reload: bool = False


@dataclass(frozen=True)
class Snapshot:
    """The whole stored graph in row form, and the version it reflects.

    ``nodes`` and ``edges`` are iterators of rows, so a big graph streams into
    memory instead of being held twice.
    """

    version: int
    nodes: Iterator[dict[str, Any]]
    edges: Iterator[dict[str, Any]]
    #: Every alert held, in its plain JSON form (read after the edges).
    alerts: Iterator[dict[str, Any]] = field(default_factory=lambda: iter(()))
    #: Every maintenance window, in its plain JSON form.
    windows: Iterator[dict[str, Any]] = field(default_factory=lambda: iter(()))
    #: Every acknowledgement kept (active and ended), in its plain JSON form.
    acks: Iterator[dict[str, Any]] = field(default_factory=lambda: iter(()))
    #: Every alert mapping, in its plain JSON form.
    mappings: Iterator[dict[str, Any]] = field(default_factory=lambda: iter(()))


class WriteView(Protocol):
    """What a write sees inside the store's transaction, holding the write lock: no
    other writer can commit until it ends, so what it reads stays true."""

    #: The version of the last change committed (the lock is held: it cannot move).
    version: int

    def journal(self, since: int) -> list[JournalEntry] | None:
        """Entries after ``since`` (``None`` when trimmed past it)."""
        ...

    def fetch(self, node_ids: Sequence[str], edge_keys: Sequence[tuple[str, str]]
              ) -> GraphData:
        """The named nodes and edges that exist, as model objects."""
        ...

    def sync_keys(self, session: str) -> tuple[set[str], set[tuple[str, str]]]:
        """The keys a sync session's pages asserted."""
        ...

    def sync_session(self, session: str) -> SyncSession | None:
        """A sync session by id, as it stands under the lock."""
        ...

    def last_full_sync(self, source: str) -> int:
        """The version of the last full sync of ``source`` (0 when there was none)."""
        ...

    #: The version the record reaches (every transition of every version up to it is
    #: written), read with the lock.
    recorded: int
    #: The sequence number of the record's last transition (0: none), read with the lock.
    record_seq: int

    def entry_at(self, version: int) -> str | None:
        """When the change of ``version`` was made (``None`` when trimmed)."""
        ...

    def record_after(self, seq: int) -> list[tuple[int, Transition]]:
        """Every transition written after sequence number ``seq``, in order."""
        ...

    def record_latest(self) -> list[tuple[int, Transition]]:
        """The last transition of each (node, layer), with its sequence number."""
        ...


#: A write planned inside the transaction: the change to write (``None``: nothing),
#: what it is, and whatever the planner answers.
Planner = Callable[[WriteView], tuple[Change | None, ChangeInfo, R]]


@runtime_checkable
class GraphStore(Protocol):
    """Where the graph lives. Callers plan and validate; a store guarantees that a
    change is written whole or not at all, against the version it was planned on."""

    #: A short description for humans, e.g. ``sqlite:servicegraph.db``.
    description: str

    def read(self) -> GraphData:
        """The whole graph as model objects, provenance and observed state included:
        nodes ordered by id, edges by (from, to). For tools and tests; the serving
        path uses :meth:`load` and :meth:`journal`."""
        ...

    def load(self) -> Snapshot:
        """The whole graph in row form. The rows may be newer than the version when
        writers are busy; replaying the journal from that version makes them exact
        (every journal entry can be replayed over its own effect)."""
        ...

    def fetch(self, node_ids: Sequence[str], edge_keys: Sequence[tuple[str, str]]
              ) -> GraphData:
        """The named nodes and edges as model objects (those that exist)."""
        ...

    def apply(self, change: Change, info: ChangeInfo) -> int:
        """Write one change as it is, atomically with its journal entry; return its
        version. (Writes that depend on what is stored plan inside :meth:`transact`.)"""
        ...

    def transact(self, plan: Planner[R]) -> tuple[JournalEntry | None, R]:
        """Take the write lock, let ``plan`` read (see :class:`WriteView`) and decide,
        then write its change with its journal entry, all in one transaction.

        Returns the journal entry written, which carries the new version (``None``
        when ``plan`` wrote nothing), and what ``plan`` answered. Writers queue on
        the lock instead of conflicting; an exception from ``plan`` writes nothing.
        A change with ``full_sync`` closes the source's other open sessions as
        ``superseded`` in the same transaction (an empty one does only that).
        """
        ...

    def version(self) -> int:
        """The version of the last change written (0 for a new store)."""
        ...

    def identity(self) -> str:
        """Which store this is, drawn at random when the store was made: two stores
        never share one, so what was saved of one (a snapshot of its live graph) is
        never taken for the other."""
        ...

    def journal(self, since: int) -> list[JournalEntry] | None:
        """Every entry after version ``since``, in order; ``None`` when the journal
        no longer reaches back that far (then :meth:`load` the graph instead)."""
        ...

    def open_sync(self, source: str, opened_at: str, expires_at: str) -> SyncSession:
        """Open a sync session for ``source``."""
        ...

    def sync_session(self, session: str) -> SyncSession | None:
        """A sync session by id (``None`` when there is none)."""
        ...

    def sync_keys(self, session: str) -> tuple[set[str], set[tuple[str, str]]]:
        """The node ids and edge keys the session's pages asserted."""
        ...

    def close_sync(self, session: str, state: str) -> SyncSession | None:
        """End a session without a change (abandoned, expired, superseded) and forget
        its keys, if it is still open; answers the session as it is then (``None``
        when there is none): its state is ``state`` only if this call closed it. It
        waits for the write lock, so it never lands inside a commit of the session."""
        ...

    def ping(self) -> None:
        """Raise unless the store answers now (readiness)."""
        ...

    def clear(self) -> None:
        """Remove the whole graph (a journaled change) and trim the journal."""
        ...

    def close(self) -> None:
        """Release connections."""
        ...


def require_complete(entries: Sequence[JournalEntry], since: int) -> None:
    """Raise :class:`StoreError` unless ``entries`` are versions since+1, since+2, ...

    >>> require_complete([], 4)
    >>> require_complete([JournalEntry(5, ChangeInfo("t", "push"))], 4)
    """
    for offset, entry in enumerate(entries, start=1):
        if entry.version != since + offset:
            raise StoreError(f"journal gap: expected version {since + offset}, "
                             f"found {entry.version}")


# --- the promise record ------------------------------------------------------------------


@runtime_checkable
class RecordStore(Protocol):
    """The promise record, kept beside the graph: one row per transition of a node's
    state (see :mod:`servicegraph.model.record`), each numbered in the order written.

    Transitions are appended by :meth:`GraphStore.transact` (``Change.record``), in
    the write's transaction; the store keeps them ``record_days`` (the last of each
    node before the cutoff stays, so the state at any kept moment is known).
    """

    def record_between(self, start: str | None, end: str | None, *,
                       nodes: Sequence[str] | None = None,
                       layers: Sequence[str] | None = None,
                       limit: int | None = None, offset: int = 0
                       ) -> tuple[list[Transition], int]:
        """A page of the transitions with ``start <= at < end`` (either open when
        ``None``), of ``nodes`` and ``layers`` when given, in time order (then in the
        order written), and how many there are."""
        ...

    def record_last(self, at: str, *, inclusive: bool = True,
                    nodes: Sequence[str] | None = None,
                    layers: Sequence[str] | None = None) -> list[Transition]:
        """The last transition of each (node, layer) at or before ``at`` (before it,
        without ``inclusive``), ordered by node and layer: the record's state then."""
        ...

    def record_columns(self, start: str, end: str, *, nodes: Sequence[str] | None = None,
                       layers: Sequence[str] | None = None, causes: bool = False
                       ) -> Columns:
        """What the record's figures read over ``[start, end)``, of ``nodes`` and
        ``layers`` when given: each (node, layer)'s last transition before ``start``,
        then those in the period, as columns (in no particular order: ``order`` is the
        store's numbering). The causes are read only when ``causes`` asks for them."""
        ...

    def record_reach(self) -> int:
        """The version the record reaches: every transition of every change up to it
        is written."""
        ...

    def record_size(self) -> int:
        """How many transitions are kept."""
        ...


# --- webhook subscriptions and their outbox ---------------------------------------------


@dataclass(frozen=True)
class OutboxItem:
    """One event waiting in (or delivered from, or dead in) a subscription's outbox.

    ``seq`` numbers a subscription's events from 1 in the order they were derived;
    ``payload`` is the event's data as JSON text, written once and sent unchanged at
    every attempt.
    """

    subscription: str
    seq: int
    event_id: str
    kind: str
    at: str
    payload: str
    state: str = "pending"  # pending, delivered, dead
    attempts: int = 0
    next_at: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the payload left as text)."""
        return {"subscription": self.subscription, "sequence": self.seq,
                "event_id": self.event_id, "kind": self.kind, "at": self.at,
                "state": self.state, "attempts": self.attempts, "next_at": self.next_at,
                "error": self.error}


@dataclass(frozen=True)
class OutboxLease:
    """The dispatcher's lease as its holder took it: how far it derived events (the
    journal version, -1 before the first derivation) and the promise states there
    (JSON text)."""

    cursor: int
    states: str


@runtime_checkable
class OutboxStore(Protocol):
    """Webhook subscriptions, the dispatcher's lease and the durable outbox, kept in the
    store beside the graph so that every process (and machine) on it shares them."""

    def add_subscription(self, record: dict[str, Any]) -> None:
        """Keep a new subscription (``id``, ``url``, ``secret``, ``format``,
        ``filter`` as JSON text, ``created_at``)."""
        ...

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription, oldest first."""
        ...

    def subscription(self, subscription: str) -> dict[str, Any] | None:
        """One subscription (``None`` when there is none)."""
        ...

    def remove_subscription(self, subscription: str) -> bool:
        """Forget a subscription and its outbox; whether there was one."""
        ...

    def outbox_lease(self, owner: str, now: str, until: str) -> OutboxLease | None:
        """Take or renew the dispatcher's lease until ``until`` when it is free, expired
        or ``owner``'s own; ``None`` when another holds it."""
        ...

    def outbox_release(self, owner: str, now: str) -> None:
        """Give the lease up now, if ``owner`` holds it."""
        ...

    def outbox_append(self, owner: str, cursor: int, to: int, states: str,
                      events: list[tuple[str, OutboxItem]]) -> bool:
        """In one transaction: append ``events`` (subscription, item without its seq) to
        their outboxes, numbered in order, and move the cursor from ``cursor`` to ``to``
        with ``states``; only while ``owner`` holds the lease and the cursor is still
        ``cursor``. Whether it was written (nothing is, otherwise)."""
        ...

    def outbox_heads(self, each: int = 1) -> list[OutboxItem]:
        """The first ``each`` pending events of each subscription, in order (the first
        is the one that holds the rest back)."""
        ...

    def outbox_settle(self, *items: OutboxItem) -> None:
        """Record attempts' outcomes, in one transaction: each item's state, attempts,
        next time and error."""
        ...

    def outbox_dead(self, subscription: str) -> list[OutboxItem]:
        """A subscription's dead letters, in order."""
        ...

    def outbox_redeliver(self, subscription: str, event_id: str, now: str) -> bool:
        """Queue a dead letter again (first of its subscription's, by its number);
        whether there was one."""
        ...

    def outbox_trim(self, before: str) -> int:
        """Forget delivered events derived before ``before``; answers how many."""
        ...

    def outbox_reset(self) -> None:
        """Forget every subscription, the outbox and the lease."""
        ...
