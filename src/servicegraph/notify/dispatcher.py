"""The dispatcher: one process at a time derives promise events into the outbox and
delivers them.

Every API process runs a dispatcher thread; only the holder of the lease kept in the
store (an owner and an expiry, taken and renewed in a transaction) works. The holder:

1. catches its live graph up with the store and, when it is past the cursor (the
   version events were last derived at), compares the promises' marks there (state,
   planned, acknowledged, the failed components behind) with those recorded with
   the cursor, and appends the events of each changed promise (see
   :mod:`servicegraph.notify.events`) to the outbox of each subscription whose
   filter admits them, moving the cursor and its marks in the same transaction.
   That transaction is fenced: it writes only while the caller holds the lease and
   the cursor is where it derived from, so no change is told twice, and a change no
   holder told is told by the next;
2. delivers, for each subscription, its pending events in order (never a later one
   before an earlier: a failed event holds the rest back), signed, and settles a
   round's outcomes in one transaction; a failure is retried with exponential
   back-off and jitter, and after the last attempt the event is a dead letter, which
   the API shows and can queue again.

An event is marked delivered after the receiver answered 2xx: a holder that dies in
between delivers it again (at least once; receivers deduplicate by event id).
"""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from servicegraph.impact.acknowledged import acknowledged_marks, nothing_acknowledged
from servicegraph.impact.analysis import ImpactResult
from servicegraph.impact.planned import planned_marks
from servicegraph.live.replica import Replica
from servicegraph.live.state import LiveGraph
from servicegraph.model.kinds import State
from servicegraph.model.times import iso
from servicegraph.notify.events import (
    OK_MARK,
    Behind,
    envelope,
    event_data,
    event_id,
    kinds_between,
    marks_of,
    matches,
    states_from,
    states_text,
)
from servicegraph.notify.networks import refusal
from servicegraph.notify.signing import HEADER, sign
from servicegraph.runtime.feed import promise_states
from servicegraph.runtime.questions import Questions, observed_failures
from servicegraph.store.base import OutboxItem, OutboxLease, OutboxStore, StoreError

log = logging.getLogger("servicegraph.notify")

#: Events of one subscription sent in a round, in order, before their outcomes are
#: settled in one store transaction: a storm's hundreds of events take a few round
#: trips to the store, not three each.
BATCH = 50


@dataclass(frozen=True)
class DeliveryPolicy:
    """How deliveries are made and retried."""

    allowed_networks: tuple[str, ...] = ()
    timeout: float = 5.0
    max_attempts: int = 8
    backoff: float = 1.0
    backoff_max: float = 300.0
    lease_seconds: float = 10.0
    interval: float = 0.5
    keep_days: float = 7.0

    def delay(self, attempts: int) -> float:
        """Seconds before the next attempt after ``attempts`` failed ones: doubling from
        ``backoff`` up to ``backoff_max``, each drawn in its upper half (jitter, so
        that receivers coming back are not hit by every retry at once).

        >>> 0.5 <= DeliveryPolicy(backoff=1).delay(1) <= 1
        True
        >>> DeliveryPolicy(backoff=1, backoff_max=4).delay(10) <= 4
        True
        """
        ceiling = min(self.backoff_max, self.backoff * 2 ** max(0, attempts - 1))
        return random.uniform(ceiling / 2, ceiling)


