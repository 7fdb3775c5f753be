"""Security headers on every answer: the page, its files, the documentation, every API
family, the errors, the event stream of a real server process."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from servicegraph.store import GraphStore
from servicegraph_api.auth import Scope
from servicegraph_api.security_headers import API_POLICY, DOCS_POLICY, PAGE_POLICY

from apikit import add_key, api_client
from servers import serve

COMMON = {"x-frame-options": "DENY", "x-content-type-options": "nosniff",
          "referrer-policy": "no-referrer"}

SCENARIO = {"down": ["feed-job"]}
PUSH = {"nodes": [{"id": "x1", "kind": "ci", "name": "X1"}], "edges": []}

#: One request (or more) per route family: (method, path, keyword arguments, status).
ROUTES: list[tuple[str, str, dict[str, Any], int]] = [
    ("GET", "/healthz", {}, 200),
    ("GET", "/readyz", {}, 200),
    ("GET", "/metrics", {}, 200),
    ("GET", "/model.md", {}, 200),
    ("GET", "/openapi.json", {}, 200),
    ("POST", "/v1/impact", {"json": SCENARIO}, 200),
    ("POST", "/v1/impact/explain/onboarding", {"json": SCENARIO}, 200),
    ("POST", "/v1/changes/assess", {"json": {"changes": [{
        "id": "c", "components": ["web-1"], "start": "2030-01-01T20:00:00Z",
        "end": "2030-01-01T22:00:00Z"}]}}, 200),
    ("GET", "/v1/promises/onboarding/spof", {}, 200),
    ("POST", "/v1/root-cause", {"json": {"observed": {"webshop": "down"}}}, 200),
    ("GET", "/v1/catalogue/promises", {}, 200),
    ("GET", "/v1/catalogue/service-systems", {}, 200),
    ("GET", "/v1/catalogue/service-acts", {}, 200),
    ("GET", "/v1/matrix", {}, 200),
    ("GET", "/v1/export/dot", {}, 200),
    ("POST", "/v1/views/export/mermaid", {"json": {"ids": ["web-tier", "web-1"]}}, 200),
    ("GET", "/v1/nodes", {}, 200),
    ("GET", "/v1/nodes/web-1", {}, 200),
    ("GET", "/v1/nodes/web-1/neighbourhood", {}, 200),
    ("GET", "/v1/nodes/web-1/provenance", {}, 200),
    ("GET", "/v1/edges", {"params": {"from": "web-tier", "to": "web-1"}}, 200),
    ("POST", "/v1/sources/s/push", {"json": PUSH}, 200),
    ("POST", "/v1/sources/s/status", {"json": {"statuses": [
        {"id": "x1", "state": "down", "at": "2026-11-23T08:00:00Z"}]}}, 200),
    ("GET", "/v1/current", {}, 200),
    ("GET", "/v1/checks/dangling", {}, 200),
    ("POST", "/v1/sources/s/syncs", {}, 201),
    ("POST", "/v1/sources/s/import/csv", {"content": b"id,kind,name\nc1,ci,C1\n",
                                          "headers": {"Content-Type": "text/csv"}}, 200),
    # Errors answer with the headers too.
    ("GET", "/v1/nodes/nope", {}, 404),
    ("GET", "/nowhere", {}, 404),
    ("DELETE", "/v1/catalogue/promises", {}, 405),
    ("OPTIONS", "/v1/nodes", {}, 204),
    ("POST", "/v1/impact", {"json": {"down": 3}}, 422),
    ("POST", "/v1/sources/s/push", {"content": b"x" * 2048,
                                    "headers": {"Content-Type": "application/json"}}, 413),
]


@pytest.fixture()
def client(sqlite_store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    # A small body limit, so that the 413 is cheap to provoke.
    with api_client(sqlite_store, tmp_path, max_body_bytes=1024) as c:
        yield c


def missing(headers: httpx.Headers, policy: str) -> dict[str, str | None]:
    """The expected headers an answer lacks or gets wrong (empty when all are right)."""
    wanted = {**COMMON, "content-security-policy": policy}
    return {name: headers.get(name) for name, value in wanted.items()
            if headers.get(name) != value}


def test_every_route_family_answers_with_the_security_headers(client: TestClient) -> None:
    wrong = {}
    for method, path, kwargs, status in ROUTES:
        r = client.request(method, path, **kwargs)
        assert r.status_code == status, (method, path, r.status_code, r.text)
        if bad := missing(r.headers, API_POLICY):
            wrong[f"{method} {path}"] = bad
    assert wrong == {}


@pytest.mark.parametrize("path", ["/", "/page/app/main.js", "/page/style.css",
                                  "/page/vendor/cytoscape.min.js", "/page/nothing.js"])
def test_the_page_and_its_files_have_the_strict_policy(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == (404 if path.endswith("nothing.js") else 200)
    assert missing(r.headers, PAGE_POLICY) == {}


def test_the_page_policy_is_strict() -> None:
    directives = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    # Nothing inline, nothing evaluated, nothing from elsewhere.
    assert "unsafe" not in PAGE_POLICY and "http" not in PAGE_POLICY
    assert "script-src" not in directives and "style-src" not in directives


@pytest.mark.parametrize("path", ["/docs", "/docs/oauth2-redirect", "/redoc"])
def test_the_documentation_may_load_its_viewers(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert missing(r.headers, DOCS_POLICY) == {}
    # The viewers FastAPI links to are the ones the policy allows.
    for src in ("https://cdn.jsdelivr.net/npm/swagger-ui-dist",
                "https://cdn.jsdelivr.net/npm/redoc"):
        if src in r.text:
            assert "https://cdn.jsdelivr.net" in DOCS_POLICY


def test_refusals_carry_the_headers_too(tmp_path: Path, sqlite_store: GraphStore) -> None:
    add_key(tmp_path, "viewer", Scope.READ)
    with api_client(sqlite_store, tmp_path) as c:
        assert missing(c.get("/v1/nodes").headers, API_POLICY) == {}  # 401
        r = c.post("/v1/sources/s/push", json=PUSH,
                   headers={"Authorization": "Bearer sg_wrong"})
        assert r.status_code == 401 and missing(r.headers, API_POLICY) == {}


def test_a_served_process_sends_the_headers(tmp_path: Path) -> None:
    with serve(tmp_path, str(tmp_path / "g.db")) as server:
        page = httpx.get(f"{server.url}/")
        assert page.status_code == 200 and missing(page.headers, PAGE_POLICY) == {}
        with httpx.stream("GET", f"{server.url}/v1/events?limit=1&heartbeat=0.5",
                          timeout=30) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            assert missing(events.headers, API_POLICY) == {}
