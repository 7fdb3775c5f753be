"""The integrator routes over HTTP, on both stores: pushes, NDJSON, status, SSE."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from servicegraph.store import GraphStore
from servicegraph_api.auth import Scope

from apikit import add_key, api_client

BATCH: dict[str, Any] = {
    "nodes": [
        {"id": "web-4", "kind": "ci", "name": "srv-web-04", "silo": "compute",
         "external_id": "vm-104"},
        {"id": "web-1", "kind": "ci", "name": "srv-web-01", "external_id": "vm-101"},
    ],
    "edges": [{"from": "web-tier", "to": "web-4", "group": "web"}],
}


def test_push_twice_is_idempotent_and_says_so(store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        first = client.post("/v1/sources/discovery/push", json=BATCH)
        assert first.status_code == 200, first.text
        assert (first.json()["created"], first.json()["updated"]) == (2, 1)
        again = client.post("/v1/sources/discovery/push", json=BATCH).json()
        assert (again["unchanged"], again["changed"]) == (3, False)
        prov = client.get("/v1/nodes/web-1/provenance").json()
        assert sorted(c["source"] for c in prov["claims"]) == ["discovery", "manual"]
        impact = client.post("/v1/impact", json={"down": ["web-1", "web-2"]}).json()
        assert impact["at_risk_promises"] == ["fun-day", "order-anytime"]  # 2 of 4 up


def test_dry_run_writes_nothing(store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        before = store.read()
        answer = client.post("/v1/sources/discovery/push?dry_run=true", json=BATCH).json()
        assert answer["dry_run"] is True and answer["created"] == 2
        assert store.read() == before


def test_bad_batch_gets_422_listing_each_item_and_leaves_nothing(
        store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        before = store.read()
        bad = {"nodes": [{"id": "x", "kind": "ci", "name": "X"},
                         {"id": "y", "kind": "router", "name": "Y"}],
               "edges": [{"from": "x", "to": "hr-app"}]}
        answer = client.post("/v1/sources/discovery/push", json=bad)
        assert answer.status_code == 422
        problems = answer.json()["problems"]
        assert [(p["section"], p["index"], p["field"]) for p in problems] == [
            ("nodes", 1, "kind")]
        bad["nodes"] = bad["nodes"][:1]
        answer = client.post("/v1/sources/discovery/push", json=bad)
        assert [(p["section"], p["index"], p["field"]) for p in answer.json()["problems"]] == [
            ("edges", 0, "to")]
        assert "a ci may not depend on a service_system" in answer.json()["problems"][0][
            "message"]
        assert store.read() == before


def test_full_sync_over_http_retires_and_purge_deletes(store: GraphStore,
                                                       tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        client.post("/v1/sources/discovery/push", json=BATCH)
        answer = client.post("/v1/sources/discovery/push?full_sync=true",
                             json={"nodes": [BATCH["nodes"][1]], "edges": []}).json()
        assert answer["retired"] == 2  # web-4 and its edge
        assert client.get("/v1/nodes/web-4/provenance").json()["retired_at"] is not None
        assert client.post("/v1/impact", json={"down": ["web-4"]}).status_code == 404
        assert client.post("/v1/purge").json() == {"nodes": 1, "edges": 1}
        assert client.get("/v1/nodes/web-4/provenance").status_code == 404


def test_ndjson_sync_reports_progress_and_lines(store: GraphStore, tmp_path: Path) -> None:
    lines = [json.dumps({"node": {"id": f"vm-{i}", "kind": "ci", "name": f"VM {i}"}})
             for i in range(200)]
    body = ("\n".join(lines) + "\n").encode()
    with api_client(store, tmp_path) as client:
        answer = client.post("/v1/sources/bulk/push.ndjson", content=body,
                             headers={"Content-Type": "application/x-ndjson"})
        assert answer.status_code == 200, answer.text
        doc = answer.json()
        assert doc["created"] == 200 and doc["progress"]["lines"] == 200
        assert doc["progress"]["bytes"] == len(body)
        bad = b'{"node": {"id": "ok", "kind": "ci", "name": "OK"}}\n{"edge": {"from": "ok"}}\n'
        answer = client.post("/v1/sources/bulk/push.ndjson", content=bad)
        assert answer.status_code == 422
        assert [(p["section"], p["index"], p["field"]) for p in answer.json()["problems"]] == [
            ("lines", 2, "to")]


def test_ndjson_beyond_its_limit_is_413(store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path, max_ndjson_bytes=1000) as client:
        body = b"".join(json.dumps({"node": {"id": f"n{i}", "kind": "ci", "name": "N"}})
                        .encode() + b"\n" for i in range(100))
        answer = client.post("/v1/sources/bulk/push.ndjson", content=body)
        assert answer.status_code == 413
        assert store.read().node_map().get("n0") is None


def test_status_push_and_current_impact(store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        answer = client.post("/v1/sources/monitoring/status", json={"statuses": [
            {"id": "feed-job", "state": "down", "at": "2026-11-23T08:00:00Z"}]})
        assert answer.status_code == 200, answer.text
        assert answer.json()["broken_promises"] == ["onboarding"]
        current = client.get("/v1/current").json()
        assert current["broken_promises"] == ["onboarding"]
        assert current["explanations"]["onboarding"]["chain"][-1] == "feed-job"
        metrics = client.get("/metrics").text
        assert "servicegraph_broken_promises 1.0" in metrics
        bad = client.post("/v1/sources/monitoring/status",
                          json={"statuses": [{"id": "nope", "state": "down"}]})
        assert bad.status_code == 422 and bad.json()["problems"][0]["item"] == "'nope'"


def test_events_stream_promise_changes(store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        def later() -> None:
            client.post("/v1/sources/monitoring/status", json={"statuses": [
                {"id": "feed-job", "state": "down", "at": "2026-11-23T08:00:00Z"}]})

        events: list[tuple[str, dict[str, Any]]] = []
        pusher = threading.Thread(target=later)
        with client.stream("GET", "/v1/events?limit=1&heartbeat=0.1") as stream:
            kind = ""
            for line in stream.iter_lines():
                if line.startswith("event: "):
                    kind = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    events.append((kind, json.loads(line.removeprefix("data: "))))
                    if kind == "snapshot":
                        pusher.start()
        pusher.join()
        assert events[0][0] == "snapshot"
        assert events[0][1]["promises"]["onboarding"] == "ok"
        assert events[1][0] == "promise"
        change = events[1][1]
        assert (change["promise"], change["previous"], change["state"]) == (
            "onboarding", "ok", "down")
        assert change["explanation"]["chain"][-1] == "feed-job"


def test_pushes_need_the_ingest_scope(store: GraphStore, tmp_path: Path) -> None:
    reader = add_key(tmp_path, "reader", Scope.READ)
    writer = add_key(tmp_path, "writer", Scope.INGEST)
    with api_client(store, tmp_path) as client:
        assert client.post("/v1/sources/d/push", json=BATCH).status_code == 401
        as_reader = client.post("/v1/sources/d/push", json=BATCH,
                                headers={"Authorization": f"Bearer {reader}"})
        assert as_reader.status_code == 403
        as_writer = client.post("/v1/sources/d/push", json=BATCH,
                                headers={"X-API-Key": writer})
        assert as_writer.status_code == 200
        assert client.post("/v1/purge", headers={"X-API-Key": writer}).status_code == 403


def test_node_reads_show_retirement_and_observed_state(store: GraphStore,
                                                      tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        client.post("/v1/sources/discovery/push", json=BATCH)
        client.post("/v1/sources/discovery/push?full_sync=true&allow_empty=true",
                    json={"nodes": []})
        client.post("/v1/sources/mon/status", json={"statuses": [
            {"id": "web-1", "state": "degraded", "at": "2026-11-23T08:00:00Z"}]})
        web4 = client.get("/v1/nodes/web-4").json()
        assert web4["retired_at"] is not None and "observed" not in web4
        web1 = client.get("/v1/nodes/web-1").json()
        assert web1["observed"] == {"state": "degraded", "at": "2026-11-23T08:00:00.000000Z",
                                    "source": "mon"}
        assert "retired_at" not in web1  # the example's hand-written claim keeps it live
        page = client.get("/v1/nodes?kind=ci&limit=100").json()["items"]
        assert {n["id"] for n in page if "retired_at" in n} == {"web-4"}


def test_edge_reads_show_provenance(store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        client.post("/v1/sources/discovery/push", json=BATCH)
        (edge,) = client.get("/v1/edges?from=web-tier&to=web-4").json()["items"]
        assert [(p["source"], p["key"]) for p in edge["provenance"]] == [
            ("discovery", "web-tier->web-4")]
        client.post("/v1/sources/discovery/push?full_sync=true&allow_empty=true",
                    json={"nodes": []})
        (edge,) = client.get("/v1/edges?from=web-tier&to=web-4").json()["items"]
        assert edge["retired_at"] is not None


def test_an_empty_full_sync_is_refused_unless_said_to_be_empty(store: GraphStore,
                                                             tmp_path: Path) -> None:
    """An empty body must not wipe a source: not as JSON, not as NDJSON."""
    with api_client(store, tmp_path) as client:
        client.post("/v1/sources/discovery/push", json=BATCH)
        for r in (client.post("/v1/sources/discovery/push?full_sync=true", json={}),
                  client.post("/v1/sources/discovery/push.ndjson?full_sync=true", content=b"",
                              headers={"Content-Type": "application/x-ndjson"})):
            assert r.status_code == 422, r.text
            (problem,) = r.json()["problems"]
            assert problem["field"] == "full_sync" and "allow_empty" in problem["message"]
            assert "'discovery'" in problem["item"]
        assert client.get("/v1/nodes/web-4").json().get("retired_at") is None
        r = client.post("/v1/sources/discovery/push.ndjson?full_sync=true&allow_empty=true",
                        content=b"", headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200 and r.json()["retired"] >= 1
        assert client.get("/v1/nodes/web-4").json()["retired_at"] is not None


def test_one_node_is_explained_under_the_observed_states(store: GraphStore,
                                                        tmp_path: Path) -> None:
    with api_client(store, tmp_path) as client:
        client.post("/v1/sources/mon/status", json={"statuses": [
            {"id": "feed-job", "state": "down"}]})
        r = client.get("/v1/current/explain/hr-app")
        assert r.status_code == 200
        assert r.json()["chain"] == ["hr-app", "recruiting-feed", "feed-job"]
        assert r.json()["via"] == "recruiting-feed" and r.json()["state"] == "down"
        assert client.get("/v1/current/explain/web-1").json()["state"] == "ok"
        assert client.get("/v1/current/explain/ghost").status_code == 404
