"""Keeping a process's live graph current when no question comes, and its record.

A server reads the graph at start-up and follows the store in the background, so
that other processes' writes reach its promise feed without waiting for a
question; a readiness probe that finds the store back after an outage starts the
first read if it never happened.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from servicegraph.live.replica import Replica

log = logging.getLogger("servicegraph.live")


class Background:
    """The background reads of one process's live graph."""

    def __init__(self, replica: Replica, tick: Callable[[], object] | None = None) -> None:
        self.replica = replica
        #: Called after each look at the store (the recorder's: see
        #: :meth:`~servicegraph.runtime.Writer.record_due`).
        self.tick = tick
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._follower: threading.Thread | None = None
        self._loader: threading.Thread | None = None

    def load_soon(self) -> None:
        """Start reading the graph in the background if it was never read (questions
        wait for it)."""
        with self._lock:
            if self.replica.loaded or (self._loader is not None and self._loader.is_alive()):
                return

            def run() -> None:
                try:
                    self.replica.refresh(force=True)
                except Exception:
                    log.exception("reading the graph failed")

            self._loader = threading.Thread(target=run, name="servicegraph-load", daemon=True)
            self._loader.start()

    def follow(self, interval: float) -> None:
        """Keep up with the store every ``interval`` seconds (reading the graph first)."""
        with self._lock:
            if self._follower is not None:
                return

            def run() -> None:
                while not self._stop.is_set():
                    try:
                        self.replica.refresh(force=not self.replica.loaded)
                        if self.tick is not None and self.replica.loaded:
                            self.tick()
                    except Exception:
                        log.exception("keeping up with the store failed; trying again")
                    self._stop.wait(interval)

            self._follower = threading.Thread(target=run, name="servicegraph-follower",
                                              daemon=True)
            self._follower.start()

    def stop(self) -> None:
        """Stop following."""
        self._stop.set()
        if self._follower is not None:
            self._follower.join(timeout=5)
