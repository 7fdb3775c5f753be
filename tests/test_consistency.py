"""Reads that race writers stay whole, and answers stay linear in their size."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

from servicegraph import ServiceGraph
from servicegraph.live.replica import Replica
from servicegraph.model import Edge, GraphData, Node, NodeKind
from servicegraph.store import GraphStore, Neo4jStore

from apikit import api_client


@pytest.mark.neo4j
def test_whole_graph_reads_racing_pushes_never_see_an_edge_without_its_node(
        neo4j_store: Neo4jStore) -> None:
    """Neo4j reads are read-committed: nodes and edges read in two statements could
    straddle a push. Reads made while pushes land must still be whole graphs."""
    writer = ServiceGraph(neo4j_store)
    writer.writes.load(GraphData.of([Node("hub", NodeKind.SERVICE_SYSTEM, "Hub")]))
    done = threading.Event()
    failures: list[str] = []

    def push() -> None:
        for i in range(60):
            writer.writes.push("disc", GraphData.of([Node(f"ci-{i}", NodeKind.CI, f"CI {i}")],
                                             [Edge("hub", f"ci-{i}")]))
        done.set()

    def check(graph: GraphData) -> None:
        ids = {n.id for n in graph.nodes}
        failures.extend(f"{e.source} -> {e.target}" for e in graph.edges
                        if e.source not in ids or e.target not in ids)

    pusher = threading.Thread(target=push)
    pusher.start()
    reads = 0
    while not done.is_set() or reads < 5:
        check(neo4j_store.read())
        replica = Replica(neo4j_store)
        replica.refresh(force=True)  # a full load made exact by the journal replay
        with replica.reading() as live:
            check(live.graph())
        reads += 1
    pusher.join()
    assert failures == [] and reads >= 5


def test_a_long_chain_answers_in_a_size_linear_in_the_chain(store: GraphStore,
                                                            tmp_path: Path) -> None:
    """Each explanation used to carry its whole chain: quadratic on long chains."""
    n = 1500
    systems = [Node(f"s{i:04d}", NodeKind.SERVICE_SYSTEM, f"S{i}") for i in range(n)]
    cis = [Node(f"c{i:04d}", NodeKind.CI, f"C{i}") for i in range(n)]
    chain = [Node("p", NodeKind.PROMISE, "P"), *systems, *cis]
    graph = GraphData.of(chain, [Edge(a.id, b.id) for a, b in itertools.pairwise(chain)])
    with api_client(store, tmp_path) as client:
        client.app.state.graph.writes.load(graph, replace=True)  # type: ignore[attr-defined]
        r = client.post("/v1/impact?limit=10000", json={"down": [cis[-1].id]})
    assert r.status_code == 200
    body = r.json()
    assert body["counts"]["impacted"] == len(chain) == len(body["impacted"])
    # Linear: a few hundred bytes per node at most (the quadratic form was tens of MB).
    assert len(r.content) < 400 * len(chain)
    assert len(body["explanations"]["p"]["chain"]) == len(chain)
    middle = body["explanations"][systems[n // 2].id]
    assert middle["chain"] is None and middle["via"] == systems[n // 2 + 1].id
