"""Single points of failure over HTTP, on both stores: pages of the table the server
keeps, the version it was computed on, and what is answered while it is computed."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_text
from servicegraph.impact import GraphIndex, single_points_of_failure, spof_ranking
from servicegraph.impact import spof_cache as cache_module
from servicegraph.impact.spof_table import SpofTable
from servicegraph.model import Edge, GraphData, Node, NodeKind, loads
from servicegraph.store import GraphStore
from servicegraph_api.schemas import PromiseSpofOut, SpofPendingOut, SpofRankingOut

from apikit import api_client

REAL_COMPUTE = SpofTable.compute


def graph_of(client: TestClient) -> ServiceGraph:
    graph: ServiceGraph = client.app.state.graph  # type: ignore[attr-defined]
    return graph


@pytest.fixture()
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Computations wait until the event is set."""
    release = threading.Event()

    def compute(index: GraphIndex, **kwargs: object) -> SpofTable:
        assert release.wait(30)
        return REAL_COMPUTE(index, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module.SpofTable, "compute", compute)
    yield release
    release.set()


def example_index() -> GraphIndex:
    return GraphIndex.from_graph(loads(example_text()))


def test_a_promise_page_by_page_as_the_library_answers(client: TestClient) -> None:
    expected = [sp.to_dict() for sp in single_points_of_failure(example_index(), "onboarding")]
    r = client.get("/v1/promises/onboarding/spof")
    assert r.status_code == 200 and "retry-after" not in r.headers
    body = PromiseSpofOut.model_validate(r.json())
    assert body.current and body.version == graph_of(client).version
    assert body.page.total == len(expected) and body.page.limit == 100
    assert r.json()["single_points"] == expected
    pages = [client.get("/v1/promises/onboarding/spof", params={"limit": 4, "offset": at})
             .json()["single_points"] for at in range(0, len(expected), 4)]
    assert [p for page in pages for p in page] == expected
    past = client.get("/v1/promises/onboarding/spof", params={"offset": len(expected)}).json()
    assert past["single_points"] == [] and past["page"]["total"] == len(expected)


def test_the_ranking_by_kind_and_page(client: TestClient) -> None:
    index = example_index()
    everything = [sp.to_dict() for sp in spof_ranking(index)]
    r = client.get("/v1/spof")
    body = SpofRankingOut.model_validate(r.json())
    assert r.json()["single_points"] == everything and body.page.total == len(everything)
    top = client.get("/v1/spof", params={"limit": 3, "offset": 2}).json()
    assert top["single_points"] == everything[2:5] and top["page"] == {
        "total": len(everything), "limit": 3, "offset": 2}
    acts = client.get("/v1/spof", params={"kind": ["service_act", "ci"]}).json()
    assert acts["single_points"] == [
        sp.to_dict() for sp in spof_ranking(index, kinds=[NodeKind.SERVICE_ACT, NodeKind.CI])]
    assert {p["kind"] for p in acts["single_points"]} == {"service_act", "ci"}
    promises = client.get("/v1/spof", params={"kind": "promise"}).json()
    assert promises["single_points"] == [] and promises["page"]["total"] == 0


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 10001}, {"offset": -1},
                                    {"kind": "cloud"}])
def test_bad_pages_are_refused(client: TestClient, params: dict[str, object]) -> None:
    assert client.get("/v1/spof", params=params).status_code == 422
    if "kind" not in params:
        assert client.get("/v1/promises/onboarding/spof", params=params).status_code == 422


def test_unknown_and_non_promise_nodes(client: TestClient) -> None:
    r = client.get("/v1/promises/ghost/spof")
    assert r.status_code == 404 and r.json()["ids"] == ["ghost"]
    r = client.get("/v1/promises/hr-app/spof")
    assert r.status_code == 422 and "not a promise" in r.json()["detail"]


def test_nothing_computed_yet_answers_503_with_retry_after(
        store: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def compute(index: GraphIndex, **kwargs: object) -> SpofTable:
        assert release.wait(30)
        return REAL_COMPUTE(index, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module.SpofTable, "compute", compute)
    try:
        with api_client(store, tmp_path) as client:
            for path in ("/v1/spof", "/v1/promises/onboarding/spof"):
                r = client.get(path)
                assert r.status_code == 503
                assert int(r.headers["retry-after"]) >= 1
                assert SpofPendingOut.model_validate(r.json()).retry_after == int(
                    r.headers["retry-after"])
            release.set()
            graph_of(client).questions.single_points(wait=60)
            assert client.get("/v1/spof").status_code == 200
    finally:
        release.set()


def test_while_a_changed_graph_is_computed_the_previous_answer_says_so(
        client: TestClient, held: threading.Event) -> None:
    held.set()
    before = client.get("/v1/promises/onboarding/spof").json()
    graph = graph_of(client)
    held.clear()
    graph.writes.load(GraphData((Node("feed-disk", NodeKind.CI, "Feed disk"),
                          Node("new-promise", NodeKind.PROMISE, "New"),),
                         (Edge("feed-job", "feed-disk"), Edge("new-promise", "hr-app"))))
    r = client.get("/v1/promises/onboarding/spof")
    assert r.status_code == 200 and int(r.headers["retry-after"]) >= 1
    stale = r.json()
    assert stale["current"] is False and stale["version"] == before["version"] < graph.version
    assert stale["single_points"] == before["single_points"]
    ranking = client.get("/v1/spof")
    assert ranking.json()["current"] is False and "retry-after" in ranking.headers
    # A promise newer than the answer at hand: not unknown, not computed yet.
    r = client.get("/v1/promises/new-promise/spof")
    assert r.status_code == 503 and "retry-after" in r.headers
    held.set()
    graph.questions.single_points(wait=60)
    fresh = client.get("/v1/promises/onboarding/spof").json()
    assert fresh["current"] is True and fresh["version"] == graph.version
    assert "feed-disk" in {p["component"] for p in fresh["single_points"]}
    assert "onboarding" in next(p for p in client.get("/v1/promises/new-promise/spof")
                                .json()["single_points"] if p["component"] == "hr-app")["breaks"]
