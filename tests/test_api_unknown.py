"""A 404 for ids the live graph does not hold says which are retired nodes and which
ids the others likely meant, on both stores; the ids themselves are listed as before."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from servicegraph.store import GraphStore

from apikit import api_client

VM = {"nodes": [{"id": "vm-1", "kind": "ci", "name": "VM 1"},
                {"id": "vm-2", "kind": "ci", "name": "VM 2"}]}


@pytest.fixture()
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(store, tmp_path) as c:
        for doc in (VM, {"nodes": VM["nodes"][:1]}):  # then vm-2 is retired
            r = c.post("/v1/sources/discovery/push", json=doc, params={"full_sync": True})
            assert r.status_code == 200, r.text
        yield c


def test_a_404_names_retired_ids_and_suggests_for_the_others(client: TestClient) -> None:
    r = client.post("/v1/impact", json={"down": ["vm-2", "feedjob", "zzzz"]})
    assert r.status_code == 404
    body = r.json()
    assert body["ids"] == ["vm-2", "feedjob", "zzzz"]
    assert body["retired"]["vm-2"].startswith("20")
    assert body["suggestions"] == {"feedjob": ["feed-job"]}
    r = client.get("/v1/nodes/onboard")
    assert r.status_code == 404
    assert "onboarding" in r.json()["suggestions"]["onboard"]


def test_a_404_without_anything_to_say_keeps_its_shape(client: TestClient) -> None:
    r = client.post("/v1/impact", json={"down": ["zzzz"]})
    assert r.status_code == 404
    assert r.json() == {"detail": "unknown node id(s): zzzz", "ids": ["zzzz"]}
