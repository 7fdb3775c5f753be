"""Operations over HTTP: health, readiness (and its recovery when Neo4j returns), metrics,
structured logs, request ids, the body size limit, errors, and the app's lifecycle."""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import neo4j
import pytest
from fastapi import APIRouter, Request
from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore
from servicegraph.store.base import StoreError
from servicegraph_api import create_app
from servicegraph_api.deps import NdjsonLimit
from servicegraph_api.logs import JsonFormatter

from apikit import example_graph, local_client, settings_for
from proxy import Proxy

# --- health and readiness -----------------------------------------------------------------


def test_healthz_and_readyz(client: TestClient, store: GraphStore) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "store": store.description, "reason": None,
                        "version": client.app.state.graph.version,  # type: ignore[attr-defined]
                        "stale_since": None}


def test_readyz_answers_503_while_the_store_fails(client: TestClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    graph: ServiceGraph = client.app.state.graph  # type: ignore[attr-defined]

    def broken() -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(graph.questions, "ping", broken)
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["status"] == "stale"  # the graph is in memory: answers go on, stale
    assert r.json()["reason"] == "OperationalError: disk I/O error"
    assert client.get("/healthz").status_code == 200
    monkeypatch.undo()
    assert client.get("/readyz").status_code == 200


def test_readyz_gives_up_on_a_store_that_hangs(store: GraphStore, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    graph = example_graph(store)
    release = threading.Event()
    monkeypatch.setattr(graph.questions, "ping", lambda: release.wait(10))
    with local_client(create_app(settings_for(tmp_path), graph=graph, ready_timeout=0.2)) as c:
        r = c.get("/readyz")
        assert r.status_code == 503 and "did not answer within 0.2 s" in r.json()["reason"]
        release.set()


@pytest.mark.neo4j
def test_readiness_follows_neo4j_down_and_back(neo4j_uri: str, tmp_path: Path) -> None:
    """A store on a closed port does not stop the app; readiness recovers by itself."""
    host, port = neo4j_uri.split("://")[1].rsplit(":", 1)
    proxy = Proxy((host, int(port)))
    uri = f"bolt://127.0.0.1:{proxy.port}"
    # No retries: each ping tells at once (the default driver retries for 30 s).
    user, password = os.environ.get("NEO4J_USER"), os.environ.get("NEO4J_PASSWORD")
    driver = neo4j.GraphDatabase.driver(uri, auth=(user, password) if password else None,
                                        max_transaction_retry_time=0, connection_timeout=2)
    try:
        store = Neo4jStore(uri, driver=driver)  # Neo4j unreachable: must not raise
        with local_client(create_app(settings_for(tmp_path), graph=ServiceGraph(store))) as c:
            r = c.get("/readyz")
            assert r.status_code == 503 and "does not answer" in r.json()["reason"]
            r = c.get("/v1/nodes")
            assert r.status_code == 503 and r.headers["retry-after"]
            assert "unavailable" in r.json()["detail"]
            proxy.up()
            # The probe that finds the store back starts reading the graph ("loading").
            deadline = time.monotonic() + 20
            while (r := c.get("/readyz")).status_code != 200:
                assert r.json()["status"] == "loading" and time.monotonic() < deadline
                time.sleep(0.1)
            assert c.get("/v1/nodes").status_code == 200
            proxy.down()
            assert c.get("/readyz").status_code == 503
            proxy.up()
            assert c.get("/readyz").status_code == 200
    finally:
        proxy.down()
        driver.close()


# --- the app's lifecycle ------------------------------------------------------------------------


def test_the_app_opens_and_closes_its_own_store(tmp_path: Path) -> None:
    db = tmp_path / "own.db"
    app = create_app(settings_for(tmp_path, store=str(db)))
    with local_client(app) as c:
        assert c.get("/readyz").json()["store"] == f"sqlite:{db}"
        assert c.put("/v1/nodes/lb", json={"kind": "ci"}).status_code == 201
        graph: ServiceGraph = app.state.graph
    with pytest.raises(StoreError, match="closed database"):
        graph.store.read()  # closed at shutdown
    reopened = SqliteStore(db)
    assert [n.id for n in reopened.read().nodes] == ["lb"]
    reopened.close()


def test_a_graph_passed_in_stays_open(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db")
    graph = example_graph(store)
    with local_client(create_app(settings_for(tmp_path), graph=graph)) as c:
        assert c.get("/readyz").status_code == 200
    assert len(store.read().nodes) == 54
    store.close()


def test_two_apps_in_one_process_keep_their_own_metrics(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db")
    graph = example_graph(store)
    with local_client(create_app(settings_for(tmp_path), graph=graph)) as a, \
            local_client(create_app(settings_for(tmp_path), graph=graph)) as b:
        for _ in range(3):
            a.get("/healthz")
        b.get("/healthz")
        assert _sample(a.get("/metrics").text, "servicegraph_http_requests_total",
                       route="/healthz") == 3
        assert _sample(b.get("/metrics").text, "servicegraph_http_requests_total",
                       route="/healthz") == 1
    store.close()


# --- metrics and logs -----------------------------------------------------------------------


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition, matching ``labels``."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_metrics_count_requests_by_route_template(client: TestClient) -> None:
    client.get("/v1/nodes/web-tier")
    client.get("/v1/nodes/lb")
    client.get("/v1/nodes/ghost")
    client.get("/no/such/path")
    r = client.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    count = "servicegraph_http_requests_total"
    assert _sample(text, count, route="/v1/nodes/{node_id}", method="GET", status="200") == 2
    assert _sample(text, count, route="/v1/nodes/{node_id}", status="404") == 1
    assert _sample(text, count, route="<unmatched>", status="404") == 1
    assert _sample(text, "servicegraph_http_request_duration_seconds_count",
                   route="/v1/nodes/{node_id}") == 3
    assert "# TYPE servicegraph_pushed_items_total counter" in text
    assert "servicegraph_broken_promises 0.0" in text


def test_pushed_items_and_broken_promises_are_measured(client: TestClient) -> None:
    assert "servicegraph_broken_promises 0.0" in client.get("/metrics").text
    push = {"nodes": [{"id": f"vm-{i}", "kind": "ci", "name": "VM"} for i in range(3)]}
    assert client.post("/v1/sources/cmdb/push", json=push).status_code == 200
    client.post("/v1/sources/mon/status", json={"statuses": [
        {"id": "web-1", "state": "down"}, {"id": "web-2", "state": "down"},
        {"id": "feed-job", "state": "down"}]})
    text = client.get("/metrics").text
    assert _sample(text, "servicegraph_pushed_items_total", source="cmdb", kind="node") == 3
    # Read at scrape time: onboarding and order-anytime are broken now.
    assert "servicegraph_broken_promises 2.0" in text


def test_one_structured_log_line_per_request(client: TestClient,
                                             caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="servicegraph.api.access"):
        r = client.get("/v1/nodes/web-tier", headers={"X-Request-ID": "req-42"})
    assert r.headers["x-request-id"] == "req-42"
    (record,) = [rec for rec in caplog.records if rec.name == "servicegraph.api.access"]
    line = json.loads(JsonFormatter().format(record))
    assert line["event"] == "request" and line["request_id"] == "req-42"
    assert line["method"] == "GET" and line["path"] == "/v1/nodes/web-tier"
    assert line["route"] == "/v1/nodes/{node_id}" and line["status"] == 200
    assert line["duration_ms"] >= 0 and line["client"] and line["level"] == "info"


def test_a_missing_or_unsafe_request_id_is_replaced(client: TestClient) -> None:
    fresh = client.get("/healthz").headers["x-request-id"]
    assert len(fresh) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers[
        "x-request-id"] != "bad id\n"


# --- the body size limit --------------------------------------------------------------------


@pytest.fixture()
def small(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    """An app with a 1 KiB body limit (and 4 KiB for NDJSON) and a streaming route."""
    app = create_app(settings_for(tmp_path, max_body_bytes=1024, max_ndjson_bytes=4096),
                     graph=example_graph(store))
    extra = APIRouter()

    @extra.post("/stream")
    async def stream(request: Request, limit: NdjsonLimit) -> dict[str, Any]:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        return {"read": size, "limit": limit}

    app.include_router(extra)
    with local_client(app) as c:
        yield c


def test_a_declared_oversize_body_answers_413(small: TestClient, store: GraphStore) -> None:
    before = store.read()
    big = {"kind": "ci", "description": "x" * 2000}
    r = small.put("/v1/nodes/web-4", json=big)
    assert r.status_code == 413
    assert r.json()["limit_bytes"] == 1024 and "1 KiB" in r.json()["detail"]
    assert store.read() == before
    assert small.put("/v1/nodes/web-4", json={"kind": "ci"}).status_code == 201


def test_a_streamed_oversize_body_is_cut_with_413(small: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"down": ["'
        for _ in range(40):
            yield b"x" * 100
        yield b'"]}'

    r = small.post("/v1/impact", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["limit_bytes"] == 1024


def test_the_ndjson_limit_applies_to_streaming_routes(small: TestClient) -> None:
    r = small.post("/stream", content=b"x" * 3000)
    assert r.status_code == 200 and r.json() == {"read": 3000, "limit": 4096}
    r = small.post("/stream", content=b"x" * 5000)
    assert r.status_code == 413 and r.json()["limit_bytes"] == 4096

    def chunks() -> Iterator[bytes]:
        for _ in range(50):
            yield b"y" * 100

    r = small.post("/stream", content=chunks())
    assert r.status_code == 413


def test_the_limit_is_documented(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "16 MiB" in spec["info"]["description"]
    assert "413" in spec["paths"]["/v1/impact"]["post"]["responses"]


# --- errors ----------------------------------------------------------------------------------


def test_an_unexpected_error_is_a_bare_500(client: TestClient,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    graph: ServiceGraph = client.app.state.graph  # type: ignore[attr-defined]

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(graph.questions, "impact", boom)
    quiet = local_client(client.app, raise_server_exceptions=False)
    r = quiet.post("/v1/impact", json={"down": ["lb"]})
    assert r.status_code == 500
    assert "secret" not in r.text and "bug" in r.json()["detail"]


def test_every_route_documents_examples_and_errors(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            where = f"{method.upper()} {path}"
            assert op.get("summary") and op.get("description"), where
            if path.startswith("/v1/"):
                assert {"401", "403", "422", "503"} <= set(op["responses"]), where
            if "requestBody" in op:
                assert "413" in op["responses"], where
    # Every request body and every JSON answer of ours carries an example.
    for name in ("ImpactRequest", "ImpactOut", "ChangesRequest", "ChangeAssessmentOut",
                 "RootCauseRequest", "RootCauseOut", "PromiseSpofOut", "SpofRankingOut",
                 "NodeIn", "NodeOut", "NodePageOut", "EdgeIn", "EdgeListOut", "SubgraphOut",
                 "MatrixOut", "PromiseCatalogueOut", "ServiceSystemCatalogueOut",
                 "ServiceActCatalogueOut", "NodeExplanationOut", "ErrorOut", "ReadyOut",
                 "HealthOut"):
        assert schemas[name].get("examples"), name
