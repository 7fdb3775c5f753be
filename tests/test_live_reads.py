"""The routes of one item, a neighbourhood and the catalogues read the live graph.

Whatever the graph's size, reading or writing one node or edge, drawing a
neighbourhood, listing a catalogue or a node's provenance never builds the whole
graph: the guard below makes every whole-graph builder raise, then calls each
route and checks its answer. The live answers are held to the whole-graph
readings they replaced (the catalogues, the matrix, a drawn view) and to a naive
networkx walk (a neighbourhood) on random graphs, on both stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.impact.index import GraphIndex
from servicegraph.live.state import LiveGraph
from servicegraph.model import Edge, GraphData, Node, NodeKind
from servicegraph.runtime.questions import CATALOGUES, Questions
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore
from servicegraph.views import silo_matrix
from servicegraph.views.catalogue import GraphLinks
from servicegraph.views.export import EXPORTS, view_of
from servicegraph.views.neighbourhood import GraphNeighbours

from apikit import api_client
from graphs import graphs


class WholeGraphBuilt(AssertionError):
    """A route built the whole graph."""


#: Everything that builds the whole graph, or a copy of all of it: the store's whole
#: reads, the live graph as model objects, a frozen copy of the index, networkx.
BUILDERS: list[tuple[Any, str]] = [
    (SqliteStore, "read"), (SqliteStore, "load"), (Neo4jStore, "read"), (Neo4jStore, "load"),
    (LiveGraph, "graph"), (LiveGraph, "nodes"), (LiveGraph, "build"),
    (Questions, "whole_graph"), (Questions, "index"),
    (GraphIndex, "snapshot"), (GraphIndex, "from_graph"),
    (GraphLinks, "__init__"), (GraphNeighbours, "__init__"),
    (nx, "DiGraph"),
]


def _refuse(what: str) -> Any:
    def refused(*_: Any, **__: Any) -> Any:
        raise WholeGraphBuilt(f"{what} was called")
    return refused


@pytest.fixture()
def guarded(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    """The example served with every whole-graph builder made to raise (after the
    process has read its graph, as a running server has)."""
    assert client.get("/v1/nodes/lb").status_code == 200  # the graph is read now
    for owner, name in BUILDERS:
        monkeypatch.setattr(owner, name, _refuse(f"{getattr(owner, '__name__', owner)}.{name}"))
    yield client


def test_the_guard_bites(guarded: TestClient) -> None:
    """A route that does need the whole graph (an export) fails under the guard: the
    guard would catch a route of one item that built it."""
    with pytest.raises(WholeGraphBuilt):
        guarded.get("/v1/export/yaml")


def test_routes_of_one_item_never_build_the_whole_graph(guarded: TestClient) -> None:
    c = guarded
    # Nodes: read, create, replace, delete; unknown ones are named.
    assert c.get("/v1/nodes/lb").json()["id"] == "lb"
    r = c.get("/v1/nodes/ghost")
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]
    r = c.put("/v1/nodes/web-4", json={"kind": "ci", "name": "Web server 4"})
    assert r.status_code == 201 and r.json()["name"] == "Web server 4"
    r = c.put("/v1/nodes/web-4", json={"kind": "ci", "name": "Web server four"})
    assert r.status_code == 200 and c.get("/v1/nodes/web-4").json()["name"] == "Web server four"
    # Edges: create, replace, delete; an end that does not exist is named.
    r = c.put("/v1/edges", json={"from": "lb", "to": "web-4"})
    assert r.status_code == 201
    r = c.put("/v1/edges", json={"from": "lb", "to": "web-4", "impact": "soft"})
    assert r.status_code == 200 and r.json()["impact"] == "soft"
    r = c.put("/v1/edges", json={"from": "lb", "to": "nowhere"})
    assert r.status_code == 422 and "nowhere" in r.text
    assert c.get("/v1/nodes/nowhere").status_code == 404  # nothing half-written
    r = c.put("/v1/edges", json={"from": "nobody", "to": "web-4"})
    assert r.status_code == 422 and "nobody" in r.text
    r = c.delete("/v1/edges", params={"from": "lb", "to": "web-4"})
    assert r.status_code == 204
    r = c.delete("/v1/edges", params={"from": "lb", "to": "web-4"})
    assert r.status_code == 404 and "lb -> web-4" in r.json()["detail"]
    assert c.delete("/v1/nodes/web-4").status_code == 204
    r = c.delete("/v1/nodes/web-4")
    assert r.status_code == 404 and r.json()["ids"] == ["web-4"]
    # A neighbourhood, at each depth the page asks for.
    for depth, least in ((0, 1), (1, 2), (2, 3)):
        r = c.get("/v1/nodes/web-tier/neighbourhood", params={"depth": depth})
        assert r.status_code == 200 and len(r.json()["nodes"]) >= least
    assert [n["id"] for n in c.get("/v1/nodes/web-tier/neighbourhood",
                                   params={"depth": 0}).json()["nodes"]] == ["web-tier"]
    r = c.get("/v1/nodes/ghost/neighbourhood")
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]
    # Provenance.
    assert c.get("/v1/nodes/lb/provenance").json()["id"] == "lb"
    r = c.get("/v1/nodes/ghost/provenance")
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]
    # The catalogues and the matrix.
    promises = c.get("/v1/catalogue/promises").json()["items"]
    assert "onboarding" in {row["id"] for row in promises}
    systems = c.get("/v1/catalogue/service-systems").json()["items"]
    assert "web-tier" in {row["id"] for row in systems}
    visible = c.get("/v1/catalogue/service-systems", params={"visible": "true"}).json()
    assert visible["items"] and all(row["visible"] is True for row in visible["items"])
    assert c.get("/v1/catalogue/service-acts").json()["items"]
    assert c.get("/v1/matrix").json()["cells"]
    # A drawn view.
    r = c.post("/v1/views/export/mermaid", json={"ids": ["web-tier", "lb"]})
    assert r.status_code == 200 and "Web tier" in r.text
    r = c.post("/v1/views/export/dot", json={"ids": ["web-tier", "ghost"]})
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]


# --- the live answers against the whole-graph readings, on random graphs -----------------

@pytest.fixture()
def sg(store: GraphStore) -> ServiceGraph:
    return ServiceGraph(store)


def _retire_some(sg: ServiceGraph, g: GraphData, data: st.DataObject) -> None:
    """Have a source claim some of the graph and then stop asserting part of it, so that
    retired nodes and edges (and dangling dependencies) are in the graph."""
    if not g.nodes:
        return
    ids = [n.id for n in g.nodes]
    claimed = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=4))
    if not claimed:
        return
    nodes = [n for n in g.nodes if n.id in claimed]
    edges = [e for e in g.edges if e.source in claimed and e.target in claimed]
    keep = data.draw(st.lists(st.sampled_from(claimed), unique=True, max_size=len(claimed)))
    try:
        sg.writes.push("src", GraphData.of(
            [n.with_changes(id=f"x-{n.id}", redundancy={}) for n in nodes], ()))
    except Exception:  # a push refused by the rules changes nothing: fine
        return
    sg.writes.push("src", GraphData.of(
        [n.with_changes(id=f"x-{n.id}", redundancy={}) for n in nodes
         if n.id in keep],
        [Edge(f"x-{e.source}", f"x-{e.target}", e.group, e.impact) for e in edges
         if e.source in keep and e.target in keep and not e.group]),
        full_sync=True, allow_empty=True)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graphs(max_nodes=10), st.data())
def test_live_catalogues_and_views_equal_the_whole_graph_reading(
        sg: ServiceGraph, g: GraphData, data: st.DataObject) -> None:
    sg.writes.load(g, replace=True)
    _retire_some(sg, g, data)
    q = sg.questions
    whole = q.whole_graph()
    live = whole.live()
    with q.reading() as held:  # the counts a write answers, kept as it goes
        assert (held.node_count, held.edge_count) == (len(whole.nodes), len(whole.edges))
    for which, make in CATALOGUES.items():
        assert q.catalogue(which)["items"] == make(live), which
    for columns in (NodeKind.BUSINESS_SERVICE, NodeKind.PROMISE, NodeKind.SERVICE_SYSTEM):
        assert q.matrix(columns) == silo_matrix(live, columns=columns).to_dict()
    if live.nodes:
        ids = data.draw(st.lists(st.sampled_from([n.id for n in live.nodes]), unique=True,
                                 min_size=1))
        assert q.export_view("dot", ids) == EXPORTS["dot"][1](view_of(whole, ids))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(graphs(max_nodes=12), st.data())
def test_a_live_neighbourhood_is_the_naive_networkx_reading(
        sg: ServiceGraph, g: GraphData, data: st.DataObject) -> None:
    """Depth 0, 1 and 2 in every direction: the nodes within that many hops (a naive
    networkx walk over the graph) and every edge among them."""
    sg.writes.load(g, replace=True)
    nxg = nx.DiGraph()
    nxg.add_nodes_from(n.id for n in g.nodes)
    nxg.add_edges_from(e.key for e in g.edges)
    center = data.draw(st.sampled_from([n.id for n in g.nodes]))
    for depth in (0, 1, 2):
        up = set(nx.single_source_shortest_path_length(nxg, center, cutoff=depth))
        down = set(nx.single_source_shortest_path_length(nxg.reverse(), center,
                                                         cutoff=depth))
        for direction, expected in (("upstream", up), ("downstream", down),
                                    ("both", up | down)):
            sub = sg.questions.neighbourhood(center, direction=direction, depth=depth)
            ids = [n.id for n in sub.graph.nodes]
            assert ids[0] == center and set(ids) == expected and len(ids) == len(expected)
            assert {e.key for e in sub.graph.edges} == {
                e.key for e in g.edges if e.source in expected and e.target in expected}
            assert not sub.truncated


def test_the_live_walk_matches_networkx_on_cycles(tmp_path: Path) -> None:
    """``descendants`` (the matrix's walk) never names its start, even on a cycle back
    to it, as networkx does."""
    sg = ServiceGraph(SqliteStore(tmp_path / "g.db"))
    try:
        sg.writes.load(GraphData.of(
            [Node(i, NodeKind.CI, i) for i in "abcd"],
            [Edge("a", "b"), Edge("b", "c"), Edge("c", "a"), Edge("c", "d")]))
        with sg.questions.reading() as live:
            assert sorted(live.links().descendants("a")) == ["b", "c", "d"]
            assert live.links().descendants("d") == []
            assert live.links().descendants("ghost") == []
    finally:
        sg.close()


def test_example_catalogues_over_http_equal_the_whole_graph_reading(
        store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path) as c:
        graph = c.app.state.graph  # type: ignore[attr-defined]
        live = graph.questions.whole_graph().live()
        for which, make in CATALOGUES.items():
            assert c.get(f"/v1/catalogue/{which}").json()["items"] == make(live)
