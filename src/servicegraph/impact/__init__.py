"""The impact engine: an index of the graph and the propagation rules over it."""

from servicegraph.impact.analysis import ImpactResult, ProviderCall, analyse, scenario
from servicegraph.impact.change import ChangeAssessment, Conflict, PlannedChange, assess_changes
from servicegraph.impact.engine import Propagation, propagate
from servicegraph.impact.explain import Cause, Explanation
from servicegraph.impact.index import GraphIndex
from servicegraph.impact.reference import naive_states, to_networkx
from servicegraph.impact.rootcause import Candidate, root_cause_candidates
from servicegraph.impact.spof import SinglePoint, single_points_of_failure, spof_ranking

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
