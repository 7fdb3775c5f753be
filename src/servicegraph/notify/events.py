"""Promise events as subscribers receive them: what changed, why, who must act.

An event is derived by comparing what the dispatcher recorded last of each promise
(its state, whether its breakage is planned, whether it counts as acknowledged, and
the failed components behind it) with the same at the version it has caught up to.
Its data carries what the dependency explorer's panel shows for the promise: the
previous and new state, the explanation (chain, rule, causes with their headroom),
the providers who must act (those of the failed components behind the promise), the
firing alerts behind those components, the planned mark with its windows, and the
acknowledgements.

The kinds of event, for one promise between two derivations:

- ``broken``, ``at_risk``, ``recovered``: its state changed (to down, degraded, ok), or
  a breakage that was planned no longer is (its window ended, or an unplanned cause
  joined);
- ``planned``: it broke (or went at risk) only by planned work, or a breakage became
  the planned work's alone; told instead of ``broken`` or ``at_risk``;
- ``new_cause``: still broken or at risk in the same state, with a failed component
  behind it that was not there before (``new_causes`` names them);
- ``acknowledged``: it came to count as acknowledged while broken or at risk (told
  beside the others of the same derivation).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from servicegraph.impact.analysis import ImpactResult, failed_behind
from servicegraph.impact.explain import Explanation
from servicegraph.impact.index import KIND_CODE
from servicegraph.live.state import LiveGraph
from servicegraph.model.kinds import NodeKind, State
from servicegraph.runtime.questions import alerts_behind

#: Every kind of event (see the module's description).
KINDS = ("broken", "at_risk", "recovered", "planned", "acknowledged", "new_cause")

#: The namespace of event ids: an id is a function of the change, so the same change
#: told twice (at least once) carries the same id.
_NAMESPACE = uuid.UUID("6f1c1e0c-4a43-4f0b-9a51-5e2c6b1f0d7a")


def kind_of(state: State) -> str:
    """The kind of event a promise's new state makes.

    >>> kind_of(State.DOWN), kind_of(State.DEGRADED), kind_of(State.OK)
    ('broken', 'at_risk', 'recovered')
    """
    return {State.DOWN: "broken", State.DEGRADED: "at_risk"}.get(state, "recovered")


@dataclass(frozen=True)
class Mark:
    """What the dispatcher records of a promise at a derivation (ok promises are not
    recorded). ``failed`` is ``None`` when not recorded (a cursor written before it
    was): no ``new_cause`` is told against it."""

    state: State
    planned: bool = False
    acknowledged: bool = False
    failed: tuple[str, ...] | None = ()

    def to_dict(self) -> dict[str, Any]:
        """The stored form."""
        return {"state": self.state.word, "planned": self.planned,
                "acknowledged": self.acknowledged,
                "failed": None if self.failed is None else list(self.failed)}

    @classmethod
    def from_stored(cls, raw: Any) -> Mark:
        """Inverse of :meth:`to_dict`; a bare state word is a cursor's older form."""
        if isinstance(raw, str):
            return cls(State.parse(raw), failed=None)
        failed = raw.get("failed")
        return cls(State.parse(raw["state"]), bool(raw.get("planned")),
                   bool(raw.get("acknowledged")), None if failed is None else tuple(failed))


OK_MARK = Mark(State.OK)


def states_text(marks: Mapping[str, Mark]) -> str:
    """The stored form of promise marks (only those not ok).

    >>> states_text({"p": Mark(State.DOWN, failed=("db",)), "q": OK_MARK})
    '{"p": {"acknowledged": false, "failed": ["db"], "planned": false, "state": "down"}}'
    """
    return json.dumps({p: m.to_dict() for p, m in sorted(marks.items())
                       if m.state > State.OK}, sort_keys=True)


def states_from(text: str) -> dict[str, Mark]:
    """Inverse of :func:`states_text` (also reads the older form, state words alone).

    >>> states_from('{"p": "down"}')["p"].failed is None
    True
    """
    return {p: Mark.from_stored(raw) for p, raw in json.loads(text or "{}").items()}


#: Components an event lists for each provider (the first by id), failed and affected
#: apart; the others are counted (``failed_omitted``, ``affected_omitted``): in a storm
#: a provider can have thousands behind one promise.
LISTED = 25

#: The kinds a provider is named for (as the impact's providers are).
_COMPONENT_CODES = frozenset(KIND_CODE[k] for k in (NodeKind.SERVICE_SYSTEM, NodeKind.CI))


