"""Catalogues, the silo matrix, neighbourhoods and exports."""

from __future__ import annotations

import itertools
import json
import re

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.examples import example_text
from servicegraph.impact import to_networkx
from servicegraph.model import Edge, GraphData, Impact, Node, NodeKind, UnknownNodeError, loads
from servicegraph.views import (
    EXPORTS,
    neighbourhood,
    promise_catalogue,
    service_act_catalogue,
    service_system_catalogue,
    silo_matrix,
    to_cytoscape,
    to_dot,
    to_graphml,
    to_mermaid,
)
from servicegraph.views.export import mermaid_id

from graphs import graphs

CI, SYSTEM = NodeKind.CI, NodeKind.SERVICE_SYSTEM


@pytest.fixture(scope="module")
def example() -> GraphData:
    return loads(example_text())


def by_id(rows: list[dict[str, object]]) -> dict[object, dict[str, object]]:
    return {row["id"]: row for row in rows}


# --- catalogues --------------------------------------------------------------

def test_promise_catalogue(example: GraphData) -> None:
    rows = promise_catalogue(example)
    assert [r["id"] for r in rows] == ["fun-day", "little-lost-time", "onboarding", "order-anytime"]
    onboarding = by_id(rows)["onboarding"]
    assert onboarding["owner"] == "HR" and onboarding["properties"] == {"target_days": 1}
    assert onboarding["kept_through"] == ["employee-onboarding"]
    assert str(by_id(rows)["fun-day"]["description"]).startswith("Tickets online")
    json.dumps(rows)


def test_service_system_catalogue(example: GraphData) -> None:
    rows = by_id(service_system_catalogue(example))
    assert len(rows) == 15
    hr = rows["hr-app"]
    assert (hr["visible"], hr["provider"], hr["owner"]) == (True, "Contoso Cloud", "HR")
    assert hr["performs"] == ["act-new-employee"]
    assert hr["depends_on"] == ["hr-tenant", "recruiting-feed"]
    assert rows["ticketing"]["performs"] == ["act-order-application", "act-order-computer"]
    # Hidden machinery performs no act directly.
    assert rows["network"]["performs"] == [] and rows["network"]["visible"] is False
    assert rows["web-tier"]["depends_on"] == ["lb", "web-1", "web-2", "web-3"]


def test_service_act_catalogue(example: GraphData) -> None:
    rows = by_id(service_act_catalogue(example))
    assert len(rows) == 8
    order_app = rows["act-order-application"]
    assert order_app["performed_by"] == ["automation", "ticketing"]
    assert order_app["serves"] == ["employee-onboarding", "workplace"]
    assert rows["act-enter-park"]["serves"] == ["park-visit"]


def test_acts_served_straight_to_a_promise_are_listed() -> None:
    g = GraphData.of([Node("p", NodeKind.PROMISE, "P"), Node("a", NodeKind.SERVICE_ACT, "A"),
                      Node("s", SYSTEM, "S")], [Edge("p", "a"), Edge("p", "s"), Edge("a", "s")])
    assert service_act_catalogue(g)[0]["serves"] == ["p"]
    assert promise_catalogue(g)[0]["kept_through"] == ["a", "s"]


def test_silo_matrix_of_business_services(example: GraphData) -> None:
    m = silo_matrix(example)
    assert m.silos == ("compute", "identity", "integration", "network", "park-systems",
                       "saas", "storage")
    assert m.services == ("employee-onboarding", "online-ordering", "park-visit", "workplace")
    assert m.cells[("storage", "online-ordering")] == ("erp-db", "erp-db-a", "erp-db-b", "san")
    assert m.cells[("integration", "employee-onboarding")] == ("feed-job",)
    # Soft dependencies count: the gates' soft need of the network, the soft need of
    # online tickets (whose shop runs on the web tier behind the load balancer).
    assert m.cells[("network", "park-visit")] == ("lb", "wan", "wan-a", "wan-b")
    assert ("integration", "park-visit") not in m.cells
    doc = json.loads(json.dumps(m.to_dict()))
    assert {"silo": "park-systems", "service": "park-visit", "cis": ["gate-1", "gate-2"]} \
        in doc["cells"]
    assert len(doc["cells"]) == len(m.cells)


