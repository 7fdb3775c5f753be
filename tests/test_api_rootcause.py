"""Root-cause candidates over HTTP, on both stores: the documented example is the real
answer, healthy observations rule candidates out, kinds widen or narrow the search."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from servicegraph_api import examples
from servicegraph_api.schemas import RootCauseOut


def test_the_documented_example_is_the_answer(client: TestClient) -> None:
    r = client.post("/v1/root-cause", json=examples.ROOT_CAUSE_REQUEST)
    assert r.status_code == 200, r.text
    assert r.json() == examples.ROOT_CAUSE_RESPONSE
    RootCauseOut.model_validate(r.json())


def test_a_component_seen_ok_is_not_offered(client: TestClient) -> None:
    seen = {"onboarding": "down", "act-new-employee": "down"}
    r = client.post("/v1/root-cause", json={"observed": seen, "limit": 1000})
    offered = [c["component"] for c in r.json()["candidates"]]
    assert offered[0] == "hr-app" and "act-new-employee" not in offered
    r = client.post("/v1/root-cause", json={"observed": {**seen, "hr-app": "ok"},
                                             "limit": 1000})
    offered = [c["component"] for c in r.json()["candidates"]]
    assert "hr-app" not in offered and "feed-job" not in offered


def test_kinds_name_where_to_look(client: TestClient) -> None:
    seen = {"onboarding": "down", "act-new-employee": "down"}
    r = client.post("/v1/root-cause", json={"observed": seen, "kinds": ["ci"]})
    assert r.status_code == 200
    assert {c["kind"] for c in r.json()["candidates"]} == {"ci"}
    r = client.post("/v1/root-cause", json={"observed": seen, "kinds": ["service_act"]})
    assert r.json()["candidates"][0]["component"] == "act-new-employee"


@pytest.mark.parametrize("body", [
    {"observed": {"webshop": "down"}, "kinds": []},
    {"observed": {"webshop": "down"}, "kinds": ["router"]},
    {"observed": {"webshop": "ok", "lb": "ok"}},
])
def test_bad_questions_are_422(client: TestClient, body: object) -> None:
    r = client.post("/v1/root-cause", json=body)
    assert r.status_code == 422, r.text
