"""The bundled example enterprise: employee onboarding, online ordering, a park.

Promises in the customer's language, the acts and business services that keep
them, the service systems (some outsourced, some hidden) and the CIs beneath,
with redundancy groups, soft dependencies and a data feed that an application
needs although it runs fine itself.
"""

from __future__ import annotations

from importlib import resources

from servicegraph.model.graph import GraphData
from servicegraph.model.interchange import loads


def example_text() -> str:
    """The example enterprise as interchange YAML."""
    return (resources.files("servicegraph") / "examples" / "enterprise.yaml").read_text(
        encoding="utf-8")


def example_graph() -> GraphData:
    """The example enterprise as a graph.

    >>> g = example_graph()
    >>> len(g.nodes) > 50 and any(n.id == "onboarding" for n in g.nodes)
    True
    """
    return loads(example_text())


__all__ = ["example_graph", "example_text"]
