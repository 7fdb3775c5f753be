"""Prometheus metrics, one registry per app (two apps in one process never clash).

The request middleware counts requests and times them by route template; the
ingest router counts pushed items; the broken-promise gauge is read from the graph
at scrape time::

    from servicegraph_api.deps import MetricsDep

    def push(..., metrics: MetricsDep) -> ...:
        metrics.pushed_items.labels(source="cmdb", kind="node").inc(120)

Under several worker processes (``servicegraph serve --workers N``) each worker
writes its counts to files in a directory the server makes for the run
(:func:`worker_directory`), and a scrape, whichever worker takes it, adds them up
(``prometheus_client``'s multiprocess mode). Without that, each scrape would show one
worker's share, and Prometheus would read the jumps between shares as resets.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

#: Latency buckets in seconds: impact answers are milliseconds, big syncs minutes.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)

#: The environment variable ``prometheus_client`` reads, when it is imported, to keep
#: its values in files shared by the worker processes.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

#: The source label value of the sources beyond the cap. No source can be named so
#: (source names are letters, digits and ``._:-``), so it never merges with a real one.
OTHER_SOURCE = "<other>"

#: The file, in the shared directory, of the sources that have a series of their own.
SOURCES_FILE = "sources.txt"


class SourceLabels:
    """The source label value to count a push under: the source's name for the first
    ``limit`` distinct sources, :data:`OTHER_SOURCE` for every later one.

    Each source name becomes series that live as long as the server, so without a cap
    anyone allowed to push could grow every scrape without end.

    Parameters
    ----------
    limit : int
        Distinct sources that get series of their own.
    shared : Path, optional
        The directory the worker processes share: the named sources are kept in a file
        there, under a lock, so the cap holds across all of them, not per worker.

    >>> labels = SourceLabels(2)
    >>> [labels(s) for s in ("cmdb", "mon", "cmdb", "jaeger")]
    ['cmdb', 'mon', 'cmdb', '<other>']
    """

    def __init__(self, limit: int, shared: Path | None = None) -> None:
        self.limit = limit
        self._file = None if shared is None else shared / SOURCES_FILE
        self._named: set[str] = set()
        self._full = False
        self._lock = threading.Lock()

    def __call__(self, source: str) -> str:
        with self._lock:
            if source not in self._named and not self._full:
                self._admit(source)
            return source if source in self._named else OTHER_SOURCE

    def _admit(self, source: str) -> None:
        if self._file is None:
            named = self._named
            if len(named) < self.limit:
                named.add(source)
        else:
            # Another worker may have named it, or filled the list: read it under the
            # lock. Once full it never changes, so each worker reads it a bounded
            # number of times.
            with self._file.open("a+", encoding="utf-8") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                f.seek(0)
                named = set(f.read().split())
                if source not in named and len(named) < self.limit:
                    f.write(source + "\n")
                    named.add(source)
        self._named = named
        self._full = len(named) >= self.limit


class PerSource:
    """A counter with a ``source`` label whose values are capped (:class:`SourceLabels`)."""

    def __init__(self, counter: Counter, sources: SourceLabels) -> None:
        self.counter = counter
        self.sources = sources

    def labels(self, *, source: str, **labels: str) -> Counter:
        """The child of ``source`` (or of :data:`OTHER_SOURCE`) and ``labels``."""
        return self.counter.labels(source=self.sources(source), **labels)


class ScrapeTimeGauge(Collector):
    """A gauge whose value a function gives at each scrape.

    Read from the graph, which every worker holds alike, the value is right whichever
    worker takes the scrape: nothing is kept between scrapes, so no worker's stale
    value, live or dead, is ever shown.
    """

    def __init__(self, name: str, documentation: str) -> None:
        self.name = name
        self.documentation = documentation
        self._read: Callable[[], float] | None = None

    def set_function(self, read: Callable[[], float]) -> None:
        """Read the value with ``read`` from now on."""
        self._read = read

    def collect(self) -> Iterable[Metric]:
        """The gauge, once there is a function to read it (prometheus_client's API)."""
        if self._read is not None:
            yield GaugeMetricFamily(self.name, self.documentation, value=self._read())


class Metrics:
    """The metrics of one app.

    Parameters
    ----------
    max_sources : int
        Distinct sources counted under their own names (:class:`SourceLabels`).
    shared : Path, optional
        The directory of a multi-worker server (:func:`shared_directory`): counts are
        added up across its workers at each scrape. Without it, this app's registry
        is the whole story.
    """

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, max_sources: int = 100, *, shared: Path | None = None) -> None:
        self.shared = shared
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "servicegraph_http_requests", "HTTP requests answered, by route template, "
            "method and status.", ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "servicegraph_http_request_duration_seconds", "Time to answer HTTP requests, by "
            "route template and method.", ["route", "method"], buckets=BUCKETS,
            registry=self.registry)
        #: Exposed as ``servicegraph_pushed_items_total{source,kind}``.
        self.pushed_items = PerSource(Counter(
            "servicegraph_pushed_items", "Items pushed by integrators, by source and kind "
            f"(sources beyond the first {max_sources} counted as {OTHER_SOURCE}).",
            ["source", "kind"], registry=self.registry), SourceLabels(max_sources, shared))
        self.broken_promises = ScrapeTimeGauge(
            "servicegraph_broken_promises", "Promises broken under the current observed "
            "state.")
        self.registry.register(self.broken_promises)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format: under several workers, the sum of theirs."""
        if self.shared is None:
            return generate_latest(self.registry)
        # Built per scrape, as prometheus_client's multiprocess mode wants: the
        # collector reads every worker's files, those of workers gone included, so
        # a counter keeps what a restarted worker had counted.
        registry = CollectorRegistry()
        # (prometheus_client's multiprocess module is not annotated.)
        MultiProcessCollector(registry, path=str(self.shared))  # type: ignore[no-untyped-call]
        registry.register(self.broken_promises)
        return generate_latest(registry)

    def close(self) -> None:
        """This process is ending: its live gauges (if any) stop counting."""
        if self.shared is not None:
            mark_process_dead(os.getpid(), str(self.shared))  # type: ignore[no-untyped-call]


def shared_directory() -> Path | None:
    """The directory this process shares its counts in, if it is a worker of several."""
    found = os.environ.get(MULTIPROCESS_ENV)
    return Path(found) if found and Path(found).is_dir() else None


@contextmanager
def worker_directory() -> Iterator[Path]:
    """A fresh directory, readable by this user only, for the counts of the worker
    processes about to start (which find it in the environment); removed at the end.

    Fresh for each run: counts of an earlier run would otherwise be added to this
    one's. It must be set before the workers import ``prometheus_client``, which
    reads it then.
    """
    path = Path(tempfile.mkdtemp(prefix="servicegraph-metrics-"))
    before = os.environ.get(MULTIPROCESS_ENV)
    os.environ[MULTIPROCESS_ENV] = str(path)
    try:
        yield path
    finally:
        if before is None:
            os.environ.pop(MULTIPROCESS_ENV, None)
        else:
            os.environ[MULTIPROCESS_ENV] = before
        shutil.rmtree(path, ignore_errors=True)


async def get_metrics(request: Request) -> Metrics:
    """The metrics of the app serving ``request``."""
    metrics: Metrics = request.app.state.metrics
    return metrics
