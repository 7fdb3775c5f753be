"""The embedded store: one SQLite file, every change in one transaction with its
journal entry.

Writers serialise on SQLite's own write lock (``BEGIN IMMEDIATE``), inside which
the version a change was planned against is checked; any number of processes
may share the file. Reads run in a transaction too, which in WAL mode is a
consistent snapshot.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from servicegraph.model import fields
from servicegraph.model.graph import GraphData
from servicegraph.model.record import Columns, Transition
from servicegraph.model.times import utc_now
from servicegraph.store.base import (
    Change,
    ChangeInfo,
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
from servicegraph.store.journal import (
    INLINE_MAX,
    entry_for,
    from_record,
    retention_cutoff,
    to_record,
)
from servicegraph.store.record_rows import (
    columns_caused,
    columns_packed,
    columns_whole,
    record_cutoff,
    transition_from,
    transition_row,
    trim_due,
)
from servicegraph.store.rows import (
    EDGE_COLUMNS,
    NODE_COLUMNS,
    _claims,
    change_rows,
    claim_key,
    edge_from_row,
    node_from_row,
)
from servicegraph.store.sqlite_outbox import SCHEMA as OUTBOX_SCHEMA
from servicegraph.store.sqlite_outbox import SqliteOutbox

#: The node and edge tables, derived from the fields' declaration; the observed state
#: is written by observations only.
_NODE_TABLE = ",\n    ".join([
    *fields.sqlite_columns(fields.NODE_FIELDS, fields.NODE_STORE_COLUMNS, key="id"),
    *(f"{c} TEXT" for c in fields.OBSERVED_COLUMNS)])
_EDGE_TABLE = ",\n    ".join([
    *(f"{c} REFERENCES nodes(id) ON DELETE CASCADE" if c.startswith(('"source"', '"target"'))
      else c for c in fields.sqlite_columns(fields.EDGE_FIELDS, fields.EDGE_STORE_COLUMNS,
                                            key="")),
    "PRIMARY KEY (source, target)"])

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS nodes (
    {_NODE_TABLE}
);
CREATE TABLE IF NOT EXISTS edges (
    {_EDGE_TABLE}
);
CREATE INDEX IF NOT EXISTS edges_target ON edges(target);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    version INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    kind TEXT NOT NULL,
    source TEXT,
    reload INTEGER NOT NULL DEFAULT 0,
    payload TEXT
);
CREATE INDEX IF NOT EXISTS journal_at ON journal(at);
INSERT OR IGNORE INTO meta (key, value) VALUES ('version', 0), ('journal_floor', 0);
-- Which store this is, drawn once (a saved snapshot of another store is never used).
INSERT OR IGNORE INTO meta (key, value) VALUES ('identity', random());
CREATE TABLE IF NOT EXISTS sync_sessions (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    state TEXT NOT NULL,
    pages INTEGER NOT NULL DEFAULT 0,
    items INTEGER NOT NULL DEFAULT 0,
    opened_version INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS maintenance_windows (
    id TEXT PRIMARY KEY,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS acknowledgements (
    node TEXT PRIMARY KEY,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_mappings (
    source TEXT PRIMARY KEY,
    payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alerts (
    source TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (source, fingerprint)
);
CREATE INDEX IF NOT EXISTS sync_sessions_source ON sync_sessions(source, state);
CREATE TABLE IF NOT EXISTS full_syncs (
    source TEXT PRIMARY KEY,
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS record (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    node TEXT NOT NULL,
    layer TEXT NOT NULL,
    state TEXT NOT NULL,
    planned INTEGER NOT NULL,
    version INTEGER,
    figures TEXT,
    payload TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS record_node_at ON record(node, layer, at, seq);
CREATE INDEX IF NOT EXISTS record_at ON record(at, seq);
CREATE UNIQUE INDEX IF NOT EXISTS record_once ON record(version, node, layer)
    WHERE version IS NOT NULL;
CREATE TABLE IF NOT EXISTS record_keys (
    node TEXT NOT NULL,
    layer TEXT NOT NULL,
    PRIMARY KEY (node, layer)
);
CREATE TABLE IF NOT EXISTS record_meta (key TEXT PRIMARY KEY, value TEXT);
INSERT OR IGNORE INTO meta (key, value) VALUES ('recorded', 0);
CREATE TABLE IF NOT EXISTS sync_keys (
    session TEXT NOT NULL,
    item TEXT NOT NULL,
    key TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (session, item, key, target)
);
"""

