"""Start-up from a saved snapshot against the whole read, on both stores, at two sizes.

For each size and store: the synthetic enterprise is written to the store (each node
and edge claimed by one source, as pushes leave them), then

1. *the whole read*: a new ``servicegraph serve`` process without a snapshot
   directory, from spawn to the first answered ``POST /v1/impact``;
2. a server with a snapshot directory reads the graph and saves its snapshot (the time
   it took and the file's size are read from its log), and is stopped; then statuses
   are written (one change each), so the next start replays the journal after the
   snapshot;
3. *from the snapshot*: a new server process with that directory, from spawn to the
   first answer; its log must say it started from the snapshot (the run aborts
   otherwise), and its answer must equal the whole read's for the same failure.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from benchmarks.enterprise import Enterprise, generate
from benchmarks.report import Row, human, log
from benchmarks.server import serve
from benchmarks.timing import ms
from servicegraph.model import Edge, GraphData, Node, State
from servicegraph.model.graph import Claim, Observation
from servicegraph.store import Change, ChangeInfo, GraphStore, Neo4jStore, SqliteStore

#: Items per change when writing the graph to a store.
CHUNK = 50_000
#: Changes written after the snapshot, replayed by the process that starts from it.
AFTER = 100
#: The target of issue 18, at a million nodes from Neo4j.
TARGET = 15.0
SOURCE = "bench"


def claimed(ent: Enterprise, seed: int) -> GraphData:
    """The enterprise as a store holds it after pushes: every item claimed by one
    source (so the claims index is as big as in use)."""
    at = "2026-01-01T00:00:00.000000Z"
    plain = ent.graph_data(seed)
    nodes = tuple(Node(n.id, n.kind, n.name, owner=n.owner, provider=n.provider,
                       source=SOURCE, redundancy=n.redundancy,
                       claims=(Claim(SOURCE, n.id, at, {}),)) for n in plain.nodes)
    edges = tuple(Edge(e.source, e.target, e.group, e.impact,
                       (Claim(SOURCE, f"{e.source}->{e.target}", at, {}),))
                  for e in plain.edges)
    return GraphData(nodes, edges)


def write_graph(store: GraphStore, graph: GraphData) -> None:
    """The graph written as it is, in changes of at most :data:`CHUNK` items."""
    info = ChangeInfo(datetime.now(UTC).isoformat().replace("+00:00", "Z"), "load", SOURCE)
    for i in range(0, len(graph.nodes), CHUNK):
        store.apply(Change(upsert_nodes=graph.nodes[i:i + CHUNK]), info)
    for i in range(0, len(graph.edges), CHUNK):
        store.apply(Change(upsert_edges=graph.edges[i:i + CHUNK]), info)


def statuses(store: GraphStore, ids: Sequence[str], count: int) -> None:
    """``count`` observations, one change each (what a journal after a snapshot holds)."""
    base = datetime.now(UTC) - timedelta(hours=1)
    for k in range(count):
        at = (base + timedelta(milliseconds=k)).isoformat().replace("+00:00", "Z")
        seen = Observation(State.DOWN if k % 2 == 0 else State.OK, at, "monitoring")
        store.apply(Change(observe=((ids[k % len(ids)], seen),)),
                    ChangeInfo(at, "status", "monitoring"))


def first_answer(url: str, scenario: dict[str, Any], started: float,
                 timeout: float) -> tuple[float, dict[str, Any]]:
    """Seconds from ``started`` until ``POST /v1/impact`` first answers, and the answer."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=timeout) as client:
        while time.monotonic() < deadline:
            try:
                r = client.post("/v1/impact", json=scenario, params={"limit": 100})
                if r.status_code == 200:
                    return time.perf_counter() - started, r.json()  # type: ignore[no-any-return]
            except httpx.TransportError:
                pass
            time.sleep(0.02)
    raise RuntimeError(f"no answer within {timeout} s")