def test_silo_matrix_of_promises_with_unassigned_cis(example: GraphData) -> None:
    g = example.merged_with(GraphData.of([Node("printer", CI, "Printer")],
                                         [Edge("service-desk", "printer")]))
    m = silo_matrix(g, columns=NodeKind.PROMISE)
    assert m.silos[-1] == "unassigned"
    assert m.cells[("unassigned", "little-lost-time")] == ("printer",)
    assert m.services == ("fun-day", "little-lost-time", "onboarding", "order-anytime")
    with pytest.raises(ValueError, match="columns"):
        silo_matrix(g, columns=CI)


# --- neighbourhood -----------------------------------------------------------

def test_upstream_downstream_and_both(example: GraphData) -> None:
    up = neighbourhood(example, "webshop", direction="upstream", depth=1)
    assert [n.id for n in up.graph.nodes] == ["webshop", "erp", "identity", "web-tier"]
    assert {e.key for e in up.graph.edges} == {("webshop", "erp"), ("webshop", "identity"),
                                               ("webshop", "web-tier")}
    down = neighbourhood(example, "san", direction="downstream", depth=2)
    assert {n.id for n in down.graph.nodes} == {
        "san", "erp-db-a", "erp-db-b", "web-1", "web-2", "web-3", "erp-db", "web-tier"}
    both = neighbourhood(example, "web-1", depth=2)
    # Up to the storage, down to the tier and what uses it, never across to siblings.
    assert {n.id for n in both.graph.nodes} == {"web-1", "san", "web-tier", "webshop",
                                                "ticket-shop"}
    assert not both.truncated and both.center == "web-1"


def test_edges_are_all_edges_among_the_nodes(example: GraphData) -> None:
    sub = neighbourhood(example, "erp", direction="both", depth=1)
    kept = {n.id for n in sub.graph.nodes}
    assert {e.key for e in sub.graph.edges} == {e.key for e in example.edges
                                                if e.source in kept and e.target in kept}
    assert kept == {"erp", "erp-db", "network", "act-check-delivery", "webshop"}
    # Between two dependants of erp, found separately: their own edge comes along.
    assert ("act-check-delivery", "webshop") in {e.key for e in sub.graph.edges}
    assert len(sub.graph.edges) == 5


def test_depth_zero_and_the_limit(example: GraphData) -> None:
    alone = neighbourhood(example, "san", depth=0)
    assert [n.id for n in alone.graph.nodes] == ["san"] and not alone.truncated
    cut = neighbourhood(example, "san", direction="downstream", depth=3, limit=4)
    assert [n.id for n in cut.graph.nodes] == ["san", "erp-db-a", "erp-db-b", "web-1"]
    assert cut.truncated
    exact = neighbourhood(example, "san", direction="downstream", depth=1, limit=6)
    assert len(exact.graph.nodes) == 6 and not exact.truncated
    doc = json.loads(json.dumps(cut.to_dict()))
    assert doc["center"] == "san" and doc["truncated"] is True
    assert doc["nodes"][0]["id"] == "san"
    assert {(e["from"], e["to"]) for e in doc["edges"]} == {
        ("erp-db-a", "san"), ("erp-db-b", "san"), ("web-1", "san")}


def test_neighbourhood_bad_requests(example: GraphData) -> None:
    with pytest.raises(UnknownNodeError):
        neighbourhood(example, "nope")
    for kwargs in ({"direction": "sideways"}, {"depth": -1}, {"limit": 0}):
        with pytest.raises(ValueError):
            neighbourhood(example, "san", **kwargs)


