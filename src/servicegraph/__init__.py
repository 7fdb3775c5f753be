"""servicegraph: a service dependency model in the customer's language.

Promises made to the customer, the business services and service acts through
which they are kept, the service systems that perform them and the
configuration items beneath, stored as a graph; and the answer to "which
promises break, for whom, why, and who must act" when something fails.

The names below are imported on first use, so that importing the package (as the
command line does to answer ``--help``) loads neither numpy nor the Neo4j driver.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

#: Public name -> the module that defines it.
_HOMES = {
    "LoadSummary": "core", "ServiceGraph": "core",
    "example_graph": "examples", "example_text": "examples",
    "Explanation": "impact", "GraphIndex": "impact", "ImpactResult": "impact",
    "analyse": "impact", "scenario": "impact",
    "Edge": "model", "GraphData": "model", "Impact": "model", "Node": "model",
    "NodeKind": "model", "Problem": "model", "State": "model",
    "UnknownNodeError": "model", "ValidationError": "model", "load_file": "model",
    "loads": "model", "validate": "model",
    "Settings": "settings",
    "GraphStore": "store", "Neo4jStore": "store", "SqliteStore": "store",
    "open_store": "store",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'servicegraph' has no attribute {name!r}")
    value = getattr(import_module(f"servicegraph.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOMES])


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
