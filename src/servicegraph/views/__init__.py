"""Read-only views of a graph: the catalogues, neighbourhoods and exports."""

from servicegraph.views.catalogue import (
    SiloMatrix,
    promise_catalogue,
    service_act_catalogue,
    service_system_catalogue,
    silo_matrix,
)
from servicegraph.views.export import (
    EXPORTS,
    to_cytoscape,
    to_cytoscape_json,
    to_dot,
    to_graphml,
    to_mermaid,
)
from servicegraph.views.neighbourhood import Subgraph, neighbourhood

__all__ = [
    "EXPORTS",
    "SiloMatrix",
    "Subgraph",
    "neighbourhood",
    "promise_catalogue",
    "service_act_catalogue",
    "service_system_catalogue",
    "silo_matrix",
    "to_cytoscape",
    "to_cytoscape_json",
    "to_dot",
    "to_graphml",
    "to_mermaid",
]
