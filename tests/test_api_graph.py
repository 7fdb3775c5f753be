"""Graph reads and writes, neighbourhoods, catalogues, the matrix and exports over HTTP,
on both stores; bad writes leave the store exactly as it was."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

import pytest
import yaml
from fastapi.testclient import TestClient

from servicegraph.model import loads
from servicegraph.store import GraphStore
from servicegraph_api.schemas import (
    EdgeListOut,
    EdgeOut,
    MatrixOut,
    NodeOut,
    NodePageOut,
    PromiseCatalogueOut,
    ServiceActCatalogueOut,
    ServiceSystemCatalogueOut,
    SubgraphOut,
)


def fields_named(error: dict[str, Any]) -> list[str]:
    """The fields a 422 names: the library's problems, or FastAPI's locations."""
    if error.get("problems"):
        return [p["field"] for p in error["problems"]]
    return [".".join(str(part) for part in d["loc"][1:]) for d in error["detail"]]


# --- nodes ----------------------------------------------------------------------------------


def test_nodes_are_listed_by_page_and_kind(client: TestClient) -> None:
    r = client.get("/v1/nodes", params={"limit": 5})
    assert r.status_code == 200
    page = NodePageOut.model_validate(r.json())
    assert page.total == 54 and len(page.items) == 5 and page.offset == 0
    ids = [n.id for n in page.items]
    assert ids == sorted(ids)
    rest = client.get("/v1/nodes", params={"limit": 100, "offset": 5}).json()
    assert len(rest["items"]) == 49 and rest["items"][0]["id"] > ids[-1]
    promises = client.get("/v1/nodes", params={"kind": "promise"}).json()
    assert [n["id"] for n in promises["items"]] == ["fun-day", "little-lost-time",
                                                    "onboarding", "order-anytime"]
    assert client.get("/v1/nodes", params={"kind": "server"}).status_code == 422
    assert client.get("/v1/nodes", params={"limit": 0}).status_code == 422


def test_a_node_is_read_in_the_interchange_format(client: TestClient) -> None:
    r = client.get("/v1/nodes/web-tier")
    assert r.status_code == 200
    assert r.json() == {"id": "web-tier", "kind": "service_system", "name": "Web tier",
                        "owner": "IT", "visible": False, "redundancy": {"web": 2}}
    r = client.get("/v1/nodes/ghost")
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]


def test_a_node_is_created_then_replaced(client: TestClient, store: GraphStore) -> None:
    body = {"kind": "ci", "name": "Web server 4", "silo": "compute", "properties": {"os": "x"}}
    r = client.put("/v1/nodes/web-4", json=body)
    assert r.status_code == 201
    assert NodeOut.model_validate(r.json()).id == "web-4"
    assert store.read().node_map()["web-4"].silo == "compute"
    r = client.put("/v1/nodes/web-4", json={**body, "id": "web-4", "name": "Web 4"})
    assert r.status_code == 200 and r.json()["name"] == "Web 4"
    assert client.get("/v1/nodes/web-4").json()["name"] == "Web 4"


def test_the_body_id_must_match_the_path(client: TestClient, store: GraphStore) -> None:
    before = store.read()
    r = client.put("/v1/nodes/web-4", json={"id": "web-5", "kind": "ci"})
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert problem["field"] == "id"
    assert store.read() == before


@pytest.mark.parametrize("body, field", [
    ({"kind": "server"}, "kind"),
    ({"kind": "ci", "visible": "yes"}, "visible"),
    ({"kind": "ci", "colour": "red"}, "colour"),
    ({"kind": "ci", "redundancy": {"g": "two"}}, "redundancy"),
    ({"kind": "ci", "name": "   "}, "name"),
    ({"kind": "ci", "redundancy": {"g": 1}}, "redundancy.g"),
])
def test_a_bad_node_answers_422_naming_the_field(client: TestClient, store: GraphStore,
                                                 body: dict[str, object], field: str) -> None:
    before = store.read()
    r = client.put("/v1/nodes/web-4", json=body)
    assert r.status_code == 422
    assert any(n.startswith(field) for n in fields_named(r.json())), r.json()
    assert store.read() == before


def test_replacing_a_node_that_breaks_its_groups_writes_nothing(client: TestClient,
                                                                store: GraphStore) -> None:
    before = store.read()
    # web-tier without its redundancy: its grouped edges have no min_ok.
    r = client.put("/v1/nodes/web-tier", json={"kind": "service_system", "name": "Web tier"})
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert problem["field"] == "group" and "web-tier" in problem["item"]
    assert store.read() == before


def test_a_kind_change_that_breaks_the_layer_table_writes_nothing(
        client: TestClient, store: GraphStore) -> None:
    before = store.read()
    # web-tier (a service system) depends on web-1: web-1 cannot become a promise.
    r = client.put("/v1/nodes/web-1", json={"kind": "promise"})
    assert r.status_code == 422
    problems = r.json()["problems"]
    assert {p["field"] for p in problems} == {"kind"}
    assert any("breaks the stored dependency web-tier -> web-1" in p["message"]
               for p in problems)
    assert store.read() == before


def test_a_node_is_deleted_with_its_edges(client: TestClient, store: GraphStore) -> None:
    assert client.delete("/v1/nodes/payment-gw").status_code == 204
    graph = store.read()
    assert "payment-gw" not in graph.node_map()
    assert all("payment-gw" not in e.key for e in graph.edges)
    assert client.get("/v1/nodes/payment-gw").status_code == 404
    r = client.delete("/v1/nodes/payment-gw")
    assert r.status_code == 404 and r.json()["ids"] == ["payment-gw"]


def test_deleting_a_needed_group_member_is_refused(client: TestClient,
                                                   store: GraphStore) -> None:
    before = store.read()
    assert client.delete("/v1/nodes/web-1").status_code == 204  # 2 of 3 left, needs 2
    r = client.delete("/v1/nodes/web-2")
    assert r.status_code == 422
    assert r.json()["problems"][0]["field"] == "redundancy.web"
    assert len(store.read().nodes) == len(before.nodes) - 1


# --- edges ----------------------------------------------------------------------------------


def test_edges_are_listed_and_filtered(client: TestClient) -> None:
    r = client.get("/v1/edges")
    assert r.status_code == 200
    everything = EdgeListOut.model_validate(r.json()).items
    assert len(everything) == 66
    tier = client.get("/v1/edges", params={"from": "web-tier"}).json()["items"]
    assert [e["to"] for e in tier] == ["lb", "web-1", "web-2", "web-3"]
    assert tier[1] == {"from": "web-tier", "to": "web-1", "group": "web"}
    into_san = client.get("/v1/edges", params={"to": "san"}).json()["items"]
    assert {e["from"] for e in into_san} == {"erp-db-a", "erp-db-b", "web-1", "web-2", "web-3"}
    one = client.get("/v1/edges", params={"from": "hr-app", "to": "hr-tenant"}).json()
    assert one == {"items": [{"from": "hr-app", "to": "hr-tenant"}], "total": 1,
                   "limit": 1000, "offset": 0}
    page = client.get("/v1/edges", params={"limit": 10, "offset": 60}).json()
    assert page["total"] == 66 and [(e["from"], e["to"]) for e in page["items"]] == [
        (e.source, e.target) for e in everything[60:]]


def test_an_edge_is_created_replaced_and_deleted(client: TestClient, store: GraphStore) -> None:
    r = client.put("/v1/edges", json={"from": "hr-app", "to": "email", "impact": "soft"})
    assert r.status_code == 201
    assert EdgeOut.model_validate(r.json()).impact.value == "soft"
    r = client.put("/v1/edges", json={"from": "hr-app", "to": "email"})
    assert r.status_code == 200 and r.json() == {"from": "hr-app", "to": "email"}
    assert ("hr-app", "email") in {e.key for e in store.read().edges}
    r = client.delete("/v1/edges", params={"from": "hr-app", "to": "email"})
    assert r.status_code == 204
    assert ("hr-app", "email") not in {e.key for e in store.read().edges}
    r = client.delete("/v1/edges", params={"from": "hr-app", "to": "email"})
    assert r.status_code == 404 and "hr-app -> email" in r.json()["detail"]
    assert client.delete("/v1/edges", params={"from": "hr-app"}).status_code == 422


@pytest.mark.parametrize("body, field", [
    ({"from": "onboarding", "to": "feed-job"}, "to"),  # a promise may not depend on a ci
    ({"from": "hr-app", "to": "ghost"}, "to"),
    ({"from": "hr-app", "to": "email", "group": "g", "impact": "soft"}, "group"),
    ({"from": "hr-app", "to": "email", "group": "undeclared"}, "group"),
    ({"from": "hr-app", "to": "hr-app"}, "to"),
    ({"from": "hr-app", "to": "email", "impact": "medium"}, "impact"),
    ({"from": "hr-app"}, "to"),
])
def test_a_bad_edge_answers_422_and_writes_nothing(client: TestClient, store: GraphStore,
                                                   body: dict[str, object], field: str) -> None:
    before = store.read()
    r = client.put("/v1/edges", json=body)
    assert r.status_code == 422, r.json()
    assert field in fields_named(r.json()), r.json()
    assert store.read() == before


def test_deleting_a_needed_group_edge_is_refused(client: TestClient, store: GraphStore) -> None:
    before = store.read()
    r = client.delete("/v1/edges", params={"from": "gate-control", "to": "gate-1"})
    assert r.status_code == 204  # 1 of 2 left, needs 1
    r = client.delete("/v1/edges", params={"from": "gate-control", "to": "gate-2"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "redundancy.gates"
    assert len(store.read().edges) == len(before.edges) - 1


# --- neighbourhood --------------------------------------------------------------------------


def test_the_neighbourhood_of_a_node(client: TestClient) -> None:
    r = client.get("/v1/nodes/web-tier/neighbourhood",
                   params={"direction": "upstream", "depth": 1})
    assert r.status_code == 200
    part = SubgraphOut.model_validate(r.json())
    assert [n.id for n in part.nodes] == ["web-tier", "lb", "web-1", "web-2", "web-3"]
    assert len(part.edges) == 4 and not part.truncated
    down = client.get("/v1/nodes/web-tier/neighbourhood",
                      params={"direction": "downstream", "depth": 1}).json()
    assert {n["id"] for n in down["nodes"]} == {"web-tier", "webshop", "ticket-shop"}
    cut = client.get("/v1/nodes/web-tier/neighbourhood", params={"limit": 2}).json()
    assert cut["truncated"] is True and len(cut["nodes"]) == 2


def test_bad_neighbourhood_questions(client: TestClient) -> None:
    assert client.get("/v1/nodes/ghost/neighbourhood").status_code == 404
    assert client.get("/v1/nodes/lb/neighbourhood",
                      params={"direction": "sideways"}).status_code == 422
    assert client.get("/v1/nodes/lb/neighbourhood", params={"depth": -1}).status_code == 422


# --- catalogues and the matrix ---------------------------------------------------------------


def test_the_promise_catalogue(client: TestClient) -> None:
    r = client.get("/v1/catalogue/promises")
    assert r.status_code == 200
    items = PromiseCatalogueOut.model_validate(r.json()).items
    by_id = {p.id: p for p in items}
    assert set(by_id) == {"fun-day", "little-lost-time", "onboarding", "order-anytime"}
    assert by_id["onboarding"].kept_through == ["employee-onboarding"]
    assert by_id["onboarding"].properties == {"target_days": 1}


def test_the_service_system_catalogue_filters_on_visibility(client: TestClient) -> None:
    r = client.get("/v1/catalogue/service-systems")
    assert r.status_code == 200
    every = ServiceSystemCatalogueOut.model_validate(r.json()).items
    assert len(every) == 15
    seen = client.get("/v1/catalogue/service-systems", params={"visible": "true"}).json()
    hidden = client.get("/v1/catalogue/service-systems", params={"visible": "false"}).json()
    assert {s["id"] for s in seen["items"]} == {"hr-app", "ticketing", "service-desk",
                                                  "webshop", "ticket-shop", "gate-control",
                                                  "email"}
    assert all(s["visible"] is not True for s in hidden["items"])
    assert len(seen["items"]) + len(hidden["items"]) == len(every)
    hr = next(s for s in every if s.id == "hr-app")
    assert hr.performs == ["act-new-employee"] and hr.provider == "Contoso Cloud"


def test_the_service_act_catalogue(client: TestClient) -> None:
    r = client.get("/v1/catalogue/service-acts")
    assert r.status_code == 200
    items = {a.id: a for a in ServiceActCatalogueOut.model_validate(r.json()).items}
    assert len(items) == 8
    assert items["act-place-order"].performed_by == ["webshop"]
    assert items["act-place-order"].serves == ["online-ordering"]


def test_the_silo_matrix(client: TestClient) -> None:
    r = client.get("/v1/matrix")
    assert r.status_code == 200
    matrix = MatrixOut.model_validate(r.json())
    assert "online-ordering" in matrix.services and "storage" in matrix.silos
    cells = {(c.silo, c.service): c.cis for c in matrix.cells}
    assert cells[("compute", "online-ordering")] == ["web-1", "web-2", "web-3"]
    by_promise = client.get("/v1/matrix", params={"columns": "promise"}).json()
    assert "order-anytime" in by_promise["services"]
    assert client.get("/v1/matrix", params={"columns": "ci"}).status_code == 422


# --- exports ----------------------------------------------------------------------------------


def test_exports_in_every_format(client: TestClient) -> None:
    graphml = client.get("/v1/export/graphml")
    assert graphml.status_code == 200
    assert graphml.headers["content-type"].startswith("application/graphml+xml")
    ElementTree.fromstring(graphml.content)  # well-formed XML
    dot = client.get("/v1/export/dot")
    assert dot.headers["content-type"].startswith("text/vnd.graphviz")
    assert dot.text.startswith("digraph") and "web-tier" in dot.text
    mermaid = client.get("/v1/export/mermaid")
    assert mermaid.headers["content-type"].startswith("text/plain")
    assert mermaid.text.startswith("flowchart") and "Web tier" in mermaid.text
    cyto = client.get("/v1/export/cytoscape")
    assert cyto.headers["content-type"].startswith("application/json")
    elements = cyto.json()["elements"]
    assert len(elements["nodes"]) == 54 and len(elements["edges"]) == 66
    assert client.get("/v1/export/pdf").status_code == 422


def test_interchange_exports_load_back(client: TestClient, store: GraphStore) -> None:
    as_json = client.get("/v1/export/json")
    assert as_json.headers["content-type"].startswith("application/json")
    as_yaml = client.get("/v1/export/yaml")
    assert as_yaml.headers["content-type"].startswith("application/yaml")
    stored = store.read()
    for text, fmt in ((as_json.text, "json"), (as_yaml.text, "yaml")):
        graph = loads(text, fmt=fmt)
        assert {n.id for n in graph.nodes} == {n.id for n in stored.nodes}
        assert {e.key for e in graph.edges} == {e.key for e in stored.edges}
    assert json.loads(as_json.text) == yaml.safe_load(as_yaml.text)


def test_nodes_can_be_searched_by_id_or_name(client: TestClient) -> None:
    found = client.get("/v1/nodes?q=WEB SERVER").json()
    assert {n["id"] for n in found["items"]} == {"web-1", "web-2", "web-3"}
    exact = client.get("/v1/nodes?q=web-tier").json()["items"]
    assert exact[0]["id"] == "web-tier"
    assert client.get("/v1/nodes?q=web&kind=service_system").json()["total"] >= 1
    assert client.get("/v1/nodes?q=zzz-nothing").json() == {"items": [], "total": 0,
                                                            "limit": 100, "offset": 0}
