"""The flat row form of nodes and edges that both stores persist.

Free ``properties`` and ``redundancy`` are kept as JSON text: Neo4j property
values cannot be maps, and one encoding for both stores keeps them identical.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from servicegraph.model.graph import ATTRIBUTES, Claim, Edge, Node, Observation
from servicegraph.model.kinds import Impact, NodeKind, State

NODE_COLUMNS = ("id", "kind", "name", *ATTRIBUTES, "properties", "redundancy", "claims",
                "retired_at", "observed_state", "observed_at", "observed_source")
EDGE_COLUMNS = ("source", "target", "group", "impact", "claims", "retired_at")


def _claims_text(claims: tuple[Claim, ...]) -> str:
    return json.dumps([c.to_dict() for c in claims], sort_keys=True)


def _claims(text: str | None) -> tuple[Claim, ...]:
    return tuple(Claim.from_dict(c) for c in json.loads(text or "[]"))


def node_row(node: Node) -> dict[str, Any]:
    """A node as a flat mapping of scalars (``None`` for absent attributes)."""
    row: dict[str, Any] = {"id": node.id, "kind": node.kind.value, "name": node.name}
    for attr in ATTRIBUTES:
        row[attr] = getattr(node, attr)
    row["properties"] = json.dumps(dict(node.properties), sort_keys=True)
    row["redundancy"] = json.dumps(dict(node.redundancy), sort_keys=True)
    row["claims"] = _claims_text(node.claims)
    row["retired_at"] = node.retired_at
    seen = node.observed
    row["observed_state"] = seen.state.word if seen else None
    row["observed_at"] = seen.at if seen else None
    row["observed_source"] = seen.source if seen else None
    return row


def node_from_row(row: Mapping[str, Any]) -> Node:
    """Inverse of :func:`node_row`."""
    visible = row.get("visible")
    return Node(
        id=row["id"],
        kind=NodeKind(row["kind"]),
        name=row["name"],
        owner=row.get("owner"),
        provider=row.get("provider"),
        visible=None if visible is None else bool(visible),
        silo=row.get("silo"),
        description=row.get("description"),
        source=row.get("source"),
        external_id=row.get("external_id"),
        properties=json.loads(row.get("properties") or "{}"),
        redundancy=json.loads(row.get("redundancy") or "{}"),
        claims=_claims(row.get("claims")),
        retired_at=row.get("retired_at"),
        observed=Observation(State.parse(row["observed_state"]), row["observed_at"],
                             row["observed_source"]) if row.get("observed_state") else None,
    )


def edge_row(edge: Edge) -> dict[str, Any]:
    """An edge as a flat mapping."""
    return {"source": edge.source, "target": edge.target, "group": edge.group,
            "impact": edge.impact.value, "claims": _claims_text(edge.claims),
            "retired_at": edge.retired_at}


def edge_from_row(row: Mapping[str, Any]) -> Edge:
    """Inverse of :func:`edge_row`."""
    return Edge(row["source"], row["target"], row.get("group"), Impact(row["impact"]),
                _claims(row.get("claims")), row.get("retired_at"))
