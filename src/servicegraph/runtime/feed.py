"""The promise feed: each change of a promise's state, told to every subscriber.

After changes reach the process's live graph (its own writes, or other processes'
replayed from the journal), the feed's own thread re-derives the promise states of
the current (observed) impact and publishes what changed. It runs apart from the
writes: a write never waits for the feed, and the feed never holds the store's
write lock. Changes that arrive together are told as their net effect, at the
time of the last.

Subscribers are asyncio consumers (the Server-Sent Events stream). Each owns a
queue on its own event loop, and publishing hands events over thread-safely; a
subscriber too slow to keep up loses events rather than stalling anyone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from servicegraph.impact.analysis import ImpactResult
from servicegraph.live.replica import Replica
from servicegraph.model.kinds import NodeKind, State
from servicegraph.store.base import JournalEntry

if TYPE_CHECKING:
    from servicegraph.runtime.questions import Questions

log = logging.getLogger("servicegraph.feed")

_STATES = tuple(State)


@dataclass(frozen=True)
class PromiseChange:
    """A promise moved from one state to another."""

    promise: str
    previous: State
    state: State
    at: str
    explanation: Mapping[str, Any] | None
    #: Whether the new state is planned work's alone (see :mod:`servicegraph.impact.
    #: planned`), and whether it counts as acknowledged, as ``/v1/current`` says then.
    planned: bool = False
    acknowledged: bool = False

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the SSE ``data``)."""
        return {"promise": self.promise, "previous": self.previous.word,
                "state": self.state.word, "at": self.at, "explanation": self.explanation,
                "planned": self.planned, "acknowledged": self.acknowledged}


def promise_states(result: ImpactResult) -> dict[str, State]:
    """The state of every promise in the graph (ok ones included)."""
    idx = result.index
    promises = idx.of_kind(NodeKind.PROMISE)
    states = result.propagation.states_of(promises)
    return {idx.ids[v]: _STATES[s] for v, s in zip(promises.tolist(), states.tolist(),
                                                   strict=True)}


def diff(before: Mapping[str, State], after: Mapping[str, State], result: ImpactResult,
         at: str) -> list[PromiseChange]:
    """The promise changes from ``before`` to ``after`` (the promise states of
    ``result``), each with its explanation in ``result``.

    Promises that appear start from ok; promises that disappear are not reported.
    """
    out = []
    for promise, state in sorted(after.items()):
        previous = before.get(promise, State.OK)
        if state != previous:
            expl = result.explain(promise)
            out.append(PromiseChange(promise, previous, state, at,
                                     expl.to_dict() if expl else None))
    return out


class Subscription:
    """One listener's queue, bound to the event loop it listens on."""

    def __init__(self, hub: Subscribers, loop: asyncio.AbstractEventLoop,
                 maxsize: int) -> None:
        self.hub = hub
        self.loop = loop
        self.queue: asyncio.Queue[PromiseChange] = asyncio.Queue(maxsize)

    def offer(self, event: PromiseChange) -> None:
        """Queue an event from any thread; a listener too slow to keep up loses it
        rather than stalling the pushes."""
        def put() -> None:
            if not self.queue.full():
                self.queue.put_nowait(event)
        self.loop.call_soon_threadsafe(put)

    def close(self) -> None:
        """Stop receiving."""
        self.hub.unsubscribe(self)


class Subscribers:
    """Fan-out of promise changes to any number of subscribers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        """Listen on the running event loop."""
        sub = Subscription(self, asyncio.get_running_loop(), maxsize)
        with self._lock:
            self._subs.add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop a subscription (idempotent)."""
        with self._lock:
            self._subs.discard(sub)

    @property
    def listening(self) -> bool:
        """Whether anyone listens (so publishers may skip the work)."""
        return bool(self._subs)

    def publish(self, events: list[PromiseChange]) -> None:
        """Hand events to every subscriber."""
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            for event in events:
                sub.offer(event)


class PromiseFeed:
    """Promise changes, derived after changes are applied, on a thread of its own.

    Parameters
    ----------
    replica : Replica
        The live graph; the feed is told of every change applied to it.
    questions : Questions
        Where the current impact comes from (computed once per version).
    """

    def __init__(self, replica: Replica, questions: Questions) -> None:
        self.replica = replica
        self.questions = questions
        self.subscribers = Subscribers()
        self._states: dict[str, State] | None = None
        self._lock = threading.Lock()
        # One derivation at a time: two at once could swap their states out of order.
        self._telling = threading.Lock()
        self._due = threading.Event()
        self._stop = threading.Event()
        self._last_at: str | None = None
        self._thread: threading.Thread | None = None
        replica.listen(self._applied)

    def subscribe(self, maxsize: int = 1000) -> Subscription:
        """Listen on the running event loop."""
        return self.subscribers.subscribe(maxsize)

    def start(self) -> dict[str, State]:
        """Record the promise states now, so later changes report from here, and start
        the feed's thread; answers those states (the subscribers' snapshot)."""
        states = self.questions.promise_states()
        with self._lock:
            if self._states is None:
                self._states = dict(states)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="servicegraph-feed",
                                                daemon=True)
                self._thread.start()
        return states

    def _applied(self, entries: list[JournalEntry]) -> None:
        # Called by the replica with the entries just applied: only note them, so the
        # caller (a write, a catch-up) goes on at once.
        self._last_at = entries[-1].info.at
        self._due.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._due.wait()
            if self._stop.is_set():
                return
            self._due.clear()
            try:
                self.tell()
            except Exception:  # the feed must outlive a failure of one derivation
                log.exception("deriving promise changes failed")

    def tell(self) -> list[PromiseChange]:
        """Derive the promise changes since the last time, publish and answer them."""
        with self._telling:
            return self._tell()

    def _tell(self) -> list[PromiseChange]:
        if not self.subscribers.listening or self._states is None:
            return []
        with self.replica.reading() as live:
            result = self.questions.current_on(live)
            after = promise_states(result)
            with self._lock:
                before, self._states = self._states or {}, after
            changes = diff(before, after, result, self._last_at or "")
            if changes and (live.windows or live.acks):
                changes = self.questions.marked(live, result, changes)
        if changes:
            self.subscribers.publish(changes)
        return changes

    def close(self) -> None:
        """Stop the feed's thread."""
        self._stop.set()
        self._due.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
