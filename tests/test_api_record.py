"""The promise record over HTTP, on both stores: time travel (`GET /v1/current?at=`) and
the timeline (`GET /v1/history`), and the moments they refuse."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from servicegraph.model.times import iso, utc_now


def _status(client: TestClient, node: str, state: str) -> dict[str, object]:
    answer = client.post("/v1/sources/mon/status",
                         json={"statuses": [{"id": node, "state": state}]})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_time_travel_and_the_timeline(client: TestClient) -> None:
    start = utc_now()
    _status(client, "automation-host", "down")
    live = client.get("/v1/current").json()
    then = utc_now()
    time.sleep(0.002)
    _status(client, "automation-host", "ok")

    past = client.get("/v1/current", params={"at": then})
    assert past.status_code == 200, past.text
    body = past.json()
    assert body["structure"]["used"] == "record"
    assert body["broken_promises"] == live["broken_promises"] == ["onboarding"]
    assert body["at_risk_promises"] == live["at_risk_promises"]
    assert body["service_acts"] == live["service_acts"]
    assert body["business_services"] == live["business_services"]
    assert body["providers"] == [{"provider": "Northwind Hosting",
                                  "failed": ["automation-host"]}]
    cause = body["explanations"]["onboarding"]["causes"][0]
    assert (cause["component"], cause["provider"]) == ("automation-host", "Northwind Hosting")
    assert body["observed"]["automation-host"]["state"] == "down"
    assert client.get("/v1/current", params={"at": utc_now()}).json()["broken_promises"] == []
    # Without `at`, the live answer as before.
    assert "impacted" in client.get("/v1/current").json()

    timeline = client.get("/v1/history", params={"node": "onboarding", "from": start})
    assert timeline.status_code == 200, timeline.text
    states = [t["state"] for t in timeline.json()["transitions"]]
    assert states == ["down", "ok"]
    by_provider = client.get("/v1/history", params={
        "provider": "Northwind Hosting", "layer": "promise", "from": start}).json()
    assert [(t["node"], t["state"]) for t in by_provider["transitions"]] == [
        ("little-lost-time", "degraded"), ("onboarding", "down"),
        ("little-lost-time", "ok"), ("onboarding", "ok")]
    paged = client.get("/v1/history", params={"from": start, "limit": 1, "offset": 1}).json()
    assert len(paged["transitions"]) == 1 and paged["page"]["total"] > 2


def test_moments_refused_name_themselves(client: TestClient) -> None:
    future = iso(datetime.now(UTC) + timedelta(hours=2))
    for at, said in ((future, "in the future"),
                     (iso(datetime.now(UTC) - timedelta(days=500)), "older than the record"),
                     ("not a time", "not an ISO-8601 time")):
        answer = client.get("/v1/current", params={"at": at})
        assert answer.status_code == 422, answer.text
        (problem,) = answer.json()["problems"]
        assert problem["field"] == "at" and problem["item"] == repr(at)
        assert said in problem["message"]
    bad = client.get("/v1/history", params={"from": "soon"})
    assert bad.status_code == 422 and bad.json()["problems"][0]["field"] == "from"
    assert client.get("/v1/history", params={"layer": "cables"}).status_code == 422
