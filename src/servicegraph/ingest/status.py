"""Observed states pushed by integrators (monitoring), keyed like any push."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.graph import GraphData, Node, Observation
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


def iso(moment: datetime) -> str:
    """A UTC ISO-8601 text that sorts in time order."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_updates(raw: Sequence[Mapping[str, Any]], *, now: datetime) -> list[StatusUpdate]:
    """Read ``[{"id" | "external_id", "state", "at"?}]``, naming every bad item."""
    problems: list[Problem] = []
    out: list[StatusUpdate] = []
    for i, item in enumerate(raw):
        ident = item.get("id") or item.get("external_id")
        label = repr(ident) if ident else "?"
        if not isinstance(ident, str):
            problems.append(Problem("statuses", i, label, "id", "id or external_id required"))
            continue
        try:
            state = State.parse(str(item.get("state")))
        except ValueError as exc:
            problems.append(Problem("statuses", i, label, "state", str(exc)))
            continue
        at = item.get("at")
        if at is None:
            moment = now
        elif isinstance(at, datetime):
            moment = at
        else:
            try:
                moment = datetime.fromisoformat(str(at))
            except ValueError:
                problems.append(Problem("statuses", i, label, "at",
                                        f"not an ISO-8601 time: {at!r}"))
                continue
        if moment.tzinfo is None:
            problems.append(Problem("statuses", i, label, "at",
                                    "needs a time zone, e.g. 2026-11-23T10:00:00Z"))
            continue
        out.append(StatusUpdate(state, moment, item.get("id"), item.get("external_id")))
    if problems:
        raise ValidationError(problems)
    return out


def plan_status(current: GraphData, source: str, updates: Sequence[StatusUpdate]) -> StatusPlan:
    """Apply observations to the live graph; unknown items are refused whole.

    An observation older than the one stored for the node is ignored (counted
    as stale), so updates that arrive out of order cannot roll the state back.
    """
    live = {n.id: n for n in current.nodes if n.retired_at is None}
    by_key = {c.key: n.id for n in live.values() for c in n.claims if c.source == source}
    problems: list[Problem] = []
    changed: dict[str, Node] = {}
    stale = 0
    for i, update in enumerate(updates):
        node_id = update.id if update.id is not None else by_key.get(update.external_id or "")
        if node_id is None or node_id not in live:
            ident = update.id or update.external_id
            problems.append(Problem("statuses", i, repr(ident), "id" if update.id else
                                    "external_id", f"no live node {ident!r}"
                                    + ("" if update.id else f" pushed by source {source!r}")))
            continue
        node = changed.get(node_id, live[node_id])
        at = iso(update.at)
        if node.observed is not None and node.observed.at > at:
            stale += 1
            continue
        changed[node_id] = node.with_changes(observed=Observation(update.state, at, source))
    if problems:
        raise ValidationError(problems)
    nodes = tuple(n for n in changed.values() if n.observed != live[n.id].observed)
    return StatusPlan(source, nodes, stale, len(updates) - stale)
