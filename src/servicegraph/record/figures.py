"""The figures of the promise record, computed from transitions over a period.

Pure: transitions and a period in, figures out. A node's state between two of its
transitions is the state of the first; before its first transition it is ok. Only
the time of the period that counts (all of it, or the business hours of a
:class:`~servicegraph.record.clock.Schedule`, and nothing after ``as_of``) enters any
figure, in whole microseconds, so that

- kept + at risk + broken = the counted time of the period, exactly;
- broken = the sum of the breaks' durations, and the providers' shares of a break add
  up to its duration;
- a roll-up (per owner, per business service) is the sum of its promises.

>>> from servicegraph.model.record import Cause, Transition
>>> from servicegraph.model.kinds import State
>>> down = Transition("2026-03-02T10:00:00Z", "onboarding", "promise", State.DOWN,
...                   causes=(Cause("db-1", State.DOWN, provider="Northwind"),
...                           Cause("app-1", State.DOWN, provider="Contoso")))
>>> up = Transition("2026-03-02T11:00:00Z", "onboarding", "promise", State.OK)
>>> rec = record([down, up], period("2026-03", None, zone("UTC")))
>>> p = rec.node("onboarding")
>>> p.broken // SECOND, len(p.breaks), p.breaks[0].shares
(3600, 1, {'Contoso': 1800000000, 'Northwind': 1800000000})
>>> round(float(p.share_kept), 6)
0.998656
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.record import NO_PROVIDER, OBSERVED, Cause, Transition
from servicegraph.record.clock import (
    SECOND,
    Clock,
    Period,
    Schedule,
    clock,
    micros_of,
    period,
    show,
    zone,
)

#: Who a broken minute goes to when its transition names no cause at all.
NO_CAUSE = "(no cause recorded)"
#: The owner of a promise that has none, in the roll-up per owner.
NO_OWNER = "(no owner)"
#: The customer-facing layers, in the order the record lists them.
LAYERS = (NodeKind.PROMISE.value, NodeKind.BUSINESS_SERVICE.value, NodeKind.SERVICE_ACT.value)


def share(duration: int, providers: Sequence[str]) -> dict[str, int]:
    """``duration`` (microseconds) shared equally among ``providers``: each gets the
    whole microseconds of its equal part, and the microseconds left over by an uneven
    split go one each to the first providers in name order. The shares add up to
    ``duration`` exactly.

    >>> share(10, ["b", "a", "c"])
    {'a': 4, 'b': 3, 'c': 3}
    >>> share(5, [])
    {'(no cause recorded)': 5}
    """
    if len(providers) == 1:
        return {providers[0]: duration}
    names = sorted(set(providers)) or [NO_CAUSE]
    each, left = divmod(duration, len(names))
    return {name: each + (1 if i < left else 0) for i, name in enumerate(names)}


def seconds(us: int | Fraction | None) -> float | None:
    """Microseconds as seconds, rounded to the microsecond (for display).

    >>> seconds(1_500_000), seconds(Fraction(1, 3)), seconds(None)
    (1.5, 0.0, None)
    """
    if us is None:
        return None
    return round(us) / SECOND


def target_of(properties: Mapping[str, Any] | None) -> Fraction | None:
    """A node's target share kept, in percent, from its ``properties``
    (``target: {kept: 99.9}``); ``None`` when it states none (or none that reads as a
    percentage from 0 to 100).

    >>> target_of({"target": {"kept": 99.9}})
    Fraction(999, 10)
    >>> target_of({"target": {"kept": "high"}}), target_of({})
    (None, None)
    """
    raw = (properties or {}).get("target")
    value = raw.get("kept") if isinstance(raw, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        found = Fraction(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return None
    return found if 0 <= found <= 100 else None


@dataclass(frozen=True)
class Break:
    """A time a node was broken (down): from the transition that took it down to the
    one that took it out of down (``end``; ``None``: still down at the end of what the
    period saw).

    ``duration`` is the counted time of the break within the period, ``planned`` the
    part of it marked planned; ``shares`` the duration per provider of its causes, and
    ``planned_shares`` the planned part of each share;
    ``time_to_recover`` the counted time from its start to its end, the time before
    the period included (``None`` while open).
    """

    node: str
    start: int
    end: int | None
    duration: int
    planned: int
    causes: tuple[Cause, ...]
    shares: Mapping[str, int]
    time_to_recover: int | None
    planned_shares: Mapping[str, int] = field(default_factory=dict)

    @property
    def is_planned(self) -> bool:
        """Whether all of the break's counted time was planned."""
        return self.planned == self.duration

    @property
    def providers(self) -> tuple[str, ...]:
        """The providers its time is shared among, sorted."""
        return tuple(sorted(self.shares))


