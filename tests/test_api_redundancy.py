"""Redundancy rules of every form on every way in, on both stores: a bad rule is a 422
naming the node and the group, with nothing written; a good one is stored, read back,
replayed from the journal by another process and answered alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from servicegraph import ServiceGraph
from servicegraph.model import ValidationError, load_file
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore

from apikit import api_client
from graphs import what_if

RULES: dict[str, Any] = {"web": {"min_ok": "50%", "ok_at": 3}}
BAD: dict[str, Any] = {"web": {"min_ok": 3, "ok_at": "50%"}}  # 50 % of 4 is 2, below 3
NODE = {"kind": "service_system", "name": "Shop tier"}
MEMBERS = [{"id": f"shop-{i}", "kind": "ci", "name": f"Shop {i}"} for i in range(1, 5)]
EDGES = [{"from": "shop-tier", "to": f"shop-{i}", "group": "web"} for i in range(1, 5)]


def batch(redundancy: Any) -> dict[str, Any]:
    return {"nodes": [{"id": "shop-tier", **NODE, "redundancy": redundancy}, *MEMBERS],
            "edges": list(EDGES)}


@pytest.fixture()
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(store, tmp_path) as c:
        yield c


def named(error: dict[str, Any]) -> list[tuple[str, str]]:
    """(item, field) of each problem of a 422 (the library's, or FastAPI's locations)."""
    if error.get("problems"):
        return [(p["item"], p["field"]) for p in error["problems"]]
    return [("", ".".join(str(part) for part in d["loc"][1:])) for d in error["detail"]]


def test_a_push_with_a_rule_below_its_threshold_is_refused_whole(
        client: TestClient, store: GraphStore) -> None:
    before = store.read()
    r = client.post("/v1/sources/cmdb/push", json=batch(BAD))
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert (problem["section"], problem["index"], problem["item"], problem["field"]) == (
        "nodes", 0, "'shop-tier'", "redundancy.web")
    assert problem["message"] == "ok_at '50%' (2 of 4) is below min_ok 3"
    assert store.read() == before


@pytest.mark.parametrize("rule", ["0%", "150%", "half", {"min_ok": 2, "ok": 3}, {"ok_at": 2}])
def test_a_push_with_a_rule_of_a_bad_form_names_the_group(client: TestClient,
                                                          store: GraphStore, rule: Any) -> None:
    before = store.read()
    r = client.post("/v1/sources/cmdb/push", json=batch({"web": rule}))
    assert r.status_code == 422, r.text
    assert any(field.startswith("nodes.0.redundancy.web") or field == "redundancy.web"
               for _, field in named(r.json())), r.json()
    assert store.read() == before


def test_an_ndjson_push_names_the_line(client: TestClient, store: GraphStore) -> None:
    before = store.read()
    doc = batch(BAD)
    lines = [json.dumps({"node": n}) for n in doc["nodes"]] + [
        json.dumps({"edge": e}) for e in doc["edges"]]
    r = client.post("/v1/sources/bulk/push.ndjson", content="\n".join(lines) + "\n",
                    headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 422
    assert [(p["section"], p["index"], p["field"]) for p in r.json()["problems"]] == [
        ("lines", 1, "redundancy.web")]
    bad_form = [json.dumps({"node": {"id": "x", "kind": "ci", "name": "X",
                                     "redundancy": {"g": "0%"}}})]
    r = client.post("/v1/sources/bulk/push.ndjson", content="\n".join(bad_form) + "\n")
    assert r.status_code == 422
    assert [(p["section"], p["index"], p["field"]) for p in r.json()["problems"]] == [
        ("lines", 1, "redundancy.g")]
    assert store.read() == before


def test_a_node_put_with_a_bad_rule_is_refused(client: TestClient, store: GraphStore) -> None:
    assert client.post("/v1/sources/cmdb/push", json=batch(RULES)).status_code == 200
    before = store.read()
    r = client.put("/v1/nodes/shop-tier", json={**NODE, "redundancy": BAD})
    assert r.status_code == 422
    assert named(r.json()) == [("'shop-tier'", "redundancy.web")]
    r = client.put("/v1/nodes/shop-tier", json={**NODE, "redundancy": {"web": "0%"}})
    assert r.status_code == 422 and "redundancy.web" in named(r.json())[0][1]
    assert store.read() == before
    r = client.put("/v1/nodes/shop-tier", json={**NODE, "redundancy": {"web": "75%"}})
    assert r.status_code == 200, r.text
    assert r.json()["redundancy"] == {"web": "75%"}


def test_a_file_with_a_bad_rule_is_refused(store: GraphStore, tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(batch(BAD)))
    sg = ServiceGraph(store)
    with pytest.raises(ValidationError, match=r"nodes\[0\] \('shop-tier'\): redundancy\.web: "
                                              r"ok_at '50%' \(2 of 4\) is below min_ok 3"):
        sg.writes.load(load_file(path))
    assert store.read().nodes == ()


def test_every_form_round_trips_through_the_store_the_api_and_the_journal(
        client: TestClient, store: GraphStore) -> None:
    rules = {"web": {"min_ok": "50%", "ok_at": 3}}
    doc = batch(rules)
    doc["nodes"].append({"id": "pair", "kind": "service_system", "name": "Pair",
                         "redundancy": {"a": "50%", "b": 1}})
    doc["edges"] += [{"from": "pair", "to": "shop-1", "group": "a"},
                     {"from": "pair", "to": "shop-2", "group": "a"},
                     {"from": "pair", "to": "shop-3", "group": "b"}]
    other = ServiceGraph(SqliteStore(store.path) if isinstance(store, SqliteStore)
                         else Neo4jStore(store.uri, driver=store.driver))  # type: ignore[attr-defined]
    other.refresh()  # holds the graph as it was: catches up from the journal below
    r = client.post("/v1/sources/cmdb/push", json=doc)
    assert r.status_code == 200, r.text
    stored = store.read().node_map()
    assert stored["shop-tier"].redundancy == rules
    assert stored["pair"].redundancy == {"a": "50%", "b": 1}
    assert client.get("/v1/nodes/shop-tier").json()["redundancy"] == rules
    other.refresh()
    assert other.questions.node("shop-tier").redundancy == rules  # type: ignore[union-attr]
    fresh = ServiceGraph(store)
    for sg in (other, fresh):
        one = what_if(sg, ["shop-1"])
        assert "shop-tier" not in one.impacted  # 3 of 4 ok: ok at 3
        two = what_if(sg, ["shop-1", "shop-2"])
        assert two.impacted["shop-tier"].word == "degraded"
        assert two.impacted["pair"].word == "down"  # 50 % of 2 needs 1: both gone
    answer = client.post("/v1/impact", json={"down": ["shop-1", "shop-2"]}).json()
    (cause, *_) = answer["explanations"]["shop-tier"]["causes"]
    assert cause["headroom"] == "2 of 4 up: ok at 3, needs 2"
