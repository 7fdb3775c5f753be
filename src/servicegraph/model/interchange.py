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

from servicegraph.model import fields, yaml_bounds
from servicegraph.model.bounds import properties_problem, text_problem
from servicegraph.model.errors import Problem, ValidationError, short, show
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.kinds import Impact, NodeKind
from servicegraph.model.redundancy import shape_problem

_NODE_FIELDS = set(fields.NODE_NAMES)
_EDGE_FIELDS = set(fields.EDGE_NAMES)
_KINDS = frozenset(k.value for k in NodeKind)
_IMPACTS = frozenset(i.value for i in Impact)
#: The sort of text (see :func:`~servicegraph.model.bounds.text_problem`) of each
#: optional text attribute of a node.
_TEXT_FIELDS = fields.TEXT_BOUNDS


def _field(key: Any) -> str:
    return short(key) if isinstance(key, str) else show(key)


def _unknown(raw: Mapping[Any, Any], allowed: set[str]) -> list[Any]:
    return sorted((k for k in raw if k not in allowed), key=str)


def node_problems(section: str, i: int | None, node: Node) -> list[Problem]:
    """What is out of bounds in a node's text and properties (see
    :mod:`servicegraph.model.bounds`); empty when nothing is.

    Parsing checks this for every node read; validation again for nodes built in
    code, so every way into the store is bounded.
    """
    item = show(node.id)
    out: list[Problem] = []
    for attr, sort in (("id", "identifier"), ("name", "name"), *_TEXT_FIELDS.items()):
        value = getattr(node, attr)
        if value is None and attr in _TEXT_FIELDS:
            continue
        wrong = text_problem(value, sort)
        if wrong:
            out.append(Problem(section, i, item, attr, wrong))
    if node.visible is not None and not isinstance(node.visible, bool):
        out.append(Problem(section, i, item, "visible", "must be true or false"))
    for group, rule in node.redundancy.items():
        wrong = text_problem(group, "identifier")
        if wrong:
            out.append(Problem(section, i, item, "redundancy",
                               f"group name {show(group)}: {wrong}"))
        else:
            shape = shape_problem(rule)
            if shape is not None:
                out.append(Problem(section, i, item, f"redundancy.{short(group)}", shape))
    found = properties_problem(node.properties)
    if found is not None:
        where, wrong = found
        out.append(Problem(section, i, item, f"properties{where}", wrong))
    return out


def edge_problems(section: str, i: int | None, edge: Edge) -> list[Problem]:
    """What is out of bounds in an edge's ends and group; empty when nothing is."""
    out: list[Problem] = []
    for field, value in (("from", edge.source), ("to", edge.target), ("group", edge.group)):
        if value is None and field == "group":
            continue
        wrong = text_problem(value, "identifier")
        if wrong:
            # Named only when something is wrong: most edges of a big sync are fine.
            item = f"{short(str(edge.source))} -> {short(str(edge.target))}"
            out.append(Problem(section, i, item, field, wrong))
    return out


_KIND = {k.value: k for k in NodeKind}


def _parse_node(i: int, raw: Any, problems: list[Problem]) -> Node | None:
    # The usual node takes the short way (see _parse_edge); the long way names every
    # problem.
    if type(raw) is dict and raw.keys() <= _NODE_FIELDS:
        node_id, word = raw.get("id"), raw.get("kind")
        kind = _KIND.get(word) if type(word) is str else None
        visible = raw.get("visible")
        props, redundancy = raw.get("properties") or {}, raw.get("redundancy") or {}
        if (type(node_id) is str and kind is not None and type(props) is dict
                and type(redundancy) is dict and (visible is None or type(visible) is bool)):
            node = Node(id=node_id, kind=kind, name=raw.get("name", node_id or "?"),
                        owner=raw.get("owner"), provider=raw.get("provider"), visible=visible,
                        silo=raw.get("silo"), description=raw.get("description"),
                        source=raw.get("source"), external_id=raw.get("external_id"),
                        properties=dict(props), redundancy=dict(redundancy))
            if not node_problems("nodes", i, node):
                return node
    return _parse_node_fully(i, raw, problems)


def _parse_node_fully(i: int, raw: Any, problems: list[Problem]) -> Node | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem("nodes", i, "?", "", "a node must be a mapping"))
        return None
    node_id = raw.get("id")
    item = show(node_id) if isinstance(node_id, str) and node_id.strip() else "?"
    start = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem("nodes", i, item, field, message))

    if node_id is None:
        bad("id", "required: a non-empty string")
    for unknown in _unknown(raw, _NODE_FIELDS):
        bad(_field(unknown), f"unknown field (allowed: {', '.join(sorted(_NODE_FIELDS))})")
    kind: Any = raw.get("kind")
    if not (isinstance(kind, str) and kind in _KINDS):
        bad("kind", f"unknown kind {show(kind)} (one of: "
            f"{', '.join(k.value for k in NodeKind)})")
    visible = raw.get("visible")
    if visible is not None and not isinstance(visible, bool):
        bad("visible", "must be true or false")
    props = raw.get("properties") or {}
    if not isinstance(props, Mapping):
        bad("properties", "must be a mapping with string keys")
        props = {}
    redundancy = raw.get("redundancy") or {}
    if not isinstance(redundancy, Mapping):
        bad("redundancy", "must be a mapping of group name to its rule (a count, a share "
            "or {min_ok, ok_at})")
        redundancy = {}
    known = isinstance(kind, str) and kind in _KINDS
    # Built even when something is wrong already (placeholders for what is), so the
    # bounds of every other field are reported in the same answer.
    node = Node(
        id="?" if node_id is None else node_id,
        kind=NodeKind(kind) if known else NodeKind.CI,
        name=raw.get("name", node_id or "?"),
        owner=raw.get("owner"),
        provider=raw.get("provider"),
        visible=visible if isinstance(visible, bool) else None,
        silo=raw.get("silo"),
        description=raw.get("description"),
        source=raw.get("source"),
        external_id=raw.get("external_id"),
        properties=dict(props),
        redundancy=dict(redundancy),
    )
    problems.extend(node_problems("nodes", i, node))
    return None if len(problems) > start else node


