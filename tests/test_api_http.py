"""HTTP correctness: OPTIONS and 405 list every method a path has, a trailing slash or an
unknown path gets a one-line answer saying what to do."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from servicegraph.store import GraphStore
from servicegraph_api.auth import Scope

from apikit import add_key, api_client


def allow(response: object) -> list[str]:
    return [m.strip() for m in response.headers["allow"].split(",")]  # type: ignore[attr-defined]


@pytest.mark.parametrize(("path", "methods"), [
    ("/v1/edges", ["GET", "PUT", "DELETE"]),
    ("/v1/nodes/web-1", ["GET", "PUT", "DELETE"]),
    ("/v1/nodes/a%2Fb", ["GET", "PUT", "DELETE"]),
    ("/v1/nodes/a%2Fb/provenance", ["GET"]),
    ("/v1/nodes", ["GET"]),
    ("/v1/impact", ["POST"]),
    ("/v1/sources/cmdb/push", ["POST"]),
])
def test_options_lists_every_method_of_the_path(client: TestClient, path: str,
                                                methods: list[str]) -> None:
    r = client.options(path)
    assert r.status_code == 204, r.text
    assert allow(r) == [*methods, "OPTIONS"]
    r = client.patch(path)
    assert r.status_code == 405
    assert allow(r) == [*methods, "OPTIONS"]
    assert r.json()["detail"] == f"PATCH is not a method of {path}: use {r.headers['allow']}"


def test_allow_agrees_with_the_openapi_document(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for template, operations in spec["paths"].items():
        path = re.sub(r"\{[^}]+\}", "x", template).replace("/export/x", "/export/json")
        documented = {m.upper() for m in operations}
        r = client.options(path)
        assert r.status_code == 204, (path, r.status_code)
        assert set(allow(r)) == documented | {"OPTIONS"}, path


def test_options_needs_no_key(store: GraphStore, tmp_path: Path) -> None:
    add_key(tmp_path, "reader", Scope.READ)
    with api_client(store, tmp_path) as client:
        assert client.get("/v1/edges").status_code == 401
        r = client.options("/v1/edges")
        assert r.status_code == 204 and allow(r) == ["GET", "PUT", "DELETE", "OPTIONS"]


@pytest.mark.parametrize(("method", "path", "bare"), [
    ("GET", "/v1/nodes/", "/v1/nodes"),
    ("POST", "/v1/impact/", "/v1/impact"),
    ("GET", "/v1/nodes/web-1/provenance/", "/v1/nodes/web-1/provenance"),
])
def test_a_trailing_slash_says_to_drop_it(client: TestClient, method: str, path: str,
                                          bare: str) -> None:
    r = client.request(method, path, json={}, follow_redirects=False)
    assert r.status_code == 404
    assert r.json() == {"detail": f"no route {path}: drop the trailing slash ({bare})"}


def test_an_unknown_path_says_where_the_routes_are(client: TestClient) -> None:
    r = client.get("/v1/nodez")
    assert r.status_code == 404
    assert r.json() == {"detail": "no route /v1/nodez; the routes are listed at /docs"}