class Behind:
    """The failed components behind promises of one result, each node explained once
    (promises share most of what is behind them), and who must act for them."""

    def __init__(self, result: ImpactResult) -> None:
        self.result = result
        self._explained: dict[str, Explanation | None] = {}
        self._traced: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {}
        self._rank: dict[str, int] | None = None

    def traced(self, promise: str) -> tuple[tuple[str, ...], frozenset[str]]:
        """The failed components the promise's state traces back to (through its
        causes), in id order (see :func:`~servicegraph.impact.analysis.failed_behind`),
        and every node those causes pass through."""
        found = self._traced.get(promise)
        if found is None:
            seen: set[str] = set()
            failed = tuple(failed_behind(self.result, promise, self._explained, seen))
            found = self._traced[promise] = (failed, frozenset(seen))
        return found

    def failed(self, promise: str) -> tuple[str, ...]:
        """The failed components behind the promise, in id order."""
        return self.traced(promise)[0]

    def calls(self, promise: str, live: LiveGraph) -> list[dict[str, Any]]:
        """Who must act for the promise: the providers of the failed components behind
        it, in the order of the whole answer's providers (those who must act first,
        then by name), each with those components and the impacted ones of theirs the
        causes pass through; at most :data:`LISTED` of each, in id order, the others
        counted (``failed_omitted``, ``affected_omitted``)."""
        failed, seen = self.traced(promise)
        rank = self._rank
        if rank is None:  # the whole answer's order, computed once per result
            rank = self._rank = {c.provider: k for k, c in enumerate(self.result.providers())}
        idx, impacted = live.index, self.result.impacted
        failed_set = set(failed)
        lists: dict[str, tuple[list[str], list[str]]] = {}
        for node in sorted(seen):
            if node not in impacted:
                continue
            v = idx.position.get(node)
            code = -1 if v is None else int(idx.who_codes[v])
            if code < 0 or int(idx.kind_codes[v]) not in _COMPONENT_CODES:
                continue
            mine = lists.setdefault(idx.who_names[code], ([], []))
            mine[0 if node in failed_set else 1].append(node)
        told = sorted((p for p, (f, _) in lists.items() if f),
                      key=lambda p: (rank.get(p, len(rank)), p))
        return [{"provider": p, "failed": lists[p][0][:LISTED],
                 "failed_omitted": max(0, len(lists[p][0]) - LISTED),
                 "affected": lists[p][1][:LISTED],
                 "affected_omitted": max(0, len(lists[p][1]) - LISTED)} for p in told]


def marks_of(states: Mapping[str, State], planned: Mapping[str, Any],
             acknowledged: Mapping[str, Any],
             failed: Callable[[str], tuple[str, ...]]) -> dict[str, Mark]:
    """The marks of the promises not ok among ``states`` (see :class:`Mark`), from the
    planned and acknowledged parts of the current impact and ``failed``, the failed
    components behind a promise."""
    planned_set = set(planned.get("promises", ()))
    acked_set = set(acknowledged.get("promises", ()))
    return {p: Mark(s, p in planned_set, p in acked_set, failed(p))
            for p, s in states.items() if s > State.OK}


def kinds_between(before: Mark, after: Mark) -> list[tuple[str, tuple[str, ...]]]:
    """The events a promise's change from ``before`` to ``after`` makes, in the order
    told: each kind with the new causes it names (``new_cause`` only).

    >>> down = Mark(State.DOWN, failed=("a",))
    >>> kinds_between(OK_MARK, down), kinds_between(down, OK_MARK)
    ([('broken', ())], [('recovered', ())])
    >>> kinds_between(OK_MARK, Mark(State.DOWN, planned=True, failed=("a",)))
    [('planned', ())]
    >>> kinds_between(down, Mark(State.DOWN, failed=("a", "b")))
    [('new_cause', ('b',))]
    >>> kinds_between(down, Mark(State.DOWN, acknowledged=True, failed=("a",)))
    [('acknowledged', ())]
    """
    told: list[tuple[str, tuple[str, ...]]] = []
    if after.state == State.OK:
        return [("recovered", ())] if before.state > State.OK else []
    if after.state != before.state or after.planned != before.planned:
        told.append(("planned" if after.planned else kind_of(after.state), ()))
    elif before.failed is not None and after.failed is not None:
        new = tuple(c for c in after.failed if c not in set(before.failed))
        if new:
            told.append(("new_cause", new))
    if after.acknowledged and not (before.acknowledged and before.state > State.OK):
        told.append(("acknowledged", ()))
    return told


