"""The answers sent as the library built them (``JsonAnswer``) hold to their routes'
response models, on both stores.

The impact, the current impact, the explanations, the catalogues and the matrix are
written straight to JSON, unvalidated; their routes keep ``response_model`` for
OpenAPI. Each such answer is validated here against its own route's model and must be
exactly what that model would have sent (no field it lacks, nothing it would coerce):
first every route over the example enterprise with every part of the current impact
filled (observed failures, a firing alert, a maintenance window, an acknowledgement,
the record), then random what-if scenarios on random graphs.
"""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime, timedelta
from typing import Any, get_type_hints

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from starlette.routing import Match

from servicegraph.core import ServiceGraph
from servicegraph.model import GraphData
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.times import utc_now
from servicegraph_api.answers import JsonAnswer, encode
from servicegraph_api.app import QUESTIONS, READ_WRITE
from servicegraph_api.paths import routing_path
from servicegraph_api.routers import subscriptions

from graphs import graphs_with_scenario

#: (method, path with its query, JSON body) of every answer checked over the example.
Case = tuple[str, str, dict[str, Any] | None]


#: The routers the app serves under ``/v1``.
ROUTERS = (*QUESTIONS, *READ_WRITE, subscriptions.router)


def _routes() -> list[APIRoute]:
    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _route(method: str, url: str) -> APIRoute:
    """The ``/v1`` route that answers ``method url``."""
    path = routing_path("", urllib.parse.urlsplit(url).path.encode()).removeprefix("/v1")
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    found = [r for r in _routes() if r.matches(scope)[0] is Match.FULL]
    assert found, f"no route answers {method} {url}"
    return found[0]


def _fast_routes() -> set[tuple[str, str]]:
    """(method, path) of every route whose handler returns a :class:`JsonAnswer`."""
    return {(method, route.path) for route in _routes()
            if get_type_hints(route.endpoint).get("return") is JsonAnswer
            for method in route.methods}


def conforms(client: TestClient, method: str, url: str,
             body: dict[str, Any] | None = None) -> tuple[APIRoute, dict[str, Any]]:
    """Ask, and check the answer against its route's response model: it validates,
    and what the model would send is what was sent. Returns the route and the answer."""
    r = client.request(method, url, json=body)
    assert r.status_code == 200, f"{method} {url}: {r.status_code} {r.text[:500]}"
    assert r.headers["content-type"] == "application/json"
    route = _route(method, url)
    assert route.response_model is not None, f"{route.path} documents no answer"
    adapter: TypeAdapter[Any] = TypeAdapter(route.response_model)
    value = adapter.validate_json(r.content)
    sent = r.json()
    assert json.loads(adapter.dump_json(value, by_alias=True, exclude_unset=True)) == sent, (
        f"{method} {url}: the answer differs from its response model's")
    return route, sent


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _observe(client: TestClient) -> str:
    """Fill every part of the current impact; returns a moment for time travel."""
    now = datetime.now(UTC)
    r = client.post("/v1/sources/mon/status", json={"statuses": [
        {"id": "feed-job", "state": "down"}, {"id": "web-1", "state": "down"},
        {"id": "web-2", "state": "degraded"}]})
    assert r.status_code == 200, r.text
    fires = {"status": "firing", "labels": {"alertname": "HostDown", "severity": "critical",
                                            "servicegraph_id": "automation-host"},
             "annotations": {"summary": "the automation host is down"},
             "startsAt": _stamp(now - timedelta(minutes=5)), "endsAt": "0001-01-01T00:00:00Z",
             "fingerprint": "fp-host"}
    r = client.post("/v1/sources/am/alerts/alertmanager", json={
        "version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
        "receiver": "servicegraph", "groupLabels": {}, "commonLabels": {},
        "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093", "alerts": [fires]})
    assert r.status_code == 200, r.text
    r = client.post("/v1/maintenance", json={
        "id": "chg-1", "title": "patching", "owner": "IT operations", "components": ["web-1"],
        "starts_at": _stamp(now - timedelta(hours=1)), "ends_at": _stamp(now + timedelta(hours=1))})
    assert r.status_code in (200, 201), r.text
    r = client.post("/v1/acknowledgements", json={"node": "feed-job", "by": "alice",
                                                  "comment": "restarting"})
    assert r.status_code == 201, r.text
    return utc_now()


