"""A graph in the formats drawing and analysis tools read.

GraphML (yEd, Gephi, networkx) goes through networkx, which writes valid XML;
DOT and Mermaid are small enough to write by hand, and the care goes into
quoting, because ids come from integrators and may hold any character;
Cytoscape.js gets its elements JSON. All are pure functions of a graph.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any

from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.graph import ATTRIBUTES, Edge, GraphData, Node
from servicegraph.model.kinds import Impact, NodeKind


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


#: U+FFFD REPLACEMENT CHARACTER: what stands in for a character a format cannot
#: carry, so the reader sees that something was there.
REPLACEMENT = "\ufffd"
# What XML 1.0 cannot carry at all, escaped or not: C0 controls but tab and line
# breaks, lone surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# What a DOT or Mermaid text should not hold raw: every control character (line
# breaks are dealt with before) and lone surrogates (not encodable as UTF-8).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
# Every line boundary Python's str.splitlines() knows.
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def xml_text(text: str) -> str:
    """``text`` with what XML 1.0 cannot carry replaced by U+FFFD.

    Validation keeps control characters out of ids and names, but descriptions,
    properties and graphs stored before those rules may still hold some, and one
    stray NUL would make the whole document unreadable.

    >>> xml_text("a\\x00b\\tc")
    'a\ufffdb\\tc'
    """
    return _NOT_XML.sub(REPLACEMENT, text)


def _xml_value(value: Any) -> Any:
    return xml_text(value) if isinstance(value, str) else value


def to_graphml(graph: GraphData) -> str:
    """GraphML text: node attributes are scalars, ``properties`` and ``redundancy``
    JSON strings; absent attributes are left out.

    Examples
    --------
    >>> import networkx as nx
    >>> from servicegraph.model import Edge, Node
    >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
    ...                  [Edge("a", "b")])
    >>> sorted(nx.parse_graphml(to_graphml(g)).edges)
    [('a', 'b')]
    """
    # networkx is loaded by the one format that needs it, not by every command.
    import networkx as nx

    g = nx.DiGraph()
    for n in graph.nodes:
        attrs: dict[str, Any] = {"kind": n.kind.value, "name": n.name}
        attrs.update({a: getattr(n, a) for a in ATTRIBUTES if getattr(n, a) is not None})
        if n.properties:
            attrs["properties"] = _json(dict(n.properties))
        if n.redundancy:
            attrs["redundancy"] = _json(dict(n.redundancy))
        g.add_node(xml_text(n.id), **{k: _xml_value(v) for k, v in attrs.items()})
    for e in graph.edges:
        edge_attrs = {"impact": e.impact.value}
        if e.group is not None:
            edge_attrs["group"] = xml_text(e.group)
        g.add_edge(xml_text(e.source), xml_text(e.target), **edge_attrs)
    return "\n".join(nx.generate_graphml(g)) + "\n"


# --- Graphviz DOT ------------------------------------------------------------

_DOT_SHAPES = {
    NodeKind.PROMISE: "doubleoctagon",
    NodeKind.BUSINESS_SERVICE: "box3d",
    NodeKind.SERVICE_ACT: "ellipse",
    NodeKind.SERVICE_SYSTEM: "component",
    NodeKind.CI: "cylinder",
}


def dot_quote(text: str) -> str:
    """``text`` as a DOT double-quoted string.

    Backslashes are doubled and quotes escaped, so no id can end the string
    early; line breaks become ``\\n`` (a line break in a label); any other control
    character becomes U+FFFD (Graphviz would stop at a NUL).

    >>> print(dot_quote('say "hi"\\\\'))
    "say \\"hi\\"\\\\"
    """
    escaped = _LINE_BREAK.sub(r"\\n", text.replace("\\", "\\\\").replace('"', '\\"'))
    return f'"{_CONTROL.sub(REPLACEMENT, escaped)}"'


def _dot_node(n: Node) -> str:
    attrs = [f"label={dot_quote(n.name)}", f"shape={_DOT_SHAPES[n.kind]}",
             f"tooltip={dot_quote(f'{n.kind.value}: {n.id}')}"]
    return f"  {dot_quote(n.id)} [{', '.join(attrs)}];"


def _dot_edge(e: Edge) -> str:
    attrs = []
    if e.impact is Impact.SOFT:
        attrs.append("style=dashed")
    if e.group is not None:
        attrs.append(f"label={dot_quote(e.group)}")
    tail = f" [{', '.join(attrs)}]" if attrs else ""
    return f"  {dot_quote(e.source)} -> {dot_quote(e.target)}{tail};"


def to_dot(graph: GraphData) -> str:
    """A Graphviz digraph: a shape per kind, soft edges dashed, groups as edge labels.

    Examples
    --------
    >>> from servicegraph.model import Edge, Impact, Node
    >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
    ...                  [Edge("a", "b", impact=Impact.SOFT)])
    >>> print(to_dot(g).splitlines()[-2])
      "a" -> "b" [style=dashed];
    """
    lines = ["digraph servicegraph {", "  rankdir=TB;",
             '  node [fontname="Helvetica"];', '  edge [fontname="Helvetica"];']
    lines.extend(_dot_node(n) for n in graph.nodes)
    lines.extend(_dot_edge(e) for e in graph.edges)
    lines.append("}")
    return "\n".join(lines) + "\n"


# --- Mermaid -----------------------------------------------------------------

_MERMAID_SHAPES = {
    NodeKind.PROMISE: ("{{", "}}"),
    NodeKind.BUSINESS_SERVICE: ("([", "])"),
    NodeKind.SERVICE_ACT: ("(", ")"),
    NodeKind.SERVICE_SYSTEM: ("[", "]"),
    NodeKind.CI: ("[(", ")]"),
}
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9_]")
# Characters that would end a quoted label, start an entity or markdown string,
# or be read as HTML: written as Mermaid entity codes (#<decimal>;).
_LABEL_ESCAPES = str.maketrans({c: f"#{ord(c)};" for c in '"#&<>`|'})


def mermaid_id(node_id: str) -> str:
    """A Mermaid-safe identifier for ``node_id``, the same in every export.

    Ids made of letters, digits and underscores keep their text; any other id
    is sanitised and gets a short hash of the original, so different ids
    never meet. The ``n_`` prefix keeps clear of keywords such as ``end``.

    >>> mermaid_id("web_1"), mermaid_id("web-1")
    ('n_web_1', 'n_web_1_c4719afa')
    """
    safe = _UNSAFE_ID.sub("_", node_id)
    if safe == node_id:
        return f"n_{safe}"
    digest = hashlib.sha256(node_id.encode("utf-8")).hexdigest()[:8]
    return f"n_{safe}_{digest}"


def mermaid_label(text: str) -> str:
    """``text`` as a quoted Mermaid label, special characters as entity codes, line
    breaks as spaces and any other control character as U+FFFD.

    >>> mermaid_label('say "hi" & <go>')
    '"say #34;hi#34; #38; #60;go#62;"'
    """
    flat = _CONTROL.sub(REPLACEMENT, " ".join(text.splitlines()))
    return f'"{flat.translate(_LABEL_ESCAPES)}"'


def _mermaid_ids(graph: GraphData) -> dict[str, str]:
    ids = {n.id: mermaid_id(n.id) for n in graph.nodes}
    for e in graph.edges:
        for end in (e.source, e.target):
            ids.setdefault(end, mermaid_id(end))
    taken: dict[str, str] = {}
    # A clash needs a hash collision, or an id spelled like another's sanitised
    # form plus its hash; number the later one rather than merge two nodes.
    for node_id, mid in ids.items():
        if mid in taken:
            k = 2
            while f"{mid}_{k}" in taken:
                k += 1
            ids[node_id] = mid = f"{mid}_{k}"
        taken[mid] = node_id
    return ids


def to_mermaid(graph: GraphData) -> str:
    """A Mermaid ``flowchart TD``: a shape per kind, soft edges dotted, groups as labels.

    Examples
    --------
    >>> from servicegraph.model import Edge, Node
    >>> g = GraphData.of([Node("web-tier", NodeKind.SERVICE_SYSTEM, "Web tier",
    ...                        redundancy={"web": 1}), Node("web_1", NodeKind.CI, "Web 1")],
    ...                  [Edge("web-tier", "web_1", "web")])
    >>> print(to_mermaid(g))
    flowchart TD
      n_web_tier_bb82e021["Web tier"]
      n_web_1[("Web 1")]
      n_web_tier_bb82e021 -->|"web"| n_web_1
    <BLANKLINE>
    """
    ids = _mermaid_ids(graph)
    lines = ["flowchart TD"]
    for n in graph.nodes:
        left, right = _MERMAID_SHAPES[n.kind]
        lines.append(f"  {ids[n.id]}{left}{mermaid_label(n.name)}{right}")
    for e in graph.edges:
        arrow = "-.->" if e.impact is Impact.SOFT else "-->"
        if e.group is not None:
            arrow += f"|{mermaid_label(e.group)}|"
        lines.append(f"  {ids[e.source]} {arrow} {ids[e.target]}")
    return "\n".join(lines) + "\n"


# --- Cytoscape.js ------------------------------------------------------------

def to_cytoscape(graph: GraphData) -> dict[str, Any]:
    """Cytoscape.js elements JSON: node data is the interchange form plus a
    ``label``; edge data has a unique ``id``, ``source``, ``target``, ``impact``
    and ``group`` when grouped.

    Examples
    --------
    >>> from servicegraph.model import Edge, Node
    >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
    ...                  [Edge("a", "b")])
    >>> to_cytoscape(g)["elements"]["edges"]
    [{'data': {'id': 'a->b', 'source': 'a', 'target': 'b', 'impact': 'hard'}}]
    """
    nodes = []
    # Cytoscape wants ids unique across nodes and edges together.
    taken = {n.id for n in graph.nodes}
    for n in graph.nodes:
        data = n.to_dict()
        data["label"] = n.name
        nodes.append({"data": data})
    edges = []
    for e in graph.edges:
        edge_id = base = f"{e.source}->{e.target}"
        k = 2
        while edge_id in taken:
            edge_id, k = f"{base}#{k}", k + 1
        taken.add(edge_id)
        data = {"id": edge_id, "source": e.source, "target": e.target, "impact": e.impact.value}
        if e.group is not None:
            data["group"] = e.group
        edges.append({"data": data})
    return {"elements": {"nodes": nodes, "edges": edges}}


def to_cytoscape_json(graph: GraphData) -> str:
    """:func:`to_cytoscape` as JSON text.

    >>> json.loads(to_cytoscape_json(GraphData()))
    {'elements': {'nodes': [], 'edges': []}}
    """
    return json.dumps(to_cytoscape(graph), ensure_ascii=False)


#: Format name -> (media type, function from a graph to the text of that format).
EXPORTS: Mapping[str, tuple[str, Callable[[GraphData], str]]] = MappingProxyType({
    "graphml": ("application/graphml+xml", to_graphml),
    "dot": ("text/vnd.graphviz", to_dot),
    "mermaid": ("text/plain", to_mermaid),
    "cytoscape": ("application/json", to_cytoscape_json),
})


def view_of(graph: GraphData, ids: Sequence[str]) -> GraphData:
    """The nodes ``ids`` of the live part of ``graph`` and every edge among them, in
    graph order; raises :class:`UnknownNodeError` naming ids it lacks."""
    live = graph.live()
    wanted = set(ids)
    missing = sorted(wanted - live.node_map().keys())
    if missing:
        raise UnknownNodeError(missing)
    return GraphData(tuple(n for n in live.nodes if n.id in wanted),
                     tuple(e for e in live.edges if e.source in wanted and e.target in wanted))
