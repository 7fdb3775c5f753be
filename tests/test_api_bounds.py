"""Stored poison over HTTP, on both stores: what would break reads for everyone once
stored (NaN, properties nested hundreds of levels, ids past Neo4j's index key limit) is
refused on every way in with a 4xx naming the item, and nothing is written."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.model import GraphData, Node, NodeKind, ValidationError, loads
from servicegraph.model.bounds import MAX_ID_LENGTH
from servicegraph.store import GraphStore

from apikit import api_client


def deep(levels: int) -> str:
    """JSON text of properties nested ``levels`` deep."""
    return '{"a": ' * (levels - 1) + '{"leaf": 1}' + "}" * (levels - 1)


def node_text(node_id: str, properties: str = "{}") -> str:
    return (f'{{"id": {json.dumps(node_id)}, "kind": "ci", "name": "N", '
            f'"properties": {properties}}}')


def ways_in(client: TestClient, node_id: str, properties: str = "{}") -> dict[str, Any]:
    """The answers of each way a node gets into the store over HTTP (a PUT only when the
    id fits in a URL)."""
    text = node_text(node_id, properties)
    json_type = {"Content-Type": "application/json"}
    answers = {
        "push": client.post("/v1/sources/discovery/push", headers=json_type,
                            content=f'{{"nodes": [{text}]}}'),
        "ndjson": client.post("/v1/sources/discovery/push.ndjson",
                              content=f'{{"node": {text}}}\n'),
    }
    if len(node_id) < 32_000:
        answers["put"] = client.put(f"/v1/nodes/{quote(node_id, safe='')}", headers=json_type,
                                    content=f'{{"kind": "ci", "properties": {properties}}}')
    return answers


def assert_refused(answers: dict[str, Any], field: str) -> None:
    for way, r in answers.items():
        assert r.status_code == 422, (way, r.status_code, r.text[:300])
        problems = r.json()["problems"]
        assert any(p["field"].startswith(field) for p in problems), (way, problems)
        assert len(r.text) < 5000, way  # the item is named, not echoed


def assert_reads_whole(client: TestClient) -> None:
    def no_constants(name: str) -> None:
        raise AssertionError(f"{name} in a JSON answer")

    for path in ("/v1/nodes?limit=10000", "/v1/export/json", "/v1/export/yaml",
                 "/v1/export/cytoscape", "/v1/nodes/web-1/provenance"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        if "yaml" not in path:
            json.loads(r.text, parse_constant=no_constants)


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "[1, NaN]"])
def test_non_finite_numbers_are_refused_on_every_way_in(client: TestClient, store: GraphStore,
                                                       value: str) -> None:
    before = store.read()
    assert_refused(ways_in(client, "poison", f'{{"x": {value}}}'), "properties.x")
    assert store.read() == before
    assert_reads_whole(client)


def test_properties_nested_too_deep_are_refused(client: TestClient, store: GraphStore) -> None:
    before = store.read()
    assert_refused(ways_in(client, "deep", deep(600)), "properties")
    assert store.read() == before
    assert_reads_whole(client)


def test_properties_within_bounds_read_back_everywhere(client: TestClient) -> None:
    answers = ways_in(client, "fine", deep(32))
    assert [r.status_code for r in answers.values()] == [200, 200, 200]
    assert_reads_whole(client)
    assert client.get("/v1/nodes/fine/provenance").status_code == 200


@pytest.mark.parametrize("size", [8 * 1024, 1024 * 1024])
def test_ids_past_the_limit_are_refused_alike_on_both_stores(
        client: TestClient, store: GraphStore, size: int) -> None:
    before = store.read()
    long_id = "x" * size
    answers = ways_in(client, long_id)
    answers["edge"] = client.put("/v1/edges", json={"from": "web-tier", "to": long_id})
    answers["group"] = client.post("/v1/sources/discovery/push", json={
        "edges": [{"from": "web-tier", "to": "web-1", "group": long_id}]})
    for way, r in answers.items():
        assert r.status_code == 422, (way, r.status_code, r.text[:300])
        assert "512" in r.text and len(r.text) < 5000, way
    assert store.read() == before


def test_the_longest_id_fits_both_stores(client: TestClient, store: GraphStore) -> None:
    # Four UTF-8 bytes per character: the longest id in the widest script.
    longest = "\U0001f600" * MAX_ID_LENGTH
    r = client.post("/v1/sources/discovery/push", json={
        "nodes": [{"id": longest, "kind": "ci", "name": "Wide", "external_id": longest}],
        "edges": [{"from": "web-tier", "to": longest, "group": "web"}]})
    assert r.status_code == 200, r.text[:300]
    assert longest in store.read().node_map()
    assert client.get(f"/v1/nodes/{quote(longest, safe='')}").json()["id"] == longest


def test_load_by_the_library_is_bounded_too(store: GraphStore) -> None:
    graph = ServiceGraph(store)
    with pytest.raises(ValidationError):
        graph.writes.load(loads(json.dumps({"nodes": [{"id": "y" * 9000, "kind": "ci"}]})))
    with pytest.raises(ValidationError):
        graph.writes.load(GraphData.of([Node("z", NodeKind.CI, "Z",
                                             properties={"x": float("nan")})]))
    assert store.read() == GraphData()


def test_ndjson_line_nested_deep_is_a_problem_of_its_line(client: TestClient,
                                                         store: GraphStore) -> None:
    before = store.read()
    body = (b'{"node": {"id": "ok", "kind": "ci", "name": "OK"}}\n'
            + b'{"node": ' + b"[" * 100_000 + b"]" * 100_000 + b"}\n")
    r = client.post("/v1/sources/bulk/push.ndjson", content=body)
    assert r.status_code == 422, r.text[:300]
    assert [(p["section"], p["index"]) for p in r.json()["problems"]] == [("lines", 2)]
    assert "nested too deeply" in r.json()["problems"][0]["message"]
    assert store.read() == before


# --- observed status times -------------------------------------------------------------------


def status(client: TestClient, at: str, node: str = "web-1", state: str = "down") -> Any:
    return client.post("/v1/sources/monitoring/status",
                       json={"statuses": [{"id": node, "state": state, "at": at}]})


@pytest.mark.parametrize("at", ["9999-12-31T23:00:00-05:00", "0001-01-01T00:30:00+05:00",
                                "9999-12-31T23:59:59.999999-00:01"])
def test_status_times_past_the_calendar_are_refused(client: TestClient, store: GraphStore,
                                                   at: str) -> None:
    before = store.read()
    r = status(client, at)
    assert r.status_code == 422, r.text
    (problem,) = r.json()["problems"]
    assert (problem["index"], problem["item"], problem["field"]) == (0, "'web-1'", "at")
    assert store.read() == before


def test_a_status_from_the_future_is_refused_and_cannot_make_real_ones_stale(
        client: TestClient, store: GraphStore) -> None:
    now = datetime.now(UTC)
    before = store.read()
    r = status(client, (now + timedelta(days=365)).isoformat())
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "at"
    assert "in the future" in r.json()["problems"][0]["message"]
    assert store.read() == before
    # Within the allowed skew (300 s by default) a fast clock is fine.
    assert status(client, (now + timedelta(seconds=60)).isoformat()).status_code == 200
    r = status(client, (datetime.now(UTC) + timedelta(seconds=61)).isoformat(), state="ok")
    assert (r.json()["applied"], r.json()["stale"]) == (1, 0)


def test_the_allowed_skew_is_a_setting(store: GraphStore, tmp_path: Path) -> None:
    with api_client(store, tmp_path, status_max_skew_seconds=0) as client:
        r = status(client, (datetime.now(UTC) + timedelta(seconds=30)).isoformat())
        assert r.status_code == 422 and "at most 0 s" in r.text


def test_imports_are_bounded_too(client: TestClient, store: GraphStore) -> None:
    before = store.read()
    body = "id,kind,name\n" + "x" * 9000 + ",ci,Long\n"
    r = client.post("/v1/sources/sheet/import/csv", params={"name": "nodes.csv"},
                    content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 422, r.text[:300]
    assert "longer than 512 characters" in r.text and len(r.text) < 5000
    assert store.read() == before
