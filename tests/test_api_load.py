"""Load: integrators pushing batches and statuses while others ask questions, all at
once, against one API process on Neo4j, for a fixed time. No answer may be a 5xx and
no request may wait past its bound. The run prints what it did."""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from servicegraph.examples import example_text
from servicegraph.model import loads
from servicegraph.store import Neo4jStore
from servicegraph_api.auth import Scope

from apikit import add_key, example_graph
from servers import serve

#: Seconds of load.
SECONDS = 8
#: The longest any one request may take (generous: a loaded 2-core machine).
REQUEST_BOUND = 30.0

EXAMPLE = loads(example_text())
SERVERS = [n.id for n in EXAMPLE.nodes if n.kind.value in ("service_system", "ci")]
NODES = [n.id for n in EXAMPLE.nodes]
PROMISES = [n.id for n in EXAMPLE.nodes if n.kind.value == "promise"]

Call = Callable[[httpx.Client, random.Random], httpx.Response]


def pusher(source: str) -> Call:
    """A source pushing web servers into the web tier, now and then as a full sync that
    drops half of them (retiring them)."""
    count = 0

    def call(client: httpx.Client, rnd: random.Random) -> httpx.Response:
        nonlocal count
        count += 1
        full = count % 3 == 0
        ids = [f"{source}-vm-{i}" for i in range(rnd.randint(5, 20))]
        if full:
            ids = ids[: len(ids) // 2 + 1]
        return client.post(f"/v1/sources/{source}/push", params={"full_sync": full}, json={
            "nodes": [{"id": i, "kind": "ci", "name": f"VM {i}", "silo": "compute",
                       "properties": {"round": count}} for i in ids],
            "edges": [{"from": "web-tier", "to": i, "group": "web"} for i in ids]})

    return call


def status(client: httpx.Client, rnd: random.Random) -> httpx.Response:
    now = datetime.now(UTC).isoformat()
    return client.post("/v1/sources/monitoring/status", json={"statuses": [
        {"id": n, "state": rnd.choice(["ok", "ok", "degraded", "down"]), "at": now}
        for n in rnd.sample(SERVERS, 3)]})


QUESTIONS: list[Call] = [
    lambda c, r: c.get("/v1/current", params={"limit": 50}),
    lambda c, r: c.post("/v1/impact", json={"down": r.sample(SERVERS, 2)}),
    lambda c, r: c.post("/v1/root-cause", json={"observed": dict(zip(
        r.sample(SERVERS, 2), ["down", "ok"], strict=True))}),
    lambda c, r: c.get("/v1/nodes", params={"limit": 100}),
    lambda c, r: c.get(f"/v1/nodes/{r.choice(NODES)}"),
    lambda c, r: c.get(f"/v1/nodes/{r.choice(NODES)}/neighbourhood"),
    lambda c, r: c.get(f"/v1/promises/{r.choice(PROMISES)}/spof"),
    lambda c, r: c.get("/v1/edges"),
    lambda c, r: c.get("/v1/export/json"),
]


def asker(client: httpx.Client, rnd: random.Random) -> httpx.Response:
    return rnd.choice(QUESTIONS)(client, rnd)


@pytest.mark.neo4j
def test_concurrent_pushes_statuses_and_questions_on_neo4j(
        neo4j_store: Neo4jStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    example_graph(neo4j_store)
    key = add_key(tmp_path, "load", Scope.ADMIN)
    env = {"SERVICEGRAPH_NEO4J_USER": os.environ.get("NEO4J_USER", "neo4j")}
    if os.environ.get("NEO4J_PASSWORD"):
        env["SERVICEGRAPH_NEO4J_PASSWORD"] = os.environ["NEO4J_PASSWORD"]
    workers: list[tuple[str, Call]] = [
        ("push", pusher("cmdb")), ("push", pusher("discovery")),
        ("status", status), ("status", status),
        *(("question", asker) for _ in range(4))]
    outcomes: Counter[tuple[str, int]] = Counter()
    failures: list[str] = []
    slowest = 0.0
    lock = threading.Lock()
    with serve(tmp_path, neo4j_store.uri, env=env) as server:
        stop = time.monotonic() + SECONDS

        def work(kind: str, call: Call, seed: int) -> None:
            nonlocal slowest
            rnd = random.Random(seed)
            with httpx.Client(base_url=server.url, timeout=REQUEST_BOUND,
                              headers={"Authorization": f"Bearer {key}"}) as client:
                while time.monotonic() < stop:
                    started = time.monotonic()
                    try:
                        r = call(client, rnd)
                    except httpx.HTTPError as exc:  # a timeout past the bound included
                        with lock:
                            failures.append(f"{kind}: {type(exc).__name__}: {exc}")
                        continue
                    took = time.monotonic() - started
                    with lock:
                        outcomes[(kind, r.status_code)] += 1
                        slowest = max(slowest, took)
                        if r.status_code >= 500:
                            failures.append(f"{kind} {r.request.method} {r.request.url.path}: "
                                            f"{r.status_code} {r.text[:200]}")

        threads = [threading.Thread(target=work, args=(kind, call, i))
                   for i, (kind, call) in enumerate(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(SECONDS + REQUEST_BOUND * 2)
        log = server.output()
    total = sum(outcomes.values())
    by_kind = Counter[str]()
    for (kind, _), n in outcomes.items():
        by_kind[kind] += n
    with capsys.disabled():
        print(f"\nload on Neo4j, {SECONDS} s, {len(workers)} clients: {total} requests "
              f"({total / SECONDS:.0f}/s): " + ", ".join(f"{k} {n}" for k, n in by_kind.items())
              + "; statuses " + ", ".join(f"{s}: {n}" for s, n in sorted(
                  Counter(s for (_, s) in outcomes.elements()).items()))
              + f"; slowest {slowest:.2f} s; {len(failures)} failure(s)")
        for failure in failures[:10]:
            print(f"  {failure}")
    assert all(not t.is_alive() for t in threads)
    assert by_kind["push"] and by_kind["status"] and by_kind["question"]
    assert failures == [], failures[:10]
    assert '"level": "error"' not in log
