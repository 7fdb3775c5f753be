"""Small read-only helpers the routes need beyond the library's own answers.

They only select and shape what the library returns (a page of nodes, the
edges between two ids, one node's explanation); no graph rule lives here.
"""

from __future__ import annotations

from typing import Any

from servicegraph.impact.analysis import ImpactResult
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.kinds import NodeKind


def node_view(node: Node) -> dict[str, Any]:
    """A node in the interchange form, plus its retirement mark and observed state
    when it has them."""
    out = node.to_dict()
    if node.retired_at is not None:
        out["retired_at"] = node.retired_at
    if node.observed is not None:
        out["observed"] = node.observed.to_dict()
    return out


def node_page(graph: GraphData, kind: NodeKind | None, limit: int, offset: int,
              query: str | None = None) -> dict[str, Any]:
    """Nodes (of ``kind``, if given) ordered by id, one page of them.

    With ``query``, only nodes whose id or name contains it (ignoring case), those
    whose id or name is exactly it first.
    """
    wanted = query.casefold() if query else None

    def matches(n: Node) -> bool:
        return wanted is None or wanted in n.id.casefold() or wanted in n.name.casefold()

    def order(n: Node) -> tuple[bool, str]:
        exact = wanted is not None and wanted in (n.id.casefold(), n.name.casefold())
        return (not exact, n.id)

    nodes = sorted((n for n in graph.nodes if (kind is None or n.kind is kind) and matches(n)),
                   key=order)
    return {"items": [node_view(n) for n in nodes[offset:offset + limit]],
            "total": len(nodes), "limit": limit, "offset": offset}


def edge_list(graph: GraphData, source: str | None, target: str | None) -> dict[str, Any]:
    """Edges ordered by (from, to), filtered by either end."""
    edges = sorted((e for e in graph.edges
                    if (source is None or e.source == source)
                    and (target is None or e.target == target)), key=lambda e: e.key)
    return {"items": [edge_view(e) for e in edges]}


def edge_view(edge: Edge) -> dict[str, Any]:
    """An edge in the interchange form, plus its retirement mark and provenance."""
    out = edge.to_dict()
    if edge.retired_at is not None:
        out["retired_at"] = edge.retired_at
    if edge.claims:
        out["provenance"] = [{"source": c.source, "key": c.key, "at": c.at}
                             for c in edge.claims]
    return out


def explanation_of(result: ImpactResult, node_id: str) -> dict[str, Any]:
    """One node's explanation; a node the scenario leaves ok gets state ``ok``, no causes.

    The caller has checked that ``node_id`` is in the graph.
    """
    found = result.explain(node_id)
    if found is None:
        return {"node": node_id, "state": "ok", "rule": None, "given": None, "causes": [],
                "via": None, "chain": []}
    return {"node": node_id, **found.to_dict()}


def by_visibility(rows: list[dict[str, Any]], visible: bool | None) -> list[dict[str, Any]]:
    """Catalogue rows filtered by ``visible``: ``True`` keeps those the customer sees,
    ``False`` the hidden ones (explicitly hidden, or not said)."""
    if visible is None:
        return rows
    return [r for r in rows if (r.get("visible") is True) is visible]
