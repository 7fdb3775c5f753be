"""Webhook subscriptions, the dispatcher's lease and the outbox in the embedded store.

Three tables beside the graph's. Every write here is one ``BEGIN IMMEDIATE``
transaction, so it queues on SQLite's write lock with the graph's writes and the
lease's check and its use cannot interleave with another process's.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from servicegraph.store.base import OutboxItem, OutboxLease

T = TypeVar("T")

SCHEMA = """
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    format TEXT NOT NULL,
    filter TEXT NOT NULL,
    created_at TEXT NOT NULL,
    next_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS outbox (
    subscription TEXT NOT NULL,
    seq INTEGER NOT NULL,
    event_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    payload TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (subscription, seq)
);
CREATE INDEX IF NOT EXISTS outbox_state ON outbox(state, subscription, seq);
CREATE TABLE IF NOT EXISTS outbox_lease (
    key TEXT PRIMARY KEY,
    owner TEXT,
    expires_at TEXT NOT NULL DEFAULT '',
    cursor INTEGER NOT NULL DEFAULT -1,
    states TEXT NOT NULL DEFAULT '{}'
);
INSERT OR IGNORE INTO outbox_lease (key) VALUES ('dispatcher');
"""

_COLUMNS = ("subscription", "seq", "event_id", "kind", "at", "payload", "state", "attempts",
            "next_at", "error")


def _item(row: sqlite3.Row) -> OutboxItem:
    return OutboxItem(**{c: row[c] for c in _COLUMNS})


class SqliteOutbox:
    """The outbox half of :class:`~servicegraph.store.SqliteStore` (a mixin: it uses the
    store's write connection and lock, and its error translation)."""

    _db: sqlite3.Connection
    _lock: threading.RLock
    _unavailable: Callable[[], Any]

    @contextmanager
    def _outbox_tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._unavailable():
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _outbox_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock, self._unavailable():
            return work(self._db)

    def add_subscription(self, record: dict[str, Any]) -> None:
        """Keep a new subscription."""
        with self._outbox_tx() as db:
            db.execute("INSERT INTO subscriptions (id, url, secret, format, filter, created_at) "
                       "VALUES (:id, :url, :secret, :format, :filter, :created_at)", record)

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription, oldest first."""
        return self._outbox_read(lambda db: [dict(r) for r in db.execute(
            "SELECT * FROM subscriptions ORDER BY created_at, id")])

    def subscription(self, subscription: str) -> dict[str, Any] | None:
        """One subscription."""
        row = self._outbox_read(lambda db: db.execute(
            "SELECT * FROM subscriptions WHERE id = ?", (subscription,)).fetchone())
        return None if row is None else dict(row)

    def remove_subscription(self, subscription: str) -> bool:
        """Forget a subscription and its outbox."""
        with self._outbox_tx() as db:
            db.execute("DELETE FROM outbox WHERE subscription = ?", (subscription,))
            return db.execute("DELETE FROM subscriptions WHERE id = ?",
                              (subscription,)).rowcount > 0

    def outbox_lease(self, owner: str, now: str, until: str) -> OutboxLease | None:
        """Take or renew the dispatcher's lease."""
        with self._outbox_tx() as db:
            taken = db.execute("UPDATE outbox_lease SET owner = ?, expires_at = ? "
                               "WHERE key = 'dispatcher' AND (owner IS NULL OR owner = ? "
                               "OR expires_at < ?)", (owner, until, owner, now)).rowcount
            if not taken:
                return None
            row = db.execute("SELECT cursor, states FROM outbox_lease "
                             "WHERE key = 'dispatcher'").fetchone()
            return OutboxLease(int(row["cursor"]), str(row["states"]))

    def outbox_release(self, owner: str, now: str) -> None:
        """Give the lease up now."""
        with self._outbox_tx() as db:
            db.execute("UPDATE outbox_lease SET owner = NULL, expires_at = ? "
                       "WHERE key = 'dispatcher' AND owner = ?", (now, owner))

    def outbox_append(self, owner: str, cursor: int, to: int, states: str,
                      events: list[tuple[str, OutboxItem]]) -> bool:
        """Append events and move the cursor, fenced by the lease and the cursor."""
        with self._outbox_tx() as db:
            moved = db.execute("UPDATE outbox_lease SET cursor = ?, states = ? "
                               "WHERE key = 'dispatcher' AND owner = ? AND cursor = ?",
                               (to, states, owner, cursor)).rowcount
            if not moved:
                return False
            for subscription, item in events:
                row = db.execute("UPDATE subscriptions SET next_seq = next_seq + 1 "
                                 "WHERE id = ? RETURNING next_seq", (subscription,)).fetchone()
                if row is None:
                    continue  # removed meanwhile: nobody to tell
                db.execute("INSERT INTO outbox (subscription, seq, event_id, kind, at, "
                           "payload, next_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (subscription, int(row[0]), item.event_id, item.kind, item.at,
                            item.payload, item.at))
            return True

    def outbox_heads(self, each: int = 1) -> list[OutboxItem]:
        """The first ``each`` pending events of each subscription, in order."""
        return self._outbox_read(lambda db: [_item(r) for r in db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM (SELECT o.*, row_number() OVER ("
            "PARTITION BY subscription ORDER BY seq) AS k FROM outbox o "
            "WHERE state = 'pending') WHERE k <= ? ORDER BY subscription, seq", (each,))])

    def outbox_settle(self, *items: OutboxItem) -> None:
        """Record attempts' outcomes, in one transaction."""
        with self._outbox_tx() as db:
            db.executemany("UPDATE outbox SET state = ?, attempts = ?, next_at = ?, error = ? "
                           "WHERE subscription = ? AND seq = ?",
                           [(i.state, i.attempts, i.next_at, i.error, i.subscription, i.seq)
                            for i in items])

    def outbox_dead(self, subscription: str) -> list[OutboxItem]:
        """A subscription's dead letters, in order."""
        return self._outbox_read(lambda db: [_item(r) for r in db.execute(
            "SELECT * FROM outbox WHERE subscription = ? AND state = 'dead' ORDER BY seq",
            (subscription,))])

    def outbox_redeliver(self, subscription: str, event_id: str, now: str) -> bool:
        """Queue a dead letter again."""
        with self._outbox_tx() as db:
            return db.execute("UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?, "
                              "error = NULL WHERE subscription = ? AND event_id = ? "
                              "AND state = 'dead'", (now, subscription, event_id)).rowcount > 0

    def outbox_trim(self, before: str) -> int:
        """Forget delivered events derived before ``before``."""
        with self._outbox_tx() as db:
            return int(db.execute("DELETE FROM outbox WHERE state = 'delivered' AND at < ?",
                                  (before,)).rowcount)

    def outbox_reset(self) -> None:
        """Forget every subscription, the outbox and the lease."""
        with self._outbox_tx() as db:
            db.execute("DELETE FROM outbox")
            db.execute("DELETE FROM subscriptions")
            db.execute("UPDATE outbox_lease SET owner = NULL, expires_at = '', cursor = -1, "
                       "states = '{}'")
