"""Exports stay readable whatever characters the graph holds: GraphML stays valid XML,
DOT and Mermaid carry no raw control characters. Validation keeps them out of ids and
names now, but descriptions, properties and graphs stored before may hold them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.model import Edge, GraphData, Node, NodeKind
from servicegraph.store import GraphStore
from servicegraph.store.base import Change, ChangeInfo
from servicegraph.views.export import to_dot, to_graphml, to_mermaid
from servicegraph_api import create_app

from apikit import local_client, settings_for

#: Every control character, and the two non-characters XML cannot carry.
NASTY = "".join(map(chr, [*range(0x20), *range(0x7F, 0xA0)])) + "\ufffe\uffff"


def nasty_graph() -> GraphData:
    """A graph as it could have been stored before ids and names were bounded."""
    sys_node = Node("sys\x00tem", NodeKind.SERVICE_SYSTEM, f"System {NASTY}",
                    description=f"desc {NASTY}", owner="o\x1bwner",
                    properties={"note": NASTY, f"k\x00{NASTY}": 1}, redundancy={"g\x07": 1})
    nodes = [sys_node, Node("ci\x01", NodeKind.CI, "CI\x7f\x85one"),
             Node("ci-2", NodeKind.CI, "CI \u2028 two\x00")]
    edges = [Edge("sys\x00tem", "ci\x01", "g\x07"), Edge("sys\x00tem", "ci-2")]
    return GraphData.of(nodes, edges)


RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def check_graphml(text: str) -> None:
    ElementTree.fromstring(text.encode("utf-8"))  # a strict XML parser: raises if invalid
    back = nx.parse_graphml(text)
    assert len(back.nodes) == 3 and len(back.edges) == 2


def check_text(text: str) -> None:
    assert not RAW_CONTROL.search(text), repr(RAW_CONTROL.search(text))
    text.encode("utf-8")


def test_graphml_of_control_characters_is_valid_xml() -> None:
    check_graphml(to_graphml(nasty_graph()))


def test_dot_and_mermaid_hold_no_raw_control_characters() -> None:
    g = nasty_graph()
    dot = to_dot(g)
    check_text(dot)
    # Still one statement a line: 4 header lines, the nodes, the edges, the closing brace.
    assert len(dot.splitlines()) == 4 + 3 + 2 + 1
    mermaid = to_mermaid(g)
    check_text(mermaid)
    assert len(mermaid.splitlines()) == 1 + 3 + 2


@pytest.fixture()
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    # Written straight into the store, as data from before the bounds would be.
    store.apply(Change.upsert(nasty_graph(), replace=True), ChangeInfo("2026-01-01T00:00:00Z",
                                                                       "load"))
    app = create_app(settings_for(tmp_path), graph=ServiceGraph(store))
    with local_client(app) as c:
        yield c


def test_exports_over_http_of_a_graph_with_control_characters(client: TestClient) -> None:
    r = client.get("/v1/export/graphml")
    assert r.status_code == 200
    check_graphml(r.text)
    for fmt in ("dot", "mermaid"):
        r = client.get(f"/v1/export/{fmt}")
        assert r.status_code == 200
        check_text(r.text)