@settings(max_examples=200, deadline=None)
@given(graphs(), st.data())
def test_neighbourhood_agrees_with_shortest_paths(g: GraphData, data: st.DataObject) -> None:
    center = data.draw(st.sampled_from([n.id for n in g.nodes]))
    depth = data.draw(st.integers(0, 4))
    direction = data.draw(st.sampled_from(["upstream", "downstream", "both"]))
    nxg = to_networkx(g)
    up = set(nx.single_source_shortest_path_length(nxg, center, cutoff=depth))
    down = set(nx.single_source_shortest_path_length(nxg.reverse(), center, cutoff=depth))
    expected = {"upstream": up, "downstream": down, "both": up | down}[direction]
    sub = neighbourhood(g, center, direction=direction, depth=depth)
    assert [n.id for n in sub.graph.nodes].count(center) == 1
    assert {n.id for n in sub.graph.nodes} == expected and not sub.truncated
    limit = data.draw(st.integers(1, 6))
    cut = neighbourhood(g, center, direction=direction, depth=depth, limit=limit)
    assert len(cut.graph.nodes) == min(limit, len(expected))
    assert cut.truncated == (len(expected) > limit)
    assert {n.id for n in cut.graph.nodes} <= expected


# --- exports -----------------------------------------------------------------

AWKWARD = ['say "hi"', "with space", "dash-ed", "ünïcødé ✓", "trailing\\", "end", "o",
           "web_1", "web-1", "a->b", "new\nline"]


def awkward() -> GraphData:
    """Ids and names with quotes, spaces, dashes, unicode and backslashes."""
    nodes = [Node(i, CI, f"name of {i}", properties={"k": [1, "v"]}) for i in AWKWARD]
    nodes.append(Node("tier", SYSTEM, 'Tier "A" <b>#1</b> & `x` |y|', redundancy={"g|1": 1},
                      silo="x", visible=False))
    edges = [Edge(a, b) for a, b in itertools.pairwise(AWKWARD)]
    edges += [Edge("tier", 'say "hi"', "g|1"), Edge("tier", "ünïcødé ✓", "g|1"),
              Edge("tier", "end", impact=Impact.SOFT)]
    return GraphData.of(nodes, edges)


@pytest.mark.parametrize("graph", ["example", "awkward"])
def test_graphml_parses_back(graph: str, example: GraphData) -> None:
    g = example if graph == "example" else awkward()
    back = nx.parse_graphml(to_graphml(g))
    assert set(back.nodes) == {n.id for n in g.nodes}
    assert set(back.edges) == {e.key for e in g.edges}
    for n in g.nodes:
        attrs = back.nodes[n.id]
        assert (attrs["kind"], attrs["name"]) == (n.kind.value, n.name)
        assert json.loads(attrs.get("properties", "{}")) == dict(n.properties)
        assert json.loads(attrs.get("redundancy", "{}")) == dict(n.redundancy)
        assert attrs.get("visible") == n.visible
    for e in g.edges:
        data = back.edges[e.key]
        assert data["impact"] == e.impact.value and data.get("group") == e.group


_DOT_STRING = r'"((?:[^"\\]|\\.)*)"'