def wait_for_snapshot(folder: Path, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = sorted(folder.glob("snapshot-*.sgsnap"))
        if found:
            return found[-1]
        time.sleep(0.1)
    raise RuntimeError(f"no snapshot saved in {folder} within {timeout} s")


@contextmanager
def opened(kind: str, work: Path, uri: str | None) -> Iterator[tuple[GraphStore, str]]:
    """An empty store of ``kind`` and what ``SERVICEGRAPH_STORE`` names it by."""
    if kind == "SQLite":
        path = work / "startup.db"
        for old in work.glob("startup.db*"):
            old.unlink()
        sqlite = SqliteStore(path)
        try:
            yield sqlite, str(path)
        finally:
            sqlite.close()
        return
    assert uri is not None
    neo = Neo4jStore(uri)
    try:
        neo.clear()
        yield neo, uri
    finally:
        neo.clear()
        neo.close()


def measure(kind: str, ent: Enterprise, work: Path, uri: str | None, seed: int,
            worst: str, ids: Sequence[str], timeout: float) -> Row:
    """One store at one size: the whole read and the start from a snapshot."""
    size = human(ent.n)
    scenario = {"down": [worst]}
    folder = work / f"snapshots-{kind}-{ent.n}"
    shutil.rmtree(folder, ignore_errors=True)
    env_plain = {"SERVICEGRAPH_FOLLOW_INTERVAL": "0.5"}
    with opened(kind, work, uri) as (store, target):
        log(f"  {kind}, {size} nodes: writing the graph")
        t0 = time.perf_counter()
        write_graph(store, claimed(ent, seed))
        log(f"    written in {time.perf_counter() - t0:,.0f} s; the whole read")
        with serve(work, target, name=f"whole-{kind}-{ent.n}", env=env_plain,
                   timeout=timeout) as srv:
            whole, whole_answer = first_answer(srv.url, scenario, srv.started, timeout)
            whole_log = srv.output()
        log(f"    whole read {whole:.1f} s; saving a snapshot")
        env_snap = {**env_plain, "SERVICEGRAPH_SNAPSHOT_DIR": str(folder)}
        with serve(work, target, name=f"save-{kind}-{ent.n}", env=env_snap,
                   timeout=timeout) as srv:
            first_answer(srv.url, scenario, srv.started, timeout)
            path = wait_for_snapshot(folder, timeout)
            saved_log = srv.output()
        saved = re.search(r"saved a snapshot of .* in ([\d.]+) s", saved_log)
        read = re.search(r"read \d+ nodes and \d+ edges at version \d+ in ([\d.]+) s",
                         whole_log)
        statuses(store, ids, AFTER)
        log("    starting from the snapshot")
        with serve(work, target, name=f"snap-{kind}-{ent.n}", env=env_snap,
                   timeout=timeout) as srv:
            fast, fast_answer = first_answer(srv.url, scenario, srv.started, timeout)
            said = srv.output()
        took = re.search(r"started from snapshot-.* in ([\d.]+) s", said)
        if took is None:
            raise RuntimeError(f"the server did not start from the snapshot:\n{said}")
        # The statuses written after the snapshot do not touch the worst failure's
        # counts: the same failure, the same impact.
        if fast_answer["counts"] != whole_answer["counts"]:
            raise RuntimeError("the start from the snapshot answers otherwise than the "
                               f"whole read: {fast_answer['counts']} != "
                               f"{whole_answer['counts']}")
    met = fast <= TARGET if ent.n >= 1_000_000 and kind == "Neo4j" else None
    return Row(f"start-up to the first answer, {kind}: from a snapshot / whole read", size,
               f"{ms(fast)} / {ms(whole)}", f"≤ {TARGET:.0f} s from Neo4j at 1M"
               if met is not None else "", met,
               f"{whole / fast:.1f}x faster; the graph itself in {took.group(1)} s from the "
               f"snapshot ({AFTER} changes replayed after it) / "
               f"{read.group(1) if read else '?'} s read whole; snapshot "
               f"{path.stat().st_size / 2**20:,.0f} MiB, saved in "
               f"{saved.group(1) if saved else '?'} s; same answer")


def startup_rows(work: Path, sizes: Sequence[int], seed: int, uri: str | None,
                 timeout: float = 1800.0) -> list[Row]:
    """Every store at every size (Neo4j only when ``uri`` is given)."""
    # The whole read is measured without a snapshot directory, whatever the caller's.
    os.environ.pop("SERVICEGRAPH_SNAPSHOT_DIR", None)
    rows = []
    for n in sizes:
        log(f"start-up: generating {human(n)} nodes")
        ent = generate(n, seed)
        cis = [ent.ids[int(v)] for v in range(ent.n) if ent.kinds[v] == 4][:50]
        worst = cis[-1]
        for kind in ("SQLite", "Neo4j") if uri else ("SQLite",):
            rows.append(measure(kind, ent, work, uri, seed, worst, cis, timeout))
    return rows


def section(rows: Sequence[Row], tier: str, sizes: Sequence[int], started: float,
            table: Sequence[str]) -> list[str]:
    """The page's section for this tier's start-up figures."""
    return [
        f"## Start-up from a snapshot, tier {tier}",
        "",
        f"`python -m benchmarks --only startup --tier {tier}` (part of `make bench`); "
        f"{', '.join(human(n) for n in sizes)} nodes; whole run "
        f"{time.perf_counter() - started:,.0f} s. Each figure is one server process "
        "from spawn to its first answered `POST /v1/impact`, on the same machine as the "
        "store (`benchmarks/startup.py`).",
        "",
        *table,
        "",
    ]
