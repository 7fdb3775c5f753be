"""Jaeger's service dependencies (``/api/dependencies``) as service systems.

Each service named becomes a service system with that name; each link
``{parent, child, callCount}`` says the parent calls the child, so the parent needs
it. The dependency is marked in the parent's ``properties.inferred_edges`` (``trace:
N calls``). A service calling itself is no dependency and is left out. Both the whole
answer (``{"data": [...]}``) and the bare list are read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from servicegraph.importers.common import (
    Builder,
    Imported,
    Inference,
    SourceFile,
    at_line,
    merge_inferred,
    text,
)
from servicegraph.model.graph import Node
from servicegraph.model.kinds import NodeKind


def service_node(name: str, origin: str, builder: Builder, how: str) -> None:
    """Add a traced service once (the first place it is seen is its origin)."""
    if name not in builder.nodes:
        builder.node(Node(name, NodeKind.SERVICE_SYSTEM, name,
                          properties={"inferred": f"seen in {how}"}), origin)


def import_jaeger(files: Sequence[SourceFile]) -> Imported:
    """Read Jaeger dependency links (JSON).

    Examples
    --------
    >>> links = '[{"parent": "frontend", "child": "cart", "callCount": 12}]'
    >>> imp = import_jaeger([SourceFile("dependencies.json", links)])
    >>> [e.key for e in imp.graph.edges], imp.edge_origins
    ([('frontend', 'cart')], ('dependencies.json data[0]',))
    >>> imp.graph.nodes[0].properties["inferred_edges"]
    {'cart': 'trace: 12 calls'}
    """
    builder = Builder()
    for file in files:
        try:
            doc = json.loads(file.text)
        except RecursionError:
            builder.problem(file.name, file.name, "", "not valid JSON: nested too deeply")
            continue
        except ValueError as exc:
            line = getattr(exc, "lineno", None)
            builder.problem(at_line(file.name, line), file.name, "", f"not valid JSON: {exc}")
            continue
        links = doc.get("data") if isinstance(doc, dict) else doc
        if not isinstance(links, list):
            builder.problem(file.name, file.name, "data",
                            "expected a list of {parent, child, callCount} links, or an object "
                            "whose data is one")
            continue
        calls: dict[tuple[str, str], int] = {}
        for i, link in enumerate(links):
            where = f"{file.name} data[{i}]"
            parent = text(link.get("parent")) if isinstance(link, dict) else None
            child = text(link.get("child")) if isinstance(link, dict) else None
            count = link.get("callCount", 0) if isinstance(link, dict) else None
            if parent is None or child is None:
                builder.problem(where, f"{parent or '?'} -> {child or '?'}", "parent"
                                if parent is None else "child", "required: a service name")
                continue
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                builder.problem(where, f"{parent} -> {child}", "callCount",
                                f"must be a whole number, got {count!r}")
                continue
            service_node(parent, where, builder, "Jaeger dependencies")
            service_node(child, where, builder, "Jaeger dependencies")
            if parent != child:
                builder.edge(parent, child, where)
                calls[(parent, child)] = calls.get((parent, child), 0) + count
        for (parent, child), count in calls.items():
            builder.replace(merge_inferred(builder.nodes[parent][0], child,
                                           f"trace: {count} calls"))
            builder.inferred.append(Inference(parent, child, builder.edges[(parent, child)][1],
                                              "callCount", f"{count} calls"))
    return builder.result()
