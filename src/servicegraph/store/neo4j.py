"""The Neo4j store of record, over the official driver.

One driver per process, managed transactions (the driver retries transient
errors by re-running the transaction function, so every function here is
idempotent), ``UNWIND`` batches, the database always named. Every write first
takes the write lock on the one ``:ServiceGraphMeta`` node, then checks the
version it was planned against, writes, appends its journal entry and records
the new version, all in one transaction. Retries and connection attempts are
bounded, so a server that is down is reported in seconds, not after half a minute.
"""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, cast

import neo4j
import neo4j.exceptions

from servicegraph.model.graph import Edge, GraphData
from servicegraph.model.kinds import NodeKind
from servicegraph.model.record import Columns, Transition
from servicegraph.model.times import utc_now
from servicegraph.store.base import (
    Change,
    ChangeInfo,
    ChangeTooLarge,
    JournalEntry,
    Planner,
    R,
    Snapshot,
    StoreError,
    StoreUnavailable,
    SyncClosed,
    SyncMark,
    SyncSession,
)
from servicegraph.store.cypher import statement
from servicegraph.store.journal import (
    INLINE_MAX,
    entry_for,
    from_record,
    retention_cutoff,
    to_record,
)
from servicegraph.store.neo4j_outbox import SCHEMA as OUTBOX_SCHEMA
from servicegraph.store.neo4j_outbox import Neo4jOutbox
from servicegraph.store.record_rows import (
    RECORD_LAYERS,
    SEP,
    columns_caused,
    columns_packed,
    columns_whole,
    record_cutoff,
    transition_from,
    transition_row,
    trim_due,
)
from servicegraph.store.rows import (
    edge_from_row,
    edge_row,
    node_from_row,
    node_row,
    observation_row,
)

#: Rows per UNWIND: large enough to amortise round trips, small enough to keep
#: each statement's memory modest. All batches of a change share one transaction.
BATCH = 5000
#: A page size no period of the record reaches (Cypher's LIMIT needs a number).
EVERYTHING = 2**62


