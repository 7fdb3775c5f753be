"""The API over HTTP: ingest, re-push, questions, statuses, freshness, two workers.

Every figure is measured by a client in this process against a real
``servicegraph serve`` process over a local Neo4j: the three share the machine.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import neo4j
import numpy as np

from benchmarks.enterprise import Enterprise, ndjson
from benchmarks.report import log
from benchmarks.timing import Timing
from servicegraph.ingest.ndjson import NdjsonReader
from servicegraph.ingest.push import plan_claims
from servicegraph.model.graph import GraphData
from servicegraph.store import Neo4jStore
from servicegraph.store.base import ChangeInfo
from servicegraph.store.cypher import statement
from servicegraph.store.journal import entry_for, to_record
from servicegraph.store.neo4j import BATCH, edge_params, node_params

SOURCE = "bench"
NDJSON = {"Content-Type": "application/x-ndjson"}


class Failed(RuntimeError):
    """The API answered something other than what the benchmark expects."""


def bodies(ent: Enterprise, page: int) -> list[tuple[bytes, int]]:
    """The whole graph as NDJSON pushes of at most about ``page`` items, bottom-up."""
    return [(ndjson(nodes, edges), len(nodes) + len(edges))
            for nodes, edges in ent.pages(page)]


@dataclass
class Ingest:
    seconds: float
    items: int
    pushes: int
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def push_all(client: httpx.Client, pages: list[tuple[bytes, int]]) -> Ingest:
    """Push every page in turn; the time is the sum of the pushes, answers included."""
    total = 0.0
    counts: Counter[str] = Counter()
    items = 0
    for i, (body, size) in enumerate(pages):
        t0 = time.perf_counter()
        r = client.post(f"/v1/sources/{SOURCE}/push.ndjson", content=body, headers=NDJSON)
        total += time.perf_counter() - t0
        if r.status_code != 200:
            raise Failed(f"push {i} answered {r.status_code}: {r.text[:500]}")
        answer = r.json()
        counts.update({k: answer[k] for k in ("created", "updated", "unchanged")})
        items += size
        if i % 25 == 0:
            log(f"    push {i + 1}/{len(pages)}: {items / total:,.0f} items/s so far")
    return Ingest(total, items, len(pages), counts)


@dataclass
class Batches:
    """One page as the Neo4j store sends it: the ``UNWIND`` rows of its nodes and
    edges, and its journal record (the version filled in when written)."""

    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    record: dict[str, Any]
    items: int


def store_batches(pages: list[tuple[bytes, int]], at: str) -> list[Batches]:
    """Every page made into the rows a fresh push of it writes (created items, each
    with its source's claim), by the library's own functions, before any timing."""
    out = []
    for body, size in pages:
        reader = NdjsonReader()
        reader.feed(body)
        change = plan_claims(GraphData(), SOURCE, reader.finish(), precedence=[],
                             now=at).change
        record = to_record(entry_for(change, ChangeInfo(at, "push", SOURCE), 0))
        out.append(Batches(node_params(change), [edge_params(e) for e in change.upsert_edges],
                           record, size))
    return out


def store_alone(store: Neo4jStore, batches: list[Batches]) -> Ingest:
    """The Neo4j side alone: each page's statements as the store sends them (the write
    lock on the meta node, the nodes' and the edges' ``UNWIND`` batches, the journal
    entry), in one transaction per page, sent directly with the driver; nothing is
    parsed, planned, validated or applied in memory. The time is the sum of the
    transactions."""
    lock, nodes, edges, commit = (statement(n) for n in (
        "graph/lock", "nodes/upsert", "edges/upsert", "journal/commit"))

    def write(tx: neo4j.ManagedTransaction, page: Batches) -> None:
        found = tx.run(lock, at=page.record["at"]).single(strict=True)
        for start in range(0, len(page.nodes), BATCH):
            tx.run(nodes, rows=page.nodes[start:start + BATCH]).consume()
        for start in range(0, len(page.edges), BATCH):
            tx.run(edges, rows=page.edges[start:start + BATCH]).consume()
        tx.run(commit, record={**page.record, "version": int(found["version"]) + 1},
               cutoff=None).consume()

    total, items = 0.0, 0
    with store.driver.session(database=store.database) as session:
        for page in batches:
            t0 = time.perf_counter()
            session.execute_write(write, page)
            total += time.perf_counter() - t0
            items += page.items
    return Ingest(total, items, len(batches), Counter(created=items))


def timed(client: httpx.Client, method: str, path: str, reps: int, body: Any = None,
          bodies: list[Any] | None = None, params: dict[str, Any] | None = None,
          warm: int = 5) -> tuple[Timing, list[httpx.Response]]:
    """``reps`` requests (after ``warm`` warm-ups), each timed from send to full answer."""
    samples: list[float] = []
    answers = []
    for i in range(reps + warm):
        payload = bodies[i % len(bodies)] if bodies is not None else body
        t0 = time.perf_counter()
        r = client.request(method, path, json=payload, params=params)
        took = time.perf_counter() - t0
        if r.status_code != 200:
            raise Failed(f"{method} {path} answered {r.status_code}: {r.text[:500]}")
        if i >= warm:
            samples.append(took)
            answers.append(r)
    return Timing(tuple(samples)), answers


def status_bodies(ids: list[str], start: datetime, count: int) -> list[dict[str, Any]]:
    """Statuses one at a time: a CI goes down, the next push brings it back."""
    out = []
    for i in range(count):
        node = ids[(i // 2) % len(ids)]
        at = (start + timedelta(milliseconds=i)).isoformat()
        out.append({"statuses": [{"id": node, "state": "down" if i % 2 == 0 else "ok",
                                  "at": at}]})
    return out


def random_ci_ids(ent: Enterprise, seed: int, count: int) -> list[str]:
    rng = np.random.default_rng(seed)
    cis = np.flatnonzero(ent.kinds == 4)
    return [ent.ids[int(c)] for c in rng.choice(cis, count, replace=False)]


def first_answer(url: str, scenario: dict[str, Any], started: float,
                 timeout: float) -> float:
    """Seconds from ``started`` until ``POST /v1/impact`` first answers 200."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=timeout) as client:
        while time.monotonic() < deadline:
            try:
                r = client.post("/v1/impact", json=scenario, params={"limit": 10})
                if r.status_code == 200:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            time.sleep(0.05)
    raise Failed(f"no answer within {timeout} s")


