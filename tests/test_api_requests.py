"""Requests as sent, on both stores: typed push and status items in the schema, shape
errors that name the item without echoing the body, YAML pushes, one-line answers to
bodies of the wrong media type or that cannot be read."""

from __future__ import annotations

import json

import pytest
import yaml
from fastapi.testclient import TestClient

from servicegraph.store import GraphStore

SECRET = "SECRET-BODY-TEXT"


# --- the schema states the items --------------------------------------------------------


def test_push_and_status_items_are_typed_in_the_schema(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    push = schemas["PushIn"]["properties"]
    assert push["nodes"]["items"] == {"$ref": "#/components/schemas/NodeIn"}
    assert push["edges"]["items"] == {"$ref": "#/components/schemas/EdgeIn"}
    assert schemas["StatusIn"]["properties"]["statuses"]["items"] == {
        "$ref": "#/components/schemas/StatusItemIn"}
    for name in ("NodeIn", "EdgeIn", "StatusItemIn"):
        assert schemas[name]["additionalProperties"] is False, name
    assert schemas["NodeIn"]["required"] == ["id", "kind"]
    assert schemas["NodeIn"]["properties"]["id"]["maxLength"] == 512
    assert schemas["EdgeIn"]["required"] == ["from", "to"]
    assert schemas["StatusItemIn"]["oneOf"] == [{"required": ["id"]},
                                                {"required": ["external_id"]}]
    # What spans items is said in words.
    assert "min_ok" in schemas["EdgeIn"]["description"]


def test_a_shape_error_names_the_item_and_does_not_echo_it(client: TestClient,
                                                           store: GraphStore) -> None:
    before = store.read()
    r = client.post("/v1/sources/cmdb/push", json={
        "nodes": [{"id": "fine", "kind": "ci", "name": "Fine"},
                  {"id": "big", "kind": "ci", "name": SECRET * 100_000},
                  {"id": "odd", "kind": "router"}],
        "edges": [{"from": "fine", "to": "web-1", "colour": "red"}]})
    assert r.status_code == 422
    named = {(p["section"], p["index"], p["item"], p["field"]) for p in r.json()["problems"]}
    assert named == {("nodes", 1, "'big'", "name"), ("nodes", 2, "'odd'", "kind"),
                     ("edges", 0, "fine -> web-1", "colour")}
    assert SECRET not in r.text and len(r.text) < 5000
    assert store.read() == before


def test_an_edge_group_without_min_ok_is_a_422_naming_the_edge(client: TestClient) -> None:
    r = client.post("/v1/sources/cmdb/push", json={
        "edges": [{"from": "web-tier", "to": "lb", "group": "balancers"}]})
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert (problem["section"], problem["index"], problem["field"]) == ("edges", 0, "group")
    assert "no min_ok" in problem["message"]


@pytest.mark.parametrize("item", [
    {"state": "down"},
    {"id": "web-1", "external_id": "vm-101", "state": "down"},
    {"id": None, "state": "down"},
])
def test_a_status_names_its_node_exactly_once(client: TestClient, item: dict[str, object]
                                              ) -> None:
    r = client.post("/v1/sources/mon/status", json={"statuses": [
        {"id": "web-2", "state": "ok"}, item]})
    assert r.status_code == 422
    (problem,) = r.json()["problems"]
    assert (problem["section"], problem["index"]) == ("statuses", 1)
    assert "exactly one of `id` and `external_id`" in problem["message"]


# --- media types ------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded",
                                          "application/yaml"])
@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/v1/impact"), ("PUT", "/v1/nodes/web-9"), ("PUT", "/v1/edges"),
    ("POST", "/v1/root-cause"), ("POST", "/v1/changes/assess")])
