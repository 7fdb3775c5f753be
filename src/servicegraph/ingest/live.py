"""Following promise states: each change is published to every subscriber.

Subscribers are asyncio consumers (the Server-Sent Events stream); publishers
are the worker threads that handle pushes. Each subscriber owns a queue on
its own event loop, and publishing hands events over thread-safely.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servicegraph.impact.analysis import ImpactResult
from servicegraph.model.kinds import NodeKind, State

_STATES = tuple(State)


@dataclass(frozen=True)
class PromiseChange:
    """A promise moved from one state to another."""

    promise: str
    previous: State
    state: State
    at: str
    explanation: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the SSE ``data``)."""
        return {"promise": self.promise, "previous": self.previous.word,
                "state": self.state.word, "at": self.at, "explanation": self.explanation}


def promise_states(result: ImpactResult) -> dict[str, State]:
    """The state of every promise in the graph (ok ones included)."""
    idx = result.index
    promises = idx.of_kind(NodeKind.PROMISE)
    states = result.propagation.states_of(promises)
    return {idx.ids[v]: _STATES[s] for v, s in zip(promises.tolist(), states.tolist(),
                                                   strict=True)}


def diff(before: Mapping[str, State], result: ImpactResult, at: str) -> list[PromiseChange]:
    """The promise changes between ``before`` and ``result``.

    Promises that appear start from ok; promises that disappear are not reported.
    """
    out = []
    for promise, state in sorted(promise_states(result).items()):
        previous = before.get(promise, State.OK)
        if state != previous:
            expl = result.explain(promise)
            out.append(PromiseChange(promise, previous, state, at,
                                     expl.to_dict() if expl else None))
    return out


class Subscription:
    """One listener's queue, bound to the event loop it listens on."""

    def __init__(self, hub: Broadcaster, loop: asyncio.AbstractEventLoop,
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


class Broadcaster:
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
