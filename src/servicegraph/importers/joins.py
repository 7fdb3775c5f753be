"""Traces joined onto the manifests already held.

A tracing import (Jaeger, OpenTelemetry) knows services by the names the
instrumentation reports (``frontend``, ``cartservice``); the manifests imported
before know them as ``deployment/frontend`` and ``service/cartservice``. Without a
join the traces would add a second, unconnected node for every service. A traced name
is joined onto a held node as follows:

- the caller of a traced call onto the one workload that answers to the name (its
  name, or the ``app`` or ``app.kubernetes.io/name`` label of its pods), else onto the
  one Service of that name;
- the callee onto the one Service of that name (calls go through it), else onto the one
  workload answering to it;
- either, onto the Compose service of that name.

A name matching several held nodes (e.g. a Service of that name in two namespaces) is
not joined and is noted. Joined names are not pushed as nodes of their own: the
traced dependencies are pushed between the held nodes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from servicegraph.importers.common import Imported
from servicegraph.model.graph import Edge, GraphData, Node

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


def _index(held: Iterable[Node]) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """(name -> workload ids, name -> Service ids) of the held nodes an import made."""
    workloads: dict[str, set[str]] = {}
    services: dict[str, set[str]] = {}
    for node in held:
        if node.retired_at is not None:
            continue
        props = node.properties
        kind = props.get("kubernetes_kind")
        if kind in WORKLOAD_KINDS:
            names = props.get("names")
            for name in [node.name, *(names if isinstance(names, list) else [])]:
                workloads.setdefault(str(name), set()).add(node.id)
        elif kind == "Service":
            services.setdefault(node.name, set()).add(node.id)
        elif isinstance(props.get("compose_service"), str):
            services.setdefault(props["compose_service"], set()).add(node.id)
            workloads.setdefault(props["compose_service"], set()).add(node.id)
    return workloads, services


def _one(found: set[str] | None) -> str | None:
    return next(iter(found)) if found and len(found) == 1 else None


def join_traces(imported: Imported, held: Iterable[Node]) -> Imported:
    """``imported`` (a tracing import) with its service names joined onto ``held``.

    Examples
    --------
    >>> from servicegraph.importers import parse, SourceFile
    >>> from servicegraph.model.kinds import NodeKind
    >>> held = [Node("deployment/web", NodeKind.SERVICE_SYSTEM, "web",
    ...              properties={"kubernetes_kind": "Deployment", "names": ["web"]}),
    ...         Node("service/cart", NodeKind.SERVICE_SYSTEM, "cart",
    ...              properties={"kubernetes_kind": "Service"})]
    >>> imp = parse("jaeger", [SourceFile("d.json", '[{"parent": "web", "child": "cart"}]')])
    >>> joined = join_traces(imp, held)
    >>> [n.id for n in joined.graph.nodes], [e.key for e in joined.graph.edges]
    ([], [('deployment/web', 'service/cart')])
    """
    workloads, services = _index(held)
    if not workloads and not services:
        return imported
    ambiguous: set[str] = set()

    def caller(name: str) -> str | None:
        found = _one(workloads.get(name)) or _one(services.get(name))
        if found is None and (len(workloads.get(name, ())) > 1
                              or len(services.get(name, ())) > 1):
            ambiguous.add(name)
        return found

    def callee(name: str) -> str | None:
        found = _one(services.get(name)) or _one(workloads.get(name))
        if found is None and (len(workloads.get(name, ())) > 1
                              or len(services.get(name, ())) > 1):
            ambiguous.add(name)
        return found

    as_source: dict[str, str] = {}
    as_target: dict[str, str] = {}
    for edge in imported.graph.edges:
        if (found := caller(edge.source)) is not None:
            as_source[edge.source] = found
        if (found := callee(edge.target)) is not None:
            as_target[edge.target] = found
    for node in imported.graph.nodes:  # a traced service with no call of its own
        if node.id not in as_source and node.id not in as_target and (
                found := caller(node.id)) is not None:
            as_source[node.id] = found
    joined = set(as_source) | set(as_target)
    if not joined:
        return _noted(imported, ambiguous)
    nodes = [(n, o) for n, o in zip(imported.graph.nodes, imported.node_origins, strict=True)
             if n.id not in joined]
    edges: dict[tuple[str, str], tuple[Edge, str]] = {}
    for edge, origin in zip(imported.graph.edges, imported.edge_origins, strict=True):
        moved = replace(edge, source=as_source.get(edge.source, edge.source),
                        target=as_target.get(edge.target, edge.target))
        if moved.source != moved.target and moved.key not in edges:
            edges[moved.key] = (moved, origin)
    inferred = tuple(replace(i, source=as_source.get(i.source, i.source),
                             target=as_target.get(i.target, i.target))
                     for i in imported.inferred)
    pairs = sorted({f"{n} -> {as_source.get(n) or as_target[n]}" for n in joined})
    note = (f"{len(pairs)} traced name(s) joined onto nodes already held, e.g. "
            + ", ".join(pairs[:5]))
    result = Imported(GraphData(tuple(n for n, _ in nodes), tuple(e for e, _ in edges.values())),
                      tuple(o for _, o in nodes), tuple(o for _, o in edges.values()),
                      (*imported.notes, note), inferred, imported.unresolved,
                      imported.without_dependencies)
    return _noted(result, ambiguous)


def _noted(imported: Imported, ambiguous: set[str]) -> Imported:
    if not ambiguous:
        return imported
    names = sorted(ambiguous)
    return replace(imported, notes=(*imported.notes, (
        f"{len(names)} traced name(s) match several nodes already held and were not "
        f"joined, e.g. {', '.join(names[:5])}")))