_UPSERT_NODE = (
    f"INSERT INTO nodes ({', '.join(NODE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in NODE_COLUMNS)}) "
    f"ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in NODE_COLUMNS if c != "id")
)
_UPSERT_EDGE = (
    f'INSERT INTO edges ({", ".join(chr(34) + c + chr(34) for c in EDGE_COLUMNS)}) '
    f"VALUES ({', '.join(':' + c for c in EDGE_COLUMNS)}) "
    "ON CONFLICT(source, target) DO UPDATE SET "
    + ", ".join(f'"{c}" = excluded."{c}"' for c in EDGE_COLUMNS[2:])
)
_ALERTS = "SELECT payload FROM alerts ORDER BY source, fingerprint"
_WINDOWS = "SELECT payload FROM maintenance_windows ORDER BY id"
_ACKS = "SELECT payload FROM acknowledgements ORDER BY node"
_MAPPINGS = "SELECT payload FROM alert_mappings ORDER BY source"
_OBSERVE = ("UPDATE nodes SET observed_state = :observed_state, observed_at = :observed_at, "
            "observed_source = :observed_source WHERE id = :id")
#: Rows per IN (...) list when fetching by key (below SQLite's variable limit).
_CHUNK = 500


def _stored(row: dict[str, Any]) -> dict[str, Any]:
    # String lists are JSON text in SQLite.
    out = dict(row)
    for column in ("claim_keys", "claim_sources"):
        if column in out:
            out[column] = json.dumps(out[column])
    return out