def _recovery(breaks: Iterable[Break]) -> tuple[Fraction | None, int | None, int]:
    """Mean and longest time to recover of the closed ``breaks``, and how many."""
    found = [b.time_to_recover for b in breaks if b.time_to_recover is not None]
    if not found:
        return None, None, 0
    return Fraction(sum(found), len(found)), max(found), len(found)


@dataclass(frozen=True)
class NodeRecord:
    """The record of one node (a promise, a business service or a service act) over
    the period: time kept (ok), at risk (degraded) and broken (down), each with its
    planned part, the breaks, and against its own ``target`` (percent kept) when it
    has one."""

    node: str
    layer: str
    period: int
    kept: int
    at_risk: int
    broken: int
    planned_at_risk: int
    planned_broken: int
    breaks: tuple[Break, ...]
    name: str | None = None
    owner: str | None = None
    target: Fraction | None = None

    @property
    def unplanned_broken(self) -> int:
        """Broken time not marked planned."""
        return self.broken - self.planned_broken

    @property
    def share_kept(self) -> Fraction | None:
        """The share of the period not broken (kept or at risk); ``None`` for a period
        with no counted time."""
        return Fraction(self.period - self.broken, self.period) if self.period else None

    @property
    def share_kept_unplanned(self) -> Fraction | None:
        """The share of the period not broken by unplanned breaks: what the target is
        held against."""
        return (Fraction(self.period - self.unplanned_broken, self.period)
                if self.period else None)

    @property
    def allowed_broken(self) -> Fraction | None:
        """The broken time the target allows over the period."""
        if self.target is None:
            return None
        return self.period * (100 - self.target) / 100

    @property
    def budget_left(self) -> Fraction | None:
        """The allowed broken time less the unplanned broken time (negative: the target
        was missed)."""
        allowed = self.allowed_broken
        return None if allowed is None else allowed - self.unplanned_broken

    def recovery(self, planned: bool | None = None) -> tuple[Fraction | None, int | None, int]:
        """Mean and longest time to recover, and over how many breaks: of all closed
        breaks, or only the planned (``True``) or unplanned (``False``) ones."""
        return _recovery(b for b in self.breaks if planned is None or b.is_planned is planned)


@dataclass(frozen=True)
class ProviderShare:
    """A provider's part in the broken promises: the broken time its components caused
    (shared with the other providers of the same break), of which planned, how many
    breaks it was in, and which promises."""

    provider: str
    broken: int
    planned: int
    breaks: int
    promises: tuple[str, ...]


@dataclass(frozen=True)
class RollUp:
    """The record of a group of promises (of one owner, or that depend on one business
    service): the sums of their figures."""

    key: str
    promises: tuple[str, ...]
    period: int
    kept: int
    at_risk: int
    broken: int
    planned_broken: int
    breaks: int

    @property
    def share_kept(self) -> Fraction | None:
        """The share of the promises' time not broken."""
        return Fraction(self.period - self.broken, self.period) if self.period else None


@dataclass(frozen=True)
class Record:
    """The promise record of a period: every node's record, and the roll-ups of the
    promises per provider, per owner and per business service."""

    span: Period
    hours: Schedule | None
    as_of: int | None
    counted: int
    nodes: tuple[NodeRecord, ...]
    providers: tuple[ProviderShare, ...]
    owners: tuple[RollUp, ...]
    business_services: tuple[RollUp, ...]
    _by_id: dict[str, NodeRecord] = field(default_factory=dict, repr=False, compare=False)

    def node(self, node_id: str) -> NodeRecord:
        """One node's record (``KeyError`` when the record has none)."""
        if not self._by_id:
            self._by_id.update((n.node, n) for n in self.nodes)
        return self._by_id[node_id]

    @property
    def promises(self) -> tuple[NodeRecord, ...]:
        """The records of the promises."""
        return tuple(n for n in self.nodes if n.layer == NodeKind.PROMISE.value)

    def providers_of(self, node_id: str) -> tuple[ProviderShare, ...]:
        """The providers' part in one node's breaks."""
        return _providers([self.node(node_id)])


