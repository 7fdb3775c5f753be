"""Alert mappings per source and the generic alert format, over HTTP on both stores:
each kind of rule, their order, severity overrides, a bad mapping refused whole, alerts
matched again when a mapping is set, and the generic route's lifecycle and bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.store import GraphStore

AM = "/v1/sources/zbx/alerts/alertmanager"
GENERIC = "/v1/sources/zbx/alerts"
MAPPING = "/v1/sources/zbx/alerts/mapping"
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)

#: What the inventory source ``cmdb`` says of three web servers: external ids, host names.
CMDB: dict[str, Any] = {"nodes": [
    {"id": "web-1", "kind": "ci", "name": "Web server 1", "external_id": "vm-101",
     "properties": {"hostname": "srv-web-01.example.org", "rack": {"row": 7}}},
    {"id": "web-2", "kind": "ci", "name": "Web server 2", "external_id": "vm-102",
     "properties": {"hostname": "srv-web-02.example.org"}},
    {"id": "web-3", "kind": "ci", "name": "Web server 3", "external_id": "vm-103",
     "properties": {"hostname": "srv-web-03.example.org"}}]}


def at(minutes: float) -> str:
    return (BASE + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")


def am_alert(name: str, start: float = 0, **labels: str) -> dict[str, Any]:
    return {"status": "firing", "labels": {"alertname": name, **labels}, "annotations": {},
            "startsAt": at(start), "endsAt": "0001-01-01T00:00:00Z", "fingerprint": f"fp-{name}"}


def send(client: TestClient, *alerts: dict[str, Any]) -> dict[str, Any]:
    r = client.post(AM, json={"version": "4", "status": "firing", "alerts": list(alerts)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def put(client: TestClient, mapping: dict[str, Any]) -> dict[str, Any]:
    r = client.put(MAPPING, json=mapping)
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def nodes_of(client: TestClient) -> dict[str, str | None]:
    page = client.get(GENERIC, params={"limit": 1000}).json()
    return {a["labels"].get("alertname", a["fingerprint"]): a["node"] for a in page["alerts"]}


def test_each_rule_names_its_node_and_the_first_that_does_wins(client: TestClient) -> None:
    assert client.post("/v1/sources/cmdb/push", json=CMDB).status_code == 200
    answer = put(client, {"rules": [
        {"label": "alertname", "table": {"GateDown": "gate-1", "Ghost": "no-such-node"}},
        {"label": "vm", "to": "external_id", "source": "cmdb"},
        {"label": "instance", "to": "properties.hostname", "strip_port": True},
        {"label": "rack_row", "to": "properties.rack.row"},
        {"label": "host", "to": "name", "regex": r"^name=(.*)$"},
        {"label": "id", "to": "id"}]})
    assert (answer["version"], answer["updated_by"], answer["rematched"]) == (
        1, "anonymous", 0)
    send(client,
         am_alert("GateDown", vm="vm-102"),  # the table, first
         am_alert("Ghost", vm="vm-102"),  # the table names no node: the next rule
         am_alert("VmDown", vm="vm-101"),
         am_alert("NoSuchVm", vm="vm-999", id="web-3"),  # falls through to the last rule
         am_alert("HostDown", instance="srv-web-03.example.org:9100"),
         am_alert("RackDown", rack_row="7"),  # an integer property, read as text
         am_alert("ByName", host="name=Load balancer"),
         am_alert("RegexMisses", host="Load balancer"),
         am_alert("Nothing", service="web-1"))  # the default's labels no longer apply
    assert nodes_of(client) == {
        "GateDown": "gate-1", "Ghost": "web-2", "VmDown": "web-1", "NoSuchVm": "web-3",
        "HostDown": "web-3", "RackDown": "web-1", "ByName": "lb", "RegexMisses": None,
        "Nothing": None}
    unmatched = client.get(GENERIC + "/unmatched").json()
    assert sorted(a["labels"]["alertname"] for a in unmatched["alerts"]) == [
        "Nothing", "RegexMisses"]


def test_a_property_lookup_follows_the_graph(client: TestClient) -> None:
    """The lookup by property is an index of the live graph: a node pushed, renamed or
    retired afterwards is seen by the next alert."""
    put(client, {"rules": [{"label": "host", "to": "properties.hostname"}]})
    send(client, am_alert("Before", host="srv-web-01.example.org"))
    client.post("/v1/sources/cmdb/push", json=CMDB)
    moved = {"nodes": [{**CMDB["nodes"][0], "properties": {"hostname": "new.example.org"}}]}
    client.post("/v1/sources/cmdb/push", json=moved)
    send(client, am_alert("Old", host="srv-web-01.example.org"),
         am_alert("New", host="new.example.org"))
    assert nodes_of(client) == {"Before": None, "Old": None, "New": "web-1"}


def test_severity_overrides_the_label_and_the_default(client: TestClient) -> None:
    put(client, {"rules": [{"label": "servicegraph_id", "to": "id"}],
                 "severity": {"label": "priority",
                              "states": {"P1": "down", "warning": "ok"},
                              "default": "down"}})
    send(client,
         am_alert("A", servicegraph_id="web-1", priority="p1"),
         am_alert("B", servicegraph_id="web-2", priority="warning"),  # overridden: ok
         am_alert("C", servicegraph_id="web-3", priority="minor"),  # built-in: degraded
         am_alert("D", servicegraph_id="lb", severity="warning"))  # no priority: default
    states = {a["node"]: a["state"] for a in client.get(GENERIC).json()["alerts"]}
    assert states == {"web-1": "down", "web-2": "ok", "web-3": "degraded", "lb": "down"}
    assert client.get("/v1/current").json()["broken_promises"] == ["order-anytime"]


def test_a_bad_mapping_is_refused_whole_naming_each_rule(client: TestClient,
                                                         store: GraphStore) -> None:
    shown = client.get(MAPPING).json()
    assert (shown["version"], shown["rules"][0]) == (0, {"label": "servicegraph_id",
                                                          "to": "id"})
    r = client.put(MAPPING, json={"rules": [
        {"label": "host", "to": "name"},
        {"label": "host", "to": "colour"},
        {"label": "x", "to": "id", "regex": "(unclosed"},
        {"label": "y", "table": {}},
        {"to": "id"},
        {"label": "z", "to": "name", "source": "cmdb"}],
        "severity": {"states": {"p1": "broken"}}})
    assert r.status_code == 422, r.text
    named = {(p["section"], p["index"], p["field"]) for p in r.json()["problems"]}
    assert named == {("rules", 1, "to"), ("rules", 2, "regex"), ("rules", 3, "table"),
                     ("rules", 4, "label"), ("rules", 5, "source"),
                     ("severity", None, "states.'p1'")}
    assert client.get(MAPPING).json()["version"] == 0
    assert client.put(MAPPING, json={"rules": "host"}).status_code == 422
    first = put(client, {"rules": [{"label": "host", "to": "name"}]})
    second = put(client, {"rules": [{"label": "host", "to": "id"}]})
    assert (first["version"], second["version"]) == (1, 2)
    assert second["updated_at"] >= first["updated_at"]
    shown = client.get(MAPPING).json()
    assert (shown["version"], shown["rules"]) == (2, [{"label": "host", "to": "id"}])
    # Another process on the store follows it through the journal, or reads it whole.
    other = ServiceGraph(store)
    assert other.questions.alert_mapping("zbx").version == 2
    assert other.questions.alert_mapping("elsewhere").version == 0


def test_unmatched_alerts_are_matched_when_a_mapping_is_set(client: TestClient,
                                                            store: GraphStore) -> None:
    follower = ServiceGraph(store)
    assert follower.questions.alert_mapping("zbx").version == 0
    sent = send(client, am_alert("FeedStale", job="hr-newhire-sync", severity="critical"),
                am_alert("Elsewhere", job="unknown"))
    assert (sent["unmatched"], sent["broken_promises"]) == (2, [])
    answer = put(client, {"rules": [{"label": "job", "to": "name",
                                     "regex": "^(hr-newhire-sync)$"},
                                    {"label": "job", "table": {"hr-newhire-sync": "nowhere"}}]})
    assert answer["rules"][0]["to"] == "name"  # the regex alone does not name a node:
    assert answer["rematched"] == 0  # no node is named "hr-newhire-sync"
    answer = put(client, {"rules": [{"label": "job", "table": {"hr-newhire-sync":
                                                               "feed-job"}}]})
    assert (answer["rematched"], answer["remapped"], answer["unmatched"]) == (1, 0, 1)
    assert (answer["changed"], answer["broken_promises"]) == (["feed-job"], ["onboarding"])
    now = client.get("/v1/current").json()
    assert [a["alertname"] for a in now["alerts"]["feed-job"]] == ["FeedStale"]
    assert client.get(GENERIC + "/unmatched").json()["total"] == 1
    # A later mapping that no longer names it leaves it unmatched again, and mends.
    answer = put(client, {"rules": [{"label": "servicegraph_id", "to": "id"}]})
    assert (answer["remapped"], answer["broken_promises"]) == (1, [])
    # The other process sees the same, through the journal.
    assert follower.questions.alert_mapping("zbx").version == 3
    assert follower.questions.alerts("zbx", unmatched=True)[1] == 2


def generic(key: str, start: float = 0, **fields: Any) -> dict[str, Any]:
    return {"key": key, "starts_at": at(start), **fields}


def post(client: TestClient, *alerts: dict[str, Any]) -> dict[str, Any]:
    r = client.post(GENERIC, json={"alerts": list(alerts)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_the_generic_route_follows_the_alert_lifecycle(client: TestClient) -> None:
    fired = post(client, generic("zbx-1", 10, node="feed-job", severity="high",
                                 summary="the feed has not run"),
                 generic("zbx-2", 10, labels={"servicegraph_id": "web-1"}, state="degraded"),
                 generic("zbx-3", 10, node="no-such-node", state="down"))
    assert (fired["firing"], fired["unmatched"], fired["changed"]) == (3, 1, ["feed-job", "web-1"])
    assert fired["broken_promises"] == ["onboarding"]
    (behind,) = client.get("/v1/current").json()["alerts"]["feed-job"]
    assert (behind["state"], behind["summary"]) == ("down", "the feed has not run")
    again = post(client, generic("zbx-1", 10, node="feed-job", severity="high",
                                 summary="the feed has not run"))
    assert (again["unchanged"], again["firing"], again["changed"]) == (1, 0, [])
    # A resolution that ended before this episode started is stale; a later one ends it.
    stale = post(client, {"key": "zbx-1", "node": "feed-job", "severity": "high",
                          "status": "resolved", "starts_at": at(0), "ends_at": at(5),
                          "summary": "the feed has not run"})
    assert (stale["stale"], stale["broken_promises"]) == (1, ["onboarding"])
    done = post(client, {"key": "zbx-1", "node": "feed-job", "severity": "high",
                         "status": "resolved", "ends_at": at(20),
                         "summary": "the feed has not run"})
    assert (done["resolved"], done["changed"], done["broken_promises"]) == (
        1, ["feed-job"], [])
    late = post(client, generic("zbx-1", 12, node="feed-job", severity="high",
                                summary="the feed has not run"))  # an older firing, late
    assert (late["stale"], late["broken_promises"]) == (1, [])
    # A mapping's severity table reads the generic severity too; a stated state stays.
    answer = put(client, {"rules": [{"label": "servicegraph_id", "to": "id"}],
                          "severity": {"states": {"high": "degraded", "degraded": "down"}}})
    assert answer["remapped"] == 0
    refired = post(client, generic("zbx-1", 30, node="feed-job", severity="high"))
    assert refired["firing"] == 1
    states = {a["fingerprint"]: (a["node"], a["state"], a["status"])
              for a in client.get(GENERIC).json()["alerts"]}
    assert states == {"zbx-1": ("feed-job", "degraded", "firing"),
                      "zbx-2": ("web-1", "degraded", "firing"),
                      "zbx-3": (None, "down", "firing")}


def test_generic_bad_input_names_each_alert_and_writes_nothing(client: TestClient) -> None:
    r = client.post(GENERIC, json={"alerts": [
        generic("ok-1", node="web-1", state="down"),
        generic("no-node"),
        generic("both", node="web-1", state="down", severity="high"),
        {"key": "no-start", "node": "web-1"},
        generic("bad-state", node="web-1", state="broken"),
        generic("extra", node="web-1", colour="red"),
        generic("bad-time", node="web-1") | {"starts_at": "yesterday"},
        generic("dup", node="web-1"), generic("dup", node="web-2"),
        "not an object", {"node": "web-1", "starts_at": at(0)}]})
    assert r.status_code == 422, r.text
    named = {(p["index"], p["field"]) for p in r.json()["problems"]}
    assert named == {(1, "node"), (2, "state"), (3, "starts_at"), (4, "state"),
                     (5, "colour"), (6, "starts_at"), (8, "key"), (9, ""), (10, "key")}
    assert client.get(GENERIC).json()["total"] == 0
    too_many = {"alerts": [{"key": f"k{i}", "node": "web-1", "starts_at": at(0)}
                           for i in range(10_001)]}
    r = client.post(GENERIC, json=too_many)
    assert r.status_code == 422 and "10,001 alerts" in r.text, r.text
    huge = {"alerts": [{"key": f"k{i}", "node": "web-1"} for i in range(100_000)]}
    r = client.post(GENERIC, json=huge)
    assert r.status_code in (413, 422) and ("100,000" in r.text or "too large" in r.text), \
        r.text
    assert client.get(GENERIC).json()["total"] == 0
    assert client.post(GENERIC, json={"alerts": [], "extra": 1}).status_code == 422