class SqliteStore(SqliteOutbox):
    """A real embedded database in one file (``:memory:`` for a throwaway one).

    Parameters
    ----------
    path : str or Path
        The database file.
    busy_timeout : float
        Seconds a write waits for another process's write to finish before the
        store is reported unavailable.
    journal_days : float
        How long journal entries are kept (trimmed by later writes).
    record_days : float
        How long the promise record keeps transitions (trimmed by later writes).
    inline_max : int
        Changes of more items are journaled as reload entries.
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 10.0,
                 journal_days: float = 7.0, record_days: float = 400.0,
                 inline_max: int = INLINE_MAX) -> None:
        self.path = str(path)
        self.record_days = record_days
        self.description = f"sqlite:{self.path}"
        self.busy_timeout = busy_timeout
        self.journal_days = journal_days
        self.inline_max = inline_max
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with _unavailable():
            self._db = self._connect()
        self._lock = threading.RLock()
        with self._lock, _unavailable():
            self._db.execute("PRAGMA journal_mode = WAL" if self.path != ":memory:" else
                             "PRAGMA journal_mode = MEMORY")
            self._db.executescript(_SCHEMA)
            self._db.executescript(OUTBOX_SCHEMA)
            self._migrate()
        # Reads have a connection of their own: they never queue behind a write (WAL
        # lets them read the last commit meanwhile). A throwaway in-memory database
        # has only the one connection.
        if self.path == ":memory:":
            self._read_db, self._read_lock = self._db, self._lock
        else:
            with _unavailable():
                self._read_db, self._read_lock = self._connect(), threading.RLock()

    @staticmethod
    def _unavailable() -> Any:
        return _unavailable()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: BEGIN/COMMIT are ours, so one change is one transaction.
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                             timeout=self.busy_timeout)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys = ON")
        return db

    def _migrate(self) -> None:
        # Files made by an earlier version lack some columns: add them, then derive the
        # claim summaries from the claims they hold, so old data loads as it was.
        wanted = {"nodes": {**dict(fields.NODE_STORE_COLUMNS),
                            **{c: "TEXT" for c in fields.OBSERVED_COLUMNS}},
                  "edges": dict(fields.EDGE_STORE_COLUMNS),
                  "sync_sessions": {"opened_version": "INTEGER NOT NULL DEFAULT 0"},
                  # What the record's figures read, packed (older rows: NULL, read
                  # from their payload).
                  "record": {"figures": "TEXT"}}
        added: set[str] = set()
        for table, columns in wanted.items():
            have = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
            for name, decl in columns.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
                    added.add(name)
        if "figures" in added:
            # The rows before this one were written without their figures.
            self._db.execute("INSERT OR REPLACE INTO record_meta (key, value) SELECT "
                             "'figures_from', coalesce(max(seq), 0) + 1 FROM record")
        if "claim_keys" in added:
            rows = self._db.execute("SELECT id, claims FROM nodes WHERE claims != '[]'")
            self._db.executemany("UPDATE nodes SET claim_keys = ? WHERE id = ?", [
                (json.dumps([claim_key(c.source, c.key) for c in _claims(r["claims"])]),
                 r["id"]) for r in rows.fetchall()])
        if "claim_sources" in added:
            rows = self._db.execute(
                "SELECT source, target, claims FROM edges WHERE claims != '[]'")
            self._db.executemany(
                "UPDATE edges SET claim_sources = ? WHERE source = ? AND target = ?", [
                    (json.dumps([c.source for c in _claims(r["claims"])]), r["source"],
                     r["target"]) for r in rows.fetchall()])

    # --- reading ----------------------------------------------------------------------------

    def read(self) -> GraphData:
        """The whole graph as model objects, in one read transaction."""
        with self._read_lock, _unavailable():
            db = self._read_db
            db.execute("BEGIN")
            try:
                nodes = [node_from_row(dict(r)) for r in
                         db.execute("SELECT * FROM nodes ORDER BY id")]
                edges = [edge_from_row(dict(r)) for r in db.execute(
                    "SELECT * FROM edges ORDER BY source, target")]
            finally:
                db.execute("COMMIT")
        return GraphData(tuple(nodes), tuple(edges))

    def load(self) -> Snapshot:
        """The whole graph in row form, streamed from one read transaction on a
        connection of its own (so writers of this process are not held up)."""
        if self.path == ":memory:":
            # A throwaway in-memory database is one connection's own: read it whole.
            with self._lock, _unavailable():
                nodes = [dict(r) for r in self._db.execute("SELECT * FROM nodes ORDER BY id")]
                edges = [dict(r) for r in self._db.execute(
                    "SELECT * FROM edges ORDER BY source, target")]
                alerts = [json.loads(r[0]) for r in self._db.execute(_ALERTS)]
                windows = [json.loads(r[0]) for r in self._db.execute(_WINDOWS)]
                acks = [json.loads(r[0]) for r in self._db.execute(_ACKS)]
                mappings = [json.loads(r[0]) for r in self._db.execute(_MAPPINGS)]
                return Snapshot(self._version(self._db), iter(nodes), iter(edges),
                                iter(alerts), iter(windows), iter(acks), iter(mappings))
        db = self._connect()
        try:
            db.execute("BEGIN")
            version = self._version(db)
        except sqlite3.Error as exc:
            db.close()
            raise StoreUnavailable(f"{self.description}: {exc}") from exc
        # Alerts are few beside the graph: read at once, in the same read transaction.
        with _unavailable():
            held = [json.loads(r["payload"]) for r in db.execute(_ALERTS)]
            windows = [json.loads(r["payload"]) for r in db.execute(_WINDOWS)]
            acks = [json.loads(r["payload"]) for r in db.execute(_ACKS)]
            mappings = [json.loads(r["payload"]) for r in db.execute(_MAPPINGS)]
        state = {"open": 2}

        def finished() -> None:
            state["open"] -= 1
            if state["open"] == 0:
                db.execute("COMMIT")
                db.close()

        def rows(query: str) -> Iterator[dict[str, Any]]:
            try:
                with _unavailable():
                    for r in db.execute(query):
                        yield dict(r)
            finally:
                finished()

        return Snapshot(version, rows("SELECT * FROM nodes ORDER BY id"),
                        rows("SELECT * FROM edges ORDER BY source, target"), iter(held),
                        iter(windows), iter(acks), iter(mappings))

    def fetch(self, node_ids: Sequence[str], edge_keys: Sequence[tuple[str, str]]
              ) -> GraphData:
        """The named nodes and edges that exist, in one read transaction."""
        with self._read_lock, _unavailable():
            self._read_db.execute("BEGIN")
            try:
                return _fetch(self._read_db, node_ids, edge_keys)
            finally:
                self._read_db.execute("COMMIT")

    @staticmethod
    def _version(db: sqlite3.Connection) -> int:
        return int(db.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()[0])

    def version(self) -> int:
        """The version of the last change written."""
        with self._read_lock, _unavailable():
            return self._version(self._read_db)

    def identity(self) -> str:
        """Which store this is: drawn at random when the file was made."""
        with self._read_lock, _unavailable():
            found = self._read_db.execute(
                "SELECT value FROM meta WHERE key = 'identity'").fetchone()
        return f"sqlite:{int(found[0]) & 0xFFFFFFFFFFFFFFFF:016x}"

    def journal(self, since: int) -> list[JournalEntry] | None:
        """Entries after ``since``, or ``None`` when trimmed past it."""
        with self._read_lock, _unavailable():
            self._read_db.execute("BEGIN")
            try:
                return _journal(self._read_db, since)
            finally:
                self._read_db.execute("COMMIT")

    # --- writing ----------------------------------------------------------------------------

    def apply(self, change: Change, info: ChangeInfo) -> int:
        """Write one change as it is, with its journal entry, in one transaction."""
        entry, _ = self.transact(lambda view: (change, info, None))
        assert entry is not None
        return entry.version

    def transact(self, plan: Planner[R]) -> tuple[JournalEntry | None, R]:
        """Plan and write inside one ``BEGIN IMMEDIATE`` transaction (see
        :meth:`GraphStore.transact`)."""
        with self._lock, _unavailable():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                view = _View(self, db, self._version(db))
                change, info, answer = plan(view)
                if change is None or change.empty:
                    recorded = change is not None and self._record(db, change, info.at)
                    if change is None or (change.full_sync is None and not recorded):
                        db.execute("ROLLBACK")
                        return None, answer
                    # A full sync that changes nothing is still the newer snapshot.
                    if change.full_sync is not None:
                        _supersede(db, change.full_sync)
                    db.execute("COMMIT")
                    return None, answer
                version = view.version + 1
                if change.sync is not None:
                    self._mark(db, change.sync)
                if change.full_sync is not None:
                    db.execute("INSERT INTO full_syncs (source, version) VALUES (?, ?) "
                               "ON CONFLICT(source) DO UPDATE SET version = excluded.version",
                               (change.full_sync, version))
                    _supersede(db, change.full_sync)
                entry = entry_for(change, info, version, self.inline_max)
                self._write(db, change, entry)
                db.execute("INSERT INTO journal (version, at, kind, source, reload, payload) "
                           "VALUES (:version, :at, :kind, :source, :reload, :payload)",
                           to_record(entry))
                db.execute("UPDATE meta SET value = ? WHERE key = 'version'", (version,))
                self._record(db, change, info.at)
                self._trim(db, info.at)
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        return entry, answer

    @staticmethod
    def _write(db: sqlite3.Connection, change: Change, entry: JournalEntry) -> None:
        # The journal's rows are the rows written: each item is turned into a row once
        # (a reload entry keeps no rows, so those are made here).
        rows = entry.rows if not entry.reload else change_rows(
            change.upsert_nodes, change.upsert_edges, change.delete_edges,
            change.delete_nodes, change.observe, change.replace, change.alerts,
            change.windows, change.acks, change.mappings)
        if change.replace:
            db.execute("DELETE FROM edges")
            db.execute("DELETE FROM nodes")
            db.execute("DELETE FROM alerts")
            db.execute("DELETE FROM maintenance_windows")
            db.execute("DELETE FROM acknowledgements")
            db.execute("DELETE FROM alert_mappings")
        db.executemany("DELETE FROM edges WHERE source = ? AND target = ?",
                       change.delete_edges)
        db.executemany("DELETE FROM nodes WHERE id = ?", [(n,) for n in change.delete_nodes])
        db.executemany(_UPSERT_NODE, [_stored(r) for r in rows["nodes"]])
        db.executemany(_UPSERT_EDGE, [_stored(r) for r in rows["edges"]])
        db.executemany(_OBSERVE, rows["observe"])
        db.executemany("INSERT INTO alerts (source, fingerprint, payload) VALUES (?, ?, ?) "
                       "ON CONFLICT(source, fingerprint) DO UPDATE SET payload = excluded.payload",
                       [(a["source"], a["fingerprint"], json.dumps(a, sort_keys=True))
                        for a in rows.get("alerts", ())])
        db.executemany("INSERT INTO maintenance_windows (id, payload) VALUES (?, ?) "
                       "ON CONFLICT(id) DO UPDATE SET payload = excluded.payload",
                       [(w["id"], json.dumps(w, sort_keys=True))
                        for w in rows.get("windows", ())])
        db.executemany("INSERT INTO acknowledgements (node, payload) VALUES (?, ?) "
                       "ON CONFLICT(node) DO UPDATE SET payload = excluded.payload",
                       [(a["node"], json.dumps(a, sort_keys=True))
                        for a in rows.get("acks", ())])
        db.executemany("INSERT INTO alert_mappings (source, payload) VALUES (?, ?) "
                       "ON CONFLICT(source) DO UPDATE SET payload = excluded.payload",
                       [(m["source"], json.dumps(m, sort_keys=True))
                        for m in rows.get("mappings", ())])

    def _record(self, db: sqlite3.Connection, change: Change, at: str) -> bool:
        """Append the change's transitions and move the record's version; whether
        there was anything to write. Trims the record when due."""
        if not change.record and change.recorded is None:
            return False
        rows = [transition_row(t) for t in change.record]
        db.executemany("INSERT INTO record (at, node, layer, state, planned, version, "
                       "figures, payload) VALUES (:at, :node, :layer, :state, :planned, "
                       ":version, :figures, :payload)", rows)
        db.executemany("INSERT OR IGNORE INTO record_keys (node, layer) VALUES (?, ?)",
                       {(r["node"], r["layer"]) for r in rows})
        if change.recorded is not None:
            db.execute("UPDATE meta SET value = max(value, ?) WHERE key = 'recorded'",
                       (change.recorded,))
        cutoff = record_cutoff(at, self.record_days)
        last = db.execute("SELECT value FROM record_meta WHERE key = 'trimmed'").fetchone()
        if cutoff is not None and trim_due(cutoff, None if last is None else last[0]):
            # Keep the last transition of each node before the cutoff: the state at the
            # cutoff is known from it.
            db.execute("DELETE FROM record WHERE at < :cutoff AND EXISTS (SELECT 1 FROM "
                       "record later WHERE later.node = record.node AND later.layer = "
                       "record.layer AND later.at <= :cutoff AND later.seq > record.seq)",
                       {"cutoff": cutoff})
            db.execute("INSERT INTO record_meta (key, value) VALUES ('trimmed', ?) "
                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (cutoff,))
        return True

    # --- the promise record ---------------------------------------------------------------

    def record_between(self, start: str | None, end: str | None, *,
                       nodes: Sequence[str] | None = None,
                       layers: Sequence[str] | None = None,
                       limit: int | None = None, offset: int = 0
                       ) -> tuple[list[Transition], int]:
        """A page of the transitions in ``[start, end)`` (see :class:`RecordStore`)."""
        where, params = _record_filter(nodes, layers)
        if start is not None:
            where.append("at >= ?")
            params.append(start)
        if end is not None:
            where.append("at < ?")
            params.append(end)
        clause = " WHERE " + " AND ".join(where) if where else ""
        with self._read_lock, _unavailable():
            db = self._read_db
            db.execute("BEGIN")
            try:
                total = int(db.execute(f"SELECT count(*) FROM record{clause}",
                                       params).fetchone()[0])
                rows = db.execute(f"SELECT payload FROM record{clause} ORDER BY at, seq "
                                  "LIMIT ? OFFSET ?",
                                  [*params, -1 if limit is None else limit, offset])
                found = [transition_from(r) for r in rows]
            finally:
                db.execute("COMMIT")
        return found, total

    def record_columns(self, start: str, end: str, *, nodes: Sequence[str] | None = None,
                       layers: Sequence[str] | None = None, causes: bool = False
                       ) -> Columns:
        """The record's columns over ``[start, end)`` (see :class:`RecordStore`), in one
        read transaction: the packed figures of every row as one text, or (``causes``)
        the whole transitions."""
        where, params = _record_filter(nodes, layers)
        keys = " AND ".join(f"k.{w}" for w in where) if where else "1"
        rows_of = " AND ".join(where) if where else "1"
        # Each (node, layer)'s last row before the start, then the period's rows.
        rows = ("SELECT r.seq, r.figures, r.state, r.payload FROM record_keys k JOIN record r ON "
                "r.seq = (SELECT seq FROM record WHERE node = k.node AND layer = k.layer AND "
                f"at < ? ORDER BY at DESC, seq DESC LIMIT 1) WHERE {keys} UNION ALL "
                f"SELECT seq, figures, state, payload FROM record WHERE at >= ? AND at < ? AND "
                f"{rows_of}")
        args = [start, *params, start, end, *params]
        with self._read_lock, _unavailable():
            db = self._read_db
            db.execute("BEGIN")
            try:
                if causes:
                    return columns_caused(db.execute(
                        "SELECT figures || char(31) || seq, seq, CASE WHEN figures IS NULL "
                        f"OR state = 'down' THEN payload END FROM ({rows})", args))
                # One text for them all: a row object each would cost more than the rows.
                (packed,) = db.execute("SELECT group_concat(figures || char(31) || seq, "
                                       f"char(31)) FROM ({rows}) WHERE figures IS NOT NULL",
                                       args).fetchone()
                cols = columns_packed(packed)
                older = db.execute("SELECT value FROM record_meta WHERE key = 'figures_from'"
                                   ).fetchone()
                if older is not None:
                    cols.extend(columns_whole((r[0], r[1]) for r in db.execute(
                        f"SELECT seq, payload FROM ({rows}) WHERE figures IS NULL AND "
                        "seq < ?", [*args, int(older[0])])))
                    cols.causes = None
            finally:
                db.execute("COMMIT")
        return cols

    def record_last(self, at: str, *, inclusive: bool = True,
                    nodes: Sequence[str] | None = None,
                    layers: Sequence[str] | None = None) -> list[Transition]:
        """The last transition of each (node, layer) at (or before) ``at``: one index
        seek per node the record knows."""
        where, params = _record_filter(nodes, layers)
        clause = " WHERE " + " AND ".join(f"k.{w}" for w in where) if where else ""
        op = "<=" if inclusive else "<"
        query = (f"SELECT r.payload FROM record_keys k JOIN record r ON r.seq = ("
                 f"SELECT seq FROM record WHERE node = k.node AND layer = k.layer AND "
                 f"at {op} ? ORDER BY at DESC, seq DESC LIMIT 1){clause} "
                 "ORDER BY k.node, k.layer")
        with self._read_lock, _unavailable():
            return [transition_from(r) for r in
                    self._read_db.execute(query, [at, *params])]

    def record_reach(self) -> int:
        """The version the record reaches."""
        with self._read_lock, _unavailable():
            return int(self._read_db.execute(
                "SELECT value FROM meta WHERE key = 'recorded'").fetchone()[0])

    def record_size(self) -> int:
        """How many transitions are kept."""
        with self._read_lock, _unavailable():
            return int(self._read_db.execute("SELECT count(*) FROM record").fetchone()[0])

    @staticmethod
    def _mark(db: sqlite3.Connection, mark: SyncMark) -> None:
        """Record a page's keys, or close the session, after checking it is open."""
        row = db.execute("SELECT state FROM sync_sessions WHERE id = ?",
                         (mark.session,)).fetchone()
        if row is None or row["state"] != "open":
            raise SyncClosed(mark.session, "unknown" if row is None else row["state"])
        if mark.close is not None:
            db.execute("UPDATE sync_sessions SET state = ? WHERE id = ?",
                       (mark.close, mark.session))
            db.execute("DELETE FROM sync_keys WHERE session = ?", (mark.session,))
            return
        db.executemany("INSERT OR IGNORE INTO sync_keys (session, item, key) VALUES (?, 'n', ?)",
                       [(mark.session, n) for n in mark.nodes])
        db.executemany("INSERT OR IGNORE INTO sync_keys (session, item, key, target) "
                       "VALUES (?, 'e', ?, ?)", [(mark.session, a, b) for a, b in mark.edges])
        db.execute("UPDATE sync_sessions SET pages = pages + 1, items = items + ? WHERE id = ?",
                   (len(mark.nodes) + len(mark.edges), mark.session))

    def open_sync(self, source: str, opened_at: str, expires_at: str) -> SyncSession:
        """Open a sync session for ``source``."""
        session = SyncSession(uuid.uuid4().hex, source, opened_at, expires_at, "open")
        with self._lock, _unavailable():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                version = self._version(self._db)
                self._db.execute("INSERT INTO sync_sessions (id, source, opened_at, "
                                 "expires_at, state, opened_version) "
                                 "VALUES (?, ?, ?, ?, 'open', ?)",
                                 (session.id, source, opened_at, expires_at, version))
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return replace(session, opened_version=version)

    def sync_session(self, session: str) -> SyncSession | None:
        """A sync session by id."""
        with self._read_lock, _unavailable():
            return _session(self._read_db, session)

    def sync_keys(self, session: str) -> tuple[set[str], set[tuple[str, str]]]:
        """The node ids and edge keys the session's pages asserted."""
        with self._read_lock, _unavailable():
            return _sync_keys(self._read_db, session)

    def close_sync(self, session: str, state: str) -> SyncSession | None:
        """End a session without a change and forget its keys, if it is open; the
        session as it is then."""
        with self._lock, _unavailable():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                closed = self._db.execute("UPDATE sync_sessions SET state = ? WHERE id = ? "
                                          "AND state = 'open'", (state, session)).rowcount
                if closed:
                    self._db.execute("DELETE FROM sync_keys WHERE session = ?", (session,))
                found = _session(self._db, session)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return found

    def _trim(self, db: sqlite3.Connection, now: str) -> None:
        """Drop journal entries older than the retention, remembering how far."""
        cutoff = retention_cutoff(now, self.journal_days)
        if cutoff is None:
            return
        last = db.execute("SELECT max(version) FROM journal WHERE at < ?", (cutoff,)
                          ).fetchone()[0]
        if last is not None:
            db.execute("DELETE FROM journal WHERE version <= ?", (last,))
            db.execute("UPDATE meta SET value = max(value, ?) WHERE key = 'journal_floor'",
                       (last,))

    def ping(self) -> None:
        """Raise unless the database file answers."""
        with self._read_lock, _unavailable():
            self._read_db.execute("SELECT 1").fetchone()

    def clear(self) -> None:
        """Remove the graph (journaled) and every journal entry before it."""
        version = self.apply(Change(replace=True), ChangeInfo(utc_now(), "clear"))
        with self._lock, _unavailable():
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute("DELETE FROM journal WHERE version < ?", (version,))
            self._db.execute("DELETE FROM sync_keys")
            self._db.execute("DELETE FROM sync_sessions")
            self._db.execute("DELETE FROM full_syncs")
            self._db.execute("DELETE FROM alerts")
            self._db.execute("DELETE FROM maintenance_windows")
            self._db.execute("DELETE FROM acknowledgements")
            # Starting over forgets the record too (its numbers start again).
            self._db.execute("DELETE FROM record")
            self._db.execute("DELETE FROM record_keys")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'recorded'", (version,))
            self._db.execute("DELETE FROM alert_mappings")
            self._db.execute("UPDATE meta SET value = ? WHERE key = 'journal_floor'",
                             (version - 1,))
            self._db.execute("COMMIT")

    def close(self) -> None:
        """Close the connections."""
        with self._lock:
            self._db.close()
        with self._read_lock:
            self._read_db.close()