def _now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    """The dispatcher of one process (see the module's description).

    Parameters
    ----------
    store : OutboxStore
        Where subscriptions, the lease and the outbox are kept.
    replica : Replica
        The process's live graph, which events are derived from.
    questions : Questions
        For the current impact at the version held.
    policy : DeliveryPolicy
        Timeouts, retries and the networks receivers may be in.
    """

    def __init__(self, store: OutboxStore, replica: Replica, questions: Questions,
                 policy: DeliveryPolicy) -> None:
        self.store = store
        self.replica = replica
        self.questions = questions
        self.policy = policy
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._stop = threading.Event()
        self._due = threading.Event()
        self._thread: threading.Thread | None = None
        self._trim_due = _now()
        #: The version, structure and observed failures of this process's last
        #: derivation (see :meth:`_failed_behind`).
        self._derived: tuple[int, object, dict[str, State]] | None = None
        self._renewed = 0.0
        self._client = httpx.Client(timeout=policy.timeout, follow_redirects=False,
                                    trust_env=False)
        replica.listen(lambda _: self._due.set())

    def start(self) -> None:
        """Start the dispatcher's thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="servicegraph-outbox",
                                            daemon=True)
            self._thread.start()

    def close(self) -> None:
        """Stop, and give the lease up so another process takes over at once."""
        self._stop.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout=self.policy.timeout + 5)
        try:
            self.store.outbox_release(self.owner, iso(_now()))
        except Exception:  # the store may be down: the lease then expires by itself
            log.warning("could not give the outbox lease up", exc_info=True)
        self._client.close()

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            try:
                self.tick()
                failing = False
            except StoreError as exc:
                # The store is away: said once, not every round, until it answers again.
                if not failing:
                    log.warning("the outbox waits for the store: %s", exc)
                failing = True
            except Exception:  # the dispatcher must outlive a failure of one round
                log.exception("the outbox round failed; trying again")
            self._due.wait(self.policy.interval)
            self._due.clear()

    def _lease(self) -> OutboxLease | None:
        now = _now()
        lease = self.store.outbox_lease(self.owner, iso(now), iso(
            now + timedelta(seconds=self.policy.lease_seconds)))
        if lease is not None:
            self._renewed = time.monotonic()
        return lease

    def tick(self) -> bool:
        """One round: take the lease, derive, deliver what is due; whether this process
        held the lease."""
        lease = self._lease()
        if lease is None:
            return False
        self.derive(lease)
        self.deliver()
        now = _now()
        if now >= self._trim_due:
            self.store.outbox_trim(iso(now - timedelta(days=self.policy.keep_days)))
            self._trim_due = now + timedelta(minutes=10)
        return True

    def derive(self, lease: OutboxLease) -> int:
        """Append the events of the changes since the lease's cursor; answers how many."""
        self.replica.refresh()
        if not self.replica.loaded or self.replica.version <= lease.cursor:
            # Never read (the store is away), or nothing new here (or this process is
            # behind the last holder): states derived now would be wrong or repeated.
            return 0
        subscriptions = self.store.subscriptions()
        with self.replica.reading() as live:
            version = live.version
            if version <= lease.cursor:
                return 0  # nothing new here (or this process is behind the last holder)
            result = self.questions.current_on(live)
            index_key = live.index.key
            at = iso(_now())
            observed = observed_failures(live)
            planned = planned_marks(live.index, observed, result, live.windows.values(), at)
            acknowledged = (acknowledged_marks(live.index, observed, result, live.acks)
                            if live.acks else nothing_acknowledged())
            behind = Behind(result)
            states = promise_states(result)
            failed = self._failed_behind(live, lease, result, observed, behind)
            after = marks_of(states, planned, acknowledged, failed)
            told: list[tuple[str, State, str, dict[str, Any]]] = []
            if lease.cursor >= 0:  # the first derivation only records where it starts
                before = states_from(lease.states)
                for promise in sorted(states):  # a promise removed is not told of
                    previous, now = before.get(promise, OK_MARK), after.get(promise, OK_MARK)
                    for kind, new in kinds_between(previous, now):
                        told.append((promise, now.state, kind, event_data(
                            live, result, promise, previous.state, now.state, version, at,
                            planned, kind=kind, acknowledged=acknowledged, new_causes=new,
                            behind=behind)))
        # Encoded and filtered once the live graph is free again: writers wait for
        # nothing of this.
        filters = [(s["id"], json.loads(s["filter"])) for s in subscriptions]
        events: list[tuple[str, OutboxItem]] = []
        for promise, state, kind, data in told:
            item = OutboxItem("", 0, event_id(version, promise, state, kind), kind, at,
                              json.dumps(data, sort_keys=True))
            events += [(sub, item) for sub, flt in filters if matches(flt, data)]
        if not self.store.outbox_append(self.owner, lease.cursor, version,
                                        states_text(after), events):
            self._derived = None
            return 0
        self._derived = (version, index_key, observed)
        return len(events)

    def _failed_behind(self, live: LiveGraph, lease: OutboxLease, result: ImpactResult,
                       observed: dict[str, State], behind: Behind
                       ) -> Callable[[str], tuple[str, ...]]:
        """The failed components behind each promise, found again only where they may
        have changed since the marks at the cursor.

        Finding them costs an explanation of every node behind a promise, which in a
        large incident is seconds; while one stands, most writes (an acknowledgement, a
        window, a failure elsewhere) change what is behind few promises or none. When
        this process derived the cursor's marks itself, on the same structure, a
        promise still in the same state keeps its recorded components (less those
        recovered) unless a failure that is new or worse since then reaches it.
        """
        before = states_from(lease.states)
        seen = self._derived
        if seen is None or seen[0] != lease.cursor or seen[1] != live.index.key:
            return behind.failed
        previous = seen[2]
        fresh = [n for n, s in observed.items() if s > previous.get(n, State.OK)]
        reached: set[str] = set(fresh)
        todo = list(fresh)
        impacted = result.impacted
        walk = live.neighbours()
        while todo:  # upwards, through impacted nodes only
            for up in walk.needed_by(todo.pop()):
                if up not in reached and up in impacted:
                    reached.add(up)
                    todo.append(up)

        def failed(promise: str) -> tuple[str, ...]:
            held = before.get(promise)
            if (held is None or held.failed is None or promise in reached
                    or held.state != impacted.get(promise, State.OK)):
                return behind.failed(promise)
            return tuple(c for c in held.failed if c in observed)

        return failed

    def deliver(self) -> int:
        """Send each subscription's pending events that are due, in order, and settle
        their outcomes together; answers how many were delivered. Stops early when the
        lease is lost."""
        delivered = 0
        for _ in range(100):  # bounded: the lease is renewed between rounds
            pending = self.store.outbox_heads(BATCH)
            if not pending or self._stop.is_set():
                break
            subscriptions = {s["id"]: s for s in self.store.subscriptions()}
            queues: dict[str, list[OutboxItem]] = {}
            for item in pending:
                queues.setdefault(item.subscription, []).append(item)
            progress = 0
            for sub, queue in queues.items():
                subscription = subscriptions.get(sub)
                if subscription is None:
                    continue
                sent, held = self._send_queue(subscription, queue)
                progress += sent
                if not held:
                    return delivered + progress
            delivered += progress
            if not progress:
                break
        return delivered

    def _send_queue(self, subscription: dict[str, Any], queue: list[OutboxItem]
                    ) -> tuple[int, bool]:
        """Send one subscription's events in order until one is not due or fails, then
        settle the outcomes in one store transaction (an event sent but not yet settled
        when the process dies is sent again: at least once). Answers how many were
        delivered, and whether the lease is still held."""
        settled: list[OutboxItem] = []
        held = True
        try:
            for item in queue:
                if item.next_at > iso(_now()):
                    break  # a retry not yet due holds the later events back
                # Slow receivers must not let the lease lapse midway: renewed well
                # before it would (another process would take over and send again).
                due = time.monotonic() - self._renewed > self.policy.lease_seconds / 3
                if due and self._lease() is None:
                    held = False
                    break
                outcome = self._send(subscription, item)
                settled.append(outcome)
                if outcome.state != "delivered":
                    break
        finally:
            self.store.outbox_settle(*settled)
        return sum(o.state == "delivered" for o in settled), held

    def _send(self, subscription: dict[str, Any], item: OutboxItem) -> OutboxItem:
        """One attempt at delivering ``item``: the item as it is to be settled."""
        body, media = envelope(subscription["format"], item.subscription, item.seq,
                               item.event_id, item.kind, item.at, json.loads(item.payload))
        error = refusal(subscription["url"], self.policy.allowed_networks)
        if error is None:
            headers = {"Content-Type": media, HEADER: sign(subscription["secret"], body),
                       "X-ServiceGraph-Event": item.event_id,
                       "User-Agent": "servicegraph-webhook"}
            try:
                # Streamed and never read: a receiver's answer body could be any size.
                with self._client.stream("POST", subscription["url"], content=body,
                                         headers=headers) as answer:
                    status = answer.status_code
                if 200 <= status < 300:
                    return replace(item, state="delivered", attempts=item.attempts + 1,
                                   error=None)
                error = f"the receiver answered {status}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"
        attempts = item.attempts + 1
        dead = attempts >= self.policy.max_attempts
        later = _now() + timedelta(seconds=self.policy.delay(attempts))
        if dead:
            log.warning("event %s of subscription %s is a dead letter after %d attempts: %s",
                        item.event_id, item.subscription, attempts, error)
        return replace(item, state="dead" if dead else "pending", attempts=attempts,
                       next_at=iso(later), error=error)
