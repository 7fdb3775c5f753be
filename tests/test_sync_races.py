"""Full syncs of one source racing in real OS processes, on each store.

Two sessions of one source committing at once: exactly one wins, and the live
items of the source are exactly its snapshot (the other is superseded and retires
nothing). An abandon racing a commit: whichever wins, the other is refused naming
the session's real state, and the store holds what the winner did.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from servicegraph import ServiceGraph
from servicegraph.model import GraphData
from servicegraph.store import GraphStore
from test_processes import target_of

from servers import serve
from workers import cmdb_node, http_session_ender, session_committer, session_ender

SOURCE = "cmdb"
NODES = [f"n-{i:04d}" for i in range(4000)]


def claim_all(graph: ServiceGraph) -> None:
    """The source claims every node, all live (a full sync of its own)."""
    graph.writes.push(SOURCE, GraphData.of(cmdb_node(n) for n in NODES), full_sync=True)


def live_of_source(store: GraphStore) -> set[str]:
    return {n.id for n in store.read().nodes if n.id in set(NODES) and n.retired_at is None}


def run(target: Any, args: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Run ``target`` in one process per argument tuple, started together; their
    reports, in the order they finished."""
    spawn = multiprocessing.get_context("spawn")
    results = spawn.Queue()
    barrier = spawn.Barrier(len(args))
    processes = [spawn.Process(target=target, args=(*a, barrier, results)) for a in args]
    for p in processes:
        p.start()
    found = [results.get(timeout=600) for _ in processes]
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0, f"a process failed ({p.exitcode})"
    return found


def test_two_sessions_committing_at_once_one_wins_whole(store: GraphStore) -> None:
    claim_all(ServiceGraph(store))
    first, second = NODES[:3000], NODES[1000:]
    target = target_of(store)
    reports = run(session_committer, [(target, SOURCE, first, 500),
                                      (target, SOURCE, second, 500)])
    done = [r for r in reports if r["outcome"] == "done"]
    refused = [r for r in reports if r["outcome"] != "done"]
    assert len(done) == 1 and len(refused) == 1, reports
    (winner,), (loser,) = done, refused
    assert loser["outcome"] == "closed" and loser["state"] == "superseded", loser
    assert winner["answer"]["nodes"]["retired"] == 1000
    # The live set is exactly the winner's snapshot: the loser retired nothing.
    assert live_of_source(store) == set(winner["asserted"])
    assert store.sync_session(winner["session"]).state == "committed"  # type: ignore[union-attr]
    assert store.sync_session(loser["session"]).state == "superseded"  # type: ignore[union-attr]


def opened_with_pages(graph: ServiceGraph, asserted: list[str]) -> str:
    """A session of the source whose pages asserted ``asserted``."""
    session = graph.writes.open_sync(SOURCE).id
    for start in range(0, len(asserted), 700):
        graph.writes.push(SOURCE, GraphData.of(cmdb_node(n) for n in asserted[start:start + 700]),
                          session=session)
    return session


@pytest.mark.parametrize(("commit_delay", "abandon_delay"),
                         [(0.0, 0.0), (0.0, 0.05), (0.0, 0.2), (0.0, 0.5), (0.3, 0.0)])
def test_an_abandon_racing_a_commit_answers_truthfully(store: GraphStore, commit_delay: float,
                                                       abandon_delay: float) -> None:
    graph = ServiceGraph(store)
    claim_all(graph)
    asserted = NODES[:2100]
    session = opened_with_pages(graph, asserted)
    target = target_of(store)
    reports = {r["action"]: r for r in run(session_ender, [
        (target, SOURCE, session, "commit", commit_delay),
        (target, SOURCE, session, "abandon", abandon_delay)])}
    commit, abandon = reports["commit"], reports["abandon"]
    state = store.sync_session(session).state  # type: ignore[union-attr]
    if commit["outcome"] == "done":
        # The commit won: the abandon names it, and its retirements stand.
        assert commit["answer"]["nodes"]["retired"] == 1900
        assert abandon == {**abandon, "outcome": "closed", "state": "committed"}, abandon
        assert state == "committed"
        assert live_of_source(store) == set(asserted)
    else:
        # The abandon won: the commit names it (not "a full sync with no items"), and
        # nothing was retired.
        assert commit == {**commit, "outcome": "closed", "state": "abandoned"}, commit
        assert abandon["outcome"] == "done" and abandon["answer"]["state"] == "abandoned"
        assert state == "abandoned"
        assert live_of_source(store) == set(NODES)


def test_over_http_the_loser_of_an_abandon_commit_race_answers_409_naming_the_winner(
        store: GraphStore, tmp_path: Path) -> None:
    """Two API worker processes, each request to whichever answers: per round, one of
    the two is 200 and the other 409 with the state the winner left."""
    graph = ServiceGraph(store)
    asserted = NODES[:2100]
    with serve(tmp_path, target_of(store), args=["--workers", "2"]) as server:
        for commit_delay, abandon_delay in [(0.0, 0.0), (0.0, 0.1), (0.0, 0.4), (0.2, 0.0)]:
            claim_all(graph)
            session = opened_with_pages(graph, asserted)
            reports = {r["action"]: r for r in run(http_session_ender, [
                (server.url, SOURCE, session, "commit", commit_delay),
                (server.url, SOURCE, session, "abandon", abandon_delay)])}
            commit, abandon = reports["commit"], reports["abandon"]
            state = store.sync_session(session).state  # type: ignore[union-attr]
            if commit["status"] == 200:
                assert commit["body"]["nodes"]["retired"] == 1900
                assert (abandon["status"], abandon["body"].get("state")) == (409, "committed"), \
                    abandon
                assert state == "committed"
                assert live_of_source(store) == set(asserted)
            else:
                assert (commit["status"], commit["body"].get("state")) == (409, "abandoned"), \
                    (commit, server.output()[-3000:])
                assert "abandoned" in commit["body"]["detail"]
                assert (abandon["status"], abandon["body"].get("state")) == (200, "abandoned")
                assert state == "abandoned"
                assert live_of_source(store) == set(NODES)