def _fetch(db: sqlite3.Connection, node_ids: Sequence[str],
           edge_keys: Sequence[tuple[str, str]]) -> GraphData:
    nodes, edges = [], []
    ids = list(dict.fromkeys(node_ids))
    for start in range(0, len(ids), _CHUNK):
        part = ids[start:start + _CHUNK]
        marks = ", ".join("?" * len(part))
        nodes += [node_from_row(dict(r)) for r in db.execute(
            f"SELECT * FROM nodes WHERE id IN ({marks})", part)]
    keys = list(dict.fromkeys(edge_keys))
    for start in range(0, len(keys), _CHUNK):
        part_keys = keys[start:start + _CHUNK]
        marks = " OR ".join("(source = ? AND target = ?)" for _ in part_keys)
        flat = [v for k in part_keys for v in k]
        edges += [edge_from_row(dict(r)) for r in db.execute(
            f"SELECT * FROM edges WHERE {marks}", flat)]
    return GraphData(tuple(nodes), tuple(edges))


def _journal(db: sqlite3.Connection, since: int) -> list[JournalEntry] | None:
    floor = int(db.execute("SELECT value FROM meta WHERE key = 'journal_floor'").fetchone()[0])
    if since < floor:
        return None
    return [from_record(dict(r)) for r in db.execute(
        "SELECT * FROM journal WHERE version > ? ORDER BY version", (since,))]


