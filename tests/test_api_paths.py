"""Ids in URL paths, on both stores: any id, `/` and `%` included, works on every route
that takes one, percent-encoded as one segment; a node named like a sub-route is never
mistaken for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from servicegraph.store import GraphStore

from apikit import api_client

PROMISE, ACT, SYSTEM, CI = "promise/1", "act/1", "sys/tem", "ci/1%2F"
ODD = ["x", "x/provenance", "x/neighbourhood", "100%", "a%2Fb", "/lead", "trail/", "a//b",
       "ünï/cødé", "?q=1#frag", "..", "sp ace/"]


def at(node_id: str) -> str:
    """``node_id`` as one path segment. Clients remove dot segments (``.``, ``..``)
    from URLs, so ids made of dots are written with ``%2E``."""
    encoded = quote(node_id, safe="")
    return encoded.replace(".", "%2E") if set(node_id) == {"."} else encoded


@pytest.fixture()
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(store, tmp_path) as c:
        r = c.post("/v1/sources/discovery/push", json={
            "nodes": [{"id": PROMISE, "kind": "promise", "name": "P"},
                      {"id": ACT, "kind": "service_act", "name": "A"},
                      {"id": SYSTEM, "kind": "service_system", "name": "S"},
                      {"id": CI, "kind": "ci", "name": "C"},
                      *({"id": odd, "kind": "ci", "name": f"odd {odd}"} for odd in ODD)],
            "edges": [{"from": PROMISE, "to": ACT}, {"from": ACT, "to": SYSTEM},
                      {"from": SYSTEM, "to": CI}, {"from": "x", "to": "x/provenance"}]})
        assert r.status_code == 200, r.text
        yield c


def test_every_odd_id_is_read_by_its_encoded_path(client: TestClient) -> None:
    for node_id in [*ODD, PROMISE, SYSTEM, CI]:
        r = client.get(f"/v1/nodes/{at(node_id)}")
        assert r.status_code == 200 and r.json()["id"] == node_id, (node_id, r.text)
        r = client.get(f"/v1/nodes/{at(node_id)}/provenance")
        assert r.status_code == 200 and r.json()["id"] == node_id, (node_id, r.text)
        r = client.get(f"/v1/nodes/{at(node_id)}/neighbourhood")
        assert r.status_code == 200 and r.json()["center"] == node_id, (node_id, r.text)


def test_sub_routes_take_ids_with_slashes(client: TestClient) -> None:
    r = client.get(f"/v1/promises/{at(PROMISE)}/spof")
    assert r.status_code == 200, r.text
    assert {p["component"] for p in r.json()["single_points"]} == {ACT, SYSTEM, CI}
    r = client.post(f"/v1/impact/explain/{at(PROMISE)}", json={"down": [CI]})
    assert r.status_code == 200, r.text
    assert r.json()["chain"] == [PROMISE, ACT, SYSTEM, CI]


def test_a_node_named_like_a_sub_route_is_not_the_sub_route(client: TestClient) -> None:
    # Encoded, the slash is part of the id; raw, it separates the sub-route.
    assert client.get(f"/v1/nodes/{at('x/provenance')}").json()["name"] == "odd x/provenance"
    assert client.get("/v1/nodes/x/provenance").json()["claims"][0]["key"] == "x"
    neighbours = client.get("/v1/nodes/x/neighbourhood").json()
    assert neighbours["center"] == "x"
    assert client.get("/v1/nodes/a/b").status_code == 404


def test_writes_and_deletes_by_encoded_path(client: TestClient, store: GraphStore) -> None:
    r = client.put(f"/v1/nodes/{at('new/one%')}", json={"kind": "ci", "name": "New"})
    assert r.status_code == 201 and r.json()["id"] == "new/one%"
    assert client.put(f"/v1/nodes/{at('new/one%')}", json={
        "id": "new/one%", "kind": "ci", "name": "New again"}).status_code == 200
    assert client.delete(f"/v1/nodes/{at('x/neighbourhood')}").status_code == 204
    ids = set(store.read().node_map())
    assert "new/one%" in ids and "x/neighbourhood" not in ids and "x" in ids


def test_metrics_label_routes_by_template(client: TestClient) -> None:
    client.get(f"/v1/nodes/{at('a%2Fb')}")
    metrics = client.get("/metrics").text
    assert 'route="/v1/nodes/{node_id}"' in metrics
    assert "segment" not in metrics and "a%2Fb" not in metrics