#: Failed components whose firing alerts an event lists (the first by id); the others
#: are counted (``alerts_omitted``): an event of a storm stays small, and the outbox
#: write of a storm's events with it.
ALERTED = 100


def event_data(live: LiveGraph, result: ImpactResult, promise: str, previous: State,
               state: State, version: int, at: str,
               planned: Mapping[str, Any] | None = None, *,
               kind: str | None = None, acknowledged: Mapping[str, Any] | None = None,
               new_causes: Sequence[str] = (),
               behind: Behind | None = None) -> dict[str, Any]:
    """The data of one promise event (see the module's description); ``planned`` is
    the planned part of the current impact (see
    :func:`~servicegraph.impact.planned.planned_marks`): a breakage that is the
    planned work's is marked ``planned``, with the active windows behind it;
    ``acknowledged`` its acknowledged part (see
    :func:`~servicegraph.impact.acknowledged.acknowledged_marks`): the event says
    whether the promise counts as acknowledged, and names the acknowledgements of it
    and of the failed components behind it. ``kind`` defaults to the kind the state
    makes."""
    node = live.node(promise)
    explained = result.explain(promise) if state > State.OK else None
    behind = behind or Behind(result)
    failed = list(behind.failed(promise)) if state > State.OK else []
    behind_set = set(failed)
    acks = (acknowledged or {}).get("nodes", {}) if state > State.OK else {}
    providers = behind.calls(promise, live) if state > State.OK else []
    alerted = [f for f in failed if f in live.alerting]
    idx = live.index
    services = sorted(d for d in live.neighbours().needs(promise)
                      if (v := idx.position.get(d)) is not None
                      and live.node_at(v).kind is NodeKind.BUSINESS_SERVICE)
    return {"promise": promise, "name": node.name if node else promise,
            "owner": node.owner if node else None, "business_services": services,
            "kind": kind or kind_of(state), "previous": previous.word, "state": state.word,
            "version": version, "at": at,
            "explanation": explained.to_dict() if explained else None,
            "providers": providers, "alerts": alerts_behind(live, alerted[:ALERTED]),
            "alerts_omitted": max(0, len(alerted) - ALERTED),
            "planned": state > State.OK and promise in (planned or {}).get("promises", ()),
            "windows": [w for w in (planned or {}).get("windows", [])
                        if set(w["components"]) & behind_set] if state > State.OK else [],
            "acknowledged": state > State.OK and promise in (acknowledged or {}).get(
                "promises", ()),
            "acknowledgements": {n: acks[n] for n in sorted({promise, *failed}) if n in acks},
            "new_causes": list(new_causes)}


def event_id(version: int, promise: str, state: State, kind: str | None = None) -> str:
    """The stable id of the event of ``promise`` reaching ``state`` at ``version`` (of
    ``kind``, for the kinds a state alone does not make: planned, new cause,
    acknowledged)."""
    key = state.word if kind is None or kind == kind_of(state) else kind
    return str(uuid.uuid5(_NAMESPACE, f"{version} {promise} {key}"))


def matches(flt: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether a subscription's filter admits an event (an empty list admits any)."""
    def admits(key: str, values: list[str]) -> bool:
        wanted = flt.get(key) or []
        return not wanted or bool(set(wanted) & {v for v in values if v})

    kinds = flt.get("kinds") or KINDS
    return (data["kind"] in kinds and admits("promises", [data["promise"]])
            and admits("business_services", data["business_services"])
            and admits("owners", [data["owner"]])
            and admits("providers", [p["provider"] for p in data["providers"]]))


def envelope(fmt: str, subscription: str, seq: int, event: str, kind: str, at: str,
             data: Mapping[str, Any]) -> tuple[bytes, str]:
    """The body of a delivery and its content type, in the subscription's format:
    ``native`` JSON, or a CloudEvents 1.0 structured-mode event."""
    if fmt == "cloudevents":
        body: dict[str, Any] = {
            "specversion": "1.0", "id": event, "source": "servicegraph",
            "type": f"org.servicegraph.promise.{kind}", "subject": data["promise"],
            "time": at, "datacontenttype": "application/json", "sequence": str(seq),
            "subscription": subscription, "data": data}
        media = "application/cloudevents+json"
    else:
        body = {"id": event, "type": f"promise.{kind}", "subscription": subscription,
                "sequence": seq, "time": at, "data": data}
        media = "application/json"
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode(), media
