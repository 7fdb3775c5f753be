"""Start-up from a saved snapshot: a usable one plus the journal after it answers as a
whole read does; a missing, damaged, foreign, other-format or stale one is refused with
one log line saying why, and the process reads the whole graph instead. On both stores."""

from __future__ import annotations

import contextlib
import json
import logging
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.ingest.status import StatusUpdate
from servicegraph.live.snapshots import MAGIC, SnapshotDirectory, read_file, write_file
from servicegraph.live.state import LiveGraph
from servicegraph.model import Edge, GraphData, Node, NodeKind, State
from servicegraph.model.errors import ValidationError
from servicegraph.store import GraphStore
from servicegraph_api import create_app

from apikit import example_graph, local_client, settings_for
from graphs import graphs

NOW = datetime.now(UTC).replace(microsecond=0)


def stamp(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


def canonical(live: LiveGraph) -> dict[str, Any]:
    """Everything a live graph holds, keyed by ids rather than by positions."""
    g = live.graph()
    ids = live.index.ids
    numbers = live.edge_numbers()
    edge_key = {e: (ids[int(live.index.edge_source[e])], ids[int(live.index.edge_target[e])])
                for e in numbers}
    return {
        "version": live.version,
        "nodes": sorted(g.nodes, key=lambda n: n.id),
        "edges": sorted(g.edges, key=lambda e: e.key),
        "claim_keys": {ids[v]: live.claim_keys[v] for v in range(live.index.node_count)
                       if live.index.exists(v)},
        "by_key": {k: ids[v] for k, v in live.by_key.items()},
        "edge_sources": {edge_key[e]: live.edge_sources[e] for e in numbers},
        "counted": sorted(ids[v] for v in range(live.index.node_count)
                          if live.index.exists(v) and live.index.counted(v)),
        "alerts": live.alerts,
        "alerting": live.alerting,
        "windows": live.windows,
        "acks": live.acks,
        "mappings": live.mappings,
    }


def snapshots_of(store: GraphStore, tmp_path: Path) -> SnapshotDirectory:
    return SnapshotDirectory(tmp_path / "snapshots", store)


def started(store: GraphStore, snapshots: SnapshotDirectory | None) -> ServiceGraph:
    """A process's graph over ``store``, started as a server starts (from a snapshot
    when one is usable)."""
    graph = ServiceGraph(store, snapshots=snapshots)
    graph.refresh(force=True)
    return graph


def saved(store: GraphStore, tmp_path: Path) -> tuple[ServiceGraph, Path]:
    """The example enterprise loaded, observed and alerted, and a snapshot of it."""
    snapshots = snapshots_of(store, tmp_path)
    graph = example_graph(store)
    graph.replica.snapshots = snapshots
    app = create_app(settings_for(tmp_path), graph=graph)
    with local_client(app) as client:
        changes(client, 0)
    assert graph.replica.save_snapshot()
    (path,) = snapshots.files()
    return graph, path


def changes(client: TestClient, step: int) -> None:
    """Writes of every kind: a push, statuses, an alert, a maintenance window, a removal."""
    def ok(r: Any) -> None:
        assert r.status_code in (200, 201, 204), r.text

    ok(client.post("/v1/sources/cmdb/push", json={
        "nodes": [{"id": f"extra-{step}", "kind": "ci", "name": f"Extra {step}",
                   "external_id": f"CI-{step}", "properties": {"rack": step}},
                  {"id": "web-1", "kind": "ci", "name": "Web server 1",
                   "provider": f"Hoster {step}"}],
        "edges": [{"from": "hr-tenant", "to": f"extra-{step}", "impact": "soft"}]}))
    ok(client.post("/v1/sources/monitoring/status", json={"statuses": [
        {"id": "feed-job" if step % 2 == 0 else "web-1", "state": "down", "at": stamp(-1)},
        {"id": "web-2", "state": "degraded", "at": stamp(-1)}]}))
    ok(client.post("/v1/sources/am/alerts/alertmanager", json={
        "version": "4", "status": "firing", "receiver": "sg", "groupKey": "{}",
        "alerts": [{"status": "firing", "labels": {"alertname": f"A{step}",
                                                   "servicegraph_id": "hr-tenant",
                                                   "severity": "warning"},
                    "annotations": {}, "startsAt": stamp(-1),
                    "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"fp-{step}"}]}))
    ok(client.post("/v1/maintenance", json={
        "id": f"chg-{step}", "title": "work", "owner": "IT", "components": ["web-1"],
        "starts_at": stamp(-1), "ends_at": stamp(1)}))
    ok(client.post("/v1/acknowledgements", json={"node": "web-2", "by": f"op-{step}"}))
    ok(client.put("/v1/sources/am/alerts/mapping", json={
        "rules": [{"label": "host", "to": "name"}]}))
    if step:
        ok(client.delete(f"/v1/nodes/extra-{step - 1}"))


def answers(graph: ServiceGraph, tmp_path: Path) -> dict[str, Any]:
    """What the API answers about the graph: current impact, a what-if, nodes."""
    app = create_app(settings_for(tmp_path), graph=graph)
    with local_client(app) as client:
        def body(r: Any) -> Any:
            assert r.status_code == 200, r.text
            return r.json()

        return {
            "current": body(client.get("/v1/current")),
            "impact": body(client.post("/v1/impact", json={"down": ["web-1", "hr-tenant"]})),
            "nodes": [body(client.get(f"/v1/nodes/{n}")) for n in
                      ("web-1", "hr-tenant", "onboarding", "extra-0", "extra-2")
                      if n in graph.replica.graph],
            "list": body(client.get("/v1/nodes", params={"limit": 1000})),
        }


def test_a_snapshot_and_the_changes_after_it_answer_as_a_whole_read(
        store: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writer, _ = saved(store, tmp_path)
    app = create_app(settings_for(tmp_path), graph=writer)
    with local_client(app) as client:
        for step in (1, 2):
            changes(client, step)
    with caplog.at_level(logging.INFO, "servicegraph.live"):
        fast = started(store, snapshots_of(store, tmp_path))
    assert fast.replica.started_from == "snapshot"
    assert any("started from snapshot-" in r.getMessage() for r in caplog.records)
    whole = started(store, None)
    assert whole.replica.started_from == "store"
    assert fast.version == whole.version == store.version()
    assert canonical(fast.replica.graph) == canonical(whole.replica.graph)
    assert answers(fast, tmp_path) == answers(whole, tmp_path)
    # The graph started from the snapshot keeps up like any other.
    with local_client(create_app(settings_for(tmp_path), graph=writer)) as client:
        changes(client, 3)
    fast.refresh(force=True)
    whole.refresh(force=True)
    assert canonical(fast.replica.graph) == canonical(whole.replica.graph)


def flip(path: Path, at: int, mask: int = 0x10) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= mask
    path.write_bytes(bytes(data))


def rewrite_header(path: Path, **fields: Any) -> None:
    """Change header fields and write a digest that matches again, so only the
    changed field can be what refuses the file."""
    import hashlib

    data = path.read_bytes()
    (size,) = struct.unpack("<Q", data[8:16])
    header = json.loads(data[80:80 + size])
    header.update(fields)
    raw = json.dumps(header, separators=(",", ":")).encode()
    start = 80 + size + (-(80 + size) % 64)
    payload = data[start:]
    new_start = 80 + len(raw) + (-(80 + len(raw)) % 64)
    digest = hashlib.blake2b(raw, digest_size=64)
    digest.update(payload)
    path.write_bytes(MAGIC + struct.pack("<Q", len(raw)) + digest.digest() + raw
                     + bytes(new_start - 80 - len(raw)) + payload)


def damage(kind: str, path: Path, store: GraphStore, graph: ServiceGraph) -> str:
    """Damage the snapshot at ``path`` one way; answers what the log must say."""
    size = path.stat().st_size
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[:size * 2 // 3])
        return "truncated"
    if kind == "truncated-header":
        path.write_bytes(path.read_bytes()[:40])
        return "truncated"
    if kind == "flipped-payload":
        flip(path, size - 100)
        return "checksum does not match"
    if kind == "flipped-header":
        data = path.read_bytes()
        # One digit of the time it was written becomes another: the header still reads.
        flip(path, data.index(b'"written_at":') + len('"written_at":') + 1, 0x01)
        return "checksum does not match"
    if kind == "other-format":
        rewrite_header(path, format=99)
        return "format 99"
    if kind == "other-store":
        rewrite_header(path, store="sqlite:0000000000000000")
        return "another store"
    if kind == "ahead":
        rewrite_header(path, version=store.version() + 5)
        return "ahead of the store"
    if kind == "other-history":
        rewrite_header(path, at="2001-01-01T00:00:00.000000Z")
        return "restored from a backup"
    if kind == "empty":
        path.write_bytes(b"")
        return "truncated"
    assert kind == "stale"
    # The journal is trimmed past the snapshot's version by a later write.
    version = read_file(path, store.identity()).version
    store.journal_days = 1e-9  # type: ignore[attr-defined]
    with local_client(create_app(settings_for(path.parent), graph=graph)) as client:
        changes(client, 1)
    assert store.journal(version) is None
    return "no longer reaches back"


#: Each way a snapshot can be unusable ("stale" last: it writes to the store).
FAULTS = ["truncated", "truncated-header", "flipped-payload", "flipped-header",
          "other-format", "other-store", "ahead", "other-history", "empty", "stale"]


def test_an_unusable_snapshot_falls_back_to_the_whole_read(
        store: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    graph, good = saved(store, tmp_path)
    for fault in FAULTS:
        folder = tmp_path / fault
        folder.mkdir()
        path = folder / good.name
        path.write_bytes(good.read_bytes())
        said = damage(fault, path, store, graph)
        caplog.clear()
        with caplog.at_level(logging.INFO, "servicegraph.live"):
            fallback = started(store, SnapshotDirectory(folder, store))
        assert fallback.replica.started_from == "store", fault
        why = [r.getMessage() for r in caplog.records
               if "no usable snapshot" in r.getMessage()]
        assert len(why) == 1 and said in why[0] and path.name in why[0], (fault, why)
        whole = started(store, None)
        assert canonical(fallback.replica.graph) == canonical(whole.replica.graph), fault
        assert fallback.questions.current() == whole.questions.current(), fault
        assert (fallback.questions.impact(["web-1", "hr-tenant"])
                == whole.questions.impact(["web-1", "hr-tenant"])), fault


def test_a_damaged_newest_snapshot_gives_way_to_the_one_before(
        store: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    graph, first = saved(store, tmp_path)
    with local_client(create_app(settings_for(tmp_path), graph=graph)) as client:
        changes(client, 1)
    graph.replica.save_snapshot()
    newest = graph.replica.snapshots.files()[0]  # type: ignore[union-attr]
    assert newest != first
    flip(newest, newest.stat().st_size - 1)
    with caplog.at_level(logging.INFO, "servicegraph.live"):
        fast = started(store, snapshots_of(store, tmp_path))
    assert fast.replica.started_from == "snapshot"
    assert any(first.name in r.getMessage() and "skipped" in r.getMessage()
               for r in caplog.records)
    assert canonical(fast.replica.graph) == canonical(started(store, None).replica.graph)


def test_without_any_snapshot_the_process_reads_the_whole_graph(
        store: GraphStore, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    example_graph(store)
    with caplog.at_level(logging.INFO, "servicegraph.live"):
        graph = started(store, snapshots_of(store, tmp_path))
    assert graph.replica.started_from == "store"
    assert sum("no snapshot in" in r.getMessage() for r in caplog.records) == 1


def test_one_process_of_a_directory_saves_and_old_snapshots_are_removed(
        store: GraphStore, tmp_path: Path) -> None:
    graph = example_graph(store)
    one, two = snapshots_of(store, tmp_path), snapshots_of(store, tmp_path)
    assert one.elected() and one.elected()
    assert not two.elected()
    graph.replica.snapshots = one
    versions = []
    for step in range(3):
        with local_client(create_app(settings_for(tmp_path), graph=graph)) as client:
            changes(client, step)
        graph.replica.save_snapshot()
        versions.append(graph.version)
    assert [int(p.name[9:29]) for p in one.files()] == versions[:0:-1]
    assert not [p for p in one.path.iterdir() if p.name.endswith(".tmp")]
    one.close()
    assert two.elected()
    two.close()


def test_the_server_saves_a_snapshot_in_the_background(
        store: GraphStore, tmp_path: Path) -> None:
    example_graph(store)
    graph = ServiceGraph(store, snapshots=snapshots_of(store, tmp_path))
    graph.refresh(force=True)
    graph.background.save_snapshots(0.05)
    try:
        import time

        deadline = time.monotonic() + 10
        while not graph.replica.snapshots.files() and time.monotonic() < deadline:  # type: ignore[union-attr]
            time.sleep(0.02)
    finally:
        graph.background.stop()
    (path,) = graph.replica.snapshots.files()  # type: ignore[union-attr]
    assert read_file(path, store.identity()).version == graph.version


# --- random graphs, random changes after the snapshot ---------------------------------------


@st.composite
def histories(draw: st.DrawFn) -> tuple[GraphData, list[GraphData]]:
    first = draw(graphs(max_nodes=8))
    later = draw(st.lists(graphs(max_nodes=8), min_size=0, max_size=2))
    return first, later


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(histories(), st.data())
def test_random_graphs_started_from_a_snapshot_equal_a_whole_read(
        store: GraphStore, tmp_path_factory: pytest.TempPathFactory,
        case: tuple[GraphData, list[GraphData]], data: st.DataObject) -> None:
    first, later = case
    store.clear()
    folder = tmp_path_factory.mktemp("snap")
    graph = ServiceGraph(store, snapshots=snapshots_of(store, folder))
    graph.writes.push("src", first)
    ids = [n.id for n in first.nodes]
    seen = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=3))
    graph.writes.push_status("mon", [StatusUpdate(State.DOWN, NOW - timedelta(hours=1), id=i)
                                     for i in seen])
    assert graph.replica.save_snapshot()
    for step in later:
        # Another source's view, and the first source's changed: upserts, retirements
        # (a change the rules refuse writes nothing).
        for source, full in (("other", False), ("src", True)):
            with contextlib.suppress(ValidationError):
                graph.writes.push(source, step, full_sync=full)
    fast = started(store, snapshots_of(store, folder))
    assert fast.replica.started_from == "snapshot"
    whole = started(store, None)
    assert canonical(fast.replica.graph) == canonical(whole.replica.graph)
    assert fast.questions.current() == whole.questions.current()
    known = [i for i in ids[:2] if i in whole.replica.graph
             and whole.replica.graph.index.counted(whole.replica.graph.index.position[i])]
    assert fast.questions.impact(known) == whole.questions.impact(known)


def test_a_live_graph_saved_and_read_back_is_the_same(tmp_path: Path) -> None:
    # Text of every kind: beyond the basic plane, and a NUL (the columns are then kept
    # with the end of each value rather than split on NUL).
    graph = GraphData.of([Node("a", NodeKind.SERVICE_SYSTEM, "A 𝄞", redundancy={"g": 1}),
                          Node("b", NodeKind.CI, "B", owner="Ops ✓", description="x\ny\0z"),
                          Node("c", NodeKind.CI, "", silo="")],
                         [Edge("a", "b", "g"), Edge("a", "c", "g")])
    from servicegraph.store.rows import edge_row, node_row

    live = LiveGraph.build(7, [node_row(n) for n in graph.nodes],
                           [edge_row(e) for e in graph.edges])
    path = write_file(tmp_path / "s.sgsnap", live.columns(), "sqlite:1", "t")
    back = LiveGraph.from_columns(read_file(path, "sqlite:1"))
    assert canonical(back) == canonical(live)


def test_a_server_with_a_snapshot_directory_saves_one_and_the_next_starts_from_it(
        tmp_path: Path) -> None:
    """The settings wire it: ``snapshot_dir`` for the store ``store`` names."""
    from servicegraph.store import SqliteStore

    path = tmp_path / "graph.db"
    example_graph(SqliteStore(path)).close()
    settings = settings_for(tmp_path, store=str(path), snapshot_dir=tmp_path / "snaps",
                            snapshot_interval=0.05)
    import time

    with local_client(create_app(settings)) as client:
        assert client.get("/v1/current").status_code == 200
        deadline = time.monotonic() + 10
        while not list((tmp_path / "snaps").glob("snapshot-*")) and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        first = client.app.state.graph  # type: ignore[attr-defined]
        assert first.replica.started_from == "store"
    with local_client(create_app(settings)) as client:
        assert client.get("/v1/current").status_code == 200
        assert client.app.state.graph.replica.started_from == "snapshot"  # type: ignore[attr-defined]


def test_a_wrong_id_order_in_the_columns_is_not_trusted() -> None:
    live = LiveGraph.build(1, [{"id": i, "kind": "ci", "name": i} for i in "cab"], [])
    columns = live.columns()
    assert [columns.ids[v] for v in columns.id_order.tolist()] == ["a", "b", "c"]
    columns.id_order = columns.id_order[::-1].copy()
    back = LiveGraph.from_columns(columns)
    idx = back.index
    assert [idx.ids[v] for v in idx.in_id_order(np.arange(3))] == ["a", "b", "c"]
