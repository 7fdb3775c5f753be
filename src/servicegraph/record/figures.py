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

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

import numpy as np

from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.record import NO_PROVIDER, OBSERVED, Cause, Columns, Transition
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
        if planned is None:
            return _recovery(self.breaks)
        return _recovery([b for b in self.breaks if (b.planned == b.duration) is planned])


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


_OK, _DOWN = State.OK, State.DOWN


def _counted(clk: Clock, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How much of each ``[a[i], b[i])`` counts on ``clk`` (0 where ``b <= a``): the
    vector form of :meth:`Clock.counted`."""
    if clk.single is not None:
        low, high = clk.single
        clipped: np.ndarray = np.maximum(np.minimum(b, high) - np.maximum(a, low), 0)
        return clipped
    if not clk.starts:
        return np.zeros(len(a), np.int64)
    starts = np.asarray(clk.starts, np.int64)
    ends = np.asarray(clk.ends, np.int64)
    prefix = np.asarray(clk.prefix, np.int64)

    def before(t: np.ndarray) -> np.ndarray:
        i = np.searchsorted(starts, t, side="right")
        j = np.maximum(i - 1, 0)
        return np.where(i == 0, 0, prefix[j] + np.minimum(ends[j], t) - starts[j])

    out: np.ndarray = np.where(b > a, before(b) - before(a), 0)
    return out


def _micros(texts: Sequence[str]) -> np.ndarray:
    """ISO texts as microseconds; one incident gives many rows the same moment, so
    each distinct text is read once."""
    known = {text: micros_of(text) for text in set(texts)}
    return np.fromiter(map(known.__getitem__, texts), np.int64, len(texts))


@dataclass
class _Breaks:
    """The breaks found, as columns over the kept breaks (sorted by node, then start)."""

    node: list[int]
    start: list[int]
    end: list[int | None]
    duration: list[int]
    planned: list[int]
    recover: list[int | None]
    shares: list[dict[str, int]]
    planned_shares: list[dict[str, int]]
    causes: list[tuple[Cause, ...]]


def _shares(cols: Columns, rows: np.ndarray, counted: np.ndarray, planned: np.ndarray,
            breaks: np.ndarray, kept: int) -> tuple[list[dict[str, int]], list[dict[str, int]]]:
    """Each break's time per provider (and its planned part): every row's counted time
    shared as :func:`share` shares it, summed per break and provider. ``rows`` are the
    down rows that count (their indices in ``cols``), ``breaks`` each one's break."""
    shares: list[dict[str, int]] = [{} for _ in range(kept)]
    planned_shares: list[dict[str, int]] = [{} for _ in range(kept)]
    if not len(rows):
        return shares, planned_shares
    # The distinct provider lists (one incident gives many rows the same), each as the
    # names its time is shared among, numbered in name order.
    given = cols.providers
    picked = [given[i] for i in rows.tolist()]
    tables = {p: k for k, p in enumerate(dict.fromkeys(picked))}
    which = np.fromiter(map(tables.__getitem__, picked), np.int64, len(picked))
    # A store may hand them over as the JSON text it keeps: read once per distinct one.
    lists = [sorted(set(json.loads(p) if isinstance(p, str) else p)) or [NO_CAUSE]
             for p in tables]
    names = sorted({n for found in lists for n in found})
    number = {n: i for i, n in enumerate(names)}
    sizes = np.array([len(found) for found in lists], np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    flat = np.array([number[n] for found in lists for n in found], np.int64)
    size = sizes[which]
    each, left = np.divmod(counted, size)
    row = np.repeat(np.arange(len(rows)), size)
    k = np.arange(len(row)) - np.repeat(np.cumsum(size) - size, size)
    name = flat[offsets[which][row] + k]
    part = each[row] + (k < left[row])
    some = part > 0
    row, name, part = row[some], name[some], part[some]
    key = breaks[row] * len(names) + name
    pairs, inverse = np.unique(key, return_inverse=True)
    total = np.zeros(len(pairs), np.int64)
    np.add.at(total, inverse, part)
    in_plan = np.zeros(len(pairs), np.int64)
    np.add.at(in_plan, inverse, np.where(planned[row], part, 0))
    for pair, whole_part, planned_part in zip(pairs.tolist(), total.tolist(),
                                              in_plan.tolist(), strict=True):
        brk, provider = divmod(pair, len(names))
        shares[brk][names[provider]] = whole_part
        if planned_part:
            planned_shares[brk][names[provider]] = planned_part
    return shares, planned_shares


def _figures(cols: Columns, start: int, end: int, counting: Clock, whole: Clock,
             nodes: Sequence[str], node: np.ndarray, at: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, _Breaks]:
    """Per node (of ``nodes``, numbered as ``node`` numbers the rows) the counted time
    in each state and its planned part, and the breaks."""
    n = len(nodes)
    totals = np.zeros((n, 3), np.int64)  # by node, then state: ok, degraded, down
    planned = np.zeros((n, 3), np.int64)
    period = counting.counted(start, end)
    # A node's state between two of its transitions is that of the first: its rows in
    # time order (ties in the order written), those after the end left out.
    rows = np.nonzero(at < end)[0]
    order = (np.arange(len(cols), dtype=np.int64) if cols.order is None
             else np.asarray(cols.order, np.int64))
    rows = rows[np.lexsort((order[rows], at[rows], node[rows]))]
    nd, t = node[rows], at[rows]
    st = np.asarray(cols.state, np.int8)[rows]
    pl = np.asarray(cols.planned, np.bool_)[rows]
    m = len(rows)
    first = np.ones(m, np.bool_)
    first[1:] = nd[1:] != nd[:-1]
    until = np.full(m, end, np.int64)
    until[:-1] = np.where(first[1:], end, t[1:])
    counted = _counted(counting, np.maximum(t, start), np.minimum(until, end))
    np.add.at(totals, (nd, st), counted)
    marked = pl & (st != int(_OK))
    np.add.at(planned, (nd[marked], st[marked]), counted[marked])
    # Before its first transition (or without any) a node is ok.
    seen = np.zeros(n, np.bool_)
    seen[nd] = True
    totals[~seen, 0] += period
    heads = np.nonzero(first)[0]
    late = heads[t[heads] > start]
    totals[nd[late], 0] += _counted(counting, np.full(len(late), start, np.int64), t[late])
    # A break: a run of down rows of one node, ended by its next row (if any).
    down = st == int(_DOWN)
    after = np.zeros(m, np.bool_)
    after[1:] = down[:-1] & ~first[1:]
    opens = np.nonzero(down & ~after)[0]
    number = np.cumsum(down & ~after) - 1
    duration = np.zeros(len(opens), np.int64)
    in_plan = np.zeros(len(opens), np.int64)
    np.add.at(duration, number[down], counted[down])
    np.add.at(in_plan, number[down & pl], counted[down & pl])
    closes = np.zeros(len(opens), np.int64)
    lasts = np.nonzero(down)[0]
    if len(lasts):
        ends_run = np.ones(len(lasts), np.bool_)
        ends_run[:-1] = number[lasts[1:]] != number[lasts[:-1]]
        closes = lasts[ends_run] + 1
    closed = closes < m
    closed[closed] = ~first[closes[closed]]
    stops = np.where(closed, t[np.minimum(closes, m - 1)] if m else closes, 0)
    recover = _counted(whole, t[opens], stops)
    kept = duration > 0
    renumber = np.cumsum(kept) - 1
    # The shares: only the down rows that count, of the breaks kept.
    sharing = down & (counted > 0)
    shares, planned_shares = _shares(cols, rows[sharing], counted[sharing], pl[sharing],
                                     renumber[number[sharing]], int(kept.sum()))
    causes: list[tuple[Cause, ...]] = []
    if cols.causes is not None:
        given = cols.causes
        runs = np.nonzero(kept)[0]
        for a, b in zip(opens[runs].tolist(), closes[runs].tolist(), strict=True):
            found: dict[str, Cause] = {}
            for i in rows[a:b].tolist():
                for cause in given[i]:
                    found.setdefault(cause.component, cause)
            causes.append(tuple(found[c] for c in sorted(found)))
    else:
        causes = [()] * int(kept.sum())
    breaks = _Breaks(nd[opens][kept].tolist(), t[opens][kept].tolist(),
                     [s if c else None for s, c in zip(stops[kept].tolist(),
                                                       closed[kept].tolist(), strict=True)],
                     duration[kept].tolist(), in_plan[kept].tolist(),
                     [r if c else None for r, c in zip(recover[kept].tolist(),
                                                       closed[kept].tolist(), strict=True)],
                     shares, planned_shares, causes)
    return totals, planned, breaks


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
    return record_of(Columns.of(t for t in transitions if t.layer != OBSERVED), span,
                     hours=hours, as_of=as_of, nodes=nodes, names=names, owners=owners,
                     business_services=business_services, targets=targets)


def record_of(cols: Columns, span: Period, *, hours: Schedule | None = None,
              as_of: int | None = None, nodes: Mapping[str, str] | None = None,
              names: Mapping[str, str] | None = None,
              owners: Mapping[str, str | None] | None = None,
              business_services: Mapping[str, Sequence[str]] | None = None,
              targets: Mapping[str, Fraction | None] | None = None) -> Record:
    """:func:`record` from transitions as columns (of the customer-facing layers
    only), the figures computed over whole arrays rather than row by row. Without
    ``cols.causes`` the breaks list no causes (their shares are computed all the same).
    """
    start, end = span.start, span.end if as_of is None else max(span.start,
                                                                 min(span.end, as_of))
    layers: dict[str, str] = dict(nodes or {})
    # Nodes numbered in the order first seen (the distinct ones found in C, not per row).
    number = {n: i for i, n in enumerate(dict.fromkeys(cols.node))}
    node = np.fromiter(map(number.__getitem__, cols.node), np.int64, len(cols))
    at = _micros(cols.at)
    if len(cols):
        _, heads = np.unique(node, return_index=True)
        for i in heads.tolist():
            layers.setdefault(cols.node[i], cols.layer[i])
    for n in layers:
        number.setdefault(n, len(number))
    ids = list(number)
    earliest = min(start, int(at.min())) if len(at) else start
    whole = clock(earliest, end, span.where, hours)
    counting = Clock([(max(a, start), b) for a, b in zip(whole.starts, whole.ends, strict=True)
                      if b > start]) if earliest < start else whole
    totals, planned, found = _figures(cols, start, end, counting, whole, ids, node, at)
    by_node: dict[int, list[Break]] = defaultdict(list)
    for i, k in enumerate(found.node):
        by_node[k].append(Break(ids[k], found.start[i], found.end[i], found.duration[i],
                                found.planned[i], found.causes[i], found.shares[i],
                                found.recover[i], found.planned_shares[i]))
    period = counting.counted(start, end)
    kept, at_risk, broken = (totals[:, k].tolist() for k in range(3))
    planned_at_risk, planned_broken = planned[:, 1].tolist(), planned[:, 2].tolist()
    order = {layer: i for i, layer in enumerate(LAYERS)}
    names, owners, targets = names or {}, owners or {}, targets or {}
    listed = sorted(layers, key=lambda n: (order.get(layers[n], len(order)), n))
    records = tuple(
        NodeRecord(n, layers[n], period, kept[i], at_risk[i], broken[i], planned_at_risk[i],
                   planned_broken[i], tuple(by_node.get(i, ())), names.get(n), owners.get(n),
                   targets.get(n))
        for n, i in ((n, number[n]) for n in listed))
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
    "period",
    "record",
    "record_of",
    "seconds",
    "share",
    "show",
    "target_of",
    "zone",
]
