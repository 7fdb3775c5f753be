"""The change journal and the version check, on both stores; writes that cannot lose
each other within one process's reach (two ServiceGraph objects on one store)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from servicegraph import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model import Edge, GraphData, Node, NodeKind, State, loads
from servicegraph.model.graph import Observation
from servicegraph.store import Change, ChangeInfo, GraphStore, Neo4jStore, SqliteStore

from graphs import observed, what_if

T = "2030-01-01T00:00:00.000000Z"


def info(kind: str = "test") -> ChangeInfo:
    return ChangeInfo(T, kind, "tester")


def other_connection(store: GraphStore) -> GraphStore:
    """A second connection to the same store, as another process would have."""
    if isinstance(store, SqliteStore):
        return SqliteStore(store.path)
    assert isinstance(store, Neo4jStore)
    return Neo4jStore(store.uri, driver=store.driver)


def test_every_change_gets_the_next_version_and_a_journal_entry(store: GraphStore) -> None:
    start = store.version()
    a = Node("a", NodeKind.CI, "A")
    v1 = store.apply(Change(upsert_nodes=(a,)), info("load"))
    v2 = store.apply(Change(observe=(("a", Observation(State.DOWN, T, "mon")),)),
                     info("status"))
    assert (v1, v2) == (start + 1, start + 2) and store.version() == v2
    entries = store.journal(start)
    assert entries is not None
    assert [(e.version, e.info.kind) for e in entries] == [(v1, "load"), (v2, "status")]
    assert entries[0].rows["nodes"][0]["id"] == "a"
    assert entries[1].rows["observe"] == [{"id": "a", "observed_state": "down",
                                           "observed_at": T, "observed_source": "mon"}]
    assert store.journal(v2) == []


def test_a_node_upsert_never_touches_the_observed_state(store: GraphStore) -> None:
    store.apply(Change(upsert_nodes=(Node("a", NodeKind.CI, "A"),)), info())
    store.apply(Change(observe=(("a", Observation(State.DOWN, T, "mon")),)), info())
    store.apply(Change(upsert_nodes=(Node("a", NodeKind.CI, "A renamed"),)), info())
    stored = store.read().node_map()["a"]
    assert stored.name == "A renamed" and stored.observed == Observation(State.DOWN, T, "mon")


def test_the_journal_says_when_it_no_longer_reaches_back(store: GraphStore) -> None:
    store.apply(Change(upsert_nodes=(Node("a", NodeKind.CI, "A"),)), info())
    store.clear()  # trims the journal: earlier versions are gone
    assert store.journal(0) is None
    assert store.journal(store.version()) == []


def test_a_change_too_big_to_keep_inline_is_a_reload_entry(store: GraphStore) -> None:
    before = store.version()
    big = Change(upsert_nodes=tuple(Node(f"n{i}", NodeKind.CI, f"N{i}") for i in range(30)))
    store.inline_max = 10  # type: ignore[attr-defined]
    store.apply(big, info("load"))
    (entry,) = store.journal(before) or []
    assert entry.reload and entry.rows == {}


def test_a_push_planned_before_a_status_no_longer_erases_it(store: GraphStore) -> None:
    """The reported race, with two service graphs on one store: one observes web-1 down,
    the other (which read the graph before) pushes web-1 again. Nothing is lost."""
    first = ServiceGraph(store)
    first.writes.load(example_graph())
    second = ServiceGraph(other_connection(store))
    second.refresh()  # holds the graph as it was before the status below
    first.writes.push_status("mon", [StatusUpdate(State.DOWN, datetime(2030, 1, 1, tzinfo=UTC),
                                           id="web-1")])
    second.writes.push("discovery", loads("nodes: [{id: web-1, kind: ci, name: srv-web-01}]"))
    stored = store.read().node_map()["web-1"]
    assert stored.observed is not None and stored.observed.state is State.DOWN
    assert stored.name == "srv-web-01"
    for graph in (first, second):
        assert graph.questions.node("web-1").observed.state is State.DOWN  # type: ignore[union-attr]
        assert "web-tier" in observed(graph).impacted


def test_each_process_catches_up_from_the_journal_without_reading_everything(
        store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    first = ServiceGraph(store)
    first.writes.load(example_graph())
    other_store = other_connection(store)
    second = ServiceGraph(other_store)
    second.refresh()
    loads_seen: list[int] = []
    original = other_store.load
    monkeypatch.setattr(other_store, "load", lambda: loads_seen.append(1) or original())
    first.writes.push("cmdb", GraphData.of([Node("web-4", NodeKind.CI, "Web 4")],
                                    [Edge("web-tier", "web-4", "web")]))
    first.writes.push_status("mon", [StatusUpdate(State.DOWN, datetime(2030, 1, 1, tzinfo=UTC),
                                           id="web-4")])
    assert second.refresh().version == first.version
    assert loads_seen == []  # caught up from the journal alone
    assert second.questions.node("web-4").observed.state is State.DOWN  # type: ignore[union-attr]
    assert what_if(second, ["web-1", "web-2"]).at_risk_promises == \
        what_if(first, ["web-1", "web-2"]).at_risk_promises


def test_a_process_far_behind_reads_the_whole_graph(store: GraphStore) -> None:
    first = ServiceGraph(store)
    first.writes.load(example_graph())
    second = ServiceGraph(other_connection(store))
    second.refresh()
    store.clear()
    first.writes.load(loads("nodes: [{id: only, kind: ci, name: Only}]"))
    assert second.refresh().version == store.version()
    assert [n.id for n in second.questions.whole_graph().nodes] == ["only"]
