"""Planning an alert delivery against the live graph: which node each alert is about,
and what changes in its life.

Pure: the live graph and the deliveries in, the alerts to write and the answer out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from servicegraph.ingest.alerts import Delivery
from servicegraph.live.state import LiveGraph
from servicegraph.model.alerts import NODE_LABELS, Alert, Status, severity_state, supersedes
from servicegraph.model.errors import Problem, ValidationError, show
from servicegraph.model.kinds import State

#: How many unmatched alerts an answer names (the rest are counted, and listed by
#: ``GET /v1/sources/{source}/alerts/unmatched``).
NAMED = 100


def node_for(graph: LiveGraph, source: str, labels: Mapping[str, str]) -> str | None:
    """The node an alert's labels name, by the default mapping: ``servicegraph_id``,
    then ``service``, then ``instance`` (also without its port), each taken as a node
    id, then as an external id the pushing source gave; ``None`` when none matches."""
    for name in NODE_LABELS:
        value = labels.get(name)
        if not value:
            continue
        tried = [value]
        if name == "instance" and ":" in value:
            tried.append(value.rsplit(":", 1)[0])
        for candidate in tried:
            if candidate in graph:
                return candidate
            v = graph.find_by_key(source, candidate)
            if v is not None:
                return str(graph.index.ids[v])
    return None


@dataclass
class AlertsPlan:
    """What a delivery did, as the answer tells it."""

    source: str
    received: int = 0
    firing: int = 0
    resolved: int = 0
    unchanged: int = 0
    stale: int = 0
    unmatched: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready answer."""
        return {"source": self.source, "received": self.received, "firing": self.firing,
                "resolved": self.resolved, "unchanged": self.unchanged, "stale": self.stale,
                "unmatched": len(self.unmatched), "unmatched_alerts": self.unmatched[:NAMED],
                "changed": self.changed}


def plan_alerts(graph: LiveGraph, source: str, deliveries: Sequence[Delivery],
                received_at: str) -> tuple[AlertsPlan, tuple[Alert, ...]]:
    """The alerts a delivery writes, and its answer.

    Each alert is keyed by (``source``, fingerprint). A delivery older than what is
    held (see :func:`~servicegraph.model.alerts.supersedes`) is ignored and counted as
    stale; one that says nothing new (a resend while firing) is counted as unchanged
    and writes nothing. A fingerprint held with another label set is refused whole.
    Alerts that match no node are kept (state as mapped, node ``None``) and listed.
    """
    plan = AlertsPlan(source, received=len(deliveries))
    problems: list[Problem] = []
    written: dict[tuple[str, str], Alert] = {}
    for i, found in enumerate(deliveries):
        key = (source, found.fingerprint)
        held = written.get(key, graph.alerts.get(key))
        if held is not None and dict(held.labels) != dict(found.labels):
            problems.append(Problem(
                "alerts", i, show(found.name), "fingerprint",
                f"fingerprint {show(found.fingerprint)} is held with other labels "
                f"({show(dict(held.labels))}): a fingerprint names one label set"))
            continue
        node = node_for(graph, source, found.labels)
        alert = Alert(source, found.fingerprint, node,
                      severity_state(found.labels.get("severity")), found.status,
                      found.starts_at, found.ends_at, found.labels, found.annotations,
                      received_at)
        if not supersedes(alert, held):
            plan.stale += 1
            continue
        if held is not None and held.same_delivery(alert):
            plan.unchanged += 1
            continue
        written[key] = alert
        if alert.status is Status.FIRING:
            plan.firing += 1
        else:
            plan.resolved += 1
    if problems:
        raise ValidationError(problems)
    plan.unmatched = [a.labels.get("alertname") or a.fingerprint
                      for a in written.values() if a.node is None]
    before: dict[str, State] = {}
    after: dict[str, dict[tuple[str, str], State]] = {}
    for alert in written.values():
        held = graph.alerts.get(alert.key)
        for node in {n for n in (alert.node, held.node if held else None) if n is not None}:
            before.setdefault(node, graph.alert_state(node))
            after.setdefault(node, dict(graph.alerting.get(node, {})))
        if held is not None and held.node is not None:
            after[held.node].pop(alert.key, None)
        if alert.node is not None and alert.status is Status.FIRING and alert.state > State.OK:
            after[alert.node][alert.key] = alert.state
    plan.changed = sorted(n for n, was in before.items()
                          if max(after[n].values(), default=State.OK) != was)
    return plan, tuple(written.values())
