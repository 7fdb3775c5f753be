"""Ingestion from integrators: pushes keyed by source, reconciliation, status."""

from servicegraph.ingest.push import Counts, PushPlan, plan_claims
from servicegraph.ingest.reconcile import MANUAL, rank
from servicegraph.ingest.status import StatusUpdate, parse_updates

__all__ = [
    "MANUAL",
    "Counts",
    "PushPlan",
    "StatusUpdate",
    "parse_updates",
    "plan_claims",
    "rank",
]