def test_a_body_of_another_media_type_gets_one_line_saying_what_to_send(
        client: TestClient, method: str, path: str, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    r = client.request(method, path, content=json.dumps({"x": SECRET}), headers=headers)
    assert r.status_code == 415, r.text
    detail = r.json()["detail"]
    assert "\n" not in detail and SECRET not in r.text
    assert "send it as JSON with `Content-Type: application/json`" in detail
    assert (content_type or "no `Content-Type`") in detail


@pytest.mark.parametrize("content_type", ["application/yaml", "application/x-yaml",
                                          "text/yaml; charset=utf-8"])
def test_pushes_speak_yaml(client: TestClient, store: GraphStore, content_type: str) -> None:
    body = yaml.safe_dump({
        "nodes": [{"id": "web-4", "kind": "ci", "name": "srv-web-04",
                   "properties": {"installed": "2026-01-05"}}],
        "edges": [{"from": "web-tier", "to": "web-4", "group": "web"}]})
    body = body.replace("'2026-01-05'", "2026-01-05")  # a YAML date, not text
    r = client.post("/v1/sources/cmdb/push", content=body,
                    headers={"Content-Type": content_type})
    assert r.status_code == 200, r.text
    assert r.json()["created"] == 2
    assert store.read().node_map()["web-4"].properties == {"installed": "2026-01-05"}
    r = client.post("/v1/sources/mon/status", headers={"Content-Type": content_type},
                    content="statuses:\n  - {id: web-4, state: down}\n")
    assert r.status_code == 200 and r.json()["applied"] == 1


def test_bad_yaml_pushes_name_the_item(client: TestClient, store: GraphStore) -> None:
    before = store.read()
    yaml_type = {"Content-Type": "application/yaml"}
    r = client.post("/v1/sources/cmdb/push", headers=yaml_type,
                    content="nodes:\n  - {id: a, kind: ci}\n  - {id: b, kind: gadget}\n")
    assert r.status_code == 422
    assert [(p["index"], p["field"]) for p in r.json()["problems"]] == [(1, "kind")]
    r = client.post("/v1/sources/cmdb/push", headers=yaml_type,
                    content="nodes:\n  - {id: a, kind: ci, properties: {x: .nan}}\n")
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "properties.x"
    for text in ("nodes: [" * 50_000, "nodes: {id: [unclosed", "\xff\xfe"):
        r = client.post("/v1/sources/cmdb/push", headers=yaml_type,
                        content=text.encode("latin-1"))
        assert r.status_code == 422, r.text
        (problem,) = r.json()["problems"]
        assert problem["section"] == "document" and "\n" not in r.json()["detail"]
    assert store.read() == before


def test_the_schema_offers_yaml_on_the_push_routes_only(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/v1/sources/{source}/push", "/v1/sources/{source}/status"):
        content = paths[path]["post"]["requestBody"]["content"]
        assert content["application/yaml"] == content["application/json"], path
        assert "415" in paths[path]["post"]["responses"]
    assert "application/yaml" not in paths["/v1/impact"]["post"]["requestBody"]["content"]


# --- bodies that cannot be read ---------------------------------------------------------


def test_an_unreadable_body_gets_one_line(client: TestClient, store: GraphStore) -> None:
    before = store.read()
    json_type = {"Content-Type": "application/json"}
    r = client.post("/v1/sources/cmdb/push", headers=json_type,
                    content=b"[" * 100_000 + b"]" * 100_000)
    assert r.status_code == 400
    assert r.json() == {"detail": "the body is nested too deeply to read; nothing was written"}
    r = client.post("/v1/impact", headers=json_type, content=b'{"down": [' + SECRET.encode())
    assert r.status_code == 422 and SECRET not in r.text
    (problem,) = r.json()["problems"]
    assert problem["section"] == "document" and "not valid JSON" in problem["message"]
    assert store.read() == before


def test_what_one_item_must_be_is_in_the_schema(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    put = spec["paths"]["/v1/nodes/{node_id}"]["put"]
    (node_id,) = [p for p in put["parameters"] if p["name"] == "node_id"]
    assert node_id["schema"]["maxLength"] == 512 and "pattern" in node_id["schema"]
    edge = spec["components"]["schemas"]["EdgeIn"]
    assert edge["not"]["properties"]["impact"] == {"const": "soft"}
    r = client.put(f"/v1/nodes/{'x' * 513}", json={"kind": "ci"})
    assert r.status_code == 422 and r.json()["problems"][0]["field"] == "node_id"
    r = client.put("/v1/edges", json={"from": "hr-app", "to": "email", "impact": "soft",
                                      "group": "g"})
    assert r.status_code == 422
    assert [(p["field"], p["message"]) for p in r.json()["problems"]] == [
        ("group", "a soft dependency cannot be in a redundancy group")]


LONE = '"a\\ud800"'  # JSON for text with a lone surrogate, which UTF-8 cannot carry


@pytest.mark.parametrize(("method", "path", "body", "status"), [
    ("POST", "/v1/sources/cmdb/push", '{"edges": [{"from": LONE, "to": "b"}]}', 422),
    ("POST", "/v1/sources/cmdb/push.ndjson", '{"edge": {"from": LONE, "to": "b"}}\n', 422),
    ("POST", "/v1/sources/cmdb/status", '{"statuses": [{"id": LONE, "state": "down"}]}', 422),
    ("POST", "/v1/root-cause", '{"observed": {LONE: "down"}}', 404),
    ("POST", "/v1/impact", '{"down": [LONE]}', 404),
])
def test_text_utf8_cannot_carry_is_named_not_a_crash(client: TestClient, method: str,
                                                     path: str, body: str, status: int) -> None:
    r = client.request(method, path, content=body.replace("LONE", LONE).encode(),
                       headers={"Content-Type": "application/json"})
    assert r.status_code == status, r.text
    answer = json.loads(r.content)
    assert "a\ud800" in json.dumps(answer, ensure_ascii=False) or answer.get("problems")
    if status == 422:
        assert answer["problems"][0]["index"] in (0, 1)