def _first(step: tuple[int, Transition]) -> int:
    return step[0]


class _Open:
    """The break being followed: its start, counted and planned time, causes, shares."""

    __slots__ = ("causes", "duration", "planned", "planned_shares", "shares", "start")

    def __init__(self, start: int) -> None:
        self.start = start
        self.duration = 0
        self.planned = 0
        self.causes: dict[str, Cause] = {}
        self.shares: dict[str, int] = defaultdict(int)
        self.planned_shares: dict[str, int] = defaultdict(int)

    def closed(self, node: str, until: int | None, whole: Clock) -> Break:
        recover = None if until is None else whole.counted(self.start, until)
        return Break(node, self.start, until, self.duration, self.planned,
                     tuple(self.causes[c] for c in sorted(self.causes)),
                     dict(sorted(self.shares.items())), recover,
                     dict(sorted(self.planned_shares.items())))


_OK, _DEGRADED, _DOWN = State.OK, State.DEGRADED, State.DOWN


def node_record(node: str, layer: str, transitions: Sequence[tuple[int, Transition]], start: int,
                end: int, counting: Clock, whole: Clock, *, name: str | None = None,
                owner: str | None = None, target: Fraction | None = None,
                providers: dict[tuple[Cause, ...], tuple[str, ...]] | None = None
                ) -> NodeRecord:
    """The record of one node from its transitions (each with its time, :func:`~servicegraph.
    record.clock.micros`), over ``[start, end)`` as ``counting`` counts it; ``whole``
    counts the time before ``start`` too (for the time to recover of a break that began
    before the period). ``providers`` caches the providers of cause tuples across calls.
    """
    totals = [0, 0, 0]  # by state: ok, degraded, down
    planned = [0, 0, 0]
    breaks: list[Break] = []
    current: _Open | None = None
    steps = sorted(((at, t) for at, t in transitions if at < end), key=_first)
    # One incident gives many transitions the same causes: their providers once.
    known = {} if providers is None else providers
    count = counting.counted
    if not steps or steps[0][0] > start:
        totals[0] += count(start, steps[0][0] if steps else end)
    last = len(steps) - 1
    for i, (at, t) in enumerate(steps):
        until = steps[i + 1][0] if i < last else end
        a, b = (at if at > start else start), (until if until < end else end)
        counted = count(a, b) if b > a else 0
        state = t.state
        totals[state] += counted
        if t.planned and state is not _OK:
            planned[state] += counted
        if state is _DOWN:
            if current is None:
                current = _Open(at)
            if not counted:
                for cause in t.causes:
                    current.causes.setdefault(cause.component, cause)
                continue
            current.duration += counted
            if t.planned:
                current.planned += counted
            for cause in t.causes:
                current.causes.setdefault(cause.component, cause)
            names = known.get(t.causes)
            if names is None:
                names = known[t.causes] = t.providers
            for provider, part in share(counted, names).items():
                if part:
                    current.shares[provider] += part
                    if t.planned:
                        current.planned_shares[provider] += part
        elif current is not None:
            if current.duration > 0:
                breaks.append(current.closed(node, at, whole))
            current = None
    if current is not None and current.duration > 0:
        breaks.append(current.closed(node, None, whole))
    return NodeRecord(node, layer, count(start, end), totals[_OK], totals[_DEGRADED],
                      totals[_DOWN],
                      planned[_DEGRADED], planned[_DOWN], tuple(breaks), name, owner, target)


