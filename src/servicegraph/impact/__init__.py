"""The impact engine: an index of the graph and the propagation rules over it.

The names below are imported on first use: the index alone loads neither the
compiler of the kernels nor networkx (which only the reference evaluator needs).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servicegraph.impact.analysis import ImpactResult, ProviderCall, analyse, scenario
    from servicegraph.impact.change import (
        ChangeAssessment,
        Conflict,
        PlannedChange,
        assess_changes,
    )
    from servicegraph.impact.engine import Propagation, propagate
    from servicegraph.impact.explain import Cause, Explanation
    from servicegraph.impact.index import GraphIndex
    from servicegraph.impact.reference import naive_states, to_networkx
    from servicegraph.impact.rootcause import Candidate, root_cause_candidates
    from servicegraph.impact.spof import SinglePoint, single_points_of_failure, spof_ranking

#: Public name -> the module of this package that defines it.
_HOMES = {
    "ImpactResult": "analysis", "ProviderCall": "analysis", "analyse": "analysis",
    "scenario": "analysis",
    "ChangeAssessment": "change", "Conflict": "change", "PlannedChange": "change",
    "assess_changes": "change",
    "Propagation": "engine", "propagate": "engine",
    "Cause": "explain", "Explanation": "explain",
    "GraphIndex": "index",
    "naive_states": "reference", "to_networkx": "reference",
    "Candidate": "rootcause", "root_cause_candidates": "rootcause",
    "SinglePoint": "spof", "single_points_of_failure": "spof", "spof_ranking": "spof",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'servicegraph.impact' has no attribute {name!r}")
    value = getattr(import_module(f"servicegraph.impact.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


__all__ = [
    "Candidate",
    "Cause",
    "ChangeAssessment",
    "Conflict",
    "Explanation",
    "GraphIndex",
    "ImpactResult",
    "PlannedChange",
    "Propagation",
    "ProviderCall",
    "SinglePoint",
    "analyse",
    "assess_changes",
    "naive_states",
    "propagate",
    "root_cause_candidates",
    "scenario",
    "single_points_of_failure",
    "spof_ranking",
    "to_networkx",
]
