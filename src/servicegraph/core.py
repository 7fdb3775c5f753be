"""The library's front door: one store, the live graph in memory, and the rooms over it.

A :class:`ServiceGraph` holds the graph of one store in memory (a
:class:`~servicegraph.live.Replica`, kept in step with the store through its change
journal) and wires together what works on it:

- ``sg.writes`` (:class:`~servicegraph.runtime.Writer`): loads, pushes, statuses,
  sync sessions, removals and purges, each planned and written in one store
  transaction, then applied to memory;
- ``sg.questions`` (:class:`~servicegraph.runtime.Questions`): every question,
  answered from memory (what-if and current impact, explanations, single points of
  failure, root cause, change assessment, catalogues, neighbourhoods, exports);
- ``sg.feed`` (:class:`~servicegraph.runtime.PromiseFeed`): promise state changes,
  told to subscribers as writes of any process arrive.

>>> from servicegraph.examples import example_graph
>>> from servicegraph.store import SqliteStore
>>> sg = ServiceGraph(SqliteStore(":memory:"))
>>> sg.writes.load(example_graph()).total_nodes > 0
True
>>> sg.questions.impact(["feed-job"])["broken_promises"]
['onboarding']
>>> sg.close()
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from servicegraph.live.replica import Replica
from servicegraph.live.snapshots import SnapshotDirectory
from servicegraph.runtime.background import Background
from servicegraph.runtime.feed import PromiseFeed
from servicegraph.runtime.questions import ASKED_AT, Freshness, Questions
from servicegraph.runtime.writes import LoadSummary, Writer
from servicegraph.settings import Settings
from servicegraph.store import open_store
from servicegraph.store.base import GraphStore


class ServiceGraph:
    """A service graph in a store, held in memory, with its writes and questions.

    Parameters
    ----------
    store : GraphStore
        Where the graph lives (closed by :meth:`close`).
    precedence : sequence of str
        Source names, best first, for reconciling sources that describe the same
        component (see :mod:`servicegraph.ingest.reconcile`).
    retention : timedelta
        How long retired items are kept before a push purges them.
    write_timeout : float
        Seconds a write waits for this process's other writes before giving up.
    write_retries : int
        How many times a write reads the whole graph again when the journal no longer
        reaches back to the version held in memory.
    check_interval, retry_interval : float
        How often reads ask the store whether it moved on, and how soon after a
        failure they ask again (see :class:`~servicegraph.live.Replica`).
    snapshots : SnapshotDirectory, optional
        Saved snapshots of the live graph to start from (see
        :mod:`servicegraph.live.snapshots`).
    record_days, max_skew : float
        How far back the promise record reaches, and how far ahead of the clock a
        time-travel moment may lie (seconds).
    """

    def __init__(self, store: GraphStore, *, precedence: Sequence[str] = (),
                 retention: timedelta = timedelta(days=30), write_timeout: float = 30.0,
                 write_retries: int = 12, check_interval: float = 0.0,
                 retry_interval: float = 1.0,
                 snapshots: SnapshotDirectory | None = None, record_days: float = 400.0,
                 max_skew: float = 300.0) -> None:
        self.store = store
        self.replica = Replica(store, check_interval=check_interval,
                               retry_interval=retry_interval, snapshots=snapshots)
        self.questions = Questions(store, self.replica, record_days=record_days,
                                   max_skew=max_skew)
        self.writes = Writer(store, self.replica, self.questions, precedence=precedence,
                             retention=retention, write_timeout=write_timeout,
                             reload_attempts=write_retries)
        self.feed = PromiseFeed(self.replica, self.questions)
        self.writes.after_write = self.feed.tell
        self.background = Background(self.replica, tick=self.writes.record_due)

    @classmethod
    def open(cls, settings: Settings, store: str | None = None) -> ServiceGraph:
        """The service graph over the store ``settings`` name (or ``store``), with the
        settings' precedence, retention, timings and snapshot directory."""
        opened = open_store(store, settings)
        snapshots = (None if settings.snapshot_dir is None
                     else SnapshotDirectory(settings.snapshot_dir, opened))
        return cls(opened, precedence=settings.source_precedence,
                   retention=timedelta(days=settings.retention_days),
                   write_timeout=settings.write_timeout,
                   write_retries=settings.write_retries,
                   check_interval=settings.check_interval,
                   retry_interval=settings.retry_interval, snapshots=snapshots,
                   record_days=settings.record_days,
                   max_skew=settings.status_max_skew_seconds)

    @property
    def version(self) -> int:
        """The version the answers reflect."""
        return self.replica.version

    @property
    def loaded(self) -> bool:
        """Whether the graph was read from the store at least once."""
        return self.replica.loaded

    def refresh(self, *, force: bool = False) -> Freshness:
        """Catch up with the store (reading the graph the first time) and say how
        current the answers are."""
        self.replica.refresh(force=force)
        return self.questions.freshness()

    def close(self) -> None:
        """Stop the background work and close the store."""
        self.feed.close()
        self.background.stop()
        if self.replica.snapshots is not None:
            self.replica.snapshots.close()
        self.store.close()


__all__ = ["ASKED_AT", "Freshness", "LoadSummary", "ServiceGraph"]
