"""Acknowledgements over the API on both stores: given, shown in the current impact,
ended by recovery, withdrawn; refused for unknown nodes and nodes that are ok."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model.kinds import State
from servicegraph.store import GraphStore


def status(client: TestClient, state: str, *ids: str) -> None:
    r = client.post("/v1/sources/mon/status",
                    json={"statuses": [{"id": i, "state": state} for i in ids]})
    assert r.status_code == 200, r.text


def ack(client: TestClient, node: str, by: str = "alice", comment: str | None = None
        ) -> dict:
    r = client.post("/v1/acknowledgements", json={"node": node, "by": by, "comment": comment})
    assert r.status_code == 201, r.text
    return r.json()


def test_an_acknowledgement_lives_until_the_node_recovers(client: TestClient) -> None:
    status(client, "down", "web-1", "web-2", "feed-job")
    given = ack(client, "web-1", comment="rebooting")
    assert (given["node"], given["by"], given["state"], given["now"], given["ended"]) == (
        "web-1", "alice", "down", "down", None)
    now = client.get("/v1/current").json()
    assert now["acknowledged"]["nodes"] == {
        "web-1": {"by": "alice", "at": given["at"], "comment": "rebooting"}}
    # web-2 is down too, unacknowledged: the promise is not acknowledged yet.
    assert "order-anytime" not in now["acknowledged"]["promises"]
    ack(client, "web-2", by="bob")
    now = client.get("/v1/current").json()
    assert "order-anytime" in now["acknowledged"]["promises"]
    # onboarding is broken by the feed job, on which nobody is.
    assert "onboarding" in now["broken_promises"]
    assert "onboarding" not in now["acknowledged"]["promises"]
    ack(client, "onboarding", by="carol")
    now = client.get("/v1/current").json()
    assert "onboarding" in now["acknowledged"]["promises"]
    listed = client.get("/v1/acknowledgements").json()["acknowledgements"]
    assert [(a["node"], a["by"]) for a in listed] == [
        ("onboarding", "carol"), ("web-1", "alice"), ("web-2", "bob")]

    # web-1 recovers: its acknowledgement ends; the next breakage is unacknowledged.
    status(client, "ok", "web-1")
    assert client.get("/v1/acknowledgements/web-1").status_code == 404
    status(client, "down", "web-1")
    now = client.get("/v1/current").json()
    assert "web-1" not in now["acknowledged"]["nodes"]
    assert "web-2" in now["acknowledged"]["nodes"]
    assert "order-anytime" not in now["acknowledged"]["promises"]


def test_an_acknowledgement_can_be_withdrawn(client: TestClient) -> None:
    status(client, "down", "feed-job")
    ack(client, "feed-job")
    r = client.delete("/v1/acknowledgements/feed-job")
    assert r.status_code == 200, r.text
    assert (r.json()["ended"], r.json()["now"]) == ("cleared", "down")
    assert client.get("/v1/acknowledgements").json() == {"acknowledgements": []}
    assert client.get("/v1/current").json()["acknowledged"] == {"nodes": {}, "promises": []}
    r = client.delete("/v1/acknowledgements/feed-job")
    assert r.status_code == 404 and "feed-job" in r.json()["detail"]


def test_acknowledging_again_replaces(client: TestClient) -> None:
    status(client, "down", "feed-job")
    ack(client, "feed-job", by="alice")
    ack(client, "feed-job", by="bob", comment="taking over")
    (held,) = client.get("/v1/acknowledgements").json()["acknowledgements"]
    assert (held["by"], held["comment"]) == ("bob", "taking over")


def test_bad_acknowledgements_are_refused_naming_the_node(client: TestClient) -> None:
    r = client.post("/v1/acknowledgements", json={"node": "nope", "by": "alice"})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    r = client.post("/v1/acknowledgements", json={"node": "web-1", "by": "alice"})
    assert r.status_code == 409, r.text
    assert r.json()["node"] == "web-1" and "web-1" in r.json()["detail"]
    r = client.post("/v1/acknowledgements", json={"node": "web-1", "by": " "})
    assert r.status_code == 422
    assert client.delete("/v1/acknowledgements/nope").status_code == 404
    assert client.get("/v1/acknowledgements").json() == {"acknowledgements": []}


def test_acknowledgements_are_kept_in_the_store(client: TestClient,
                                                store: GraphStore) -> None:
    status(client, "down", "feed-job", "web-1")
    ack(client, "feed-job", comment="on it")
    ack(client, "web-1")
    status(client, "ok", "web-1")  # ended by recovery, in the store too
    fresh = ServiceGraph(store)  # another process, reading the store from scratch
    held = fresh.questions.acknowledgements()
    assert [(a["node"], a["comment"]) for a in held] == [("feed-job", "on it")]
    # Broken again: a process that reads the store now sees no acknowledgement.
    status(client, "down", "web-1")
    assert ServiceGraph(store).questions.acknowledgement("web-1") is None


def observe(sg: ServiceGraph, node: str, state: State) -> None:
    sg.writes.push_status("mon", [StatusUpdate(state, datetime.now(UTC), id=node)])


def test_a_recovery_written_by_another_process_ends_it(store: GraphStore) -> None:
    first, second = ServiceGraph(store), ServiceGraph(store)
    first.writes.load(example_graph())
    observe(first, "feed-job", State.DOWN)
    first.writes.acknowledge("feed-job", "alice")
    assert second.questions.acknowledgement("feed-job") is not None
    observe(second, "feed-job", State.OK)
    observe(second, "feed-job", State.DOWN)
    assert first.questions.acknowledgements() == []
    assert ServiceGraph(store).questions.acknowledgements() == []


def test_no_breakage_is_written_over_an_earlier_acknowledgement(
        store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(example_graph())
    observe(sg, "feed-job", State.DOWN)
    sg.writes.acknowledge("feed-job", "alice")
    # The process that wrote the recovery dies before ending the acknowledgement.
    monkeypatch.setattr(sg.writes, "_end_recovered", lambda: None)
    observe(sg, "feed-job", State.OK)
    # The store still holds it; a node ok shows none, and the next write ends it first.
    assert ServiceGraph(store).questions.acknowledgements() == []
    other = ServiceGraph(store)
    observe(other, "feed-job", State.DOWN)
    assert ServiceGraph(store).questions.acknowledgement("feed-job") is None