def _record_filter(nodes: Sequence[str] | None, layers: Sequence[str] | None
                   ) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column, values in (("node", nodes), ("layer", layers)):
        if values is not None:
            where.append(f"{column} IN (SELECT value FROM json_each(?))")
            params.append(json.dumps(list(values)))
    return where, params


def _record_rows(db: sqlite3.Connection, query: str, params: Sequence[Any]
                 ) -> list[tuple[int, Transition]]:
    return [(int(r["seq"]), transition_from(r)) for r in db.execute(query, params)]


def _supersede(db: sqlite3.Connection, source: str) -> None:
    """Close the source's open sessions as superseded (a full sync of it is being
    committed; a session it commits was closed as committed first) and forget their
    keys."""
    db.execute("DELETE FROM sync_keys WHERE session IN (SELECT id FROM sync_sessions "
               "WHERE source = ? AND state = 'open')", (source,))
    db.execute("UPDATE sync_sessions SET state = 'superseded' "
               "WHERE source = ? AND state = 'open'", (source,))


def _sync_keys(db: sqlite3.Connection, session: str) -> tuple[set[str], set[tuple[str, str]]]:
    rows = db.execute("SELECT item, key, target FROM sync_keys WHERE session = ?",
                      (session,)).fetchall()
    return ({r["key"] for r in rows if r["item"] == "n"},
            {(r["key"], r["target"]) for r in rows if r["item"] == "e"})


