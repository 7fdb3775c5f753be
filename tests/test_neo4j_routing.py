"""The store through the driver's routing scheme (``neo4j://``), as against a cluster.

A single Neo4j answers the routing table for itself, so the local one shows that a
store opened with ``neo4j://`` writes through the Writer and reads back through the
Questions, and that a process on the ``bolt://`` address sees the same graph.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from urllib.parse import urlsplit

import neo4j
import pytest

from servicegraph import ServiceGraph
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model import GraphData, Node, NodeKind, State
from servicegraph.settings import Settings
from servicegraph.store import Neo4jStore, open_store


@pytest.fixture()
def routed(neo4j_uri: str, neo4j_store: Neo4jStore) -> Iterator[Neo4jStore]:
    """The test's (emptied) Neo4j, opened again through ``neo4j://`` with its own driver."""
    address = urlsplit(neo4j_uri)
    assert address.scheme == "bolt", neo4j_uri
    store = open_store(f"neo4j://{address.netloc}", Settings(_env_file=None))
    assert isinstance(store, Neo4jStore)
    yield store
    store.close()


def test_a_store_opened_through_the_routing_scheme_writes_and_reads_back(
        routed: Neo4jStore, neo4j_store: Neo4jStore) -> None:
    assert isinstance(routed.driver, neo4j.Neo4jDriver)  # the routing driver, not bolt's
    sg = ServiceGraph(routed)
    sg.writes.load(GraphData.of([Node("routed-app", NodeKind.SERVICE_SYSTEM, "App")]))
    summary = sg.writes.push("disc", GraphData.of([Node("routed-vm", NodeKind.CI, "VM")]))
    assert summary["nodes"]["created"] == 1
    sg.writes.push_status("mon", [StatusUpdate(State.DOWN, datetime.now(UTC),
                                                id="routed-vm")])
    assert sg.questions.node("routed-vm").source == "disc"
    assert sg.questions.impact(["routed-vm"])["counts"]["impacted"] >= 1

    # Another process on the routing address reads the whole graph and the journal.
    fresh = ServiceGraph(routed)
    node = fresh.questions.node("routed-vm")
    assert node.name == "VM"
    assert node.observed is not None and node.observed.state is State.DOWN
    assert fresh.version == routed.version() == sg.version
    # The same database as the direct address's.
    assert {"routed-app", "routed-vm"} <= set(neo4j_store.read().node_map())
    assert neo4j_store.version() == sg.version
