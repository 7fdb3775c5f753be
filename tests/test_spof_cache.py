"""Single points of failure kept per structure and computed in the background: what a
question gets while nothing, or an older graph, is computed; on both stores through
:meth:`ServiceGraph.single_points`."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

import pytest

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_text
from servicegraph.impact import GraphIndex
from servicegraph.impact import spof_cache as cache_module
from servicegraph.impact.spof_cache import SpofAnswer, SpofCache
from servicegraph.impact.spof_table import SpofTable
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model import Edge, GraphData, Node, NodeKind, State, loads
from servicegraph.store import GraphStore

REAL_COMPUTE = SpofTable.compute


@dataclass
class Live:
    """A stand-in for the live graph: an index and a version."""

    index: GraphIndex
    version: int


class Graph:
    """A stand-in for the service graph's ``reading``."""

    def __init__(self, index: GraphIndex) -> None:
        self.live = Live(index, 1)

    @contextmanager
    def reading(self) -> Iterator[Live]:
        yield self.live


class Gate:
    """Holds computations until opened; counts them."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.calls = 0

    def compute(self, index: GraphIndex, **kwargs: object) -> SpofTable:
        self.calls += 1
        assert self.open.wait(30), "the test never opened the gate"
        return REAL_COMPUTE(index, **kwargs)  # type: ignore[arg-type]


@pytest.fixture()
def gate(monkeypatch: pytest.MonkeyPatch) -> Iterator[Gate]:
    g = Gate()
    monkeypatch.setattr(cache_module.SpofTable, "compute", g.compute)
    yield g
    g.open.set()


def chain(*ids: str) -> GraphData:
    """A promise needing a chain of CIs through one system: p -> s -> ids..."""
    nodes = [Node("p", NodeKind.PROMISE, "P"), Node("s", NodeKind.SERVICE_SYSTEM, "S")]
    nodes += [Node(i, NodeKind.CI, i) for i in ids]
    path = ["s", *ids]
    edges = [Edge("p", "s")] + [Edge(a, b) for a, b in pairwise(path)]
    return GraphData(tuple(nodes), tuple(edges))


def components(answer: SpofAnswer) -> list[str]:
    assert answer.result is not None
    return [sp.component for sp in answer.result.table.of_promise("p")[0]]


def eventually(cache: SpofCache, *, timeout: float = 30.0) -> SpofAnswer:
    deadline = time.monotonic() + timeout
    while True:
        found = cache.answer(wait=1.0)
        if found.current or time.monotonic() > deadline:
            return found


def test_the_first_question_waits_for_a_quick_computation() -> None:
    graph = Graph(GraphIndex.from_graph(chain("a", "b")))
    found = SpofCache(graph.reading).answer(wait=30)
    assert found.current and found.retry_after == 0
    assert found.result is not None and found.result.version == 1
    assert found.result.computed_at.tzinfo is UTC
    assert components(found) == ["a", "b", "s"]


def test_nothing_yet_says_when_to_ask_again(gate: Gate) -> None:
    cache = SpofCache(Graph(GraphIndex.from_graph(chain("a"))).reading)
    found = cache.answer(wait=0.05)
    assert found.result is None and not found.current and found.retry_after >= 1
    assert cache.answer(wait=0).result is None
    assert gate.calls == 1  # one computation at a time, however many ask
    gate.open.set()
    assert components(eventually(cache)) == ["a", "s"]


def test_a_changed_graph_gets_the_previous_answer_with_its_version(gate: Gate) -> None:
    graph = Graph(GraphIndex.from_graph(chain("a")))
    cache = SpofCache(graph.reading)
    gate.open.set()
    first = eventually(cache)
    gate.open.clear()
    b = graph.live.index.add_node("b", NodeKind.CI, "B")
    graph.live.index.add_edge(graph.live.index.position["a"], b)
    graph.live.version = 2
    stale = cache.answer(wait=0.05)
    assert stale.result is first.result and not stale.current and stale.retry_after >= 1
    assert components(stale) == ["a", "s"]
    gate.open.set()
    fresh = eventually(cache)
    assert fresh.result is not None and fresh.result.version == 2
    assert components(fresh) == ["a", "b", "s"]
    assert gate.calls == 2


def test_a_new_version_that_changed_no_dependency_keeps_the_answer(gate: Gate) -> None:
    graph = Graph(GraphIndex.from_graph(chain("a")))
    cache = SpofCache(graph.reading)
    gate.open.set()
    first = eventually(cache)
    graph.live.version = 7  # e.g. observed states pushed: the index is unchanged
    again = cache.answer(wait=0)
    assert again.current and again.result is first.result and gate.calls == 1


def test_a_graph_read_again_is_computed_again_whatever_its_numbers(gate: Gate) -> None:
    graph = Graph(GraphIndex.from_graph(chain("a")))
    cache = SpofCache(graph.reading)
    gate.open.set()
    eventually(cache)
    reread = GraphIndex.from_graph(chain("x", "y"))
    assert reread.structure == graph.live.index.structure  # the same number, another graph
    graph.live = Live(reread, 2)
    assert components(eventually(cache)) == ["s", "x", "y"]
    assert gate.calls == 2


def test_the_table_is_computed_on_a_frozen_copy() -> None:
    graph = Graph(GraphIndex.from_graph(chain("a")))
    found = SpofCache(graph.reading).answer(wait=30)
    assert found.result is not None
    assert found.result.table.index is not graph.live.index
    graph.live.index.remove_node(graph.live.index.position["a"])
    assert components(found) == ["a", "s"]


def test_the_frozen_copy_keeps_its_nodes_and_lets_its_edges_go() -> None:
    graph = Graph(GraphIndex.from_graph(chain("a", "b")))
    found = SpofCache(graph.reading).answer(wait=30)
    assert found.result is not None
    frozen = found.result.table.index
    assert frozen.stored_edge_count == 0 and len(frozen.arrays().in_pool) == 0
    assert graph.live.index.stored_edge_count == 3
    assert components(found) == ["a", "b", "s"]
    assert found.result.table.ranking()[1] == 3


def test_a_failed_computation_is_logged_and_tried_again(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    calls = []

    def broken_once(index: GraphIndex, **kwargs: object) -> SpofTable:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("boom")
        return REAL_COMPUTE(index, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cache_module.SpofTable, "compute", broken_once)
    cache = SpofCache(Graph(GraphIndex.from_graph(chain("a"))).reading)
    with caplog.at_level(logging.ERROR, logger="servicegraph.spof"):
        failed = cache.answer(wait=30)
    assert failed.result is None and not failed.current
    assert "computing single points of failure failed" in caplog.text
    assert components(eventually(cache)) == ["a", "s"]


def test_the_service_graph_keeps_its_answer_per_structure(store: GraphStore) -> None:
    graph = ServiceGraph(store)
    graph.writes.load(loads(example_text()), replace=True)
    first = graph.questions.single_points(wait=60)
    assert first.current and first.result is not None
    assert first.result.version == graph.version
    table = first.result.table
    points, total = table.of_promise("onboarding")
    assert {"feed-job", "hr-app"} <= {sp.component for sp in points} and total == len(points)
    # Observed states change the version, not the dependencies: the same answer.
    graph.writes.push_status("monitoring", [StatusUpdate(State.DOWN, datetime.now(UTC), id="san")])
    same = graph.questions.single_points(wait=0)
    assert same.current and same.result is first.result and graph.version > first.result.version
    # A new dependency: a new answer, computed on the new version.
    graph.writes.load(GraphData((Node("feed-disk", NodeKind.CI, "Feed disk"),),
                         (Edge("feed-job", "feed-disk"),)))
    fresh = graph.questions.single_points(wait=60)
    assert fresh.current and fresh.result is not None and fresh.result is not first.result
    assert fresh.result.version == graph.version
    assert "feed-disk" in {sp.component for sp in fresh.result.table.of_promise("onboarding")[0]}
