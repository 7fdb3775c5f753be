"""Planning an alert delivery against the live graph: which node each alert is about,
and what changes in its life.

Pure: the live graph and the deliveries in, the alerts to write and the answer out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from servicegraph.ingest.alerts import Delivery
from servicegraph.live.state import LiveGraph
from servicegraph.model.alert_mapping import AlertMapping, rules_of
from servicegraph.model.alerts import Alert, Status, supersedes
from servicegraph.model.errors import Problem, ValidationError, show
from servicegraph.model.kinds import State

#: How many unmatched alerts an answer names (the rest are counted, and listed by
#: ``GET /v1/sources/{source}/alerts/unmatched``).
NAMED = 100


def node_for(graph: LiveGraph, mapping: AlertMapping, source: str,
             labels: Mapping[str, str]) -> str | None:
    """The node an alert's labels name under ``mapping``: its rules tried in order, the
    first that names a node wins; ``None`` when none does.

    A rule names a node when the value it reads is: an id in its table (``table``); a
    node id (``id``); an external id the source (the rule's, else the alert's) pushed
    (``external_id``); the name, or the property, of a live node (``name``,
    ``properties.<path>``, looked up in an index the live graph keeps). The default
    mapping reads ``servicegraph_id``, then ``service``, then ``instance`` (then
    ``instance`` without its port), each as a node id, then as an external id.
    """
    for rule in mapping.rules:
        value = rule.value(labels)
        if value is None:
            continue
        if rule.to == "table":
            found = rule.table.get(value)
            if found is not None and found in graph:
                return found
        elif rule.to == "id":
            if value in graph:
                return value
        elif rule.to == "external_id":
            v = graph.find_by_key(rule.source or source, value)
            if v is not None:
                return str(graph.index.ids[v])
        else:
            v = graph.lookup(rule.to, value)
            if v is not None:
                return str(graph.index.ids[v])
    return None


def resolve(graph: LiveGraph, mapping: AlertMapping, source: str,
            labels: Mapping[str, str], given: Mapping[str, str]) -> tuple[str | None, State]:
    """The node and state of an alert: what the sender stated outright (``node``,
    ``state``, ``severity``), else what ``mapping`` reads from its labels. A stated
    node that is not in the graph leaves the alert unmatched."""
    if "node" in given:
        node: str | None = given["node"] if given["node"] in graph else None
    else:
        node = node_for(graph, mapping, source, labels)
    if "state" in given:
        state = State.parse(given["state"])
    else:
        state = mapping.severity.state(given.get("severity",
                                                 labels.get(mapping.severity.label)))
    return node, state


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
    mapping = rules_of(graph.mappings, source)
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
        node, state = resolve(graph, mapping, source, found.labels, found.given)
        alert = Alert(source, found.fingerprint, node, state, found.status,
                      found.starts_at, found.ends_at, found.labels, found.annotations,
                      received_at, found.given)
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
    plan.changed = changed_nodes(graph, written.values())
    return plan, tuple(written.values())


def changed_nodes(graph: LiveGraph, written: Iterable[Alert]) -> list[str]:
    """The nodes whose alert state writing ``written`` changes, by id."""
    before: dict[str, State] = {}
    after: dict[str, dict[tuple[str, str], State]] = {}
    for alert in written:
        held = graph.alerts.get(alert.key)
        for node in (alert.node, held.node if held is not None else None):
            if node is not None and node not in before:
                before[node] = graph.alert_state(node)
                after[node] = dict(graph.alerting.get(node, ()))
        if held is not None and held.node is not None:
            after[held.node].pop(alert.key, None)
        if alert.node is not None and alert.status is Status.FIRING and alert.state > State.OK:
            after[alert.node][alert.key] = alert.state
    return sorted(n for n, was in before.items()
                  if max(after[n].values(), default=State.OK) != was)


@dataclass
class MappingPlan:
    """What setting a mapping did to the source's firing alerts."""

    mapping: AlertMapping
    rematched: int = 0
    remapped: int = 0
    unmatched: int = 0
    changed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready answer: the mapping as stored and what it did."""
        return {**self.mapping.to_dict(), "rematched": self.rematched,
                "remapped": self.remapped, "unmatched": self.unmatched,
                "changed": self.changed}


def plan_mapping(graph: LiveGraph, mapping: AlertMapping
                 ) -> tuple[MappingPlan, tuple[Alert, ...]]:
    """The alerts to write when ``mapping`` becomes its source's: every firing alert of
    the source read again under it (node and state). ``rematched`` counts those that
    matched no node and now do; ``remapped`` the others whose node or state changed;
    ``unmatched`` those still (or now) matching none."""
    plan = MappingPlan(mapping)
    written: list[Alert] = []
    for key, held in graph.alerts.items():
        if key[0] != mapping.source or held.status is not Status.FIRING:
            continue
        node, state = resolve(graph, mapping, mapping.source, held.labels, held.given)
        if node is None:
            plan.unmatched += 1
        if (node, state) == (held.node, held.state):
            continue
        if held.node is None:
            plan.rematched += 1
        else:
            plan.remapped += 1
        written.append(replace(held, node=node, state=state))
    plan.changed = changed_nodes(graph, written)
    return plan, tuple(written)
