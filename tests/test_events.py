"""Promise events follow writes made by any process, on both stores: a listener of one
server process hears of a status pushed to another."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx

from servicegraph import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore

from servers import serve


def target_of(store: GraphStore) -> str:
    if isinstance(store, SqliteStore):
        return store.path
    assert isinstance(store, Neo4jStore)
    return store.uri


def listen(url: str, events: list[dict[str, Any]], ready: threading.Event) -> None:
    """Read the event stream until one promise event came."""
    with httpx.stream("GET", f"{url}/v1/events?limit=1&heartbeat=0.5", timeout=60) as r:
        kind = None
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: "):
                if kind == "snapshot":
                    ready.set()
                else:
                    events.append(json.loads(line.removeprefix("data: ")))
                    return


def test_a_listener_hears_of_a_write_made_through_another_process(store: GraphStore,
                                                                  tmp_path: Path) -> None:
    ServiceGraph(store).writes.load(example_graph())
    target = target_of(store)
    env = {"SERVICEGRAPH_FOLLOW_INTERVAL": "0.2"}
    with serve(tmp_path, target, env=env, name="listening") as listening, \
            serve(tmp_path, target, env=env, name="writing") as writing:
        events: list[dict[str, Any]] = []
        ready = threading.Event()
        listener = threading.Thread(target=listen, args=(listening.url, events, ready))
        listener.start()
        assert ready.wait(30), "no snapshot from the listening process"
        r = httpx.post(f"{writing.url}/v1/sources/mon/status", json={
            "statuses": [{"id": "feed-job", "state": "down"}]})
        assert r.status_code == 200 and r.json()["broken_promises"] == ["onboarding"]
        listener.join(timeout=30)
        assert not listener.is_alive(), "the listening process never told of the change"
    (event,) = events
    assert (event["promise"], event["previous"], event["state"]) == ("onboarding", "ok", "down")
    assert event["explanation"]["chain"][-1] == "feed-job"
