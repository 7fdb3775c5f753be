"""Planned changes judged by their service impact before they happen.

Each change takes some components down (or degrades them) for a time window.
Its impact alone is what the change owner signs off; the dangerous case is two
changes that each look harmless but overlap in time, e.g. two members of a
2-of-3 redundancy group taken by two different teams. Those pairs are flagged
as conflicts with the nodes that fare worse together than under either alone.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations
from typing import Any

from servicegraph.impact.analysis import ImpactResult, analyse
from servicegraph.impact.engine import propagate
from servicegraph.impact.index import GraphIndex
from servicegraph.model.kinds import NodeKind, State


@dataclass(frozen=True)
class PlannedChange:
    """A change that puts ``components`` in ``state`` from ``start`` until ``end``.

    The window is half-open: a change ending at 10:00 does not overlap one
    starting at 10:00. Times are compared as given, so use timezone-aware
    datetimes throughout (or naive ones throughout).

    >>> from datetime import datetime
    >>> PlannedChange("c1", ("web-1",), datetime(2030, 1, 1, 22), datetime(2030, 1, 1, 23)).state
    <State.DOWN: 2>
    """

    id: str
    components: tuple[str, ...]
    start: datetime
    end: datetime
    state: State = State.DOWN

    def __post_init__(self) -> None:
        # A list from a JSON body would make the value unhashable; keep it a tuple.
        object.__setattr__(self, "components", tuple(self.components))
        if not self.components:
            raise ValueError(f"change {self.id!r}: names no components")
        if _aware(self.start) != _aware(self.end):
            raise ValueError(f"change {self.id!r}: start and end must both be "
                             "timezone-aware or both naive")
        if not self.end > self.start:
            raise ValueError(f"change {self.id!r}: end {self.end.isoformat()} is not after "
                             f"start {self.start.isoformat()}")
        if self.state <= State.OK:
            raise ValueError(f"change {self.id!r}: state must be degraded or down")

    def overlaps(self, other: PlannedChange) -> bool:
        """Whether the two windows share some time."""
        return self.start < other.end and other.start < self.end

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO 8601 times)."""
        return {"id": self.id, "components": list(self.components),
                "start": self.start.isoformat(), "end": self.end.isoformat(),
                "state": self.state.word}


def _aware(t: datetime) -> bool:
    return t.tzinfo is not None and t.utcoffset() is not None


@dataclass(frozen=True)
class Conflict:
    """Overlapping changes that together do worse than each does alone.

    ``worse`` holds every node whose state with the changes running together
    is worse than the worst either change gives it alone, with that state;
    ``broken_promises`` and ``at_risk_promises`` are the promises among them.
    """

    changes: tuple[str, ...]
    start: datetime
    end: datetime
    worse: Mapping[str, State]
    broken_promises: tuple[str, ...] = ()
    at_risk_promises: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO 8601 times)."""
        return {"changes": list(self.changes), "start": self.start.isoformat(),
                "end": self.end.isoformat(),
                "worse": {n: s.word for n, s in sorted(self.worse.items())},
                "broken_promises": list(self.broken_promises),
                "at_risk_promises": list(self.at_risk_promises)}


@dataclass(frozen=True)
class ChangeAssessment:
    """The impact of each change alone (by change id, in input order) and the conflicts."""

    impacts: Mapping[str, ImpactResult]
    conflicts: tuple[Conflict, ...]
    changes: tuple[PlannedChange, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: per change its window and impact, then the conflicts."""
        windows = {c.id: c for c in self.changes}
        out: dict[str, Any] = {}
        for change_id, result in self.impacts.items():
            entry: dict[str, Any] = {}
            change = windows.get(change_id)
            if change is not None:
                entry["window"] = {"start": change.start.isoformat(),
                                   "end": change.end.isoformat()}
                entry["components"] = list(change.components)
                entry["state"] = change.state.word
            entry["broken_promises"] = result.broken_promises
            entry["at_risk_promises"] = result.at_risk_promises
            entry["impacted"] = {n: s.word for n, s in sorted(result.impacted.items())}
            out[change_id] = entry
        return {"changes": out, "conflicts": [c.to_dict() for c in self.conflicts]}


