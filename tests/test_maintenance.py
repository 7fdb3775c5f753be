"""Planned work: maintenance windows over the API on both stores, and the planned and
acknowledged marks held to a naive reading of their rules on random graphs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.impact import GraphIndex, analyse
from servicegraph.impact.acknowledged import acknowledged_marks
from servicegraph.impact.planned import planned_marks
from servicegraph.impact.reference import naive_states, to_networkx
from servicegraph.model.acknowledgements import Acknowledgement
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.maintenance import CANCELLED, Window
from servicegraph.store import GraphStore

from graphs import graphs_with_scenario

NOW = datetime.now(UTC)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def window(wid: str, components: list[str], start: float = -1, end: float = 1,
           **extra: Any) -> dict[str, Any]:
    """A window from ``start`` to ``end`` hours from now."""
    return {"id": wid, "title": f"work {wid}", "owner": "IT operations",
            "components": components, "starts_at": stamp(NOW + timedelta(hours=start)),
            "ends_at": stamp(NOW + timedelta(hours=end)), **extra}


def down(client: TestClient, *ids: str) -> None:
    r = client.post("/v1/sources/mon/status",
                    json={"statuses": [{"id": i, "state": "down"} for i in ids]})
    assert r.status_code == 200, r.text


def test_planned_work_is_reported_broken_and_marked_planned(client: TestClient) -> None:
    r = client.post("/v1/maintenance", json=window("chg-1", ["web-1", "web-2"]))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["window"]["phase"] == "active"
    assert "order-anytime" in body["assessment"]["changes"]["chg-1"]["broken_promises"]
    down(client, "web-1", "web-2", "feed-job")
    now = client.get("/v1/current").json()
    # Never hidden: both promises are broken; only the web servers' work is planned.
    assert now["broken_promises"] == ["onboarding", "order-anytime"]
    planned = now["planned"]
    # Every promise hit by the web servers alone is the planned work's (the park's
    # ticket shop runs on them too); onboarding, hit by the feed job, is not.
    hit = set(now["broken_promises"]) | set(now["at_risk_promises"])
    assert "fun-day" in hit
    assert planned["promises"] == sorted(hit - {"onboarding"})
    assert planned["components"] == {"web-1": "chg-1", "web-2": "chg-1"}
    (shown,) = planned["windows"]
    assert (shown["id"], shown["owner"], shown["components"]) == (
        "chg-1", "IT operations", ["web-1", "web-2"])


def test_a_breakage_with_an_unplanned_cause_is_unplanned(client: TestClient) -> None:
    client.post("/v1/maintenance", json=window("chg-1", ["web-1"]))
    down(client, "web-1", "web-2")
    now = client.get("/v1/current").json()
    assert "order-anytime" in now["broken_promises"]
    # web-2's failure alone still puts the promise at risk: not the planned work's.
    assert now["planned"]["promises"] == []
    assert now["planned"]["components"] == {"web-1": "chg-1"}


def test_windows_ended_upcoming_or_cancelled_plan_nothing(client: TestClient) -> None:
    client.post("/v1/maintenance", json=window("past", ["web-1", "web-2"], -3, -2))
    client.post("/v1/maintenance", json=window("later", ["web-1", "web-2"], 2, 3))
    client.post("/v1/maintenance", json=window("gone", ["web-1", "web-2"]))
    cancelled = client.delete("/v1/maintenance/gone")
    assert cancelled.status_code == 200 and cancelled.json()["phase"] == "cancelled"
    down(client, "web-1", "web-2")
    now = client.get("/v1/current").json()
    assert "order-anytime" in now["broken_promises"]
    assert now["planned"] == {"windows": [], "components": {}, "promises": []}
    phases = {w["id"]: w["phase"] for w in client.get("/v1/maintenance").json()["windows"]}
    assert phases == {"past": "ended", "later": "upcoming", "gone": "cancelled"}
    active = client.get("/v1/maintenance?phase=upcoming").json()["windows"]
    assert [w["id"] for w in active] == ["later"]


def test_a_window_is_edited_by_registering_it_again(client: TestClient) -> None:
    first = client.post("/v1/maintenance", json=window("chg-1", ["web-1"])).json()["window"]
    again = client.post("/v1/maintenance", json=window("chg-1", ["web-1", "web-2"],
                                                       title="wider")).json()["window"]
    assert again["components"] == ["web-1", "web-2"] and again["title"] == "wider"
    assert again["created_at"] == first["created_at"]
    assert client.get("/v1/maintenance/chg-1").json()["components"] == ["web-1", "web-2"]


def test_bad_windows_are_refused_naming_what_is_wrong(client: TestClient) -> None:
    r = client.post("/v1/maintenance", json=window("chg-1", ["web-1", "nope"]))
    assert r.status_code == 422 and "nope" in r.text
    r = client.post("/v1/maintenance", json=window("chg-2", ["web-1"], 1, -1))
    assert r.status_code == 422 and "after starts_at" in r.text
    r = client.post("/v1/maintenance", json={**window("chg-3", ["web-1"]),
                                             "starts_at": "2030-01-01T00:00:00"})
    assert r.status_code == 422 and "time zone" in r.text
    assert client.get("/v1/maintenance").json()["windows"] == []  # nothing written
    assert client.get("/v1/maintenance/nope").status_code == 404
    assert client.delete("/v1/maintenance/nope").status_code == 404


def test_windows_are_kept_in_the_store(client: TestClient, store: GraphStore) -> None:
    client.post("/v1/maintenance", json=window("chg-1", ["web-1", "web-2"]))
    fresh = ServiceGraph(store)  # another process, reading the store from scratch
    assert [w["id"] for w in fresh.questions.windows(phase="active")] == ["chg-1"]


@settings(max_examples=200, deadline=None)
@given(graphs_with_scenario(), st.data())
def test_planned_promises_follow_the_naive_rule(case: Any, data: st.DataObject) -> None:
    graph, observed = case
    failed = sorted(observed)
    covered = data.draw(st.lists(st.sampled_from(failed), unique=True) if failed
                        else st.just([]))
    cancelled = data.draw(st.booleans())
    now = "2030-01-01T12:00:00Z"
    windows = [Window("w", "work", tuple(covered), "2030-01-01T00:00:00Z",
                      "2030-01-02T00:00:00Z", state=CANCELLED if cancelled else "scheduled")]
    index = GraphIndex.from_graph(graph)
    full = analyse(index, observed)
    marks = planned_marks(index, observed, full, windows, now)
    # Naive: a hit promise is planned when the uncovered failures alone leave it ok.
    g = to_networkx(graph)
    planned_now = set() if cancelled else set(covered)
    alone = naive_states(g, {n: s for n, s in observed.items() if n not in planned_now})
    everything = naive_states(g, observed)
    promises = [n.id for n in graph.nodes if n.kind is NodeKind.PROMISE]
    expected = sorted(p for p in promises if everything.get(p, State.OK) > State.OK
                      and alone.get(p, State.OK) == State.OK)
    assert marks["promises"] == expected
    assert marks["components"] == {n: "w" for n in sorted(planned_now)}


@settings(max_examples=200, deadline=None)
@given(graphs_with_scenario(), st.data())
def test_acknowledged_promises_follow_the_naive_rule(case: Any, data: st.DataObject) -> None:
    graph, observed = case
    index = GraphIndex.from_graph(graph)
    full = analyse(index, observed)
    impacted = sorted(full.impacted)
    acked = data.draw(st.lists(st.sampled_from(impacted), unique=True) if impacted
                      else st.just([]))
    acks = {n: Acknowledgement(n, "alice", "2030-01-01T00:00:00Z", "down") for n in acked}
    marks = acknowledged_marks(index, observed, full, acks)
    # Naive: a hit promise is acknowledged when it is itself, or when the failures
    # nobody acknowledged alone leave it ok.
    g = to_networkx(graph)
    everything = naive_states(g, observed)
    alone = naive_states(g, {n: s for n, s in observed.items() if n not in acks})
    promises = [n.id for n in graph.nodes if n.kind is NodeKind.PROMISE]
    expected = sorted(p for p in promises if everything.get(p, State.OK) > State.OK
                      and (p in acks or alone.get(p, State.OK) == State.OK))
    assert marks["promises"] == expected
    assert sorted(marks["nodes"]) == sorted(acked)
