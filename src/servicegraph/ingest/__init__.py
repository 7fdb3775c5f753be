"""Ingestion from integrators: pushes keyed by source, reconciliation, status, events."""

from servicegraph.ingest.live import Broadcaster, PromiseChange, Subscription
from servicegraph.ingest.push import Counts, PushPlan, plan_push
from servicegraph.ingest.reconcile import MANUAL, rank
from servicegraph.ingest.status import StatusUpdate, parse_updates, plan_status

__all__ = [
    "MANUAL",
    "Broadcaster",
    "Counts",
    "PromiseChange",
    "PushPlan",
    "StatusUpdate",
    "Subscription",
    "parse_updates",
    "plan_push",
    "plan_status",
    "rank",
]
