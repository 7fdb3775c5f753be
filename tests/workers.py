"""What the processes of the multi-process tests do (run in their own interpreters)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

T0 = datetime(2025, 1, 1, tzinfo=UTC)  # in the past: future observations are refused
STATES = ("down", "ok", "degraded")


def own_nodes(worker: int) -> list[str]:
    """The CIs a worker observes (made by the test beforehand)."""
    return [f"w{worker}-ci-{k}" for k in range(3)]


def open_graph(target: str) -> Any:
    from servicegraph import ServiceGraph
    from servicegraph.settings import Settings
    from servicegraph.store import open_store

    return ServiceGraph(open_store(target, Settings(_env_file=None)))


def library_writer(target: str, worker: int, rounds: int, session: str | None,
                   barrier: Any, results: Any) -> None:
    """Statuses, pushes and (worker 0) sync-session pages, each checked at once by a
    read of this process; then, once every writer is done, this process's view."""
    from servicegraph.ingest.status import StatusUpdate
    from servicegraph.model import GraphData, Node, NodeKind, State

    graph = open_graph(target)
    last: dict[str, str] = {}
    pushed: list[str] = []
    problems: list[str] = []
    for r in range(rounds):
        node = own_nodes(worker)[r % 3]
        word = STATES[r % 3]
        at = T0 + timedelta(seconds=r, milliseconds=worker)
        graph.writes.push_status(f"mon{worker}", [StatusUpdate(State.parse(word), at, id=node)])
        last[node] = word
        seen = graph.questions.node(node).observed
        if seen is None or seen.state.word != word:
            problems.append(f"round {r}: own status of {node} not read back")
        vm = f"vm-{worker}-{r}"
        graph.writes.push(f"disc{worker}", GraphData.of([Node(vm, NodeKind.CI, vm.upper())]))
        pushed.append(vm)
        if session is not None:
            graph.writes.push("cmdb", GraphData.of([Node(f"cmdb-{r}", NodeKind.CI, "kept")]),
                       session=session)
    if session is not None:
        graph.writes.commit_sync("cmdb", session)
    barrier.wait(timeout=300)
    fresh = graph.refresh(force=True)
    answer = graph.questions.current(limit=10000, explain=False)
    results.put({"worker": worker, "last": last, "pushed": pushed, "problems": problems,
                 "version": fresh.version, "impacted": answer["impacted"]})


def http_writer(url: str, worker: int, rounds: int, session: str | None,
                results: Any) -> None:
    """The same through the API (whichever worker process answers), counting answers."""
    statuses: dict[int, int] = {}
    last: dict[str, str] = {}
    pushed: list[str] = []
    problems: list[str] = []

    def note(r: httpx.Response) -> httpx.Response:
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        return r

    with httpx.Client(base_url=url, timeout=60) as client:
        for r in range(rounds):
            node = own_nodes(worker)[r % 3]
            word = STATES[r % 3]
            at = (T0 + timedelta(seconds=r, milliseconds=worker)).isoformat()
            note(client.post(f"/v1/sources/mon{worker}/status",
                             json={"statuses": [{"id": node, "state": word, "at": at}]}))
            last[node] = word
            # Read at once: the next request may go to the other worker process.
            seen = note(client.get(f"/v1/nodes/{node}")).json().get("observed") or {}
            if seen.get("state") != word:
                problems.append(f"round {r}: {node} read back {seen} after {word}")
            vm = f"vm-{worker}-{r}"
            note(client.post(f"/v1/sources/disc{worker}/push",
                             json={"nodes": [{"id": vm, "kind": "ci", "name": vm.upper()}]}))
            pushed.append(vm)
            if note(client.get(f"/v1/nodes/{vm}")).status_code != 200:
                problems.append(f"round {r}: pushed {vm} not read back")
            note(client.post("/v1/impact", json={"down": [node]}))
            if session is not None:
                note(client.post(f"/v1/sources/cmdb/syncs/{session}/push", json={
                    "nodes": [{"id": f"cmdb-{r}", "kind": "ci", "name": "kept"}]}))
        if session is not None:
            note(client.post(f"/v1/sources/cmdb/syncs/{session}/commit"))
    results.put({"worker": worker, "last": last, "pushed": pushed, "problems": problems,
                 "statuses": statuses})
    time.sleep(0)


# --- sync sessions racing ------------------------------------------------------------------


def cmdb_node(node_id: str) -> Any:
    """The node ``cmdb`` pushes for ``node_id``, the same in every process (so a page
    that repeats it changes nothing but the session's keys)."""
    from servicegraph.model import Node, NodeKind

    return Node(node_id, NodeKind.CI, node_id.upper(), silo="compute")


def ended(call: Any) -> dict[str, Any]:
    """How a commit or an abandon ended: done (with its answer), refused because the
    session is closed (with the state named), or refused as invalid."""
    from servicegraph.model.errors import ValidationError
    from servicegraph.store.base import SyncClosed

    try:
        answer = call()
    except SyncClosed as exc:
        return {"outcome": "closed", "state": exc.state, "detail": str(exc)}
    except ValidationError as exc:
        return {"outcome": "invalid", "detail": str(exc)}
    found = answer.to_dict() if hasattr(answer, "to_dict") else answer
    return {"outcome": "done", "answer": found}


def session_committer(target: str, source: str, asserted: list[str], page: int,
                      barrier: Any, results: Any) -> None:
    """Open a session of ``source``, push ``asserted`` in pages, wait for the others,
    then commit at once."""
    from servicegraph.model import GraphData

    graph = open_graph(target)
    session = graph.writes.open_sync(source).id
    for start in range(0, len(asserted), page):
        graph.writes.push(source, GraphData.of(
            cmdb_node(n) for n in asserted[start:start + page]), session=session)
    barrier.wait(timeout=300)
    results.put({"session": session, "asserted": asserted,
                 **ended(lambda: graph.writes.commit_sync(source, session))})


def session_ender(target: str, source: str, session: str, action: str, delay: float,
                  barrier: Any, results: Any) -> None:
    """Commit or abandon ``session`` once every process is ready (after ``delay``)."""
    graph = open_graph(target)
    end = graph.writes.commit_sync if action == "commit" else graph.writes.abandon_sync
    barrier.wait(timeout=300)
    time.sleep(delay)
    results.put({"action": action, **ended(lambda: end(source, session))})


def http_session_ender(url: str, source: str, session: str, action: str, delay: float,
                       barrier: Any, results: Any) -> None:
    """Commit or abandon ``session`` through the API once every process is ready (after
    ``delay``): the status and body it answered."""
    with httpx.Client(base_url=url, timeout=120) as client:
        path = f"/v1/sources/{source}/syncs/{session}"
        client.get(path).raise_for_status()  # connected before the race starts
        barrier.wait(timeout=300)
        time.sleep(delay)
        r = (client.post(f"{path}/commit") if action == "commit" else client.delete(path))
    results.put({"action": action, "status": r.status_code, "body": r.json()})
