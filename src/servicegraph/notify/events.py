"""Promise events as subscribers receive them: what changed, why, who must act.

An event is derived by comparing the promise states the dispatcher recorded last with
the states at the version it has caught up to. Its data carries what the dependency
explorer's panel shows for the promise: the previous and new state, the explanation
(chain, rule, causes with their headroom), the providers who must act (those of the
failed components behind the promise) and the firing alerts behind those components.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from typing import Any

from servicegraph.impact.analysis import ImpactResult
from servicegraph.live.state import LiveGraph
from servicegraph.model.kinds import NodeKind, State
from servicegraph.runtime.questions import alerts_behind

#: Kinds of event told now; ``planned``, ``acknowledged`` and ``new_cause`` are accepted
#: in filters already, for the kinds to come.
KINDS = ("broken", "at_risk", "recovered")
FUTURE_KINDS = ("planned", "acknowledged", "new_cause")

#: The namespace of event ids: an id is a function of the change, so the same change
#: told twice (at least once) carries the same id.
_NAMESPACE = uuid.UUID("6f1c1e0c-4a43-4f0b-9a51-5e2c6b1f0d7a")


def kind_of(state: State) -> str:
    """The kind of event a promise's new state makes.

    >>> kind_of(State.DOWN), kind_of(State.DEGRADED), kind_of(State.OK)
    ('broken', 'at_risk', 'recovered')
    """
    return {State.DOWN: "broken", State.DEGRADED: "at_risk"}.get(state, "recovered")


def states_text(states: Mapping[str, State]) -> str:
    """The stored form of promise states (only those not ok)."""
    return json.dumps({p: s.word for p, s in sorted(states.items()) if s > State.OK})


def states_from(text: str) -> dict[str, State]:
    """Inverse of :func:`states_text`."""
    return {p: State.parse(w) for p, w in json.loads(text or "{}").items()}


#: Failed components whose firing alerts an event lists (the first by id); the others
#: are counted (``alerts_omitted``): an event of a storm stays small, and the outbox
#: write of a storm's events with it.
ALERTED = 100

#: Per node: whether it failed itself, and the dependencies its state comes from.
Causes = dict[str, tuple[bool, tuple[str, ...]]]


def _failed_behind(result: ImpactResult, promise: str,
                   memo: Causes | None = None) -> list[str]:
    """The failed components the promise's state traces back to (through its causes).

    ``memo`` keeps each node's causes for the other promises of the same result: in a
    storm the promises share most of what is behind them, and explaining a node is
    what costs."""
    memo = {} if memo is None else memo
    seen, todo, failed = {promise}, [promise], []
    while todo:
        node = todo.pop()
        held = memo.get(node)
        if held is None:
            found = result.explain(node, chain=False)
            held = (False, ()) if found is None else (
                found.given is not None, tuple(c.dependency for c in found.causes))
            memo[node] = held
        if held[0]:
            failed.append(node)
        for dependency in held[1]:
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return sorted(failed)


def event_data(live: LiveGraph, result: ImpactResult, promise: str, previous: State,
               state: State, version: int, at: str,
               planned: Mapping[str, Any] | None = None,
               memo: Causes | None = None) -> dict[str, Any]:
    """The data of one promise event (see the module's description); ``planned`` is
    the planned part of the current impact (see
    :func:`~servicegraph.impact.planned.planned_marks`): a breakage that is the
    planned work's is marked ``planned``, with the active windows behind it. Events of
    one result share a ``memo`` (see :func:`_failed_behind`)."""
    node = live.node(promise)
    explained = result.explain(promise) if state > State.OK else None
    failed = _failed_behind(result, promise, memo) if state > State.OK else []
    behind = set(failed)
    alerted = [f for f in failed if f in live.alerting]
    providers = [c.to_dict() for c in result.providers() if behind & set(c.failed)]
    for call in providers:
        call["failed"] = [f for f in call["failed"] if f in behind]
    idx = live.index
    services = sorted(d for d in live.neighbours().needs(promise)
                      if (v := idx.position.get(d)) is not None
                      and live.node_at(v).kind is NodeKind.BUSINESS_SERVICE)
    return {"promise": promise, "name": node.name if node else promise,
            "owner": node.owner if node else None, "business_services": services,
            "kind": kind_of(state), "previous": previous.word, "state": state.word,
            "version": version, "at": at,
            "explanation": explained.to_dict() if explained else None,
            "providers": providers, "alerts": alerts_behind(live, alerted[:ALERTED]),
            "alerts_omitted": max(0, len(alerted) - ALERTED),
            "planned": state > State.OK and promise in (planned or {}).get("promises", ()),
            "windows": [w for w in (planned or {}).get("windows", [])
                        if set(w["components"]) & behind] if state > State.OK else []}


def event_id(version: int, promise: str, state: State) -> str:
    """The stable id of the event of ``promise`` reaching ``state`` at ``version``."""
    return str(uuid.uuid5(_NAMESPACE, f"{version} {promise} {state.word}"))


def matches(flt: Mapping[str, Any], data: Mapping[str, Any]) -> bool:
    """Whether a subscription's filter admits an event (an empty list admits any)."""
    def admits(key: str, values: list[str]) -> bool:
        wanted = flt.get(key) or []
        return not wanted or bool(set(wanted) & {v for v in values if v})

    kinds = flt.get("kinds") or list(KINDS)
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
