"""The embedded store: one SQLite file, every change in one transaction."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from servicegraph.model.graph import GraphData
from servicegraph.store.base import Change
from servicegraph.store.rows import NODE_COLUMNS, edge_from_row, edge_row, node_from_row, node_row

_SCHEMA = """
CREATE TABLE IF NOT EXISTS nodes (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    owner TEXT, provider TEXT, visible INTEGER, silo TEXT, description TEXT,
    source TEXT, external_id TEXT,
    properties TEXT NOT NULL DEFAULT '{}',
    redundancy TEXT NOT NULL DEFAULT '{}',
    claims TEXT NOT NULL DEFAULT '[]',
    retired_at TEXT,
    observed_state TEXT, observed_at TEXT, observed_source TEXT
);
CREATE TABLE IF NOT EXISTS edges (
    source TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    target TEXT NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    "group" TEXT,
    impact TEXT NOT NULL DEFAULT 'hard',
    claims TEXT NOT NULL DEFAULT '[]',
    retired_at TEXT,
    PRIMARY KEY (source, target)
);
CREATE INDEX IF NOT EXISTS edges_target ON edges(target);
"""

_UPSERT_NODE = (
    f"INSERT INTO nodes ({', '.join(NODE_COLUMNS)}) "
    f"VALUES ({', '.join(':' + c for c in NODE_COLUMNS)}) "
    f"ON CONFLICT(id) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in NODE_COLUMNS if c != "id")
)
_UPSERT_EDGE = (
    'INSERT INTO edges (source, target, "group", impact, claims, retired_at) '
    "VALUES (:source, :target, :group, :impact, :claims, :retired_at) "
    'ON CONFLICT(source, target) DO UPDATE SET "group" = excluded."group", '
    "impact = excluded.impact, claims = excluded.claims, retired_at = excluded.retired_at"
)


class SqliteStore:
    """A real embedded database in one file (``:memory:`` for a throwaway one).

    Writes run in one transaction (``BEGIN IMMEDIATE``), so a failure anywhere
    leaves the file as it was. A lock serialises use of the one connection
    across threads (the HTTP server runs handlers in a pool).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self.description = f"sqlite:{self.path}"
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so one change is one
        # transaction exactly.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA journal_mode = WAL" if self.path != ":memory:" else
                             "PRAGMA journal_mode = MEMORY")
            self._db.executescript(_SCHEMA)
            self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        # Files made by an earlier version lack the provenance columns: add them,
        # all nullable or defaulted, so old data reads as unmanaged and live.
        wanted = {"nodes": {"claims": "TEXT NOT NULL DEFAULT '[]'", "retired_at": "TEXT",
                            "observed_state": "TEXT", "observed_at": "TEXT",
                            "observed_source": "TEXT"},
                  "edges": {"claims": "TEXT NOT NULL DEFAULT '[]'", "retired_at": "TEXT"}}
        for table, columns in wanted.items():
            have = {r["name"] for r in self._db.execute(f"PRAGMA table_info({table})")}
            for name, decl in columns.items():
                if name not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")

    def read(self) -> GraphData:
        """The whole graph."""
        with self._lock:
            nodes = [node_from_row(dict(r)) for r in
                     self._db.execute("SELECT * FROM nodes ORDER BY id")]
            edges = [edge_from_row(dict(r)) for r in self._db.execute(
                "SELECT * FROM edges ORDER BY source, target")]
        return GraphData(tuple(nodes), tuple(edges))

    def apply(self, change: Change) -> None:
        """Write one change in one transaction."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if change.replace:
                    db.execute("DELETE FROM edges")
                    db.execute("DELETE FROM nodes")
                db.executemany("DELETE FROM edges WHERE source = ? AND target = ?",
                               change.delete_edges)
                db.executemany("DELETE FROM nodes WHERE id = ?",
                               [(n,) for n in change.delete_nodes])
                db.executemany(_UPSERT_NODE, [node_row(n) for n in change.upsert_nodes])
                db.executemany(_UPSERT_EDGE, [edge_row(e) for e in change.upsert_edges])
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def ping(self) -> None:
        """Raise unless the database file answers."""
        with self._lock:
            self._db.execute("SELECT 1").fetchone()

    def version(self) -> int:
        """Changes whenever another connection commits (SQLite's ``data_version``);
        this store's own writes are known to its caller already."""
        with self._lock:
            return int(self._db.execute("PRAGMA data_version").fetchone()[0])

    def clear(self) -> None:
        """Remove everything."""
        self.apply(Change(replace=True))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()
