"""The promise record with real server processes, on each store: two API worker
processes taking writes at once, one of them killed while writes arrive and started
again by the server, and a store outage under writers, lose no transition and write
none twice.

What the record must hold is derived from the journal (every status write, in version
order): each change of a component's observed state is one observed transition of
that version, and each change of the promise that depends on both components is one
promise transition of that version; nothing else, nothing twice.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import psutil
import pytest

from servicegraph import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.model.kinds import State
from servicegraph.model.record import OBSERVED
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore

from proxy import Proxy
from servers import serve

#: Each writer toggles its own component; both break the promise `onboarding`.
COMPONENTS = ("automation-host", "feed-job")
ROUNDS = 6


def _target(store: GraphStore) -> str:
    if isinstance(store, SqliteStore):
        return store.path
    assert isinstance(store, Neo4jStore)
    return store.uri


def _writer(url: str, component: str, rounds: int, codes: list[int],
            stop: threading.Event | None = None) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        for r in range(rounds):
            if stop is not None and stop.is_set():
                return
            try:
                answer = http.post("/v1/sources/mon/status", json={"statuses": [
                    {"id": component, "state": "down" if r % 2 == 0 else "ok"}]})
                codes.append(answer.status_code)
            except httpx.TransportError:
                codes.append(0)  # the worker was killed under this request (or all were)
                if stop is None:
                    return


def _writers(url: str, rounds: int, stop: threading.Event | None = None,
             codes: list[int] | None = None) -> list[int]:
    codes = [] if codes is None else codes
    threads = [threading.Thread(target=_writer, args=(url, c, rounds, codes, stop))
               for c in COMPONENTS]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return codes


def _check(store: GraphStore, since: int) -> None:
    """The record after version ``since`` is exactly what the journal says it must be."""
    deadline = time.monotonic() + 20
    while store.record_reach() < store.version():
        assert time.monotonic() < deadline, "the record never caught up"
        time.sleep(0.1)
    entries = store.journal(since)  # the components are ok at `since` (nothing observed)
    assert entries is not None
    state = dict.fromkeys(COMPONENTS, State.OK)
    expected: set[tuple[int, str, str, str]] = set()
    # The promise's causes are the components down: a new cause set is a transition too.
    causes: frozenset[str] = frozenset()
    for entry in entries:
        for row in entry.rows.get("observe", ()):
            if row["id"] in state:
                new = State.parse(row["observed_state"])
                if new is not state[row["id"]]:
                    expected.add((entry.version, row["id"], OBSERVED, new.word))
                state[row["id"]] = new
        now = frozenset(c for c, s in state.items() if s is State.DOWN)
        if now != causes:
            expected.add((entry.version, "onboarding", "promise", "down" if now else "ok"))
        causes = now
    rows, _ = store.record_between(None, None)
    recorded = [(t.version, t.node, t.layer, t.state.word) for t in rows
                if t.version is not None and t.version > since
                and ((t.node in COMPONENTS and t.layer == OBSERVED)
                     or (t.node, t.layer) == ("onboarding", "promise"))]
    assert len(recorded) == len(set(recorded)), "a transition was written twice"
    assert set(recorded) == expected


def _workers(pid: int) -> list[psutil.Process]:
    """The API worker processes of the server ``pid`` (spawned by its supervisor)."""
    return [p for p in psutil.Process(pid).children(recursive=True)
            if any("spawn_main" in part for part in p.cmdline())]


def test_two_workers_one_killed_and_restarted_lose_and_repeat_nothing(
        store: GraphStore, tmp_path: Path) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(example_graph())
    since = store.version()

    with serve(tmp_path, _target(store), args=["--workers", "2"], name="two") as server:
        stop = threading.Event()
        codes: list[int] = []
        pushing = threading.Thread(target=_writers, args=(server.url, 400, stop, codes))
        pushing.start()

        def answered(count: int) -> None:
            deadline = time.monotonic() + 60
            while codes.count(200) < count and time.monotonic() < deadline:
                time.sleep(0.01)

        answered(6)
        # A worker killed (no chance to finish anything) while both writers push; the
        # server starts another, and the writes go on through both.
        workers = _workers(server.process.pid)
        assert len(workers) == 2, server.output()[-3000:]
        workers[0].kill()
        before = codes.count(200)
        answered(before + 8)
        stop.set()
        pushing.join(timeout=60)
        assert codes.count(200) >= before + 8, server.output()[-3000:]
    # What a killed worker committed and did not record, any process records (as its
    # next write or its background tick would), once.
    ServiceGraph(store).writes.record_due()
    _check(store, since)


@pytest.mark.neo4j
def test_a_store_outage_under_writers_loses_and_repeats_nothing(
        neo4j_uri: str, neo4j_store: Neo4jStore, tmp_path: Path) -> None:
    sg = ServiceGraph(neo4j_store)
    sg.writes.load(example_graph())
    since = neo4j_store.version()
    host, port = neo4j_uri.split("://")[1].rsplit(":", 1)
    proxy = Proxy((host, int(port)))
    proxy.up()
    env = {"SERVICEGRAPH_STORE_RETRY_SECONDS": "1", "SERVICEGRAPH_NEO4J_CONNECT_TIMEOUT": "1",
           "SERVICEGRAPH_RETRY_INTERVAL": "0.2"}
    try:
        with serve(tmp_path, f"bolt://127.0.0.1:{proxy.port}", env=env) as server:
            stop = threading.Event()
            codes: list[int] = []
            pushing = threading.Thread(target=_writers, args=(server.url, 400, stop, codes))
            pushing.start()
            deadline = time.monotonic() + 30
            while codes.count(200) < 6 and time.monotonic() < deadline:
                time.sleep(0.01)
            proxy.down()  # the store goes away while writes (and their records) are made
            time.sleep(1.5)
            proxy.up()
            deadline = time.monotonic() + 30
            while codes[-4:].count(200) < 4 and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            pushing.join(timeout=60)
            assert 503 in codes or 0 in codes or len(codes) > 6, codes
            _check(neo4j_store, since)
    finally:
        proxy.down()