def _chunks(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def node_params(change: Change) -> list[dict[str, Any]]:
    """The ``$rows`` of ``nodes/upsert``: the label is chosen from the kind enum here."""
    rows = []
    for node in change.upsert_nodes:
        props = node_row(node)
        del props["id"]
        rows.append({"id": node.id, "label": NodeKind(node.kind).label, "props": props})
    return rows


def edge_params(edge: Edge) -> dict[str, Any]:
    """One row of ``edges/upsert``'s ``$rows``."""
    props = edge_row(edge)
    return {"source": props.pop("source"), "target": props.pop("target"), "props": props}


def _node_param(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``nodes/upsert`` from a node's journal row (left as it is)."""
    return {"id": row["id"], "label": NodeKind(row["kind"]).label,
            "props": {k: v for k, v in row.items() if k != "id"}}


def _edge_param(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``edges/upsert`` from an edge's journal row (left as it is)."""
    return {"source": row["source"], "target": row["target"],
            "props": {k: v for k, v in row.items() if k not in ("source", "target")}}


def _alert_param(alert: dict[str, Any]) -> dict[str, Any]:
    return {"uid": f"{alert['source']} {alert['fingerprint']}", "source": alert["source"],
            "fingerprint": alert["fingerprint"], "payload": json.dumps(alert, sort_keys=True)}


@contextlib.contextmanager
def _translated() -> Iterator[None]:
    """Translate the driver's errors into the project's own, at the boundary: "cannot
    now" (unreachable, expired, transient, credentials refused) into
    :class:`StoreUnavailable`, a change past the transaction memory into
    :class:`ChangeTooLarge`, anything else the server or driver refused into
    :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except (neo4j.exceptions.ServiceUnavailable, neo4j.exceptions.SessionExpired,
            neo4j.exceptions.TransientError, neo4j.exceptions.AuthError) as exc:
        if str(getattr(exc, "code", "")).endswith("MemoryPoolOutOfMemoryError"):
            raise ChangeTooLarge(
                "the change is too large for one Neo4j transaction "
                "(dbms.memory.transaction.total.max): split it into smaller pushes or a "
                f"sync session, or give Neo4j more heap. Neo4j said: {exc}") from exc
        raise StoreUnavailable(f"Neo4j does not answer now: {exc}") from exc
    except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
        raise StoreError(f"Neo4j refused: {type(exc).__name__}: {exc}") from exc


class Neo4jStore(Neo4jOutbox):
    """The graph in Neo4j: ``(:Node:<KindLabel>)-[:DEPENDS_ON]->(:Node)``, with the
    version and journal beside it (``:ServiceGraphMeta``, ``:ServiceGraphJournal``).

    Parameters
    ----------
    uri : str
        ``bolt://`` or ``neo4j://`` address.
    auth : (user, password), optional
    database : str
        The database, always named.
    driver : neo4j.Driver, optional
        Use this driver instead of opening one (it is then not closed here).
    retry_seconds : float
        How long the driver may retry a transaction before the store is reported
        unavailable.
    connect_timeout : float
        Seconds to open a connection.
    journal_days : float
        How long journal entries are kept (trimmed by later writes).
    record_days : float
        How long the promise record keeps transitions (trimmed by later writes).
    inline_max : int
        Changes of more items are journaled as reload entries.
    """

    def __init__(self, uri: str, *, auth: tuple[str, str] | None = None,
                 database: str = "neo4j", driver: neo4j.Driver | None = None,
                 retry_seconds: float = 5.0, connect_timeout: float = 2.0,
                 journal_days: float = 7.0, record_days: float = 400.0,
                 inline_max: int = INLINE_MAX) -> None:
        self.uri = uri
        self.record_days = record_days
        self.database = database
        self.description = f"neo4j:{uri}/{database}"
        self.journal_days = journal_days
        self.inline_max = inline_max
        self._own_driver = driver is None
        # Notifications (e.g. "relationship type does not exist" on an empty graph)
        # would be logged as warnings on every query: servicegraph's queries are fixed.
        self.driver = driver or neo4j.GraphDatabase.driver(
            uri, auth=auth, notifications_min_severity="OFF",
            max_transaction_retry_time=retry_seconds, connection_timeout=connect_timeout,
            connection_acquisition_timeout=connect_timeout + retry_seconds)
        self._schema_ready = False
        # Neo4j may come up after us: then the schema is made on first successful use.
        with contextlib.suppress(neo4j.exceptions.ServiceUnavailable, StoreUnavailable):
            self.ensure_schema()

    def ensure_schema(self) -> None:
        """Create the constraints and the meta node (idempotent), once per store."""
        if self._schema_ready:
            return
        with _translated():
            for name in ("schema/node_id_unique", "schema/meta_key_unique",
                         "schema/journal_version_unique", "schema/journal_at",
                         "schema/sync_id_unique", "schema/full_sync_source_unique",
                         "schema/sync_page_session", "schema/sync_source_state",
                         "schema/alert_uid_unique", "schema/window_id_unique",
                         "schema/ack_node_unique",
                         "schema/record_seq_unique", "schema/record_once",
                         "schema/record_node_at", "schema/record_at",
                         "schema/record_key_unique",
                         "schema/alert_mapping_source_unique",
                         *OUTBOX_SCHEMA,
                         "schema/await_indexes"):
                self._run_once(statement(name))
            # Most opens find the meta node made, with its identity: then nothing is
            # written (a write here would lock the meta node that every change's
            # transaction locks, and a process starting beside busy writers deadlocked).
            found = self._run_once(statement("graph/identity"))
            if not found or found[0]["identity"] is None:
                for attempt in range(5):
                    try:
                        # Two processes starting at once may race to create it: one wins.
                        with contextlib.suppress(neo4j.exceptions.ConstraintError):
                            self._run_once(statement("graph/meta_init"))
                        break
                    except neo4j.exceptions.TransientError:
                        if attempt == 4:
                            raise
                        time.sleep(0.05 * 2 ** attempt)
        self._schema_ready = True

    @staticmethod
    def _translated() -> Any:
        return _translated()

    def _run_once(self, query: str, **params: Any) -> list[neo4j.Record]:
        # An auto-commit run, not execute_query: the driver would retry a dead server,
        # and readiness and start-up must answer at once.
        with self.driver.session(database=self.database) as session:
            return list(session.run(query, params))

    def ping(self) -> None:
        """Raise unless Neo4j answers a trivial query now."""
        self.ensure_schema()
        with _translated():
            self._run_once(statement("graph/ping"))

    # --- reading ----------------------------------------------------------------------------

    def read(self) -> GraphData:
        """The whole graph as model objects.

        Nodes and edges are two statements, and Neo4j reads are read-committed: a
        write between them could leave an edge whose node was not read. The read is
        repeated until the version is the same before and after.
        """
        self.ensure_schema()

        def work(tx: neo4j.ManagedTransaction) -> tuple[int, GraphData] | None:
            before = tx.run(statement("graph/version")).single(strict=True)["version"]
            nodes = [node_from_row(r["row"]) for r in tx.run(statement("nodes/read"))]
            edges = [edge_from_row(r["row"]) for r in tx.run(statement("edges/read"))]
            after = tx.run(statement("graph/version")).single(strict=True)["version"]
            return (after, GraphData(tuple(nodes), tuple(edges))) if before == after else None

        with _translated(), self.driver.session(database=self.database) as session:
            for _ in range(20):
                found = session.execute_read(work)
                if found is not None:
                    return found[1]
        raise StoreUnavailable("the graph kept changing while it was read; retry later")

    def load(self) -> Snapshot:
        """The whole graph in row form, streamed; replaying the journal from the
        version given makes it exact (see :meth:`GraphStore.load`)."""
        self.ensure_schema()
        version = self.version()

        def rows(query: str) -> Iterator[dict[str, Any]]:
            with _translated(), self.driver.session(database=self.database,
                                                    fetch_size=10_000) as session:
                for record in session.run(query):
                    yield dict(record["row"])

        with _translated():
            # Alerts are few beside the graph: read at once; the journal replay that
            # follows a load makes them exact, as it does nodes and edges.
            held = [json.loads(r["payload"]) for r in self._run_once(statement("alerts/load"))]
            windows = [json.loads(r["payload"])
                       for r in self._run_once(statement("maintenance/load"))]
            acks = [json.loads(r["payload"]) for r in self._run_once(statement("acks/load"))]
            mappings = [json.loads(r["payload"])
                        for r in self._run_once(statement("alert_mappings/load"))]
        return Snapshot(version, rows(statement("nodes/load")), rows(statement("edges/load")),
                        iter(held), iter(windows), iter(acks), iter(mappings))

    def fetch(self, node_ids: Sequence[str], edge_keys: Sequence[tuple[str, str]]
              ) -> GraphData:
        """The named nodes and edges that exist."""
        self.ensure_schema()
        with _translated(), self.driver.session(database=self.database) as session:
            return session.execute_read(lambda tx: _fetch(tx, node_ids, edge_keys))

    def version(self) -> int:
        """The version of the last change written."""
        self.ensure_schema()
        with _translated():
            (record,) = self._run_once(statement("graph/version"))
        return int(record["version"])

    def identity(self) -> str:
        """Which store this is: drawn at random when its meta node was made."""
        self.ensure_schema()
        with _translated():
            (record,) = self._run_once(statement("graph/identity"))
        return f"neo4j:{record['identity']}"

    def journal(self, since: int) -> list[JournalEntry] | None:
        """Entries after ``since`` up to the version read first; ``None`` when
        trimmed past ``since``.

        Reads are read-committed, so the entries are read up to the version found
        first, and asked for again if one of them is not visible yet.
        """
        self.ensure_schema()

        def work(tx: neo4j.ManagedTransaction) -> list[JournalEntry] | None:
            meta = tx.run(statement("graph/version")).single(strict=True)
            if since < int(meta["floor"]):
                return None
            top = int(meta["version"])
            records = [dict(r["record"]) for r in tx.run(statement("journal/since"),
                                                        since=since)]
            entries = [from_record(r) for r in records if int(r["version"]) <= top]
            if [e.version for e in entries] != list(range(since + 1, top + 1)):
                raise _Incomplete
            return entries

        with _translated(), self.driver.session(database=self.database) as session:
            for _ in range(50):
                try:
                    return session.execute_read(work)
                except _Incomplete:
                    continue
        raise StoreUnavailable("the journal is being written; retry later")

    # --- writing ----------------------------------------------------------------------------

    def apply(self, change: Change, info: ChangeInfo) -> int:
        """Write one change as it is, with its journal entry, in one transaction in
        ``UNWIND`` batches, under the meta node's write lock."""
        entry, _ = self.transact(lambda view: (change, info, None))
        assert entry is not None
        return entry.version

    def transact(self, plan: Planner[R]) -> tuple[JournalEntry | None, R]:
        """Plan and write in one transaction that first takes the write lock on the
        meta node (see :meth:`GraphStore.transact`)."""
        self.ensure_schema()

        def work(tx: neo4j.ManagedTransaction) -> tuple[JournalEntry | None, R]:
            meta = tx.run(statement("graph/lock"), at=utc_now()).single(strict=True)
            found = int(meta["version"])
            change, info, answer = plan(_View(tx, found, int(meta["floor"]),
                                              int(meta["recorded"]), int(meta["record_seq"])))
            if change is None or change.empty:
                recorded = change is not None and self._record(tx, change, info.at,
                                                                meta["trimmed"])
                if change is None or (change.full_sync is None and not recorded):
                    raise _Nothing(answer)  # roll back: not even the lock's mark is kept
                # A full sync that changes nothing is still the newer snapshot.
                if change.full_sync is not None:
                    tx.run(statement("sync/supersede"), source=change.full_sync).consume()
                return None, answer
            # A change's transitions (most often a few) go with its journal entry.
            fold = ([transition_row(t) for t in change.record]
                    if (change.record or change.recorded is not None)
                    and len(change.record) <= BATCH else None)
            entry = self._write(tx, change, info, found + 1, fold)
            self._record(tx, change, info.at, meta["trimmed"], written=fold is not None)
            return entry, answer

        with _translated(), self.driver.session(database=self.database) as session:
            try:
                return session.execute_write(work)
            except _Nothing as nothing:
                return None, cast(R, nothing.answer)

    def _write(self, tx: neo4j.ManagedTransaction, change: Change, info: ChangeInfo,
               version: int, fold: list[dict[str, Any]] | None = None) -> JournalEntry:
        """The writes of one change, its journal entry and the new version (and, with
        ``fold``, the record rows of the change and its reach); returns the entry."""
        if change.sync is not None:
            self._mark(tx, change.sync, info.at)
        if change.full_sync is not None:
            tx.run(statement("sync/full_sync_mark"), source=change.full_sync,
                   version=version).consume()
            tx.run(statement("sync/supersede"), source=change.full_sync).consume()
        if change.replace:
            tx.run(statement("graph/clear")).consume()
            tx.run(statement("alerts/clear")).consume()
            tx.run(statement("maintenance/clear")).consume()
            tx.run(statement("acks/clear")).consume()
            tx.run(statement("alert_mappings/clear")).consume()
        for rows in _chunks([{"source": s, "target": t} for s, t in change.delete_edges]):
            tx.run(statement("edges/delete"), rows=rows).consume()
        for ids in _chunks(list(change.delete_nodes)):
            tx.run(statement("nodes/delete"), ids=ids).consume()
        entry = entry_for(change, info, version, self.inline_max)
        # The journal's rows are the rows written: each item is turned into a row once.
        node_rows, edge_rows = ((node_params(change), [edge_params(e) for e in change.upsert_edges])
                                if entry.reload else
                                ([_node_param(r) for r in entry.rows["nodes"]],
                                 [_edge_param(r) for r in entry.rows["edges"]]))
        for rows in _chunks(node_rows):
            tx.run(statement("nodes/upsert"), rows=rows).consume()
        for rows in _chunks(edge_rows):
            written = tx.run(statement("edges/upsert"), rows=rows).single(strict=True)
            if written["written"] != len(rows):
                # A missing end would silently drop an edge: refuse the whole change.
                raise StoreError("an edge refers to a node that is not in the store")
        for rows in _chunks([observation_row(i, o) for i, o in change.observe]):
            tx.run(statement("nodes/observe"), rows=rows).consume()
        for rows in _chunks([_alert_param(a.to_dict()) for a in change.alerts]):
            tx.run(statement("alerts/upsert"), rows=rows).consume()
        for rows in _chunks([{"id": w.id, "payload": json.dumps(w.to_dict(), sort_keys=True)}
                             for w in change.windows]):
            tx.run(statement("maintenance/upsert"), rows=rows).consume()
        for rows in _chunks([{"node": a.node, "payload": json.dumps(a.to_dict(), sort_keys=True)}
                             for a in change.acks]):
            tx.run(statement("acks/upsert"), rows=rows).consume()
        for rows in _chunks([{"source": m.source,
                              "payload": json.dumps(m.to_dict(), sort_keys=True)}
                             for m in change.mappings]):
            tx.run(statement("alert_mappings/upsert"), rows=rows).consume()
        record = to_record(entry)
        cutoff = retention_cutoff(info.at, self.journal_days)
        if fold is None:
            tx.run(statement("journal/commit"), record=record, cutoff=cutoff).consume()
        else:
            tx.run(statement("journal/commit_record"), record=record, cutoff=cutoff,
                   rows=fold, recorded=change.recorded).consume()
        return entry

    def _record(self, tx: neo4j.ManagedTransaction, change: Change, at: str,
                trimmed: str | None, *, written: bool = False) -> bool:
        """Append the change's transitions and move the record's version (unless
        ``written`` with the journal entry already); whether there was anything to
        write. Trims the record when due."""
        if not change.record and change.recorded is None:
            return False
        rows = [] if written else [transition_row(t) for t in change.record]
        for start in range(0, len(rows), BATCH):
            last = start + BATCH >= len(rows)
            tx.run(statement("record/append"), rows=rows[start:start + BATCH],
                   recorded=change.recorded if last else None).consume()
        if change.recorded is not None and not rows and not written:
            tx.run(statement("record/reach"), version=change.recorded).consume()
        cutoff = record_cutoff(at, self.record_days)
        if cutoff is not None and trim_due(cutoff, trimmed):
            tx.run(statement("record/trim"), cutoff=cutoff).consume()
        return True

    # --- the promise record ---------------------------------------------------------------

    def record_between(self, start: str | None, end: str | None, *,
                       nodes: Sequence[str] | None = None,
                       layers: Sequence[str] | None = None,
                       limit: int | None = None, offset: int = 0
                       ) -> tuple[list[Transition], int]:
        """A page of the transitions in ``[start, end)`` (see :class:`RecordStore`)."""
        params: dict[str, Any] = {"start": start or "", "end": end or "~"}
        if nodes is None:
            params.update(nodes=None, layers=None if layers is None else list(layers))
            count, between = "record/count", "record/between"
        else:
            # Some nodes: a seek per (node, layer) rather than the whole period scanned.
            params["keys"] = [{"node": n, "layer": k} for n in dict.fromkeys(nodes)
                              for k in (RECORD_LAYERS if layers is None else layers)]
            count, between = "record/count_keys", "record/between_keys"

        def work(tx: neo4j.ManagedTransaction) -> tuple[list[Transition], int]:
            if limit is None and offset == 0:
                # Everything asked for: the total is what is read, not a second query.
                found = [transition_from(r) for r in tx.run(
                    statement(between), params, offset=0, limit=EVERYTHING)]
                return found, len(found)
            total = int(tx.run(statement(count), params).single(strict=True)["total"])
            found = [transition_from(r) for r in tx.run(
                statement(between), params, offset=offset,
                limit=total if limit is None else limit)]
            return found, total

        with _translated(), self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def record_columns(self, start: str, end: str, *, nodes: Sequence[str] | None = None,
                       layers: Sequence[str] | None = None, causes: bool = False
                       ) -> Columns:
        """The record's columns over ``[start, end)`` (see :class:`RecordStore`): one
        statement, answered as one list of packed figures (or, for named nodes, the
        whole transitions)."""
        chosen = list(RECORD_LAYERS if layers is None else layers)
        with _translated():
            if nodes is not None:
                keys = [{"node": n, "layer": k} for n in dict.fromkeys(nodes) for k in chosen]
                return columns_caused((r["figures"], r["seq"], r["payload"]) for r in
                                      self._run_once(statement("record/columns_keys"),
                                                     start=start, end=end, keys=keys))
            (found,) = self._run_once(statement("record/columns"), start=start, end=end,
                                      layers=chosen)
            cols = columns_packed(SEP.join(found["figures"]))
            # Written before the figures were packed (or every one, for the causes): whole.
            whole = (cols.order or []) + list(found["older"]) if causes else found["older"]
            if whole:
                more = columns_whole((r["seq"], r["payload"]) for r in self._run_once(
                    statement("record/payloads"), seqs=list(whole)))
                if causes:
                    return more
                cols.extend(more)
                cols.causes = None
        return cols

    def record_last(self, at: str, *, inclusive: bool = True,
                    nodes: Sequence[str] | None = None,
                    layers: Sequence[str] | None = None) -> list[Transition]:
        """The last transition of each (node, layer) at (or before) ``at``."""
        with _translated():
            return [transition_from(r) for r in self._run_once(
                statement("record/last"), at=at, inclusive=inclusive,
                nodes=None if nodes is None else list(nodes),
                layers=None if layers is None else list(layers))]

    def record_reach(self) -> int:
        """The version the record reaches."""
        with _translated():
            (found,) = self._run_once(statement("record/reached"))
            return int(found["recorded"])

    def record_size(self) -> int:
        """How many transitions are kept."""
        with _translated():
            (found,) = self._run_once(statement("record/size"))
            return int(found["n"])

    @staticmethod
    def _mark(tx: neo4j.ManagedTransaction, mark: SyncMark, at: str) -> None:
        """Record a page's keys, or close the session, after checking it is open."""
        found = tx.run(statement("sync/lock"), id=mark.session, at=at).single()
        if found is None or found["state"] != "open":
            raise SyncClosed(mark.session, "unknown" if found is None else found["state"])
        if mark.close is not None:
            tx.run(statement("sync/close"), id=mark.session, state=mark.close).consume()
            return
        tx.run(statement("sync/page"), id=mark.session, nodes=list(mark.nodes),
               edge_sources=[a for a, _ in mark.edges],
               edge_targets=[b for _, b in mark.edges]).consume()

    def open_sync(self, source: str, opened_at: str, expires_at: str) -> SyncSession:
        """Open a sync session for ``source``."""
        self.ensure_schema()
        session = SyncSession(uuid.uuid4().hex, source, opened_at, expires_at, "open")
        with _translated():
            found = self._run_once(statement("sync/open"), id=session.id, source=source,
                                   opened_at=opened_at, expires_at=expires_at)
        return replace(session, opened_version=int(found[0]["opened_version"]))

    def sync_session(self, session: str) -> SyncSession | None:
        """A sync session by id."""
        self.ensure_schema()
        with _translated():
            found = self._run_once(statement("sync/read"), id=session)
        return _session(found[0]["session"]) if found else None

    def sync_keys(self, session: str) -> tuple[set[str], set[tuple[str, str]]]:
        """The node ids and edge keys the session's pages asserted."""
        self.ensure_schema()
        with _translated():
            return _keys(self._run_once(statement("sync/keys"), id=session))

    def close_sync(self, session: str, state: str) -> SyncSession | None:
        """End a session without a change and forget its keys, if it is open; the
        session as it is then."""
        self.ensure_schema()

        def work(tx: neo4j.ManagedTransaction) -> SyncSession | None:
            # The write lock first, as a commit takes it: reads are read-committed, so
            # without it an abandon could land between a commit's check that the session
            # is open and its reading the keys (the commit then saw none), or overwrite
            # the state of a commit that just retired what the session did not assert.
            tx.run(statement("graph/lock"), at=utc_now()).consume()
            found = tx.run(statement("sync/close"), id=session, state=state).single()
            return None if found is None else _session(found["session"])

        with _translated(), self.driver.session(database=self.database) as db:
            return db.execute_write(work)

    def clear(self) -> None:
        """Remove the graph (journaled), every journal entry before it, and every sync
        session."""
        version = self.apply(Change(replace=True), ChangeInfo(utc_now(), "clear"))
        with _translated():
            self._run_once(statement("journal/clear"), version=version)
            self._run_once(statement("sync/clear"))
            # Starting over forgets the record too.
            self._run_once(statement("record/clear_rows"))
            self._run_once(statement("record/clear"), version=version)

    def close(self) -> None:
        """Close the driver if this store opened it."""
        if self._own_driver:
            self.driver.close()


class _Incomplete(Exception):
    """A journal entry below the version read is not visible yet."""


class _Nothing(Exception):
    """A planned write turned out to write nothing: roll back, carrying the answer."""

    def __init__(self, answer: object) -> None:
        self.answer = answer


class _View:
    """What a write reads inside its transaction, holding the meta node's lock."""

    def __init__(self, tx: neo4j.ManagedTransaction, version: int, floor: int,
                 recorded: int = 0, record_seq: int = 0) -> None:
        self._tx, self.version, self._floor = tx, version, floor
        self.recorded = recorded
        self.record_seq = record_seq

    def entry_at(self, version: int) -> str | None:
        found = self._tx.run(statement("journal/at"), version=version).single()
        return None if found is None else str(found["at"])

    def record_after(self, seq: int) -> list[tuple[int, Transition]]:
        return [(int(r["seq"]), transition_from(r))
                for r in self._tx.run(statement("record/after"), seq=seq)]

    def record_latest(self) -> list[tuple[int, Transition]]:
        return [(int(r["seq"]), transition_from(r))
                for r in self._tx.run(statement("record/latest"))]

    def journal(self, since: int) -> list[JournalEntry] | None:
        # The floor was read under the lock: it cannot have moved.
        if since < self._floor:
            return None
        return [from_record(dict(r["record"])) for r in
                self._tx.run(statement("journal/since"), since=since)]

    def fetch(self, node_ids: Sequence[str], edge_keys: Sequence[tuple[str, str]]
              ) -> GraphData:
        return _fetch(self._tx, node_ids, edge_keys)

    def sync_keys(self, session: str) -> tuple[set[str], set[tuple[str, str]]]:
        return _keys(list(self._tx.run(statement("sync/keys"), id=session)))

    def sync_session(self, session: str) -> SyncSession | None:
        found = self._tx.run(statement("sync/read"), id=session).single()
        return None if found is None else _session(found["session"])

    def last_full_sync(self, source: str) -> int:
        found = self._tx.run(statement("sync/full_sync_read"), source=source).single()
        return 0 if found is None else int(found["version"])


def _session(stored: Mapping[str, Any]) -> SyncSession:
    """A session node's properties as a session (the lock's mark left out)."""
    row = dict(stored)
    row.pop("touched_at", None)
    return SyncSession(**row)


def _fetch(tx: neo4j.ManagedTransaction, node_ids: Sequence[str],
           edge_keys: Sequence[tuple[str, str]]) -> GraphData:
    ids = list(dict.fromkeys(node_ids))
    keys = [{"source": s, "target": t} for s, t in dict.fromkeys(edge_keys)]
    nodes = [node_from_row(r["row"]) for part in _chunks(ids)
             for r in tx.run(statement("nodes/fetch"), ids=part)]
    edges = [edge_from_row(r["row"]) for part in _chunks(keys)
             for r in tx.run(statement("edges/fetch"), rows=part)]
    return GraphData(tuple(nodes), tuple(edges))


def _keys(pages: list[neo4j.Record]) -> tuple[set[str], set[tuple[str, str]]]:
    nodes = {n for page in pages for n in page["nodes"]}
    edges = {(a, b) for page in pages
             for a, b in zip(page["edge_sources"], page["edge_targets"], strict=True)}
    return nodes, edges


