"""Several real OS processes writing at once, on each store: nothing is lost, and every
process's answers are current.

Each writer process pushes statuses (on its own CIs), pushes nodes from its own
source, and one of them pushes the pages of a sync session and commits it; each
reads its own writes back at once. Through the API, two worker processes serve
the writers, so a read may be answered by the other process than the write.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from servicegraph import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.model import GraphData, Node, NodeKind
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore

from servers import serve
from workers import http_writer, library_writer, own_nodes

WRITERS = 3
ROUNDS = 12


def target_of(store: GraphStore) -> str:
    """How another process names the same store."""
    if isinstance(store, SqliteStore):
        return store.path
    assert isinstance(store, Neo4jStore)
    return store.uri


def prepared(store: GraphStore) -> ServiceGraph:
    graph = ServiceGraph(store)
    graph.writes.load(example_graph())
    graph.writes.load(GraphData.of([Node(n, NodeKind.CI, n) for w in range(WRITERS)
                             for n in own_nodes(w)]))
    graph.writes.push("cmdb", GraphData.of([Node("cmdb-old", NodeKind.CI, "to retire")]))
    return graph


def collect(results: Any, processes: list[Any]) -> list[dict[str, Any]]:
    found = [results.get(timeout=600) for _ in processes]
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0, f"a writer process failed ({p.exitcode})"
    return sorted(found, key=lambda r: r["worker"])


def check_nothing_lost(store: GraphStore, reports: list[dict[str, Any]]) -> ServiceGraph:
    """Every status as last written, every pushed node, the session's commit."""
    judge = ServiceGraph(store)
    for report in reports:
        assert report["problems"] == [], report["problems"]
        for node_id, word in report["last"].items():
            seen = judge.questions.node(node_id).observed
            assert seen is not None and seen.state.word == word, (node_id, seen, word)
        for vm in report["pushed"]:
            assert judge.questions.node(vm).retired_at is None
    for r in range(ROUNDS):
        assert judge.questions.node(f"cmdb-{r}").retired_at is None
    assert judge.questions.node("cmdb-old").retired_at is not None
    stored = store.read().node_map()
    assert {n for r in reports for n in r["pushed"]} <= set(stored)
    return judge


def test_writer_processes_lose_nothing_and_read_their_writes(store: GraphStore) -> None:
    prepared(store)
    session = ServiceGraph(store).writes.open_sync("cmdb").id
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    barrier = spawn.Barrier(WRITERS)
    processes = [spawn.Process(target=library_writer, args=(
        target_of(store), w, ROUNDS, session if w == 0 else None, barrier, results))
        for w in range(WRITERS)]
    for p in processes:
        p.start()
    reports = collect(results, processes)
    judge = check_nothing_lost(store, reports)
    # Once all writes are done, every process answers from the same, latest version.
    latest = judge.refresh().version
    expected = judge.questions.current(limit=10000, explain=False)["impacted"]
    for report in reports:
        assert report["version"] == latest
        assert report["impacted"] == expected
    entries = store.journal(0)
    if entries is not None:  # contiguous versions: no write slipped between two others
        assert [e.version for e in entries] == list(range(entries[0].version, latest + 1))


def test_two_api_workers_serving_writers_lose_nothing(store: GraphStore,
                                                      tmp_path: Path) -> None:
    prepared(store)
    with serve(tmp_path, target_of(store), args=["--workers", "2"]) as server:
        import httpx

        session = httpx.post(f"{server.url}/v1/sources/cmdb/syncs").json()["id"]
        spawn = multiprocessing.get_context("spawn")
        results = spawn.Queue()
        processes = [spawn.Process(target=http_writer, args=(
            server.url, w, ROUNDS, session if w == 0 else None, results))
            for w in range(WRITERS)]
        for p in processes:
            p.start()
        reports = collect(results, processes)
        answered = {code: n for r in reports for code, n in r["statuses"].items()}
        assert set(answered) == {200}, (answered, server.output()[-3000:])
        assert "worker" in server.output() or "Started" in server.output()
    check_nothing_lost(store, reports)


@pytest.fixture(autouse=True)
def _bounded(request: pytest.FixtureRequest) -> None:
    """These tests start processes: name them in failures."""
    request.node.user_properties.append(("processes", WRITERS))
