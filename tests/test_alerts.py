"""Alerts in: Alertmanager's webhook, the default mapping, the lifecycle, and what
``/v1/current`` says of them, on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.store import GraphStore

URL = "/v1/sources/am/alerts/alertmanager"


#: An hour before the tests ran, so that each test's whole story is in the past.
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def at(minutes: float) -> str:
    """A time ``minutes`` after :data:`BASE`."""
    return (BASE + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def alert(name: str, *, status: str = "firing", start: float = 0, end: float | None = None,
          fingerprint: str | None = None, **labels: str) -> dict[str, Any]:
    return {"status": status, "labels": {"alertname": name, **labels},
            "annotations": {"summary": f"{name} fires"}, "startsAt": at(start),
            "endsAt": at(end) if end is not None else "0001-01-01T00:00:00Z",
            "fingerprint": fingerprint or f"fp-{name}"}


def webhook(*alerts: dict[str, Any]) -> dict[str, Any]:
    return {"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "servicegraph", "groupLabels": {}, "commonLabels": {},
            "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
            "alerts": list(alerts)}


def current(client: TestClient) -> dict[str, Any]:
    r = client.get("/v1/current")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_a_firing_alert_breaks_the_promise_and_its_resolution_mends_it(
        client: TestClient) -> None:
    r = client.post(URL, json=webhook(alert("FeedDown", servicegraph_id="feed-job",
                                            severity="critical")))
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["firing"], body["changed"], body["broken_promises"]) == (
        1, ["feed-job"], ["onboarding"])
    now = current(client)
    assert now["broken_promises"] == ["onboarding"]
    (behind,) = now["alerts"]["feed-job"]
    assert (behind["alertname"], behind["state"], behind["source"]) == ("FeedDown", "down", "am")
    assert behind["summary"] == "FeedDown fires"
    # Alertmanager sends it again every repeat_interval: nothing changes, and it says so.
    again = client.post(URL, json=webhook(alert("FeedDown", servicegraph_id="feed-job",
                                                severity="critical"))).json()
    assert (again["unchanged"], again["firing"], again["changed"]) == (1, 0, [])
    done = client.post(URL, json=webhook(alert("FeedDown", status="resolved", end=10,
                                               servicegraph_id="feed-job",
                                               severity="critical"))).json()
    assert (done["resolved"], done["changed"], done["broken_promises"]) == (
        1, ["feed-job"], [])
    assert current(client)["alerts"] == {}


def test_severity_maps_to_state_and_the_worst_alert_wins(client: TestClient) -> None:
    def what_if(**failed: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = client.post("/v1/impact", json=failed).json()
        return body

    r = client.post(URL, json=webhook(
        alert("Slow", service="web-1", severity="warning"),
        alert("Slower", service="web-2", severity="warning")))
    expected = what_if(degraded=["web-1", "web-2"])
    assert expected["at_risk_promises"]  # the example's web tier carries promises
    assert r.json()["at_risk_promises"] == expected["at_risk_promises"]
    assert current(client)["impacted"] == expected["impacted"]
    # A second, critical alert on web-1: down. Ending it leaves the warning.
    client.post(URL, json=webhook(alert("Dead", service="web-1", severity="critical")))
    now = current(client)
    assert now["impacted"] == what_if(down=["web-1"], degraded=["web-2"])["impacted"]
    client.post(URL, json=webhook(alert("Dead", status="resolved", end=5, service="web-1",
                                        severity="critical")))
    now = current(client)
    assert now["impacted"] == expected["impacted"]
    assert [a["alertname"] for a in now["alerts"]["web-1"]] == ["Slow"]
    # An info alert impairs nothing.
    client.post(URL, json=webhook(alert("Fyi", service="web-3", severity="info")))
    assert "web-3" not in current(client)["impacted"]


def test_alerts_combine_with_status_observations(client: TestClient) -> None:
    client.post(URL, json=webhook(alert("Slow", servicegraph_id="feed-job",
                                        severity="warning")))
    # A status of ok does not end an alert: only its resolution does.
    client.post("/v1/sources/mon/status", json={"statuses": [{"id": "feed-job",
                                                              "state": "ok"}]})
    assert current(client)["impacted"]["feed-job"] == "degraded"
    # A status of down is worse than the alert: down.
    client.post("/v1/sources/mon/status", json={"statuses": [{"id": "feed-job",
                                                              "state": "down"}]})
    assert current(client)["impacted"]["feed-job"] == "down"


def test_the_default_mapping_tries_id_service_instance_and_external_ids(
        client: TestClient) -> None:
    pushed = client.post("/v1/sources/am/push", json={"nodes": [
        {"id": "db-host", "kind": "ci", "name": "DB host", "external_id": "db-01.prod"}]})
    assert pushed.status_code == 200, pushed.text
    r = client.post(URL, json=webhook(
        alert("A", instance="web-2:9100", severity="critical"),
        alert("B", service="db-01.prod", severity="critical"),
        alert("C", host="nowhere", severity="critical")))
    body = r.json()
    assert sorted(body["changed"]) == ["db-host", "web-2"]
    assert (body["unmatched"], body["unmatched_alerts"]) == (1, ["C"])
    unmatched = client.get("/v1/sources/am/alerts/unmatched").json()
    assert unmatched["total"] == 1 and unmatched["alerts"][0]["labels"]["host"] == "nowhere"
    listed = client.get("/v1/sources/am/alerts?firing=true").json()
    assert listed["total"] == 3


def test_late_deliveries_are_settled_by_time(client: TestClient) -> None:
    fire = alert("X", start=0, servicegraph_id="feed-job", severity="critical")
    resolved = alert("X", status="resolved", start=0, end=10, servicegraph_id="feed-job",
                     severity="critical")
    client.post(URL, json=webhook(resolved))
    late = client.post(URL, json=webhook(fire)).json()  # sent before the resolution
    assert late["stale"] == 1 and late["broken_promises"] == []
    # A new episode (it started after the resolution) fires again.
    anew = client.post(URL, json=webhook(alert("X", start=20, servicegraph_id="feed-job",
                                               severity="critical"))).json()
    assert anew["firing"] == 1 and anew["broken_promises"] == ["onboarding"]


def test_ends_at_in_the_past_ends_an_alert(client: TestClient) -> None:
    client.post(URL, json=webhook(alert("X", servicegraph_id="feed-job", severity="critical")))
    gone = client.post(URL, json=webhook(alert("X", end=30, servicegraph_id="feed-job",
                                               severity="critical"))).json()
    assert gone["resolved"] == 1 and gone["broken_promises"] == []


@pytest.mark.parametrize(("payload", "where"), [
    ({"version": "3", "alerts": []}, "version"),
    ({"version": "4"}, "alerts"),
    (webhook({"labels": {"alertname": "X"}, "startsAt": "yesterday"}), "alerts[0] ('X'): startsAt"),
    (webhook({"labels": {"alertname": "X"}, "status": "burning", "startsAt": at(0)}),
     "alerts[0] ('X'): status"),
    (webhook({"labels": {"alertname": 7}, "startsAt": at(0)}), "labels"),
    (webhook(alert("X", start=24 * 60, servicegraph_id="feed-job")), "in the future"),
    (webhook(alert("X", servicegraph_id="feed-job", fingerprint="same"),
             alert("Y", servicegraph_id="web-1", fingerprint="same")),
     "alerts[1] ('Y'): fingerprint"),
])
def test_bad_deliveries_are_refused_whole_naming_the_item(
        client: TestClient, payload: dict[str, Any], where: str) -> None:
    good = alert("Good", servicegraph_id="web-1", severity="critical")
    if isinstance(payload.get("alerts"), list):
        payload = {**payload, "alerts": [good, *payload["alerts"]]}
        where = where.replace("alerts[0]", "alerts[1]").replace("alerts[1] ('Y')",
                                                                "alerts[2] ('Y')")
    r = client.post(URL, json=payload)
    assert r.status_code == 422, r.text
    assert where in r.text
    assert current(client)["alerts"] == {}  # nothing half-written: not even the good one


def test_a_fingerprint_held_with_other_labels_is_refused(client: TestClient) -> None:
    client.post(URL, json=webhook(alert("X", servicegraph_id="feed-job", fingerprint="f1")))
    r = client.post(URL, json=webhook(alert("X", servicegraph_id="web-1", fingerprint="f1")))
    assert r.status_code == 422 and "held with other labels" in r.text


def test_too_many_alerts_in_one_delivery_are_refused(client: TestClient) -> None:
    many = [alert(f"A{i}", servicegraph_id="web-1") for i in range(10_001)]
    r = client.post(URL, json=webhook(*many))
    assert r.status_code == 422 and "at most 10,000" in r.text


def test_a_storm_is_one_write_and_survives_a_restart(client: TestClient,
                                                     store: GraphStore) -> None:
    graph: ServiceGraph = client.app.state.graph  # type: ignore[attr-defined]
    before = graph.version
    storm = [alert(f"Storm{i}", service=f"web-{1 + i % 3}", severity="critical")
             for i in range(10_000)]
    r = client.post(URL, json=webhook(*storm))
    assert r.status_code == 200, r.text
    assert r.json()["firing"] == 10_000 and r.json()["broken_promises"] == ["order-anytime"]
    assert graph.version == before + 1  # one transaction, one propagation
    # Another process reading the store from scratch sees the same alerts.
    fresh = ServiceGraph(store)  # not closed: the store is the test's
    assert fresh.questions.current(limit=10)["broken_promises"] == ["order-anytime"]
    assert fresh.questions.alerts("am", limit=1)[1] == 10_000