_IMPACT = {i.value: i for i in Impact}


def _parse_edge(i: int, raw: Any, problems: list[Problem]) -> Edge | None:
    # The usual edge (known fields, text ends, a known impact) takes the short way; any
    # other goes the long way, which names every problem.
    if type(raw) is dict and raw.keys() <= _EDGE_FIELDS:
        source, target = raw.get("from"), raw.get("to")
        word = raw.get("impact", "hard")
        impact = _IMPACT.get(word) if type(word) is str else None
        if type(source) is str and type(target) is str and impact is not None:
            edge = Edge(source, target, raw.get("group"), impact)
            found = edge_problems("edges", i, edge)
            if not found:
                return edge
    return _parse_edge_fully(i, raw, problems)


def _parse_edge_fully(i: int, raw: Any, problems: list[Problem]) -> Edge | None:
    if not isinstance(raw, Mapping):
        problems.append(Problem("edges", i, "?", "", "an edge must be a mapping"))
        return None
    source: Any = raw.get("from")
    target: Any = raw.get("to")

    def end(value: Any) -> str:
        return short(value) if isinstance(value, str) and value.strip() else "?"

    item = f"{end(source)} -> {end(target)}"
    start = len(problems)

    def bad(field: str, message: str) -> None:
        problems.append(Problem("edges", i, item, field, message))

    if source is None:
        bad("from", "required: the id of the dependant")
    if target is None:
        bad("to", "required: the id of the dependency")
    for unknown in _unknown(raw, _EDGE_FIELDS):
        bad(_field(unknown), f"unknown field (allowed: {', '.join(sorted(_EDGE_FIELDS))})")
    impact = raw.get("impact", "hard")
    known = isinstance(impact, str) and impact in _IMPACTS
    if not known:
        bad("impact", f"unknown impact {show(impact)} (hard or soft)")
    edge = Edge("?" if source is None else source, "?" if target is None else target,
                raw.get("group"), Impact(impact) if known else Impact.HARD)
    problems.extend(edge_problems("edges", i, edge))
    return None if len(problems) > start else edge


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
    for key in _unknown(doc, {"nodes", "edges"}):
        problems.append(Problem("document", None, "document", _field(key),
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


def decode(text: str | bytes, fmt: str | None = None) -> Any:
    """The document in interchange text, not yet checked; ``fmt`` is ``"json"``,
    ``"yaml"`` or guessed (YAML is a superset of JSON, so YAML serves both).

    Raises :class:`ValidationError` with one ``document`` problem when the text
    cannot be read, nested too deeply to read included (the parsers recurse), and
    when its YAML aliases stand for more than
    :data:`~servicegraph.model.yaml_bounds.MAX_ALIAS_NODES` nodes (see
    :mod:`servicegraph.model.yaml_bounds`).

    >>> decode("[" * 100_000)
    Traceback (most recent call last):
    ...
    servicegraph.model.errors.ValidationError: 1 problem(s), nothing written: document: \
not valid YAML/JSON: nested too deeply to read
    """
    what = {"json": "JSON", "yaml": "YAML"}.get(fmt or "", "YAML/JSON")
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        return json.loads(text) if fmt == "json" else yaml_bounds.load(text)
    except RecursionError:
        message = f"not valid {what}: nested too deeply to read"
    except yaml_bounds.AliasBoundError as exc:
        line, reason = yaml_bounds.where(exc)
        message = f"line {line}: {reason}"
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text (byte {exc.start})"
    except (ValueError, yaml.YAMLError) as exc:
        # One line: parsers' messages point at the spot over several.
        message = f"not valid {what}: {short(' '.join(str(exc).split()), 300)}"
    raise ValidationError([Problem("document", None, "document", "", message)])


def loads(text: str | bytes, *, fmt: str | None = None) -> GraphData:
    """Parse interchange text; ``fmt`` is ``"json"``, ``"yaml"`` or guessed."""
    return parse_document(decode(text, fmt))


def load_file(path: str | Path) -> GraphData:
    """Read an interchange file (``.json``, ``.yaml`` or ``.yml``)."""
    p = Path(path)
    fmt = "json" if p.suffix.lower() == ".json" else "yaml"
    return loads(p.read_bytes(), fmt=fmt)


def dumps(graph: GraphData, *, fmt: str = "yaml") -> str:
    """Serialise a graph as interchange YAML or JSON."""
    doc = graph.to_dict()
    if fmt == "json":
        return json.dumps(doc, indent=2, sort_keys=False)
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True)
