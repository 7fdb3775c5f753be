"""Observed states pushed by integrators (monitoring), keyed like any push."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from servicegraph.model.bounds import text_problem
from servicegraph.model.errors import Problem, ValidationError, show
from servicegraph.model.graph import Node
from servicegraph.model.kinds import State


@dataclass(frozen=True)
class StatusUpdate:
    """One observation: the node (by id, or by this source's external id), its state
    and when it was observed (timezone-aware)."""

    state: State
    at: datetime
    id: str | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class StatusPlan:
    """What a status push changes: updated nodes, and updates older than what is known."""

    source: str
    nodes: tuple[Node, ...]
    stale: int
    applied: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready answer."""
        return {"source": self.source, "applied": self.applied, "stale": self.stale,
                "changed": [n.id for n in self.nodes]}


#: How far ahead of the server's clock an observation may be (clocks drift).
MAX_SKEW = timedelta(seconds=300)


def observed_moment(at: Any, now: datetime, max_skew: timedelta) -> datetime | str:
    """The observation time in UTC, or what is wrong with it."""
    if at is None:
        return now.astimezone(UTC)
    if isinstance(at, datetime):
        moment = at
    elif isinstance(at, str) and len(at) <= 64:
        try:
            # RFC 3339 allows a lower-case "t" and "z"; Python's parser does not.
            moment = datetime.fromisoformat(at.upper())
        except ValueError:
            return f"not an ISO-8601 time: {show(at)}"
    else:
        return f"not an ISO-8601 time: {show(at)}"
    if moment.tzinfo is None:
        return "needs a time zone, e.g. 2026-11-23T10:00:00Z"
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return f"out of range: {show(at)} falls outside the years 1 to 9999 in UTC"
    ahead = moment - now
    if ahead > max_skew:
        # A clock running ahead would make every later real observation "stale".
        return (f"in the future: {show(at)} is {ahead.total_seconds():.0f} s ahead of the "
                f"server's clock (at most {max_skew.total_seconds():.0f} s allowed); check "
                "the source's clock")
    return moment


def parse_updates(raw: Sequence[Mapping[str, Any]], *, now: datetime,
                  max_skew: timedelta = MAX_SKEW) -> list[StatusUpdate]:
    """Read ``[{"id" | "external_id", "state", "at"?}]``, naming every bad item.

    ``at`` defaults to ``now``; a time more than ``max_skew`` after ``now`` is
    refused, since it would make every later real observation of the node stale.
    Times are returned in UTC.

    >>> from datetime import datetime, UTC
    >>> now = datetime(2026, 11, 23, 8, tzinfo=UTC)
    >>> parse_updates([{"id": "a", "state": "down", "at": "2026-11-23T09:00:00+02:00"}],
    ...               now=now)[0].at.isoformat()
    '2026-11-23T07:00:00+00:00'
    >>> parse_updates([{"id": "a", "state": "down", "at": "2026-11-23T09:00:00Z"}], now=now)
    Traceback (most recent call last):
    ...
    servicegraph.model.errors.ValidationError: 1 problem(s), nothing written: \
statuses[0] ('a'): at: in the future: '2026-11-23T09:00:00Z' is 3600 s ahead ...
    """
    problems: list[Problem] = []
    out: list[StatusUpdate] = []
    for i, item in enumerate(raw):
        ident = item.get("id") or item.get("external_id")
        field = "id" if item.get("id") else "external_id"
        label = show(ident) if ident else "?"
        if not isinstance(ident, str):
            problems.append(Problem("statuses", i, label, "id", "id or external_id required"))
            continue
        wrong = text_problem(ident, "identifier")
        if wrong:
            problems.append(Problem("statuses", i, label, field, wrong))
            continue
        word = item.get("state")
        try:
            if not isinstance(word, str) or len(word) > 20:
                raise ValueError(f"unknown state {show(word)}: use ok, degraded or down")
            state = State.parse(word)
        except ValueError as exc:
            problems.append(Problem("statuses", i, label, "state", str(exc)))
            continue
        moment = observed_moment(item.get("at"), now, max_skew)
        if isinstance(moment, str):
            problems.append(Problem("statuses", i, label, "at", moment))
            continue
        out.append(StatusUpdate(state, moment, item.get("id"), item.get("external_id")))
    if problems:
        raise ValidationError(problems)
    return out
