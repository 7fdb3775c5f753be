"""The promise record, asked of a running service graph: one node's, or every
promise's at once.

The figures are computed by :mod:`servicegraph.record` from the transitions the
store recorded (a :class:`TransitionSource`: ``Questions.record_transitions``) and
what the graph says of the nodes (names, owners, targets, the business services each
promise depends on). Time after the question was asked does not count: it has not
happened yet.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from servicegraph.model.graph import GraphData, Node
from servicegraph.model.kinds import NodeKind
from servicegraph.model.record import Transition
from servicegraph.model.times import iso
from servicegraph.record import (
    BY,
    Period,
    Schedule,
    document,
    period,
    promise_document,
    record,
    target_of,
    zone,
)
from servicegraph.record.clock import micros, moment
from servicegraph.record.figures import LAYERS


class TransitionSource(Protocol):
    """Where the record's transitions come from: for each node (of ``nodes``, or all)
    of ``layers`` (or all), its last transition before ``start`` first, then those in
    ``[start, end)`` in time order (times as ISO 8601 UTC text)."""

    def __call__(self, *, start: str, end: str, nodes: Sequence[str] | None = None,
                 layers: Sequence[str] | None = None) -> list[Transition]: ...


class Nodes(Protocol):
    """What the record needs to know of the graph (``Questions`` answers it)."""

    def node(self, node_id: str) -> Node: ...
    def whole_graph(self) -> GraphData: ...


def asked(start: str | None, end: str | None, tz: str, hours: str | None,
          now: datetime) -> tuple[Period, Schedule | None, int | None]:
    """The period and business hours a caller asked for, and the instant after which
    nothing counts yet (``None`` for a period past); ``ValueError`` naming the
    parameter (``from``, ``to``, ``tz``, ``hours``) that is wrong."""
    where = zone(tz)
    span = period(start, end, where, now)
    schedule = None if hours is None else Schedule.parse(hours)
    present = micros(now)
    return span, schedule, present if present < span.end else None


def promise_record(graph: Nodes, transitions: TransitionSource, node_id: str, *,
                   start: str | None = None, end: str | None = None, tz: str = "UTC",
                   hours: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The record of one promise (or business service, or service act) with its
    breaks and the providers' part in them (see
    :func:`~servicegraph.record.promise_document`).

    Raises :class:`~servicegraph.model.errors.UnknownNodeError` for an unknown id and
    ``ValueError`` for a node of another kind or a parameter that is wrong.
    """
    now = now or datetime.now(UTC)
    span, schedule, as_of = asked(start, end, tz, hours, now)
    node = graph.node(node_id)
    if node.kind.value not in LAYERS:
        raise ValueError(f"{node_id!r} is a {node.kind.value}: only promises, business "
                         "services and service acts have a record")
    found = transitions(start=iso(moment(span.start)), end=iso(moment(span.end)),
                        nodes=[node_id], layers=[node.kind.value])
    rec = record([t for t in found if t.node == node_id], span, hours=schedule,
                 as_of=as_of, nodes={node_id: node.kind.value},
                 names={node_id: node.name}, owners={node_id: node.owner},
                 targets={node_id: target_of(node.properties)})
    return promise_document(rec, node_id)


def records(graph: Nodes, transitions: TransitionSource, *, by: str = "promise",
            start: str | None = None, end: str | None = None, tz: str = "UTC",
            hours: str | None = None, now: datetime | None = None) -> dict[str, Any]:
    """The record of every promise, business service and service act (``by``
    promise), or of the promises rolled up ``by`` provider, owner or business service
    (see :func:`~servicegraph.record.document`); ``ValueError`` naming a parameter
    that is wrong."""
    if by not in BY:
        raise ValueError(f"by: {by!r} is not one of {', '.join(BY)}")
    now = now or datetime.now(UTC)
    span, schedule, as_of = asked(start, end, tz, hours, now)
    whole = graph.whole_graph()
    facing = {n.id: n for n in whole.nodes if n.kind.value in LAYERS}
    current = whole.live()
    live = {n.id for n in current.nodes}
    services: dict[str, list[str]] = defaultdict(list)
    for edge in current.edges:
        dependant, dependency = facing.get(edge.source), facing.get(edge.target)
        if (dependant is not None and dependant.kind is NodeKind.PROMISE
                and dependency is not None and dependency.kind is NodeKind.BUSINESS_SERVICE):
            services[edge.source].append(edge.target)
    found = transitions(start=iso(moment(span.start)), end=iso(moment(span.end)),
                        layers=list(LAYERS))
    rec = record([t for t in found if t.layer in LAYERS], span, hours=schedule, as_of=as_of,
                 nodes={i: n.kind.value for i, n in facing.items() if i in live},
                 names={i: n.name for i, n in facing.items()},
                 owners={i: n.owner for i, n in facing.items()},
                 targets={i: target_of(n.properties) for i, n in facing.items()},
                 business_services=services)
    return document(rec, by)


__all__ = ["Nodes", "TransitionSource", "asked", "promise_record", "records"]

