"""Reconciliation: when several sources describe one component, who wins.

In the manner of a CMDB's reconciliation engine, each source has a rank
(``Settings.source_precedence``: earlier in the list wins; sources not listed
rank below every listed one, in name order; ``manual`` — writes by hand — ranks
as any other source). The resolved item takes each attribute from the
best-ranked source that asserts it; ``properties`` and ``redundancy`` are
resolved key by key.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from servicegraph.model.fields import UNCLAIMED
from servicegraph.model.graph import Claim, Edge, Node
from servicegraph.model.kinds import Impact, NodeKind

#: The source name given to attributes that were written by hand (CLI, node API)
#: before any integration claimed the item.
MANUAL = "manual"


def rank(source: str, precedence: Sequence[str]) -> tuple[int, str]:
    """Sort key of a source: lower wins.

    >>> sorted(["b", "cmdb", "a"], key=lambda s: rank(s, ["cmdb"]))
    ['cmdb', 'a', 'b']
    """
    # Tested first: most sources of a big sync are not listed, and a raised
    # ValueError per item costs more than the look-up.
    if source in precedence:
        return (precedence.index(source), "")
    return (len(precedence), source)


def _resolved_fields(claims: Sequence[Claim], precedence: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    merged: dict[str, dict[str, Any]] = {"properties": {}, "redundancy": {}}
    # Worst-ranked first, so better-ranked sources overwrite (one claim, the usual
    # case of a fresh push, needs no ranking).
    ordered = claims if len(claims) == 1 else sorted(
        claims, key=lambda c: rank(c.source, precedence), reverse=True)
    for claim in ordered:
        for name, value in claim.fields.items():
            if value is None:
                continue
            if name in merged and isinstance(value, dict):
                merged[name].update(value)
            else:
                out[name] = value
    out.update(merged)
    return out


def resolve_node(node_id: str, claims: tuple[Claim, ...], precedence: Sequence[str],
                 base: Node) -> Node:
    """The node as its live claims describe it; ``base`` keeps what claims don't
    describe (observed state).

    >>> from servicegraph.model import NodeKind
    >>> a = Claim("discovery", "x", "t", {"kind": "ci", "name": "srv01", "silo": "compute"})
    >>> b = Claim("cmdb", "X-1", "t", {"kind": "ci", "name": "Payroll server"})
    >>> n = resolve_node("x", (a, b), ["cmdb"], Node("x", NodeKind.CI, "x"))
    >>> (n.name, n.silo)
    ('Payroll server', 'compute')
    """
    f = _resolved_fields(claims, precedence)
    best = claims[0] if len(claims) == 1 else min(
        claims, key=lambda c: rank(c.source, precedence))
    return Node(
        id=node_id, kind=NodeKind(f.get("kind", base.kind)), name=f.get("name", base.name),
        owner=f.get("owner"), provider=f.get("provider"), visible=f.get("visible"),
        silo=f.get("silo"), description=f.get("description"),
        source=best.source, external_id=best.key,
        properties=f["properties"], redundancy=f["redundancy"], claims=claims,
        retired_at=None, observed=base.observed,
    )


def resolve_edge(edge: Edge, claims: tuple[Claim, ...], precedence: Sequence[str]) -> Edge:
    """The edge as its live claims describe it."""
    f = _resolved_fields(claims, precedence)
    return Edge(edge.source, edge.target, f.get("group"), Impact(f.get("impact", "hard")),
                claims, None)


def node_fields(node: Node) -> dict[str, Any]:
    """What a push of ``node`` asserts: its interchange form without id and claim keys."""
    fields = node.to_dict()
    for key in UNCLAIMED:
        fields.pop(key, None)
    fields.setdefault("properties", {})
    fields.setdefault("redundancy", {})
    return fields


def edge_fields(edge: Edge) -> dict[str, Any]:
    """What a push of ``edge`` asserts."""
    return {"group": edge.group, "impact": edge.impact.value}
