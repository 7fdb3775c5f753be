"""Single points of failure kept per graph structure, computed in the background.

Single points of failure depend on the dependencies only (not on observed
states), and computing them for a large graph takes seconds, so a server keeps
one :class:`~servicegraph.impact.spof_table.SpofTable` per structure of the
graph and answers from it.

- A question finds the table of the current structure: answered at once.
- Otherwise it starts a computation (one at a time, in a thread, on a frozen copy
  of the index taken under the read lock) and waits for it at most ``wait``
  seconds, so small graphs are answered fresh (the first question of a process also
  waits for the kernels to be compiled or loaded, once). Past that it gets the previous
  table, marked with the (older) graph version it was computed on and
  ``current=False``, or, when there is none yet, no table and a number of seconds
  after which to ask again.
- Computations are started by questions, not by writes: a graph written to often
  and asked rarely is computed once per question, not once per write. When the
  graph changed again while a computation ran and a question saw it, the next one
  starts as soon as the first ends.

Each process keeps its own table (worker processes of one server each compute it).
A process that lives one question long (a command of the command line) also keeps
it in a file (:attr:`SpofCache.keep`, see :mod:`~servicegraph.impact.spof_file`), so
that the next command on a graph of the same structure does not compute it again.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from servicegraph.impact.index import GraphIndex
from servicegraph.impact.spof_file import SpofFile
from servicegraph.impact.spof_table import SpofTable, compile_kernels

log = logging.getLogger("servicegraph.spof")

#: Which graph a table belongs to: (generation of the live index, its structure number).
Key = tuple[int, int]


class LiveView(Protocol):
    """What the cache reads of the live graph."""

    @property
    def version(self) -> int: ...

    @property
    def index(self) -> GraphIndex: ...


Reading = Callable[[], AbstractContextManager[LiveView]]


@dataclass(frozen=True)
class SpofResult:
    """A table and the graph it was computed on."""

    table: SpofTable
    key: Key
    version: int
    computed_at: datetime
    seconds: float


@dataclass(frozen=True)
class SpofAnswer:
    """What the cache has for a question.

    ``result`` is the newest table (``None`` before the first one is ready);
    ``current`` whether it was computed on the structure the graph has now (later
    versions that changed no dependency keep it current); ``retry_after`` the
    seconds after which a current table is likely, when this one is not.
    """

    result: SpofResult | None
    current: bool
    retry_after: int


class SpofCache:
    """The single points of failure of a live graph, one table per structure.

    Parameters
    ----------
    reading : callable
        Returns a context manager holding the live graph unchanged while held
        (:meth:`ServiceGraph.reading <servicegraph.ServiceGraph.reading>`); read for
        the structure at each question and for the frozen copy computed on.
    workers : int, optional
        Threads a computation uses (all CPUs available by default).
    """

    def __init__(self, reading: Reading, *, workers: int | None = None) -> None:
        self._reading = reading
        self._workers = workers
        self._cond = threading.Condition()
        self._latest: SpofResult | None = None
        self._wanted: Key | None = None
        self._running: float | None = None  # when the running computation started
        #: Where tables are also kept between processes (none: in memory only).
        self.keep: SpofFile | None = None

    def answer(self, *, wait: float = 0.5) -> SpofAnswer:
        """The table for the graph as it is now, waiting at most ``wait`` seconds for it
        to be computed; else the newest there is (see the module's docstring).

        The first question of a process also waits for the kernels to be compiled (once
        per machine, a few seconds; loaded from the disk cache after): like importing,
        it is done once, and a budget it would eat would turn every first question into
        a 503.
        """
        compile_kernels()
        with self._reading() as live:
            key = live.index.key
            nodes = live.index.node_count
        deadline = time.monotonic() + wait
        with self._cond:
            if not self._is(key):
                self._wanted = key
                if self._running is None:
                    self._start()
                while not self._is(key) and self._running is not None:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
            current = self._is(key)
            return SpofAnswer(self._latest, current, 0 if current else self._eta(nodes))

    def _is(self, key: Key) -> bool:
        return self._latest is not None and self._latest.key == key

    def _eta(self, nodes: int) -> int:
        """Seconds until the running computation is likely done (at least one): as long
        as the previous one took, or for the first, about 1.5 s per 100,000 nodes (what
        two cores take)."""
        took = self._latest.seconds if self._latest is not None else nodes * 1.5e-5
        since = time.monotonic() - self._running if self._running is not None else 0.0
        return max(1, math.ceil(took - since))

    def _start(self) -> None:
        self._running = time.monotonic()
        threading.Thread(target=self._run, name="spof", daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                result = self._compute()
            except Exception:  # a bug: logged, and the next question tries again
                log.exception("computing single points of failure failed")
                with self._cond:
                    self._running = None
                    self._cond.notify_all()
                return
            with self._cond:
                self._latest = result
                self._cond.notify_all()
                if self._wanted is None or self._wanted <= result.key:
                    self._running = None
                    return
                # A question saw a newer graph while this one ran: go again.
                self._running = time.monotonic()

    def _compute(self) -> SpofResult:
        started = time.perf_counter()
        with self._reading() as live:
            version, key = live.version, live.index.key
            frozen = live.index.snapshot()
        kept = self.keep.load(frozen) if self.keep is not None else None
        if kept is not None:
            # The same structure as when it was kept: it holds for this version too.
            table, at = kept
            frozen.forget_edges()  # the table reads only its nodes
            log.info("single points of failure of version %d read from %s", version,
                     self.keep.path if self.keep is not None else "")
            return SpofResult(table, key, version, at, time.perf_counter() - started)
        table = SpofTable.compute(frozen, workers=self._workers)
        took = time.perf_counter() - started
        at = datetime.now(UTC)
        log.info("single points of failure of version %d: %d components in %.1f s",
                 version, table.components, took)
        if self.keep is not None:
            self.keep.save(frozen, table, at)
        # The table reads only the frozen copy's nodes from now on: its edges, a second
        # copy of the live graph's, are let go.
        frozen.forget_edges()
        return SpofResult(table, key, version, at, took)
