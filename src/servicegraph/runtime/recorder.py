"""The recorder: the promise record written as the graph changes, exactly once.

The record (see :mod:`servicegraph.model.record`) holds every transition of the
customer-facing layers (promises, business services, service acts) and of every
observed component. It is derived from the live graph by version, under the
store's write lock:

- a status, an alert delivery or a maintenance window saved or cancelled (a change
  that leaves the structure as it is) writes its own transitions in its
  transaction: the observed states and windows it leaves are computed before it is
  applied (:func:`observed_after`);
- every write transaction first records the version the live graph stands at when
  the record does not reach it yet (the store keeps how far it reaches, and moves
  it in the same transaction as the transitions);
- any other change (pushes, loads, removals) is recorded by
  the writer at once, in a transaction of its own right after the change's; a
  process that dies in between leaves the version to the next write, or to the
  background tick, of any process.

Since writers of every process queue on the store's write lock and the live graph
stands at the store's version inside it, the states recorded for a version are
exactly the states after that change, and each version is recorded once (the
stores also refuse a second transition of one node and layer for one version).
A transition is written only when a node's state, planned mark, causes or inputs
differ from its last transition in the record, so the record is compact, and
whichever process writes it compares with the record itself (followed by its
sequence numbers), never with what it remembers.

Transitions caused by the clock (a maintenance window that starts or ends changes
planned marks) carry no version: they are looked for when a window's start or end
has passed since the last look, and take the moment of that start or end.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from servicegraph.impact.analysis import ImpactResult, analyse
from servicegraph.impact.kernels import carry_firsts
from servicegraph.live.state import LiveGraph
from servicegraph.model.alerts import Alert, Status
from servicegraph.model.graph import Observation
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.maintenance import Window
from servicegraph.model.record import OBSERVED, Cause, Transition
from servicegraph.runtime.questions import Questions, observed_failures
from servicegraph.store.base import Change, WriteView

#: The customer-facing layers the record follows (besides the observed states).
LAYERS = (NodeKind.PROMISE, NodeKind.BUSINESS_SERVICE, NodeKind.SERVICE_ACT)

#: Every layer name of the record.
LAYER_NAMES = (*(k.value for k in LAYERS), OBSERVED)

Key = tuple[str, str]




def failed_behind_all(result: ImpactResult, nodes: Iterable[str]) -> dict[str, list[str]]:
    """:func:`~servicegraph.impact.analysis.failed_behind` of each of ``nodes`` (not ok
    in ``result``), computed from the cause edges of all of them at once (one compiled
    pass per hop) rather than node by node through their explanations."""
    return kept_causes_all(result, nodes, kept=None)


#: The most failed components a transition names one by one. Beyond it (a storm can
#: put thousands behind one promise, and one row per transition must stay small) it
#: names the first by id of each provider's (who must act: the provider, else the
#: owner), so that the providers a break is shared among are those of the whole set.
CAUSES_KEPT = 25


def kept_causes_all(result: ImpactResult, nodes: Iterable[str],
                    kept: int | None = CAUSES_KEPT) -> dict[str, list[str]]:
    """The causes a transition of each of ``nodes`` (not ok in ``result``) names: the
    failed components behind it when there are at most ``kept`` (all of them when
    ``kept`` is ``None``), else the first by id of each provider's among them.

    Each node is followed back through the cause edges only until more than ``kept``
    failed components are found; for the nodes beyond it, the first
    component of each provider behind every node is carried up the cause edges all at
    once (array minima, repeated until nothing changes: cycles included), so a storm
    costs in proportion to its cause edges, not to each node's whole reach.
    """
    p = result.propagation
    idx = p.index
    ids = idx.ids
    asked = list(nodes)
    causes = _cause_lists(result, asked)
    given = p.given
    out: dict[str, list[str]] = {}
    many: list[str] = []
    for node in asked:
        first = idx.position[node]
        seen, todo, failed = {first}, [first], list[int]()
        while todo and (kept is None or len(failed) <= kept):
            v = todo.pop()
            if given.get(v):
                failed.append(v)
            for u in causes.get(v, ()):
                if u not in seen:
                    seen.add(u)
                    todo.append(u)
        if kept is None or len(failed) <= kept:
            out[node] = sorted(ids[v] for v in failed)
        else:
            many.append(node)
    if many:
        out.update(_first_of_each_provider(result, causes, many))
    return out


def _cause_lists(result: ImpactResult, asked: list[str]) -> dict[int, list[int]]:
    """The cause edges (by position) of everything behind ``asked``, found a hop at a
    time, each hop in one compiled pass."""
    p = result.propagation
    idx = p.index
    target = idx.edge_target
    causes: dict[int, list[int]] = {}
    frontier = [idx.position[n] for n in asked]
    while frontier:
        todo = [v for v in dict.fromkeys(frontier) if v not in causes]
        if not todo:
            break
        edges, ends = p.cause_edges(np.fromiter(todo, dtype=np.int64, count=len(todo)))
        found, start, frontier = target[edges].tolist(), 0, []
        for v, end in zip(todo, ends.tolist(), strict=True):
            causes[v] = found[start:end]
            frontier += causes[v]
            start = end
    return causes


def _first_of_each_provider(result: ImpactResult, causes: dict[int, list[int]],
                            nodes: list[str]) -> dict[str, list[str]]:
    """For each of ``nodes``, the first failed component by id of each provider behind
    it (see :func:`kept_causes_all`)."""
    p = result.propagation
    idx = p.index
    ids, who, rank = idx.ids, idx.who_codes, idx.id_rank()
    members = np.fromiter(causes, dtype=np.int64, count=len(causes))
    local = {int(v): k for k, v in enumerate(members.tolist())}
    # Every node behind is followed, so every cause is a member too; members are
    # numbered in the order the hops found them (see carry_firsts).
    start = np.zeros(len(members) + 1, dtype=np.int64)
    np.cumsum([len(us) for us in causes.values()], out=start[1:])
    below = np.fromiter((local[u] for us in causes.values() for u in us), dtype=np.int64,
                        count=int(start[-1]))
    failed = np.fromiter((bool(p.given.get(int(v))) for v in members.tolist()), dtype=bool,
                         count=len(members))
    rows = np.flatnonzero(failed)
    # A column per provider among the failed ones (who must act; -1: nobody named),
    # the id rank of the first failed component of it behind each node, infinite
    # where there is none.
    names, columns = np.unique(who[members[rows]], return_inverse=True)
    firsts = np.full((len(members), max(1, len(names))), np.inf)
    firsts[rows, columns] = rank[members[rows]]
    carry_firsts(firsts, start, below)
    at_rank = {float(rank[v]): ids[v] for v in members[rows].tolist()}
    out: dict[str, list[str]] = {}
    for node in nodes:
        row = firsts[local[idx.position[node]]]
        out[node] = sorted(at_rank[float(r)] for r in row[np.isfinite(row)].tolist())
    return out


def record_states(live: LiveGraph, result: ImpactResult, at: str,
                  observed: Mapping[str, State] | None = None,
                  inputs: Callable[[str], dict[str, Any]] | None = None,
                  windows: Iterable[Window] | None = None,
                  fresh: Collection[str] | None = None,
                  held: Mapping[Key, Transition] | None = None) -> dict[Key, Transition]:
    """What the record holds of ``live`` at ``at``: a transition (of time ``at``, no
    version) for every customer-facing node that is not ok and every component
    observed failing, keyed by (node, layer). ``result`` is the current impact of
    ``live`` (what ``GET /v1/current`` answers); the planned marks are those of the
    maintenance windows active at ``at``. ``observed``, ``inputs`` and ``windows`` stand
    for the observed failures, each one's inputs and the maintenance windows when they
    are not ``live``'s own (a change not applied yet: see :func:`observed_after`).

    With ``fresh`` (the nodes whose explanation may have changed, see :func:`touched`)
    and ``held`` (the record's last transitions), a customer-facing node outside
    ``fresh`` whose state is the one held keeps its held causes and planned mark
    instead of being explained again: explaining is most of a status push's recording.
    Only when no maintenance window covers a failure (planned marks are not reused).
    """
    observed = observed_failures(live) if observed is None else observed
    inputs = inputs or (lambda node: inputs_of(live, node))
    given = live.windows.values() if windows is None else windows
    active = sorted((w for w in given if w.active(at)), key=lambda w: w.id)
    covering: dict[str, str] = {}
    for window in active:
        for component in window.components:
            covering.setdefault(component, window.id)
    planned = {n: covering[n] for n in observed if n in covering}
    # Planned: the failures no window covers would, alone, leave the node ok.
    alone = (analyse(live.index, {n: s for n, s in observed.items() if n not in planned})
             if planned else result)
    nodes: dict[str, Any] = {}

    def cause(component: str, state: State) -> Cause:
        if component not in nodes:
            nodes[component] = live.node(component)
        found = nodes[component]
        return Cause(component, state, found.provider if found else None,
                     found.owner if found else None, component in planned,
                     planned.get(component))

    out: dict[Key, Transition] = {}
    reuse = fresh is not None and held is not None and not planned
    explain: list[tuple[str, str, State]] = []
    for kind in LAYERS:
        for node, state in result.of_kind(kind).items():
            if reuse:
                kept = held.get((node, kind.value))  # type: ignore[union-attr]
                if (kept is not None and kept.state is state and not kept.planned
                        and node not in fresh  # type: ignore[operator]
                        and not any(c.planned for c in kept.causes)):
                    out[(node, kind.value)] = Transition(at, node, kind.value, state,
                                                         kept.planned, kept.causes)
                    continue
            explain.append((node, kind.value, state))
    behind = kept_causes_all(result, (node for node, _, _ in explain))
    for node, layer, state in explain:
        causes = tuple(cause(c, observed.get(c, state)) for c in behind[node])
        out[(node, layer)] = Transition(
            at, node, layer, state, bool(planned) and node not in alone.impacted, causes)
    for node, state in observed.items():
        out[(node, OBSERVED)] = Transition(at, node, OBSERVED, state, node in planned,
                                           (cause(node, state),), inputs=inputs(node))
    return out


def touched(live: LiveGraph, changed: Iterable[str], *results: ImpactResult) -> set[str]:
    """The nodes whose explanation may differ between ``results`` (of one structure,
    observed failures differing in ``changed``): ``changed`` and what depends on them
    through nodes not ok in some result. A node ok in every result is no cause in
    any, so what lies above it only through it keeps its explanation."""
    idx = live.index
    hot: set[str] = set().union(*(r.impacted for r in results))
    source, ids = idx.edge_source, idx.ids
    todo = [idx.position[n] for n in changed if n in idx.position]
    seen = set(todo)
    while todo:
        for e in idx.dependants(todo.pop()).tolist():
            u = int(source[e])
            if u not in seen and ids[u] in hot:
                seen.add(u)
                todo.append(u)
    return {ids[v] for v in seen}


def inputs_of(live: LiveGraph, node: str,
              alerting: Mapping[str, Mapping[tuple[str, str], State]] | None = None,
              statuses: Mapping[str, Observation] | None = None) -> dict[str, Any]:
    """What makes ``node``'s observed state: the firing alerts by source (their
    fingerprints) and the status held, when it is not ok (``alerting`` and
    ``statuses`` override ``live``'s own, node by node)."""
    out: dict[str, Any] = {}
    alerts: dict[str, list[str]] = {}
    held = (alerting or {}).get(node, live.alerting.get(node, {}))
    for source, fingerprint in sorted(held):
        alerts.setdefault(source, []).append(fingerprint)
    if alerts:
        out["alerts"] = alerts
    seen = (statuses or {}).get(node)
    if seen is None:
        v = live.index.position.get(node)
        seen = live.observed.get(v) if v is not None else None
    if seen is not None and seen.state > State.OK:
        out["status"] = {"source": seen.source, "state": seen.state.word}
    return out


def observes_only(change: Change) -> bool:
    """Whether ``change`` writes observations (statuses, alerts) or maintenance windows
    and nothing else: the structure stays as it is, so its transitions can be told
    before it is applied (see :func:`observed_after`)."""
    return (bool(change.observe or change.alerts or change.windows) and not change.replace
            and not change.upsert_nodes and not change.upsert_edges
            and not change.delete_nodes and not change.delete_edges
            and change.sync is None and change.full_sync is None)


def observed_after(live: LiveGraph, change: Change
                   ) -> tuple[dict[str, State], Callable[[str], dict[str, Any]]]:
    """The observed failures once ``change`` (which :func:`observes_only`) is applied
    to ``live``, without applying it, and each failed node's inputs then: the same
    rules as the live graph's (the latest status, the worst firing alert)."""
    idx = live.index
    statuses = dict(change.observe)
    alerting: dict[str, dict[tuple[str, str], State]] = {}
    kept: dict[tuple[str, str], Alert] = {}

    def held(node: str) -> dict[tuple[str, str], State]:
        if node not in alerting:
            alerting[node] = dict(live.alerting.get(node, {}))
        return alerting[node]

    for alert in change.alerts:
        old = kept.get(alert.key, live.alerts.get(alert.key))
        if old is not None and old.node is not None:
            held(old.node).pop(alert.key, None)
        kept[alert.key] = alert
        if alert.node is not None and alert.status is Status.FIRING and alert.state > State.OK:
            held(alert.node)[alert.key] = alert.state
    given = observed_failures(live)
    for node in {*statuses, *alerting}:
        v = idx.position.get(node)
        if v is None or not idx.counted(v):
            continue
        seen = statuses.get(node) or live.observed.get(v)
        state = max([seen.state if seen is not None else State.OK, *held(node).values()])
        if state > State.OK:
            given[node] = state
        else:
            given.pop(node, None)
    return given, lambda node: inputs_of(live, node, alerting, statuses)


def _same(a: Transition, b: Transition) -> bool:
    return (a.state is b.state and a.planned == b.planned and a.causes == b.causes
            and ((not a.inputs and not b.inputs)
                 or json.dumps(a.inputs, sort_keys=True) == json.dumps(b.inputs,
                                                                        sort_keys=True)))


def changes(last: dict[Key, Transition], states: Mapping[Key, Transition], at: str,
            version: int | None) -> list[Transition]:
    """The transitions from the record's ``last`` transitions to ``states`` (a node
    missing from ``states`` is ok), at ``at`` or, for a node whose last transition is
    later, at that (a node's transitions never go back in time); ``last`` is moved on.

    >>> ok = {("a", "promise"): Transition("t1", "a", "promise", State.DOWN)}
    >>> [(t.node, t.state.word, t.at) for t in changes(ok, {}, "t2", 5)]
    [('a', 'ok', 't2')]
    >>> changes(ok, {}, "t3", 6)
    []
    """
    keys = {k for k, t in last.items() if t.state is not State.OK} | set(states)
    out = []
    for key in sorted(keys):
        old = last.get(key)
        new = states.get(key) or Transition(at, key[0], key[1], State.OK)
        if old is None and new.state is State.OK:
            continue
        if old is not None and _same(old, new):
            continue
        moment = max(at, old.at) if old is not None else at
        made = replace(new, at=moment, version=version)
        out.append(made)
        last[key] = made
    return out


@dataclass(frozen=True)
class Noted:
    """What a write transaction adds to the record: its transitions, the version the
    record then reaches (``None``: unchanged), and the moment the clock was looked at
    (``None``: it was not)."""

    rows: tuple[Transition, ...] = ()
    recorded: int | None = None
    clock: str | None = None
    #: The record's last sequence number when the rows were told (they are numbered on
    #: from it), if this process had followed the record that far.
    after: int | None = None
    #: The impact of the graph once the change is applied, by (index key, version):
    #: the next question about the present need not compute it again.
    current: tuple[tuple[tuple[int, int], int], ImpactResult] | None = None

    @property
    def empty(self) -> bool:
        """Whether nothing is to be written."""
        return not self.rows and self.recorded is None


class Recorder:
    """The record's side of one process's writes (used under its write queue)."""

    def __init__(self, questions: Questions) -> None:
        self.questions = questions
        #: The record's last transition of each (node, layer), as far as ``_seq``.
        self._last: dict[Key, Transition] | None = None
        self._seq = 0
        #: When the clock's transitions were last looked for (committed), if ever.
        self._clock: str | None = None
        #: How far the record reached when this process last looked (under the lock).
        self.reach = 0

    def _follow(self, view: WriteView) -> dict[Key, Transition]:
        """The record's last transitions, caught up with what any process wrote."""
        if view.record_seq < self._seq:
            self._last, self._seq = None, 0  # the record was started over (cleared)
        if self._last is not None and view.record_seq == self._seq:
            return self._last  # nobody wrote a transition since this process looked
        rows = view.record_latest() if self._last is None else view.record_after(self._seq)
        last = self._last if self._last is not None else {}
        for seq, t in rows:
            last[(t.node, t.layer)] = t
            self._seq = max(self._seq, seq)
        self._last = last
        return last

    def _followed(self, view: WriteView) -> int | None:
        """The view's last sequence number, when this process followed the record to
        it."""
        return view.record_seq if self._last is not None and self._seq == view.record_seq \
            else None

    def clock_due(self, live: LiveGraph, now: str) -> bool:
        """Whether a maintenance window started or ended since the clock was last
        looked at (always, the first time)."""
        if self._clock is None:
            return True
        since = self._clock
        return any(since < moment <= now for w in live.windows.values()
                   for moment in (w.starts_at, w.ends_at))

    def due(self, view: WriteView, live: LiveGraph, now: str) -> Noted:
        """What the record lacks, holding the store's write lock, with ``live`` at the
        view's version: the transitions of that version when the record does not reach
        it yet, then those the clock caused."""
        self.reach = view.recorded
        pending = view.recorded < live.version
        clock = self.clock_due(live, now)
        if not pending and not clock:
            return Noted()
        last = dict(self._follow(view))
        result = self.questions.current_on(live)
        rows: list[Transition] = []
        if pending:
            at = view.entry_at(live.version) or now
            rows += changes(last, record_states(live, result, at), at, live.version)
        if clock:
            passed = [m for w in live.windows.values() for m in (w.starts_at, w.ends_at)
                      if m <= now and (self._clock is None or m > self._clock)]
            rows += changes(last, record_states(live, result, now),
                            max(passed) if passed else now, None)
        return Noted(tuple(rows), live.version if pending else None,
                     now if clock else None, self._followed(view))

    def own(self, view: WriteView, live: LiveGraph, change: Change, at: str,
            prior: Noted) -> Noted:
        """``prior`` (what :meth:`due` found) and the transitions of ``change`` itself,
        which :func:`observes_only`, told before it is applied: written in its own
        transaction, of the version it will have."""
        last = dict(self._follow(view))
        for t in prior.rows:
            last[(t.node, t.layer)] = t
        version = view.version + 1
        given, inputs = observed_after(live, change)
        windows = {**live.windows, **{w.id: w for w in change.windows}}
        before = self.questions.current_on(live)
        fresh: set[str] | None = None
        if change.observe or change.alerts:
            result = analyse(live.index, given)
            if not change.windows:
                # Only what lies above a changed observation is explained again.
                old = observed_failures(live)
                fresh = touched(live, [n for n in {*old, *given}
                                       if old.get(n) is not given.get(n)], before, result)
        else:
            result = before
        states = record_states(live, result, at, given, inputs, windows.values(),
                               fresh=fresh, held=last)
        return Noted((*prior.rows, *changes(last, states, at, version)), version,
                     prior.clock, self._followed(view), ((live.index.key, version), result))

    def done(self, noted: Noted) -> None:
        """``noted`` was committed."""
        if noted.clock is not None:
            self._clock = noted.clock
        if noted.recorded is not None:
            self.reach = max(self.reach, noted.recorded)
        if noted.current is not None:
            self.questions.keep_current(*noted.current)
        if noted.rows and noted.after is not None and self._last is not None \
                and self._seq == noted.after:
            # The stores number a transaction's rows on from the last number, in the
            # order given: follow them here rather than read them back on the next write.
            for t in noted.rows:
                self._last[(t.node, t.layer)] = t
            self._seq = noted.after + len(noted.rows)


__all__ = [
    "LAYERS",
    "LAYER_NAMES",
    "Noted",
    "Recorder",
    "changes",
    "failed_behind_all",
    "inputs_of",
    "observed_after",
    "observes_only",
    "record_states",
    "touched",
]
