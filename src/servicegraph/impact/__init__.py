"""The impact engine: an index of the graph and the propagation rules over it."""

from servicegraph.impact.analysis import ImpactResult, ProviderCall, analyse, scenario
from servicegraph.impact.engine import Propagation, propagate
from servicegraph.impact.explain import Cause, Explanation
from servicegraph.impact.index import GraphIndex
from servicegraph.impact.reference import naive_states, to_networkx

__all__ = [
    "Cause",
    "Explanation",
    "GraphIndex",
    "ImpactResult",
    "Propagation",
    "ProviderCall",
    "analyse",
    "naive_states",
    "propagate",
    "scenario",
    "to_networkx",
]
