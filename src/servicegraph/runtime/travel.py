"""Time travel and the timeline: answers read from the promise record.

The record keeps, with each transition, the causes as they stood and their providers
and owners, so what ``GET /v1/current`` answered at a past moment is rebuilt from the
last transition of each node at or before it, with no structure of the graph of that
time (and without the graph as it is now).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from servicegraph.ingest.status import observed_moment
from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.record import OBSERVED, Transition
from servicegraph.model.times import iso

#: What a time-travel answer says of the structure it used.
STRUCTURE = {
    "used": "record",
    "detail": ("rebuilt from the promise record: each transition keeps the failed "
               "components behind it with their providers and owners as they stood, so "
               "no structure of the graph at that moment is needed, and the graph as it "
               "is now is not used"),
}


def travel_moment(at: str, *, now: datetime, max_skew: timedelta, record_days: float,
                  field: str = "at") -> str:
    """``at`` (ISO 8601 with a time zone) as the record writes times, in UTC; raises
    :class:`ValidationError` naming it when it cannot be read, lies further ahead of
    ``now`` than ``max_skew``, or before what the record keeps (``record_days``).

    >>> now = datetime(2030, 1, 2, tzinfo=UTC)
    >>> travel_moment("2030-01-01T12:00:00+02:00", now=now, max_skew=timedelta(0),
    ...               record_days=400)
    '2030-01-01T10:00:00.000000Z'
    >>> travel_moment("2031-01-01T00:00:00Z", now=now, max_skew=timedelta(0),
    ...               record_days=400)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    servicegraph.model.errors.ValidationError: 1 problem(s), ...: at: in the future...
    """
    found = observed_moment(at, datetime.max.replace(tzinfo=UTC), timedelta(0))
    if isinstance(found, str):
        raise ValidationError([Problem("query", None, repr(at), field, found)])
    ahead = found - now
    if ahead > max_skew:
        raise ValidationError([Problem(
            "query", None, repr(at), field,
            f"in the future: {at!r} is {ahead.total_seconds():.0f} s ahead of the server's "
            f"clock (at most {max_skew.total_seconds():.0f} s allowed): the record tells "
            "what was, not what will be")])
    kept = now - timedelta(days=record_days)
    if found < kept:
        raise ValidationError([Problem(
            "query", None, repr(at), field,
            f"older than the record keeps: it reaches back {record_days:g} days, to "
            f"{iso(kept)} (SERVICEGRAPH_RECORD_DAYS)")])
    return iso(found)


def moment_of(text: str, field: str) -> str:
    """``text`` (ISO 8601 with a time zone) as the record writes times, in UTC; raises
    :class:`ValidationError` naming ``field`` when it cannot be read.

    >>> moment_of("2030-01-01T01:00:00+01:00", "from")
    '2030-01-01T00:00:00.000000Z'
    """
    found = observed_moment(text, datetime.max.replace(tzinfo=UTC), timedelta(0))
    if isinstance(found, str):
        raise ValidationError([Problem("query", None, repr(text), field, found)])
    return iso(found)


def answer_at(at: str, last: Iterable[Transition], *, reaches: int) -> dict[str, Any]:
    """What ``GET /v1/current`` answered at ``at``, from the record's last transition
    of each node at or before it (see :meth:`~servicegraph.store.base.RecordStore.
    record_last`): the broken and at-risk promises, the service acts and business
    services not ok, each explained by its recorded causes (with their providers and
    planned marks), the providers whose components failed, the planned part, and the
    components observed failing with what was observed.
    """
    layers: dict[str, dict[str, Transition]] = {}
    for t in last:
        if t.state is not State.OK:
            layers.setdefault(t.layer, {})[t.node] = t
    promises = layers.get(NodeKind.PROMISE.value, {})
    acts = layers.get(NodeKind.SERVICE_ACT.value, {})
    services = layers.get(NodeKind.BUSINESS_SERVICE.value, {})
    observed = layers.get(OBSERVED, {})
    explained = {**promises, **acts, **services}
    providers: dict[str, set[str]] = {}
    for t in [*explained.values(), *observed.values()]:
        for cause in t.causes:
            # As the current impact names them: the provider, else the owner.
            name = cause.accountable
            providers.setdefault(name, set()).add(cause.component)
    planned_components = {c.component: c.window for t in observed.values()
                          for c in t.causes if c.planned}
    return {
        "at": at,
        "structure": STRUCTURE,
        "counts": {"promises_broken": sum(t.state is State.DOWN for t in promises.values()),
                   "promises_at_risk": sum(t.state is State.DEGRADED
                                           for t in promises.values()),
                   "service_acts": len(acts), "business_services": len(services),
                   "observed": len(observed), "providers": len(providers)},
        "broken_promises": sorted(p for p, t in promises.items() if t.state is State.DOWN),
        "at_risk_promises": sorted(p for p, t in promises.items()
                                   if t.state is State.DEGRADED),
        "service_acts": {a: acts[a].state.word for a in sorted(acts)},
        "business_services": {s: services[s].state.word for s in sorted(services)},
        "explanations": {n: _explained(explained[n]) for n in sorted(explained)},
        "providers": [{"provider": p, "failed": sorted(providers[p])}
                      for p in sorted(providers)],
        "planned": {"promises": sorted(p for p, t in promises.items() if t.planned),
                    "components": dict(sorted(planned_components.items()))},
        "observed": {n: {"state": t.state.word, "since": t.at, "planned": t.planned,
                         "inputs": dict(t.inputs)} for n, t in sorted(observed.items())},
        "record": {"reaches": reaches},
    }


def _explained(t: Transition) -> dict[str, Any]:
    return {"state": t.state.word, "since": t.at, "version": t.version,
            "planned": t.planned, "causes": [c.to_dict() for c in t.causes]}


def admitted(rows: Iterable[Transition], *, owners: Sequence[str] | None,
             providers: Sequence[str] | None, owner_of: dict[str, str | None]
             ) -> list[Transition]:
    """The transitions (in time order) that pass the timeline's owner and provider
    filters: an owner matches the node's owner (``owner_of``) or a cause's; a provider
    matches who must act for a cause (its ``accountable``). The transition that follows
    a matching one of the same node is kept too, so that a recovery (which has no
    causes) ends what the filter showed."""
    def matches(t: Transition) -> bool:
        if owners is not None and owner_of.get(t.node) not in owners and not any(
                c.owner in owners for c in t.causes):
            return False
        return providers is None or any(c.accountable in providers
                                        for c in t.causes)

    shown: set[tuple[str, str]] = set()
    out = []
    for t in rows:
        key = (t.node, t.layer)
        if matches(t):
            shown.add(key)
            out.append(t)
        elif key in shown:
            shown.discard(key)
            out.append(t)
    return out


def now_utc() -> datetime:
    """The server's clock."""
    return datetime.now(UTC)


__all__ = ["STRUCTURE", "admitted", "answer_at", "moment_of", "now_utc", "travel_moment"]
