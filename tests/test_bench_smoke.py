"""The benchmark at a small size: every way of answering it compares agrees.

The figures themselves are the benchmark's (``make bench``); here only outcomes are
checked: the engine, scipy's breadth-first search over the same reach,
``nx.descendants`` and the naive evaluator give the same answers on the seeded
enterprise, its pages load through the library into the same graph, and the start-up
section's graph starts from a snapshot as it is read whole.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.enterprise import Enterprise, generate
from benchmarks.inprocess import (
    check_naive,
    check_reach,
    impact_graph,
    random_cis,
    reverse_csr,
    scipy_reach,
    storm,
    worst_single_failure,
)

from servicegraph import ServiceGraph
from servicegraph.impact import analyse, to_networkx
from servicegraph.impact.explain import explain
from servicegraph.model import GraphData, State, parse_document
from servicegraph.store import SqliteStore

from graphs import what_if

N = 3000
SEED = 7


@pytest.fixture(scope="module")
def enterprise() -> Enterprise:
    return generate(N, SEED)


def test_the_enterprise_is_seeded_and_valid(enterprise: Enterprise) -> None:
    again = generate(N, SEED)
    assert again.ids == enterprise.ids
    assert (again.src == enterprise.src).all() and (again.grp == enterprise.grp).all()
    assert enterprise.m > 3 * N
    assert len(enterprise.group_node) > 0
    # Every group's members lie below its node, so bottom-up pages bring them first.
    members = enterprise.grp >= 0
    assert (enterprise.dst[members] > enterprise.src[members]).all()


def test_engine_scipy_and_networkx_reach_the_same(enterprise: Enterprise) -> None:
    index, rev, nxg = enterprise.index(), reverse_csr(enterprise), impact_graph(enterprise)
    worst = worst_single_failure(enterprise, rev, SEED)
    assert worst.reach == len(scipy_reach(rev, worst.node)) > 1
    assert check_reach(index, enterprise, rev, worst.node, nxg) == worst.reach
    assert worst.reach == len(nx.descendants(nxg, worst.node)) + 1
    for scenario in random_cis(enterprise, SEED, 5):
        (node,) = [index.position[k] for k in scenario]
        assert check_reach(index, enterprise, rev, node, nxg) >= 1


def test_engine_and_naive_evaluator_agree(enterprise: Enterprise) -> None:
    index = enterprise.index()
    g = to_networkx(enterprise.graph_data(SEED))
    worst = worst_single_failure(enterprise, reverse_csr(enterprise), SEED)
    scenarios = [{enterprise.ids[worst.node]: State.DOWN}, storm(enterprise, SEED, 100),
                 *random_cis(enterprise, SEED, 3)]
    sizes = [check_naive(index, g, s) for s in scenarios]
    assert sizes[0] == worst.reach
    assert sizes[1] > 100


def test_the_answer_explains_as_node_by_node(enterprise: Enterprise) -> None:
    index = enterprise.index()
    result = analyse(index, storm(enterprise, SEED, 50))
    answer = result.answer(limit=200)
    promises = {index.position[p] for p in
                answer["broken_promises"] + answer["at_risk_promises"]}
    assert answer["explanations"]
    for node_id, got in answer["explanations"].items():
        v = index.position[node_id]
        found = explain(result.propagation, v, chain=v in promises)
        assert found is not None and found.to_dict() == got


def test_pages_load_into_the_same_graph(tmp_path: Path) -> None:
    small = generate(800, SEED)
    graph = ServiceGraph(SqliteStore(tmp_path / "g.db"))
    pages = list(small.pages(1500))
    assert all(len(n) + len(e) <= 1500 for n, e in pages)
    for nodes, edges in pages:
        answer = graph.writes.push("bench", parse_document({"nodes": nodes, "edges": edges}))
        assert answer["created"] == len(nodes) + len(edges)
    stored = graph.questions.whole_graph()
    assert len(stored.nodes) == small.n and len(stored.edges) == small.m
    worst = worst_single_failure(small, reverse_csr(small), SEED)
    failed = {small.ids[worst.node]: State.DOWN}
    assert dict(what_if(graph, [small.ids[worst.node]]).impacted) == dict(
        analyse(small.index(), failed).impacted)
    assert isinstance(stored, GraphData)
    graph.close()


def test_the_start_up_benchmark_graph_starts_from_a_snapshot_as_read_whole(
        tmp_path: Path) -> None:
    from benchmarks.startup import claimed, statuses, write_graph

    from servicegraph.live.snapshots import SnapshotDirectory

    small = generate(600, SEED)
    store = SqliteStore(tmp_path / "g.db")
    write_graph(store, claimed(small, SEED))
    folder = SnapshotDirectory(tmp_path / "snaps", store)
    saver = ServiceGraph(store, snapshots=folder)
    saver.refresh(force=True)
    assert saver.replica.save_snapshot()
    statuses(store, small.ids[:20], 30)
    fast = ServiceGraph(store, snapshots=SnapshotDirectory(tmp_path / "snaps", store))
    fast.refresh(force=True)
    whole = ServiceGraph(store)
    whole.refresh(force=True)
    assert fast.replica.started_from == "snapshot" and fast.version == whole.version
    assert fast.questions.current() == whole.questions.current()
    assert fast.questions.whole_graph() == whole.questions.whole_graph()
    folder.close()


def test_the_routes_benchmark_runs_at_two_small_sizes(tmp_path: Path) -> None:
    """Every route it times answers as expected (it stops otherwise), at both sizes,
    with the naive way beside it (served in process here; a real server in the run)."""
    from benchmarks.routes import routes_rows, section

    from servicegraph_api import create_app

    from apikit import local_client, settings_for

    @contextmanager
    def in_process(db: Path, work: Path) -> Iterator[Any]:
        app = create_app(settings_for(work), graph=ServiceGraph(SqliteStore(db)))
        with local_client(app) as client:
            yield client

    rows = routes_rows(tmp_path, "S", SEED, reps=1, catalogue_reps=1, sizes=(200, 400),
                       connect=in_process)
    routes = [r.figure for r in rows]
    assert "`PUT /v1/nodes/{id} (created)`" in routes
    assert "`GET /v1/catalogue/service-systems`" in routes
    assert all(r.size == "200 / 400" and "naive way" in r.note for r in rows)
    assert "| figure |" in "\n".join(section(rows, "S", 0.0, (200, 400)))


def test_the_record_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    """Every figure of the record's section is measured, each against its target, with
    the naive way beside it (the embedded store only here; Neo4j too in the run)."""
    from benchmarks.record import Sizes, record_rows, section

    sizes = Sizes(600, 8, 5, reps=2, pushes=4)
    rows, version = record_rows(tmp_path, "S", SEED, None, sizes)
    assert version is None
    figures = [r.figure for r in rows]
    assert [f.split(" (")[0] for f in figures] == [
        "the month's record for all 6 promises", "one promise's record for a month",
        "`/v1/current?at=T` anywhere in the 30 days",
        "cost of recording, added to a status push", "store growth for the 30 days"]
    assert all(r.met is not None for r in rows[:4]) and rows[4].met is None
    assert all("naive way" in r.note for r in rows[:3])
    assert "transitions" in rows[4].value and not rows[4].value.startswith("0 ")
    assert "| figure |" in "\n".join(section(rows, "S", sizes, 0.0, version))


def test_the_neo4j_side_alone_writes_what_the_pushes_write(neo4j_store: Any) -> None:
    """The ingest benchmark's Neo4j side alone sends the store's own batches: the graph
    it leaves is the one the same pages pushed through the writer leave."""
    from datetime import UTC, datetime

    from benchmarks import api

    from servicegraph.ingest.ndjson import NdjsonReader
    from servicegraph.model.times import iso

    at = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    pages = api.bodies(generate(300, 3), 200)
    alone = api.store_alone(neo4j_store, api.store_batches(pages, iso(at)))
    assert (alone.pushes, alone.items) == (len(pages), sum(size for _, size in pages))

    def graph() -> tuple[list[Any], list[Any]]:
        read = neo4j_store.read()
        return (sorted(read.nodes, key=lambda n: n.id), sorted(read.edges, key=lambda e: e.key))

    written = graph()
    assert len(written[0]) == 300
    neo4j_store.clear()
    writes = ServiceGraph(neo4j_store).writes
    for body, _ in pages:
        reader = NdjsonReader()
        reader.feed(body)
        writes.push(api.SOURCE, reader.finish(), now=at)
    assert graph() == written