def _check(changes: Sequence[PlannedChange]) -> None:
    counts = Counter(c.id for c in changes)
    dupes = sorted(change_id for change_id, n in counts.items() if n > 1)
    if dupes:
        raise ValueError(f"duplicate change id(s): {', '.join(dupes)}")
    if len({_aware(c.start) for c in changes}) > 1:
        raise ValueError("changes mix timezone-aware and naive times: use one or the other")


def _scenario(change: PlannedChange) -> dict[str, State]:
    return dict.fromkeys(change.components, change.state)


def _conflict(index: GraphIndex, a: PlannedChange, b: PlannedChange,
              alone_a: Mapping[str, State], alone_b: Mapping[str, State]) -> Conflict | None:
    given: dict[int, int] = {}
    for change in (a, b):
        for pos in index.lookup(change.components):
            given[pos] = max(given.get(pos, 0), int(change.state))
    together = propagate(index, given).state
    worse: dict[str, State] = {}
    for node, s in together.items():
        node_id = index.ids[node]
        if s > max(alone_a.get(node_id, State.OK), alone_b.get(node_id, State.OK)):
            worse[node_id] = State(s)
    if not worse:
        return None
    promises = sorted(n for n in worse if index.kind(index.position[n]) is NodeKind.PROMISE)
    return Conflict(
        (a.id, b.id), max(a.start, b.start), min(a.end, b.end), worse,
        tuple(n for n in promises if worse[n] == State.DOWN),
        tuple(n for n in promises if worse[n] == State.DEGRADED),
    )


def assess_changes(index: GraphIndex, changes: Sequence[PlannedChange]) -> ChangeAssessment:
    """Impact of each planned change alone, and conflicts between overlapping pairs.

    Parameters
    ----------
    index : GraphIndex
        The graph, left untouched.
    changes : sequence of PlannedChange
        The changes, with unique ids.

    Returns
    -------
    ChangeAssessment
        ``impacts`` by change id in input order; ``conflicts`` for each pair of
        changes whose windows overlap and whose combined scenario leaves some node
        worse than either change alone, ordered by start of the overlap, then by
        input order.

    Raises
    ------
    UnknownNodeError
        Naming every unknown component of every change.
    ValueError
        On duplicate change ids, or aware and naive times mixed across changes.

    Examples
    --------
    >>> from datetime import datetime, timezone
    >>> from servicegraph.model import Edge, GraphData, Node
    >>> g = GraphData.of(
    ...     [Node("p", NodeKind.PROMISE, "P"),
    ...      Node("tier", NodeKind.SERVICE_SYSTEM, "Tier", redundancy={"web": 2}),
    ...      *(Node(f"w{i}", NodeKind.CI, f"W{i}") for i in (1, 2, 3))],
    ...     [Edge("p", "tier"), *(Edge("tier", f"w{i}", "web") for i in (1, 2, 3))])
    >>> at = lambda h: datetime(2030, 1, 1, h, tzinfo=timezone.utc)
    >>> result = assess_changes(GraphIndex.from_graph(g), [
    ...     PlannedChange("patch-w1", ("w1",), at(20), at(22)),
    ...     PlannedChange("patch-w2", ("w2",), at(21), at(23))])
    >>> result.impacts["patch-w1"].at_risk_promises, result.conflicts[0].broken_promises
    (['p'], ('p',))
    """
    _check(changes)
    # Every unknown component of every change in one error, each named once.
    index.lookup(list(dict.fromkeys(c for change in changes for c in change.components)))
    impacts = {c.id: analyse(index, _scenario(c)) for c in changes}
    found: list[tuple[datetime, int, int, Conflict]] = []
    for (i, a), (j, b) in combinations(enumerate(changes), 2):
        if not a.overlaps(b):
            continue
        conflict = _conflict(index, a, b, impacts[a.id].impacted, impacts[b.id].impacted)
        if conflict is not None:
            found.append((conflict.start, i, j, conflict))
    found.sort(key=lambda t: t[:3])
    return ChangeAssessment(impacts, tuple(t[3] for t in found), tuple(changes))
