"""The flat row form of nodes, edges and observations that both stores persist.

Free ``properties``, ``redundancy`` and the claims are kept as JSON text:
Neo4j property values cannot be maps, and one encoding for both stores keeps
them identical. Beside the claims, a row keeps who claims it in plain strings
(``claim_keys`` for a node: ``"<source> <key>"``; ``claim_sources`` for an
edge), so a process can load the whole graph without decoding every claim.
Source names hold no space (see :func:`servicegraph.ingest.push.check_source`).

Observed state is not part of a node's write row: only observations write it,
so a push can never erase what monitoring saw.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import orjson

from servicegraph.model import fields
from servicegraph.model.acknowledgements import Acknowledgement
from servicegraph.model.alert_mapping import AlertMapping
from servicegraph.model.alerts import Alert
from servicegraph.model.graph import ATTRIBUTES, Claim, Edge, Node, Observation
from servicegraph.model.kinds import Impact, NodeKind, State
from servicegraph.model.maintenance import Window

#: Columns a node upsert writes (its observed state is written by observations only),
#: an edge upsert, and an observation: declared in :mod:`servicegraph.model.fields`.
NODE_COLUMNS = fields.NODE_COLUMNS
OBSERVED_COLUMNS = fields.OBSERVED_COLUMNS
EDGE_COLUMNS = fields.EDGE_COLUMNS
EMPTY = "{}"


def _claims_text(claims: tuple[Claim, ...]) -> str:
    # Every item a push writes carries this text: orjson writes it several times faster
    # (compact, keys sorted; read back by any JSON reader the same), the json module
    # what orjson cannot (an integer beyond 64 bits in a claim's properties).
    listed = [c.to_dict() for c in claims]
    try:
        return orjson.dumps(listed, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(listed, sort_keys=True)


def _claims(text: str | None) -> tuple[Claim, ...]:
    return tuple(Claim.from_dict(c) for c in json.loads(text or "[]"))


def claim_key(source: str, key: str) -> str:
    """The ``claim_keys`` entry of one claim.

    >>> claim_key("cmdb", "CI 0042")
    'cmdb CI 0042'
    """
    return f"{source} {key}"


def split_claim_key(entry: str) -> tuple[str, str]:
    """Inverse of :func:`claim_key`.

    >>> split_claim_key("cmdb CI 0042")
    ('cmdb', 'CI 0042')
    """
    source, _, key = entry.partition(" ")
    return source, key


def node_row(node: Node) -> dict[str, Any]:
    """A node as a flat mapping of scalars and string lists (``None`` when absent)."""
    row: dict[str, Any] = {"id": node.id, "kind": node.kind.value, "name": node.name}
    for attr in ATTRIBUTES:
        row[attr] = getattr(node, attr)
    # Most nodes have neither: "{}" is what dumping an empty mapping gives.
    row["properties"] = (json.dumps(dict(node.properties), sort_keys=True)
                         if node.properties else EMPTY)
    row["redundancy"] = (json.dumps(dict(node.redundancy), sort_keys=True)
                         if node.redundancy else EMPTY)
    row["claims"] = _claims_text(node.claims)
    row["claim_keys"] = [claim_key(c.source, c.key) for c in node.claims]
    row["retired_at"] = node.retired_at
    return row


def observation_row(node_id: str, seen: Observation) -> dict[str, Any]:
    """What an observation writes on its node."""
    return {"id": node_id, "observed_state": seen.state.word, "observed_at": seen.at,
            "observed_source": seen.source}


def observation_from_row(row: Mapping[str, Any]) -> Observation | None:
    """The observation a row holds, if any."""
    state = row.get("observed_state")
    if not state:
        return None
    return Observation(State.parse(state), row["observed_at"], row["observed_source"])


def node_from_row(row: Mapping[str, Any]) -> Node:
    """Inverse of :func:`node_row` (with the observed columns when the row has them)."""
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
        properties=json.loads(row.get("properties") or EMPTY),
        redundancy=json.loads(row.get("redundancy") or EMPTY),
        claims=_claims(row.get("claims")),
        retired_at=row.get("retired_at"),
        observed=observation_from_row(row),
    )


def edge_row(edge: Edge) -> dict[str, Any]:
    """An edge as a flat mapping."""
    return {"source": edge.source, "target": edge.target, "group": edge.group,
            "impact": edge.impact.value, "claims": _claims_text(edge.claims),
            "claim_sources": [c.source for c in edge.claims],
            "retired_at": edge.retired_at}


def edge_from_row(row: Mapping[str, Any]) -> Edge:
    """Inverse of :func:`edge_row`."""
    return Edge(row["source"], row["target"], row.get("group"), Impact(row["impact"]),
                _claims(row.get("claims")), row.get("retired_at"))


def string_list(value: Any) -> list[str]:
    """A string-list column as stored: a list (Neo4j) or JSON text (SQLite)."""
    if value is None:
        return []
    if isinstance(value, str):
        decoded = json.loads(value)
        return [str(v) for v in decoded]
    return [str(v) for v in value]


def change_rows(upsert_nodes: Sequence[Node], upsert_edges: Sequence[Edge],
                delete_edges: Sequence[tuple[str, str]], delete_nodes: Sequence[str],
                observe: Sequence[tuple[str, Observation]], replace: bool,
                alerts: Sequence[Alert] = (), windows: Sequence[Window] = (),
                acks: Sequence[Acknowledgement] = (),
                mappings: Sequence[AlertMapping] = ()) -> dict[str, Any]:
    """A change in row form, as the journal keeps it (``alerts`` only when it has
    some: alert rows are the alerts' plain JSON form)."""
    rows: dict[str, Any] = {"nodes": [node_row(n) for n in upsert_nodes],
                            "edges": [edge_row(e) for e in upsert_edges],
                            "delete_edges": [list(k) for k in delete_edges],
                            "delete_nodes": list(delete_nodes),
                            "observe": [observation_row(i, o) for i, o in observe],
                            "replace": replace}
    if alerts:
        rows["alerts"] = [a.to_dict() for a in alerts]
    if windows:
        rows["windows"] = [w.to_dict() for w in windows]
    if acks:
        rows["acks"] = [a.to_dict() for a in acks]
    if mappings:
        rows["mappings"] = [m.to_dict() for m in mappings]
    return rows
