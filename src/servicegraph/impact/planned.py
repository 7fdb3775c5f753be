"""Which failures, and which broken promises, are planned: a pure function of the
index, what is observed, and the maintenance windows active now."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from servicegraph.impact.analysis import ImpactResult, analyse
from servicegraph.impact.index import GraphIndex
from servicegraph.model.kinds import State
from servicegraph.model.maintenance import Window


def nothing_planned() -> dict[str, Any]:
    """The planned part of an answer in which nothing is planned (a what-if, or a graph
    without active maintenance windows)."""
    return {"windows": [], "components": {}, "promises": []}


def planned_marks(index: GraphIndex, observed: Mapping[str, State], full: ImpactResult,
                  windows: Iterable[Window], now: str) -> dict[str, Any]:
    """The planned part of the current impact ``full`` (the impact of ``observed``).

    A failed component is planned when an active window covers it (the first such
    window by id names it). A broken or at-risk promise is planned when the failures
    that no active window covers would, alone, leave it ok: then the breakage is the
    planned work's, and it ends with the window. Everything else is unplanned.

    Returns ``{"windows": [...], "components": {id: window id}, "promises": [...]}``:
    the active windows that cover a failed component (each with those components),
    the planned components, and the planned promises (in id order).
    """
    active = sorted((w for w in windows if w.active(now)), key=lambda w: w.id)
    covering: dict[str, str] = {}
    for window in active:
        for component in window.components:
            covering.setdefault(component, window.id)
    components = {n: covering[n] for n in sorted(observed) if n in covering}
    if not components:
        return nothing_planned()
    unplanned = {n: s for n, s in observed.items() if n not in components}
    alone = analyse(index, unplanned)
    hit = set(full.broken_promises) | set(full.at_risk_promises)
    still = set(alone.broken_promises) | set(alone.at_risk_promises)
    shown = []
    for window in active:
        failed = [c for c in window.components if components.get(c) == window.id]
        if failed:
            shown.append({"id": window.id, "title": window.title, "owner": window.owner,
                          "starts_at": window.starts_at, "ends_at": window.ends_at,
                          "components": failed})
    return {"windows": shown, "components": components, "promises": sorted(hit - still)}
