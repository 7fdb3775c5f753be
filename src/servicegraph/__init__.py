"""servicegraph: a service dependency model in the customer's language.

Promises made to the customer, the business services and service acts through
which they are kept, the service systems that perform them and the
configuration items beneath, stored as a graph; and the answer to "which
promises break, for whom, why, and who must act" when something fails.
"""

from servicegraph.core import LoadSummary, ServiceGraph
from servicegraph.examples import example_graph, example_text
from servicegraph.impact import Explanation, GraphIndex, ImpactResult, analyse, scenario
from servicegraph.model import (
    Edge,
    GraphData,
    Impact,
    Node,
    NodeKind,
    Problem,
    State,
    UnknownNodeError,
    ValidationError,
    load_file,
    loads,
    validate,
)
from servicegraph.settings import Settings
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore, open_store

__version__ = "0.1.0"

__all__ = [
    "Edge",
    "Explanation",
    "GraphData",
    "GraphIndex",
    "GraphStore",
    "Impact",
    "ImpactResult",
    "LoadSummary",
    "Neo4jStore",
    "Node",
    "NodeKind",
    "Problem",
    "ServiceGraph",
    "Settings",
    "SqliteStore",
    "State",
    "UnknownNodeError",
    "ValidationError",
    "analyse",
    "example_graph",
    "example_text",
    "load_file",
    "loads",
    "open_store",
    "scenario",
    "validate",
]
