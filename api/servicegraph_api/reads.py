"""Small read-only helpers the routes need beyond the library's own answers.

They only select and shape what the library returns (a page of nodes, the
edges between two ids, one node's explanation); no graph rule lives here.
"""

from __future__ import annotations

from typing import Any

from servicegraph.model.graph import Edge, Node


def node_view(node: Node) -> dict[str, Any]:
    """A node in the interchange form, plus its retirement mark and observed state
    when it has them."""
    out = node.to_dict()
    if node.retired_at is not None:
        out["retired_at"] = node.retired_at
    if node.observed is not None:
        out["observed"] = node.observed.to_dict()
    return out


def node_page(nodes: list[Node], total: int, limit: int, offset: int) -> dict[str, Any]:
    """One page of nodes, as the API answers it."""
    return {"items": [node_view(n) for n in nodes], "total": total, "limit": limit,
            "offset": offset}


def edge_page(edges: list[tuple[Edge, bool]], total: int, limit: int, offset: int
              ) -> dict[str, Any]:
    """One page of edges, as the API answers it."""
    return {"items": [edge_view(e, dangling) for e, dangling in edges], "total": total,
            "limit": limit, "offset": offset}


def edge_view(edge: Edge, dangling: bool = False) -> dict[str, Any]:
    """An edge in the interchange form, plus its retirement mark, provenance, and
    ``dangling`` when it is live but touches a retired node."""
    out = edge.to_dict()
    if dangling:
        out["dangling"] = True
    if edge.retired_at is not None:
        out["retired_at"] = edge.retired_at
    if edge.claims:
        out["provenance"] = [{"source": c.source, "key": c.key, "at": c.at}
                             for c in edge.claims]
    return out


def by_visibility(rows: list[dict[str, Any]], visible: bool | None) -> list[dict[str, Any]]:
    """Catalogue rows filtered by ``visible``: ``True`` keeps those the customer sees,
    ``False`` the hidden ones (explicitly hidden, or not said)."""
    if visible is None:
        return rows
    return [r for r in rows if (r.get("visible") is True) is visible]