def _providers(promises: Iterable[NodeRecord]) -> tuple[ProviderShare, ...]:
    broken: dict[str, int] = defaultdict(int)
    planned: dict[str, int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    whose: dict[str, set[str]] = defaultdict(set)
    for rec in promises:
        for brk in rec.breaks:
            for provider, part in brk.shares.items():
                broken[provider] += part
                planned[provider] += brk.planned_shares.get(provider, 0)
                count[provider] += 1
                whose[provider].add(rec.node)
    return tuple(ProviderShare(p, broken[p], planned[p], count[p], tuple(sorted(whose[p])))
                 for p in sorted(broken, key=lambda p: (-broken[p], p)))


def _roll_up(key: str, members: Sequence[NodeRecord]) -> RollUp:
    return RollUp(key, tuple(sorted(m.node for m in members)),
                  sum(m.period for m in members), sum(m.kept for m in members),
                  sum(m.at_risk for m in members), sum(m.broken for m in members),
                  sum(m.planned_broken for m in members), sum(len(m.breaks) for m in members))


def record(transitions: Iterable[Transition], span: Period, *,
           hours: Schedule | None = None, as_of: int | None = None,
           nodes: Mapping[str, str] | None = None,
           names: Mapping[str, str] | None = None,
           owners: Mapping[str, str | None] | None = None,
           business_services: Mapping[str, Sequence[str]] | None = None,
           targets: Mapping[str, Fraction | None] | None = None) -> Record:
    """The promise record of ``span`` from ``transitions``.

    Parameters
    ----------
    transitions : iterable of Transition
        Of the customer-facing layers (observed states are left out): for each node,
        its last transition before the period, then those within it.
    span : Period
        The period, in the caller's time zone.
    hours : Schedule, optional
        Business hours: only time inside them counts, for every figure.
    as_of : int, optional
        Time after this instant (microseconds, e.g. now) does not count: it has not
        happened yet. A break still down at it is open.
    nodes : mapping, optional
        Node id -> layer of nodes to report on even without a transition (ok all along).
    names, owners, targets : mapping, optional
        Node id -> name, owner, target share kept (percent) of the nodes.
    business_services : mapping, optional
        Promise id -> the business services it depends on (for the roll-up).

    Returns
    -------
    Record
    """
    start, end = span.start, span.end if as_of is None else max(span.start,
                                                                 min(span.end, as_of))
    by_node: dict[str, list[tuple[int, Transition]]] = defaultdict(list)
    layers: dict[str, str] = dict(nodes or {})
    earliest = start
    # One incident gives many transitions the same time: each text read once.
    instants: dict[str, int] = {}
    for t in transitions:
        if t.layer == OBSERVED:
            continue
        at = instants.get(t.at)
        if at is None:
            at = instants[t.at] = micros_of(t.at)
        if at < earliest:
            earliest = at
        by_node[t.node].append((at, t))
        layers.setdefault(t.node, t.layer)
    whole = clock(min(earliest, start), end, span.where, hours)
    counting = Clock([(max(a, start), b) for a, b in zip(whole.starts, whole.ends, strict=True)
                      if b > start]) if earliest < start else whole
    order = {layer: i for i, layer in enumerate(LAYERS)}
    providers: dict[tuple[Cause, ...], tuple[str, ...]] = {}
    records = tuple(
        node_record(n, layers[n], by_node.get(n, ()), start, end, counting, whole,
                    name=(names or {}).get(n), owner=(owners or {}).get(n),
                    target=(targets or {}).get(n), providers=providers)
        for n in sorted(layers, key=lambda n: (order.get(layers[n], len(order)), n)))
    promises = [r for r in records if r.layer == NodeKind.PROMISE.value]
    by_owner: dict[str, list[NodeRecord]] = defaultdict(list)
    by_service: dict[str, list[NodeRecord]] = defaultdict(list)
    for rec in promises:
        by_owner[rec.owner or NO_OWNER].append(rec)
        for service in sorted(set((business_services or {}).get(rec.node, ()))):
            by_service[service].append(rec)
    return Record(span, hours, as_of, counting.total, records, _providers(promises),
                  tuple(_roll_up(k, v) for k, v in sorted(by_owner.items())),
                  tuple(_roll_up(k, v) for k, v in sorted(by_service.items())))


__all__ = [
    "LAYERS",
    "NO_CAUSE",
    "NO_OWNER",
    "NO_PROVIDER",
    "Break",
    "NodeRecord",
    "ProviderShare",
    "Record",
    "RollUp",
    "node_record",
    "period",
    "record",
    "seconds",
    "share",
    "show",
    "target_of",
    "zone",
]
