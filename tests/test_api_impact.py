"""The answering routes over HTTP, on both stores: impact, explanations, change impact,
single points of failure and root-cause candidates."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from servicegraph_api.schemas import (
    ChangeAssessmentOut,
    ImpactOut,
    NodeExplanationOut,
    PromiseSpofOut,
    RootCauseOut,
    SpofRankingOut,
)

# --- POST /v1/impact --------------------------------------------------------------------


def test_a_failed_data_feed_breaks_onboarding(client: TestClient) -> None:
    r = client.post("/v1/impact", json={"down": ["feed-job"]})
    assert r.status_code == 200
    body = r.json()
    ImpactOut.model_validate(body)
    assert body["broken_promises"] == ["onboarding"]
    assert body["at_risk_promises"] == []
    assert body["impacted"]["hr-app"] == "down"
    assert body["service_acts"] == {"act-new-employee": "down"}
    assert body["business_services"] == {"employee-onboarding": "down"}
    assert body["providers"][0] == {"provider": "IT", "failed": ["feed-job"], "affected": []}
    assert body["explanations"]["onboarding"]["chain"][-1] == "feed-job"


def test_two_of_three_web_servers_break_ordering(client: TestClient) -> None:
    one = client.post("/v1/impact", json={"down": ["web-1"]}).json()
    assert "order-anytime" in one["at_risk_promises"] and one["broken_promises"] == []
    two = client.post("/v1/impact", json={"down": ["web-1", "web-2"]}).json()
    assert "order-anytime" in two["broken_promises"]
    cause = two["explanations"]["web-tier"]["causes"][0]
    assert cause["rule"] == "group" and cause["headroom"] == "1 of 3 up, needs 2"


def test_degraded_components_put_promises_at_risk(client: TestClient) -> None:
    body = client.post("/v1/impact", json={"degraded": ["feed-job"]}).json()
    assert body["broken_promises"] == [] and body["at_risk_promises"] == ["onboarding"]


def test_an_empty_scenario_impacts_nothing(client: TestClient) -> None:
    body = client.post("/v1/impact", json={}).json()
    assert body["impacted"] == {} and body["broken_promises"] == []


def test_unknown_ids_answer_404_naming_them(client: TestClient) -> None:
    r = client.post("/v1/impact", json={"down": ["feed-job", "no-such", "nor-this"]})
    assert r.status_code == 404
    assert r.json()["ids"] == ["no-such", "nor-this"]
    assert "no-such" in r.json()["detail"]


@pytest.mark.parametrize("body", [{"down": "feed-job"}, {"down": [1]}, {"up": []}, []])
def test_malformed_scenarios_answer_422(client: TestClient, body: object) -> None:
    assert client.post("/v1/impact", json=body).status_code == 422


def test_invalid_json_answers_422(client: TestClient) -> None:
    r = client.post("/v1/impact", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422


def test_the_answer_is_sized_to_the_question(client: TestClient) -> None:
    full = client.post("/v1/impact", json={"down": ["web-1", "web-2"]}).json()
    total = full["counts"]["impacted"]
    assert total == len(full["impacted"]) == full["page"]["total"] > 4
    assert full["counts"]["broken_promises"] == len(full["broken_promises"])
    small = client.post("/v1/impact?limit=2&offset=1", json={"down": ["web-1", "web-2"]})
    body = ImpactOut.model_validate(small.json()).model_dump()
    assert list(body["impacted"]) == sorted(full["impacted"])[1:3]
    assert body["counts"] == full["counts"] and body["page"]["total"] == total
    assert len(body["broken_promises"]) <= 2 and len(body["providers"]) <= 2
    cis = client.post("/v1/impact?kind=ci", json={"down": ["web-1", "web-2"]}).json()
    assert set(cis["impacted"]) == {"web-1", "web-2"}
    bare = client.post("/v1/impact?explain=false", json={"down": ["web-1", "web-2"]}).json()
    assert bare["explanations"] == {} and bare["broken_promises"] == full["broken_promises"]


def test_within_restricts_the_page_to_the_nodes_drawn(client: TestClient) -> None:
    body = client.post("/v1/impact", json={"down": ["feed-job"],
                                          "within": ["hr-app", "web-1", "onboarding"]}).json()
    assert body["impacted"] == {"hr-app": "down", "onboarding": "down"}
    assert body["page"]["total"] == 2 and body["counts"]["impacted"] == 6
    assert body["explanations"]["hr-app"]["via"] == "recruiting-feed"
    r = client.post("/v1/impact", json={"down": ["feed-job"], "within": ["ghost"]})
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]


def test_chains_are_linear_next_hops_with_whole_chains_for_promises(
        client: TestClient) -> None:
    body = client.post("/v1/impact", json={"down": ["feed-job"]}).json()
    expl = body["explanations"]
    assert expl["onboarding"]["chain"] == ["onboarding", "employee-onboarding",
                                           "act-new-employee", "hr-app", "recruiting-feed",
                                           "feed-job"]
    assert expl["hr-app"]["chain"] is None
    # Following `via` rebuilds the promise's chain.
    node, walked = "onboarding", ["onboarding"]
    while expl[node]["via"] is not None:
        node = expl[node]["via"]
        walked.append(node)
    assert walked == expl["onboarding"]["chain"]


def test_explanations_have_one_shape_on_every_route(client: TestClient) -> None:
    client.post("/v1/sources/mon/status", json={"statuses": [
        {"id": "web-1", "state": "down", "at": "2026-11-23T08:00:00Z"}]})
    current = client.get("/v1/current").json()
    what_if = client.post("/v1/impact", json={"down": ["web-1"]}).json()
    assert set(current) == set(what_if)
    assert current["explanations"] == what_if["explanations"]
    explain = client.post("/v1/impact/explain/web-tier", json={"down": ["web-1"]}).json()
    assert set(explain) - {"node"} == set(what_if["explanations"]["web-tier"])
    for shown in (current, what_if):
        for e in shown["explanations"].values():
            assert set(e) == {"state", "rule", "given", "causes", "via", "chain"}
            for c in e["causes"]:
                assert set(c) == {"dependency", "state", "rule", "group", "headroom"}


# --- POST /v1/impact/explain/{node_id} ----------------------------------------------------


def test_one_node_explained(client: TestClient) -> None:
    r = client.post("/v1/impact/explain/web-tier", json={"down": ["web-1"]})
    assert r.status_code == 200
    body = NodeExplanationOut.model_validate(r.json())
    assert body.node == "web-tier" and body.state == "degraded" and body.rule == "group"
    assert body.chain == ["web-tier", "web-1"]


def test_a_node_left_ok_has_no_causes(client: TestClient) -> None:
    r = client.post("/v1/impact/explain/onboarding", json={"down": ["web-1"]})
    assert r.status_code == 200
    assert r.json() == {"node": "onboarding", "state": "ok", "rule": None, "given": None,
                        "causes": [], "via": None, "chain": []}


def test_explaining_an_unknown_node_answers_404(client: TestClient) -> None:
    r = client.post("/v1/impact/explain/ghost", json={"down": ["web-1"]})
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]


# --- POST /v1/changes/assess --------------------------------------------------------------


def _change(cid: str, comp: str, start: str, end: str) -> dict[str, object]:
    return {"id": cid, "components": [comp], "start": f"2030-01-01T{start}:00Z",
            "end": f"2030-01-01T{end}:00Z"}


def test_overlapping_changes_on_one_redundancy_group_conflict(client: TestClient) -> None:
    r = client.post("/v1/changes/assess", json={"changes": [
        _change("patch-web-1", "web-1", "20:00", "22:00"),
        _change("patch-web-2", "web-2", "21:00", "23:00"),
    ]})
    assert r.status_code == 200
    body = r.json()
    ChangeAssessmentOut.model_validate(body)
    assert body["changes"]["patch-web-1"]["broken_promises"] == []
    assert "order-anytime" in body["changes"]["patch-web-1"]["at_risk_promises"]
    (conflict,) = body["conflicts"]
    assert conflict["changes"] == ["patch-web-1", "patch-web-2"]
    assert conflict["broken_promises"] == ["order-anytime"]
    assert conflict["start"].startswith("2030-01-01T21:00")


def test_changes_in_separate_windows_do_not_conflict(client: TestClient) -> None:
    body = client.post("/v1/changes/assess", json={"changes": [
        _change("a", "web-1", "20:00", "21:00"), _change("b", "web-2", "21:00", "22:00"),
    ]}).json()
    assert body["conflicts"] == []


@pytest.mark.parametrize("changes, status, words", [
    ([_change("a", "web-1", "22:00", "21:00")], 422, "not after"),
    ([_change("a", "web-1", "20:00", "21:00"), _change("a", "web-2", "20:00", "21:00")],
     422, "duplicate"),
    ([{"id": "a", "components": ["web-1"], "start": "2030-01-01T20:00:00",
       "end": "2030-01-01T21:00:00Z"}], 422, "naive"),
    ([_change("a", "ghost", "20:00", "21:00")], 404, "ghost"),
    ([{"id": "a", "components": [], "start": "2030-01-01T20:00:00Z",
       "end": "2030-01-01T21:00:00Z"}], 422, ""),
])
def test_bad_changes_are_refused(client: TestClient, changes: list[object], status: int,
                                 words: str) -> None:
    r = client.post("/v1/changes/assess", json={"changes": changes})
    assert r.status_code == status
    assert words in str(r.json()["detail"])


# --- single points of failure ---------------------------------------------------------------


def test_single_points_of_failure_of_a_promise(client: TestClient) -> None:
    r = client.get("/v1/promises/onboarding/spof")
    assert r.status_code == 200
    body = PromiseSpofOut.model_validate(r.json())
    found = {p.component for p in body.single_points}
    assert {"feed-job", "hr-app", "recruiting-feed", "network"} <= found
    assert all("onboarding" in p.breaks for p in body.single_points)
    # Redundant members are no single point of failure.
    assert "web-1" not in found and "ad-2" not in found


def test_spof_of_an_unknown_or_non_promise_node(client: TestClient) -> None:
    assert client.get("/v1/promises/ghost/spof").status_code == 404
    r = client.get("/v1/promises/hr-app/spof")
    assert r.status_code == 422 and "not a promise" in r.json()["detail"]


def test_spof_ranking_across_the_catalogue(client: TestClient) -> None:
    r = client.get("/v1/spof", params={"limit": 3})
    assert r.status_code == 200
    body = SpofRankingOut.model_validate(r.json())
    assert len(body.single_points) == 3
    counts = [len(p.breaks) for p in body.single_points]
    assert counts == sorted(counts, reverse=True)
    everything = client.get("/v1/spof").json()["single_points"]
    assert len(everything) > 3
    assert client.get("/v1/spof", params={"limit": 0}).status_code == 422


# --- root cause -----------------------------------------------------------------------------


def test_root_cause_of_the_shops_is_the_web_tier(client: TestClient) -> None:
    r = client.post("/v1/root-cause", json={"observed": {"webshop": "down",
                                                        "ticket-shop": "down"}, "limit": 2})
    assert r.status_code == 200
    body = RootCauseOut.model_validate(r.json())
    assert [c.component for c in body.candidates] == ["web-tier", "lb"]
    assert body.candidates[0].explains_all


@pytest.mark.parametrize("body, status", [
    ({"observed": {"webshop": "ok"}}, 422),
    ({"observed": {}}, 422),
    ({"observed": {"ghost": "down"}}, 404),
    ({"observed": {"webshop": "down"}, "limit": 0}, 422),
    ({"observed": {"webshop": "broken"}}, 422),
])
def test_bad_root_cause_questions(client: TestClient, body: object, status: int) -> None:
    assert client.post("/v1/root-cause", json=body).status_code == status
