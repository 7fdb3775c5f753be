"""Which nodes, and which broken or at-risk promises, are acknowledged: a pure function
of the index, what is observed, and the acknowledgements held."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from servicegraph.impact.analysis import ImpactResult, analyse
from servicegraph.impact.index import GraphIndex
from servicegraph.model.acknowledgements import Acknowledgement
from servicegraph.model.kinds import State


def nothing_acknowledged() -> dict[str, Any]:
    """The acknowledged part of an answer in which nothing is (a what-if, or no
    acknowledgement held)."""
    return {"nodes": {}, "promises": []}


def acknowledged_marks(index: GraphIndex, observed: Mapping[str, State], full: ImpactResult,
                       acks: Mapping[str, Acknowledgement]) -> dict[str, Any]:
    """The acknowledged part of the current impact ``full`` (the impact of ``observed``).

    A broken or at-risk promise counts as acknowledged when it is acknowledged itself,
    or when the failures nobody acknowledged would, alone, leave it ok: someone is on
    every failure that breaks it. (The rule of planned work, with acknowledgements for
    windows; an acknowledgement of a node between, neither failed nor a promise, is
    shown but covers no promise.)

    Returns ``{"nodes": {id: {by, at, comment}}, "promises": [...]}``: the impacted
    nodes that hold an acknowledgement, and the promises that count as acknowledged,
    in id order.
    """
    impacted = full.impacted
    held = {n: a for n, a in acks.items() if n in impacted}
    if not held:
        return nothing_acknowledged()
    hit = {*full.broken_promises, *full.at_risk_promises}
    covered = {n for n in observed if n in held}
    still: set[str] = set(hit)
    if covered:
        alone = analyse(index, {n: s for n, s in observed.items() if n not in covered})
        still = {*alone.broken_promises, *alone.at_risk_promises}
    promises = sorted(p for p in hit if p in held or p not in still)
    return {"nodes": {n: held[n].brief() for n in sorted(held)}, "promises": promises}