def _dot_unquote(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n"}.get(m.group(1), m.group(1)), body)


def test_dot_survives_awkward_ids() -> None:
    g = awkward()
    text = to_dot(g)
    assert text.startswith("digraph servicegraph {") and text.rstrip().endswith("}")
    node_re = re.compile(rf"^  {_DOT_STRING} \[label={_DOT_STRING}, shape=(\w+)")
    edge_re = re.compile(rf"^  {_DOT_STRING} -> {_DOT_STRING}(?: \[(.*)\])?;$")
    nodes, edges = {}, {}
    for line in text.splitlines():
        if m := node_re.match(line):
            nodes[_dot_unquote(m.group(1))] = (_dot_unquote(m.group(2)), m.group(3))
        elif m := edge_re.match(line):
            edges[(_dot_unquote(m.group(1)), _dot_unquote(m.group(2)))] = m.group(3) or ""
    assert nodes == {n.id: (n.name, "component" if n.kind is SYSTEM else "cylinder")
                     for n in g.nodes}
    assert set(edges) == {e.key for e in g.edges}
    assert edges[("tier", "end")] == "style=dashed"
    assert edges[("tier", 'say "hi"')] == 'label="g|1"'
    # No raw line break inside a statement: every line is a whole statement.
    assert len(text.splitlines()) == 4 + len(g.nodes) + len(g.edges) + 1


def test_mermaid_survives_awkward_ids() -> None:
    g = awkward()
    text = to_mermaid(g)
    lines = text.splitlines()
    assert lines[0] == "flowchart TD"
    ids = {n.id: mermaid_id(n.id) for n in g.nodes}
    assert len(set(ids.values())) == len(ids)
    assert all(re.fullmatch(r"n_[A-Za-z0-9_]+", m) for m in ids.values())
    node_lines, edge_lines = lines[1:1 + len(g.nodes)], lines[1 + len(g.nodes):]
    for n, line in zip(g.nodes, node_lines, strict=True):
        assert line.startswith(f"  {ids[n.id]}") and not line[len(ids[n.id]) + 2].isalnum()
        # Exactly one pair of quotes: nothing in the label can close it early.
        assert line.count('"') == 2 and "<" not in line and "`" not in line
    assert '  n_tier["Tier #34;A#34; #60;b#62;#35;1#60;/b#62; #38; #96;x#96; #124;y#124;"]' \
        in node_lines
    assert f"  n_tier -.-> {ids['end']}" in edge_lines
    quoted = ids['say "hi"']
    assert f'  n_tier -->|"g#124;1"| {quoted}' in edge_lines
    assert len(edge_lines) == len(g.edges)
    # Stable: the same id gets the same Mermaid id whatever else is in the graph.
    reversed_graph = GraphData(tuple(reversed(g.nodes)), g.edges)
    assert ids["web-1"] in to_mermaid(reversed_graph)
    assert ids["end"] == "n_end" and ids["web_1"] != ids["web-1"]


def test_cytoscape_has_every_node_and_edge(example: GraphData) -> None:
    for g in (example, awkward()):
        doc = json.loads(json.dumps(to_cytoscape(g)))
        nodes, edges = doc["elements"]["nodes"], doc["elements"]["edges"]
        assert {n["data"]["id"] for n in nodes} == {n.id for n in g.nodes}
        assert {(e["data"]["source"], e["data"]["target"]) for e in edges} == {
            e.key for e in g.edges}
        element_ids = [x["data"]["id"] for x in nodes + edges]
        assert len(element_ids) == len(set(element_ids))
    web = next(e["data"] for e in to_cytoscape(example)["elements"]["edges"]
               if e["data"]["source"] == "web-tier" and e["data"]["target"] == "web-1")
    assert web == {"id": "web-tier->web-1", "source": "web-tier", "target": "web-1",
                   "impact": "hard", "group": "web"}
    # "a->b" is a node id in the awkward graph; the edge a -> b must not take it.
    clash = GraphData.of([Node("a", CI, "A"), Node("b", CI, "B"), Node("a->b", CI, "AB")],
                         [Edge("a", "b")])
    assert to_cytoscape(clash)["elements"]["edges"][0]["data"]["id"] == "a->b#2"


def test_exports_registry(example: GraphData) -> None:
    assert set(EXPORTS) == {"graphml", "dot", "mermaid", "cytoscape"}
    for name, (media_type, render) in EXPORTS.items():
        text = render(example)
        assert isinstance(text, str) and "Web tier" in text, name
        assert "/" in media_type
    assert json.loads(EXPORTS["cytoscape"][1](example)) == to_cytoscape(example)
    assert EXPORTS["graphml"][0] == "application/graphml+xml"
