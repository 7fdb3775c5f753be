"""Reading and writing the interchange format, as YAML or JSON.

Parsing collects every problem of a document before failing, so that one
answer tells an integrator everything to fix.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.kinds import Impact, NodeKind

_NODE_FIELDS = {
    "id", "kind", "name", "owner", "provider", "visible", "silo", "description",
    "source", "external_id", "properties", "redundancy",
}
_EDGE_FIELDS = {"from", "to", "group", "impact"}
_TEXT_FIELDS = ("owner", "provider", "silo", "description", "source", "external_id")


def _text(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value
    return None


def _parse_node(i: int, raw: Any, problems: list[Problem]) -> Node | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem("nodes", i, "?", "", "a node must be a mapping"))
        return None
    node_id = _text(raw.get("id"))
    item = repr(node_id) if node_id else "?"
    start = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem("nodes", i, item, field, message))

    if node_id is None:
        bad("id", "required: a non-empty string")
    for unknown in sorted(set(raw) - _NODE_FIELDS, key=str):
        bad(str(unknown), f"unknown field (allowed: {', '.join(sorted(_NODE_FIELDS))})")
    kind: NodeKind | None = None
    try:
        kind = NodeKind(str(raw.get("kind")))
    except ValueError:
        bad("kind", f"unknown kind {raw.get('kind')!r} (one of: "
            f"{', '.join(k.value for k in NodeKind)})")
    name = raw.get("name", node_id)
    if not isinstance(name, str) or not name.strip():
        bad("name", "must be a non-empty string")
    for attr in _TEXT_FIELDS:
        if raw.get(attr) is not None and not isinstance(raw.get(attr), str):
            bad(attr, "must be a string")
    visible = raw.get("visible")
    if visible is not None and not isinstance(visible, bool):
        bad("visible", "must be true or false")
    props = raw.get("properties") or {}
    if not isinstance(props, Mapping) or not all(isinstance(k, str) for k in props):
        bad("properties", "must be a mapping with string keys")
    redundancy = raw.get("redundancy") or {}
    if not isinstance(redundancy, Mapping):
        bad("redundancy", "must be a mapping of group name to min_ok")
    else:
        for group, min_ok in redundancy.items():
            if not isinstance(group, str) or not group:
                bad("redundancy", f"group name {group!r} must be a non-empty string")
            elif isinstance(min_ok, bool) or not isinstance(min_ok, int):
                bad(f"redundancy.{group}", f"min_ok must be an integer, got {min_ok!r}")
    if len(problems) > start or kind is None or node_id is None:
        return None
    try:
        json.dumps(props)
    except (TypeError, ValueError):
        bad("properties", "values must be JSON data (strings, numbers, lists, mappings)")
        return None
    return Node(
        id=node_id,
        kind=kind,
        name=str(name),
        owner=raw.get("owner"),
        provider=raw.get("provider"),
        visible=visible,
        silo=raw.get("silo"),
        description=raw.get("description"),
        source=raw.get("source"),
        external_id=raw.get("external_id"),
        properties=dict(props),
        redundancy={str(g): int(k) for g, k in redundancy.items()},
    )


def _parse_edge(i: int, raw: Any, problems: list[Problem]) -> Edge | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem("edges", i, "?", "", "an edge must be a mapping"))
        return None
    source, target = _text(raw.get("from")), _text(raw.get("to"))
    item = f"{source or '?'} -> {target or '?'}"
    start = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem("edges", i, item, field, message))

    if source is None:
        bad("from", "required: the id of the dependant")
    if target is None:
        bad("to", "required: the id of the dependency")
    for unknown in sorted(set(raw) - _EDGE_FIELDS, key=str):
        bad(str(unknown), f"unknown field (allowed: {', '.join(sorted(_EDGE_FIELDS))})")
    group = raw.get("group")
    if group is not None and _text(group) is None:
        bad("group", "must be a non-empty string")
    impact = Impact.HARD
    try:
        impact = Impact(raw.get("impact", "hard"))
    except ValueError:
        bad("impact", f"unknown impact {raw.get('impact')!r} (hard or soft)")
    if len(problems) > start or source is None or target is None:
        return None
    return Edge(source, target, group, impact)


def parse_document(doc: Any) -> GraphData:
    """Turn a decoded document into graph data, or raise with every problem.

    Only the shape of each item is checked here; :func:`validate` checks the
    graph rules (layers, groups, references).

    >>> g = parse_document({"nodes": [{"id": "a", "kind": "ci", "name": "A"}]})
    >>> g.nodes[0].kind.value
    'ci'
    """
    if not isinstance(doc, Mapping):
        raise ValidationError([Problem("document", None, "document", "",
                                       "must be a mapping with 'nodes' and 'edges'")])
    problems: list[Problem] = []
    for key in sorted(set(doc) - {"nodes", "edges"}, key=str):
        problems.append(Problem("document", None, "document", str(key),
                                "unknown top-level field (allowed: nodes, edges)"))
    raw_nodes, raw_edges = doc.get("nodes") or [], doc.get("edges") or []
    for key, value in (("nodes", raw_nodes), ("edges", raw_edges)):
        if not isinstance(value, list):
            problems.append(Problem("document", None, "document", key, "must be a list"))
    if problems:
        raise ValidationError(problems)
    nodes = [_parse_node(i, raw, problems) for i, raw in enumerate(raw_nodes)]
    edges = [_parse_edge(i, raw, problems) for i, raw in enumerate(raw_edges)]
    if problems:
        raise ValidationError(problems)
    return GraphData(
        tuple(n for n in nodes if n is not None), tuple(e for e in edges if e is not None)
    )


def loads(text: str, *, fmt: str | None = None) -> GraphData:
    """Parse interchange text; ``fmt`` is ``"json"``, ``"yaml"`` or guessed.

    YAML is a superset of JSON, so YAML parsing serves both when unsure.
    """
    try:
        doc = json.loads(text) if fmt == "json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise ValidationError([Problem("document", None, "document", "",
                                       f"not valid {fmt or 'YAML/JSON'}: {exc}")]) from None
    return parse_document(doc)


def load_file(path: str | Path) -> GraphData:
    """Read an interchange file (``.json``, ``.yaml`` or ``.yml``)."""
    p = Path(path)
    fmt = "json" if p.suffix.lower() == ".json" else "yaml"
    return loads(p.read_text(encoding="utf-8"), fmt=fmt)


def dumps(graph: GraphData, *, fmt: str = "yaml") -> str:
    """Serialise a graph as interchange YAML or JSON."""
    doc = graph.to_dict()
    if fmt == "json":
        return json.dumps(doc, indent=2, sort_keys=False)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
