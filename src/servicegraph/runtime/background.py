"""Keeping a process's live graph current when no question comes, and its record.

A server reads the graph at start-up and follows the store in the background, so
that other processes' writes reach its promise feed without waiting for a
question; a readiness probe that finds the store back after an outage starts the
first read if it never happened. One server process of those sharing a snapshot
directory saves snapshots of the live graph, so that the next process to start
reads one file and the journal after it instead of the whole graph.
"""

from __future__ import annotations

import logging
import threading
import time
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
        self._saver: threading.Thread | None = None

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

    def save_snapshots(self, interval: float) -> None:
        """Save a snapshot of the live graph every ``interval`` seconds when it changed
        since the last, if this process is the one of its snapshot directory that
        saves them (it holds the directory's lock; another takes over when it ends).
        The first is saved as soon as the graph was read when the directory holds
        none, else once the newest is ``interval`` old."""
        snapshots = self.replica.snapshots
        if snapshots is None:
            return
        with self._lock:
            if self._saver is not None:
                return

            def due() -> bool:
                if not self.replica.loaded or not snapshots.elected():
                    return False
                last = snapshots.last_written or snapshots.newest()
                if last is None:
                    return True
                version, at = last
                return self.replica.version != version and time.time() - at >= interval

            def run() -> None:
                failed = -interval
                while not self._stop.wait(min(interval, 1.0)):
                    if time.monotonic() - failed < interval:
                        continue
                    try:
                        if due():
                            self.replica.save_snapshot()
                    except Exception:
                        failed = time.monotonic()
                        log.exception("saving a snapshot failed; trying again in %.0f s",
                                      interval)

            self._saver = threading.Thread(target=run, name="servicegraph-snapshots",
                                           daemon=True)
            self._saver.start()

    def stop(self) -> None:
        """Stop following (and saving snapshots)."""
        self._stop.set()
        for thread in (self._follower, self._saver):
            if thread is not None:
                thread.join(timeout=5)
