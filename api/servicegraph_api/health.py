"""Readiness: does the store answer now?

Every check asks the store again (``Questions.ping``), so readiness comes
back by itself when Neo4j does. A check waits at most ``timeout`` seconds: the
Neo4j driver retries a failing query for up to 30 s, longer than any probe
waits. Checks are single-flight: while one ping is under way, further checks
wait for that one instead of piling up threads against a store that hangs.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from servicegraph.runtime import Questions

#: Seconds a readiness check waits for the store.
READY_TIMEOUT = 5.0


class Readiness:
    """Pings the store, at most one ping at a time, each check bounded in time."""

    def __init__(self, timeout: float = READY_TIMEOUT) -> None:
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="readiness")
        self._lock = threading.Lock()
        self._inflight: Future[None] | None = None

    def check(self, questions: Questions) -> str | None:
        """``None`` when the store answers, else why not."""
        with self._lock:
            ping = self._inflight
            if ping is None or ping.done():
                ping = self._inflight = self._pool.submit(questions.ping)
        try:
            ping.result(timeout=self.timeout)
        except FutureTimeout:
            return f"the store did not answer within {self.timeout:g} s"
        except Exception as exc:  # any failure means "not ready"; the reason says which
            return f"{type(exc).__name__}: {exc}"
        return None

    def close(self) -> None:
        """Stop the ping thread (a ping under way is abandoned)."""
        self._pool.shutdown(wait=False, cancel_futures=True)
