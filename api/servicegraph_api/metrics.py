"""Prometheus metrics, one registry per app (two apps in one process never clash).

The request middleware counts requests and times them by route template; the
ingest router counts pushed items and keeps the broken-promise gauge current::

    from servicegraph_api.deps import MetricsDep

    def push(..., metrics: MetricsDep) -> ...:
        metrics.pushed_items.labels(source="cmdb", kind="node").inc(120)
        metrics.broken_promises.set(2)
"""

from __future__ import annotations

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

#: Latency buckets in seconds: impact answers are milliseconds, big syncs minutes.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class Metrics:
    """The metrics of one app, in their own registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "servicegraph_http_requests", "HTTP requests answered, by route template, "
            "method and status.", ["route", "method", "status"], registry=self.registry)
        self.latency = Histogram(
            "servicegraph_http_request_duration_seconds", "Time to answer HTTP requests, by "
            "route template and method.", ["route", "method"], buckets=BUCKETS,
            registry=self.registry)
        #: Exposed as ``servicegraph_pushed_items_total{source,kind}``.
        self.pushed_items = Counter(
            "servicegraph_pushed_items", "Items pushed by integrators, by source and kind.",
            ["source", "kind"], registry=self.registry)
        self.broken_promises = Gauge(
            "servicegraph_broken_promises", "Promises broken under the current observed "
            "state.", registry=self.registry)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one answered request."""
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.latency.labels(route=route, method=method).observe(seconds)

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)


def get_metrics(request: Request) -> Metrics:
    """The metrics of the app serving ``request``."""
    metrics: Metrics = request.app.state.metrics
    return metrics
