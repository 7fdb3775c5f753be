"""Webhook subscriptions, the dispatcher's lease and the outbox in Neo4j.

``:ServiceGraphSubscription`` nodes, one ``:ServiceGraphOutboxLease`` node and
``:ServiceGraphOutbox`` nodes (one per event and subscription), each kept unique by a
constraint; one statement per file under ``cypher/outbox/``. Writes that check then
change (the lease, the cursor) lock the lease node first, as the graph's writes lock
the meta node.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import neo4j
import neo4j.exceptions

from servicegraph.store.base import OutboxItem, OutboxLease
from servicegraph.store.cypher import statement

#: The schema statements of the outbox, made with the store's own.
SCHEMA = ("schema/subscription_id_unique", "schema/outbox_uid_unique",
          "schema/outbox_lease_key_unique", "schema/outbox_state",
          "schema/outbox_subscription")


def _item(row: dict[str, Any]) -> OutboxItem:
    return OutboxItem(row["subscription"], int(row["seq"]), row["event_id"], row["kind"],
                      row["at"], row["payload"], row["state"], int(row["attempts"]),
                      row["next_at"], row.get("error"))


class _Lost(Exception):
    """The lease or the cursor moved: roll the append back."""


class Neo4jOutbox:
    """The outbox half of :class:`~servicegraph.store.Neo4jStore` (a mixin: it uses the
    store's driver, database and error translation)."""

    driver: neo4j.Driver
    database: str
    ensure_schema: Callable[[], None]
    _translated: Callable[[], Any]

    _lease_ready = False

    def _lease_init(self) -> None:
        # Once per store: two processes starting at once may race to make it; one wins.
        if self._lease_ready:
            return
        self.ensure_schema()
        with self._translated(), contextlib.suppress(neo4j.exceptions.ConstraintError), \
                self.driver.session(database=self.database) as session:
            session.run(statement("outbox/lease_init")).consume()
        self._lease_ready = True

    @contextlib.contextmanager
    def _outbox_session(self) -> Iterator[neo4j.Session]:
        self.ensure_schema()
        with self._translated(), self.driver.session(database=self.database) as session:
            yield session

    def _outbox_rows(self, name: str, **params: Any) -> list[dict[str, Any]]:
        with self._outbox_session() as session:
            return session.execute_read(lambda tx: [
                dict(r["row"]) for r in tx.run(statement(name), params)])

    def _outbox_write(self, name: str, **params: Any) -> list[neo4j.Record]:
        with self._outbox_session() as session:
            return session.execute_write(lambda tx: list(tx.run(statement(name), params)))

    def add_subscription(self, record: dict[str, Any]) -> None:
        """Keep a new subscription."""
        self._outbox_write("outbox/subscription_add", **record)

    def subscriptions(self) -> list[dict[str, Any]]:
        """Every subscription, oldest first."""
        return self._outbox_rows("outbox/subscriptions")

    def subscription(self, subscription: str) -> dict[str, Any] | None:
        """One subscription."""
        found = self._outbox_rows("outbox/subscription_read", id=subscription)
        return found[0] if found else None

    def remove_subscription(self, subscription: str) -> bool:
        """Forget a subscription and its outbox."""
        found = self._outbox_write("outbox/subscription_remove", id=subscription)
        return bool(found and found[0]["removed"])

    def outbox_lease(self, owner: str, now: str, until: str) -> OutboxLease | None:
        """Take or renew the dispatcher's lease."""
        self._lease_init()
        found = self._outbox_write("outbox/lease_take", owner=owner, now=now, until=until)
        if not found:
            return None
        return OutboxLease(int(found[0]["cursor"]), str(found[0]["states"]))

    def outbox_release(self, owner: str, now: str) -> None:
        """Give the lease up now."""
        self._outbox_write("outbox/lease_release", owner=owner, now=now)

    def outbox_append(self, owner: str, cursor: int, to: int, states: str,
                      events: list[tuple[str, OutboxItem]]) -> bool:
        """Append events and move the cursor, fenced by the lease and the cursor."""
        by_subscription: dict[str, list[dict[str, Any]]] = {}
        for subscription, item in events:
            by_subscription.setdefault(subscription, []).append(
                {"event_id": item.event_id, "kind": item.kind, "at": item.at,
                 "payload": item.payload})

        def work(tx: neo4j.ManagedTransaction) -> None:
            moved = tx.run(statement("outbox/advance"), owner=owner, cursor=cursor, to=to,
                           states=states, now=events[0][1].at if events else "").single()
            if moved is None or not moved["advanced"]:
                raise _Lost
            for subscription, rows in by_subscription.items():
                tx.run(statement("outbox/append"), subscription=subscription,
                       events=rows).consume()

        try:
            with self._outbox_session() as session:
                session.execute_write(work)
        except _Lost:
            return False
        return True

    def outbox_heads(self, each: int = 1) -> list[OutboxItem]:
        """The first ``each`` pending events of each subscription, in order."""
        return [_item(r) for r in self._outbox_rows("outbox/heads", each=each)]

    def outbox_settle(self, *items: OutboxItem) -> None:
        """Record attempts' outcomes, in one transaction."""
        if items:
            self._outbox_write("outbox/settle", items=[
                {"uid": f"{i.subscription} {i.seq}", "state": i.state, "attempts": i.attempts,
                 "next_at": i.next_at, "error": i.error} for i in items])

    def outbox_dead(self, subscription: str) -> list[OutboxItem]:
        """A subscription's dead letters, in order."""
        return [_item(r) for r in self._outbox_rows("outbox/dead", subscription=subscription)]

    def outbox_redeliver(self, subscription: str, event_id: str, now: str) -> bool:
        """Queue a dead letter again."""
        found = self._outbox_write("outbox/redeliver", subscription=subscription,
                            event_id=event_id, now=now)
        return bool(found and found[0]["queued"])

    def outbox_trim(self, before: str) -> int:
        """Forget delivered events derived before ``before`` (a bounded batch per call)."""
        found = self._outbox_write("outbox/trim", before=before)
        return int(found[0]["trimmed"]) if found else 0

    def outbox_reset(self) -> None:
        """Forget every subscription, the outbox and the lease."""
        self._lease_init()
        self._outbox_write("outbox/reset")
