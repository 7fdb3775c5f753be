"""The promise record, asked of a running service graph: one node's, or every
promise's at once.

The figures are computed by :mod:`servicegraph.record` from the transitions the
store recorded (a :class:`TransitionSource`: ``Questions.record_transitions``, which
answers them as columns) and what the live graph says of the nodes (names, owners,
targets, the business services each promise depends on). Time after the question was
asked does not count: it has not happened yet.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, Protocol

import numpy as np

from servicegraph.impact.index import KINDS
from servicegraph.live.state import LiveGraph
from servicegraph.model.graph import Node
from servicegraph.model.kinds import NodeKind
from servicegraph.model.record import Columns, Transition
from servicegraph.model.times import iso
from servicegraph.record import (
    BY,
    Period,
    Schedule,
    document,
    period,
    promise_document,
    target_of,
    zone,
)
from servicegraph.record.clock import micros, moment
from servicegraph.record.figures import LAYERS, record, record_of


class TransitionSource(Protocol):
    """Where the record's transitions come from: for each node (of ``nodes``, or all)
    of ``layers`` (or all), its last transition before ``start``, then those in
    ``[start, end)`` (times as ISO 8601 UTC text): as :class:`~servicegraph.model.
    record.Columns` (then in any order, their ``order`` the order written), or as
    transitions (the last before ``start`` first, then the period's in time order)."""

    def __call__(self, *, start: str, end: str, nodes: Sequence[str] | None = None,
                 layers: Sequence[str] | None = None) -> Columns | Sequence[Transition]: ...


class Nodes(Protocol):
    """What the record needs to know of the graph (``Questions`` answers it)."""

    def node(self, node_id: str) -> Node: ...
    def reading(self) -> AbstractContextManager[LiveGraph]: ...


@dataclass(frozen=True)
class Facing:
    """What the record says of the customer-facing nodes: the layer of each one the
    graph holds now (retired ones left out, unless a live edge still touches them),
    and of every one stored its name, owner and target; the business services each
    promise depends on."""

    layers: dict[str, str]
    names: dict[str, str]
    owners: dict[str, str | None]
    targets: dict[str, Fraction | None]
    business_services: dict[str, list[str]]


def facing(live: LiveGraph) -> Facing:
    """:class:`Facing` from the live graph's columns (no node built as an object: a
    node's properties are read only when they may state a target)."""
    idx = live.index
    codes = idx.kind_codes
    code = {k: KINDS.index(NodeKind(k)) for k in LAYERS}
    stored = idx.stored_nodes()
    chosen = np.flatnonzero(stored & np.isin(codes, list(code.values()))).tolist()
    active = idx.edge_active
    source, target = idx.edge_source[active], idx.edge_target[active]
    touched = np.zeros(len(codes), np.bool_)
    touched[source] = True
    touched[target] = True
    layer_of = {c: k for k, c in code.items()}
    ids, names, owners = idx.ids, idx.names, idx.owners
    found = Facing({}, {}, {}, {}, defaultdict(list))
    for v in chosen:
        n = ids[v]
        found.names[n], found.owners[n] = names[v], owners[v]
        text = live.column("properties", v)
        found.targets[n] = target_of(json.loads(text)) if '"target"' in text else None
        if live.column("retired_at", v) is None or touched[v]:
            found.layers[n] = layer_of[int(codes[v])]
    promise, service = code[NodeKind.PROMISE.value], code[NodeKind.BUSINESS_SERVICE.value]
    wanted = (codes[source] == promise) & (codes[target] == service)
    for a, b in zip(source[wanted].tolist(), target[wanted].tolist(), strict=True):
        found.business_services[ids[a]].append(ids[b])
    return found


def _columns(found: Columns | Sequence[Transition]) -> Columns:
    """The transitions of the customer-facing layers, as columns."""
    if isinstance(found, Columns):
        return found
    return Columns.of(t for t in found if t.layer in LAYERS)


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
    options: dict[str, Any] = {
        "hours": schedule, "as_of": as_of, "nodes": {node_id: node.kind.value},
        "names": {node_id: node.name}, "owners": {node_id: node.owner},
        "targets": {node_id: target_of(node.properties)}}
    if isinstance(found, Columns):
        rec = record_of(found, span, **options)
    else:
        rec = record([t for t in found if t.node == node_id], span, **options)
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
    with graph.reading() as live:
        known = facing(live)
    found = transitions(start=iso(moment(span.start)), end=iso(moment(span.end)),
                        layers=list(LAYERS))
    rec = record_of(_columns(found), span, hours=schedule, as_of=as_of, nodes=known.layers,
                    names=known.names, owners=known.owners, targets=known.targets,
                    business_services=known.business_services)
    return document(rec, by)


__all__ = ["Facing", "Nodes", "TransitionSource", "asked", "facing", "promise_record",
           "records"]