def _session(db: sqlite3.Connection, session: str) -> SyncSession | None:
    row = db.execute("SELECT * FROM sync_sessions WHERE id = ?", (session,)).fetchone()
    return None if row is None else SyncSession(**dict(row))


class _View:
    """What a write reads inside its ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, store: SqliteStore, db: sqlite3.Connection, version: int) -> None:
        self._store, self._db, self.version = store, db, version
        self.recorded = int(db.execute("SELECT value FROM meta WHERE key = 'recorded'"
                                       ).fetchone()[0])
        self.record_seq = int(db.execute("SELECT coalesce(max(seq), 0) FROM record"
                                         ).fetchone()[0])

    def entry_at(self, version: int) -> str | None:
        row = self._db.execute("SELECT at FROM journal WHERE version = ?",
                               (version,)).fetchone()
        return None if row is None else str(row[0])

    def record_after(self, seq: int) -> list[tuple[int, Transition]]:
        return _record_rows(self._db, "SELECT seq, payload FROM record WHERE seq > ? "
                            "ORDER BY seq", (seq,))

    def record_latest(self) -> list[tuple[int, Transition]]:
        return _record_rows(self._db, "SELECT r.seq, r.payload FROM record_keys k JOIN "
                            "record r ON r.seq = (SELECT max(seq) FROM record WHERE "
                            "node = k.node AND layer = k.layer) ORDER BY r.seq", ())

    def journal(self, since: int) -> list[JournalEntry] | None:
        return _journal(self._db, since)

    def fetch(self, node_ids: Sequence[str], edge_keys: Sequence[tuple[str, str]]
              ) -> GraphData:
        return _fetch(self._db, node_ids, edge_keys)

    def sync_keys(self, session: str) -> tuple[set[str], set[tuple[str, str]]]:
        return _sync_keys(self._db, session)

    def sync_session(self, session: str) -> SyncSession | None:
        return _session(self._db, session)

    def last_full_sync(self, source: str) -> int:
        row = self._db.execute("SELECT version FROM full_syncs WHERE source = ?",
                               (source,)).fetchone()
        return 0 if row is None else int(row[0])


@contextmanager
def _unavailable() -> Iterator[None]:
    """Translate SQLite's errors into the project's own, at the boundary: "cannot now"
    (locked, busy, I/O) into :class:`StoreUnavailable`, anything else (a constraint
    the database refused, a file that is not a database) into :class:`StoreError`."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        raise StoreUnavailable(f"the embedded store cannot answer now: {exc}") from exc
    except sqlite3.Error as exc:
        raise StoreError(f"the embedded store refused: {exc}") from exc