def _cases(then: str) -> list[Case]:
    scenario = {"down": ["feed-job", "web-1", "web-2"], "degraded": ["san"]}
    at = urllib.parse.quote(then)
    return [
        ("POST", "/v1/impact", scenario),
        ("POST", "/v1/impact", {}),
        ("POST", "/v1/impact?limit=1&offset=1&kind=ci", scenario),
        ("POST", "/v1/impact?explain=false", scenario),
        ("POST", "/v1/impact", {**scenario, "within": ["web-tier", "onboarding", "san"]}),
        ("POST", "/v1/impact/explain/web-tier", scenario),
        ("POST", "/v1/impact/explain/onboarding", scenario),
        ("POST", "/v1/impact/explain/fun-day", scenario),  # left ok
        ("GET", "/v1/current", None),
        ("GET", "/v1/current?limit=2&offset=1&kind=service_system", None),
        ("GET", "/v1/current?explain=false&within=web-1&within=onboarding", None),
        ("GET", f"/v1/current?at={at}", None),
        ("GET", "/v1/current/explain/onboarding", None),
        ("GET", "/v1/current/explain/fun-day", None),
        ("GET", "/v1/catalogue/promises", None),
        ("GET", "/v1/catalogue/service-systems", None),
        ("GET", "/v1/catalogue/service-systems?visible=true", None),
        ("GET", "/v1/catalogue/service-systems?visible=false", None),
        ("GET", "/v1/catalogue/service-acts", None),
        *(("GET", f"/v1/matrix?columns={kind}", None)
          for kind in ("business_service", "promise", "service_act", "service_system")),
    ]


def test_every_fast_answer_holds_to_its_response_model(client: TestClient) -> None:
    then = _observe(client)
    checked: set[tuple[str, str]] = set()
    answers: dict[str, dict[str, Any]] = {}
    for method, url, body in _cases(then):
        route, answers[url] = conforms(client, method, url, body)
        checked.add((method, route.path))
    # Every route that skips validation is checked here, and these answers say
    # something: the current impact has each of its parts filled.
    assert checked == _fast_routes()
    now = answers["/v1/current"]
    assert now["broken_promises"] and now["alerts"]["automation-host"]
    assert now["planned"]["components"] and now["acknowledged"]["nodes"]
    assert answers[next(u for u in answers if "at=" in u)]["structure"]["used"] == "record"


def test_a_fast_answer_is_the_library_document_as_compact_json() -> None:
    document = {"counts": {"impacted": 2}, "impacted": {"caf\u00e9": "down"},
                "page": {"kind": NodeKind.CI, "limit": None}, "chain": ("a", "b")}
    answer = JsonAnswer(document)
    assert answer.media_type == "application/json"
    assert answer.body == encode(document)
    assert json.loads(answer.body) == {"counts": {"impacted": 2}, "impacted": {"café": "down"},
                                       "page": {"kind": "ci", "limit": None},
                                       "chain": ["a", "b"]}


@given(case=graphs_with_scenario(),
       size=st.fixed_dictionaries({}, optional={
           "limit": st.integers(1, 5), "offset": st.integers(0, 3),
           "kind": st.sampled_from([k.value for k in NodeKind]), "explain": st.booleans()}))
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
def test_what_if_answers_hold_to_the_model_on_random_graphs(
        client: TestClient, case: tuple[GraphData, dict[str, State]],
        size: dict[str, Any]) -> None:
    graph_data, scenario = case
    graph: ServiceGraph = client.app.state.graph  # type: ignore[attr-defined]
    graph.writes.load(graph_data, replace=True)
    body = {"down": sorted(n for n, s in scenario.items() if s is State.DOWN),
            "degraded": sorted(n for n, s in scenario.items() if s is State.DEGRADED)}
    query = urllib.parse.urlencode({k: str(v).lower() if isinstance(v, bool) else v
                                    for k, v in size.items()})
    _, sent = conforms(client, "POST", f"/v1/impact?{query}", body)
    assert sent["counts"]["impacted"] >= len(scenario)
    for node in scenario:
        conforms(client, "POST", f"/v1/impact/explain/{urllib.parse.quote(node, safe='')}",
                 body)