def warm(url: str, scenario: dict[str, Any], timeout: float) -> None:
    """Ask on fresh connections until six answers in a row come at once, so every
    worker process has read the graph (each reads it on its first question)."""
    deadline = time.monotonic() + timeout
    quick = 0
    while quick < 6:
        if time.monotonic() > deadline:
            raise Failed(f"the workers did not all answer within {timeout} s")
        took = first_answer(url, scenario, time.perf_counter(), timeout)
        quick = quick + 1 if took < 1.0 else 0


def freshness(url: str, node: str, at: datetime, probes: int = 4) -> float:
    """Seconds from a status push being sent until ``GET /v1/current`` shows it on
    ``probes`` fresh connections in a row (so on whichever worker answers)."""
    body = {"statuses": [{"id": node, "state": "down", "at": at.isoformat()}]}
    t0 = time.perf_counter()
    with httpx.Client(base_url=url, timeout=30) as c:
        r = c.post(f"/v1/sources/{SOURCE}-fresh/status", json=body)
        if r.status_code != 200:
            raise Failed(f"status answered {r.status_code}: {r.text[:300]}")
    seen = 0
    while seen < probes:
        if time.perf_counter() - t0 > 30:
            raise Failed(f"{node} not reflected by /v1/current after 30 s")
        with httpx.Client(base_url=url, timeout=30) as c:  # a new connection each time
            r = c.get("/v1/current", params={"limit": 10, "explain": "false",
                                             "within": [node]})
        seen = seen + 1 if node in r.json()["impacted"] else 0
    return time.perf_counter() - t0


@dataclass
class Concurrent:
    requests: int
    statuses: Counter[int]
    lost: list[str]
    seconds: float


def concurrent_writes(url: str, rounds: int, start: datetime) -> Concurrent:
    """Two pushers and two status sources at once against a two-worker server; then
    every pushed node and every last status is read back (through either worker)."""
    codes: Counter[int] = Counter()
    lock = threading.Lock()
    pushed: list[str] = []
    last: dict[str, str] = {}

    def note(r: httpx.Response) -> None:
        with lock:
            codes[r.status_code] += 1

    def pusher(k: int) -> None:
        with httpx.Client(base_url=url, timeout=120) as c:
            for r in range(rounds):
                ids = [f"two-{k}-{r}-{i}" for i in range(20)]
                resp = c.post(f"/v1/sources/two-{k}/push", json={
                    "nodes": [{"id": i, "kind": "ci", "name": i} for i in ids]})
                note(resp)
                if resp.status_code == 200:
                    with lock:
                        pushed.extend(ids)

    def watcher(k: int) -> None:
        nodes = [f"two-{k}-0-{i}" for i in range(3)]
        with httpx.Client(base_url=url, timeout=120) as c:
            for r in range(rounds * 3):
                node = nodes[r % 3]
                state = ("down", "ok", "degraded")[r % 3]
                at = (start + timedelta(seconds=r)).isoformat()
                resp = c.post(f"/v1/sources/watch-{k}/status", json={
                    "statuses": [{"id": node, "state": state, "at": at}]})
                note(resp)
                if resp.status_code == 200:
                    with lock:
                        last[node] = state

    # The watchers observe nodes the pushers make first.
    with httpx.Client(base_url=url, timeout=120) as c:
        for k in (0, 1):
            note(c.post(f"/v1/sources/two-{k}/push", json={"nodes": [
                {"id": f"two-{k}-0-{i}", "kind": "ci", "name": "x"} for i in range(20)]}))
    t0 = time.perf_counter()
    threads = [threading.Thread(target=pusher, args=(k,)) for k in (0, 1)]
    threads += [threading.Thread(target=watcher, args=(k,)) for k in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.perf_counter() - t0
    lost = []
    with httpx.Client(base_url=url, timeout=120) as c:
        for node in pushed:
            r = c.get(f"/v1/nodes/{node}")
            note(r)
            if r.status_code != 200:
                lost.append(node)
        for node, state in last.items():
            r = c.get(f"/v1/nodes/{node}")
            note(r)
            seen = (r.json().get("observed") or {}).get("state")
            if seen != state:
                lost.append(f"{node} status {state} read back as {seen}")
    return Concurrent(sum(codes.values()), codes, lost, took)


def now_minus(seconds: float) -> datetime:
    """A time safely in the past (the server refuses observations from the future)."""
    return datetime.now(UTC) - timedelta(seconds=seconds)
