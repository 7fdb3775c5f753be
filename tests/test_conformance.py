"""One conformance suite, run unchanged against the embedded store and Neo4j."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from servicegraph import GraphData, ServiceGraph, State, ValidationError, loads
from servicegraph.examples import example_text
from servicegraph.impact import GraphIndex, analyse, naive_states, to_networkx
from servicegraph.model import Edge, Node, NodeKind
from servicegraph.store import Change, ChangeInfo, GraphStore, Neo4jStore, SqliteStore

from graphs import graphs, graphs_with_scenario, what_if

EXAMPLE = loads(example_text())
INFO = ChangeInfo("2030-01-01T00:00:00.000000Z", "test")


def as_sets(g: GraphData) -> tuple[set[Node], set[Edge]]:
    def freeze(n: Node) -> Node:
        # Mappings are not hashable: compare them through their sorted items.
        return n.with_changes(properties=tuple(sorted(n.properties.items())),
                              redundancy=json.dumps(n.redundancy, sort_keys=True),
                              claims=tuple(c.digest for c in n.claims))
    return {freeze(n) for n in g.nodes}, {
        e.__class__(e.source, e.target, e.group, e.impact,
                    tuple(c.digest for c in e.claims), e.retired_at)  # type: ignore[arg-type]
        for e in g.edges}


def test_round_trip_keeps_every_attribute(store: GraphStore) -> None:
    ServiceGraph(store).writes.load(EXAMPLE)
    assert as_sets(store.read()) == as_sets(EXAMPLE)
    onboarding = store.read().node_map()["onboarding"]
    assert onboarding.properties == {"target_days": 1} and onboarding.owner == "HR"
    assert store.read().node_map()["web-tier"].redundancy == {"web": 2}


def test_load_upserts_nodes_and_edges(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(EXAMPLE)
    sg.writes.load(loads("""
nodes:
  - {id: hr-app, kind: service_system, name: HR application v2, provider: Fabrikam}
  - {id: web-4, kind: ci, name: Web server 4}
edges:
  - {from: web-tier, to: web-4, group: web}
  - {from: hr-app, to: recruiting-feed, impact: soft}
"""))
    g = store.read()
    nodes = g.node_map()
    assert nodes["hr-app"].name == "HR application v2" and nodes["hr-app"].provider == "Fabrikam"
    assert nodes["hr-app"].owner is None  # an upsert replaces the node's attributes
    assert len(g.nodes) == len(EXAMPLE.nodes) + 1
    edges = {e.key: e for e in g.edges}
    assert edges[("hr-app", "recruiting-feed")].impact.value == "soft"
    assert what_if(sg, ["web-1", "web-2"]).impacted.get("web-tier") == State.DEGRADED


def test_replace_makes_the_batch_the_whole_graph(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(EXAMPLE)
    small = loads("nodes: [{id: only, kind: ci, name: Only}]")
    sg.writes.load(small, replace=True)
    assert [n.id for n in store.read().nodes] == ["only"] and store.read().edges == ()


def test_bad_file_is_rejected_and_the_store_is_exactly_as_it_was(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(EXAMPLE)
    before = as_sets(store.read())
    bad = loads("""
nodes:
  - {id: new-ci, kind: ci, name: Would be written first}
  - {id: hr-app, kind: service_system, name: renamed}
edges:
  - {from: new-ci, to: hr-app}
""")
    with pytest.raises(ValidationError) as err:
        sg.writes.load(bad)
    assert "edges[0] (new-ci -> hr-app): to: a ci may not depend on a service_system" in str(
        err.value)
    assert as_sets(store.read()) == before


def test_failure_inside_a_write_rolls_the_whole_change_back(store: GraphStore) -> None:
    ServiceGraph(store).writes.load(EXAMPLE)
    before = as_sets(store.read())
    # Bypass validation to make the store itself fail half-way: the nodes are
    # written first, then an edge to a node that does not exist.
    change = Change(upsert_nodes=(Node("half", NodeKind.CI, "Half written"),),
                    upsert_edges=(Edge("half", "missing"),), delete_nodes=("san",))
    with pytest.raises(Exception):  # noqa: B017 - each store has its own error type
        store.apply(change, INFO)
    assert as_sets(store.read()) == before


def test_delete_nodes_takes_their_edges(store: GraphStore) -> None:
    ServiceGraph(store).writes.load(EXAMPLE)
    store.apply(Change(delete_nodes=("san",), delete_edges=(("web-tier", "lb"),)), INFO)
    g = store.read()
    assert "san" not in g.node_map()
    assert not any("san" in e.key or e.key == ("web-tier", "lb") for e in g.edges)


def test_impact_answers_are_the_same_on_every_store(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(EXAMPLE)
    stored = what_if(sg, ["san"], ["gate-1"]).to_dict()
    in_memory = analyse(GraphIndex.from_graph(EXAMPLE), {"san": State.DOWN,
                                                         "gate-1": State.DEGRADED}).to_dict()
    assert stored == in_memory
    assert stored["broken_promises"] == ["order-anytime"]


def test_empty_store_reads_empty(store: GraphStore) -> None:
    assert store.read() == GraphData()


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=graphs_with_scenario(max_nodes=10))
def test_property_random_graphs_survive_the_store_and_agree_with_the_oracle(
        store: GraphStore, case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case
    sg = ServiceGraph(store)
    sg.writes.load(g, replace=True)
    assert as_sets(store.read()) == as_sets(g)
    expected = {n: s for n, s in naive_states(to_networkx(g), scenario).items() if s}
    assert dict(analyse(sg.questions.index(), scenario).impacted) == expected


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(g=graphs(max_nodes=8))
def test_property_rejected_batches_write_nothing(store: GraphStore, g: GraphData) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(g, replace=True)
    before = as_sets(store.read())
    # A batch that upserts every node again but adds a forbidden dependency.
    bad = GraphData((*g.nodes, Node("zz-promise", NodeKind.PROMISE, "P")),
                    (Edge("zz-promise", g.nodes[0].id if g.nodes[0].kind is NodeKind.CI
                          else "no-such-node"),))
    with pytest.raises(ValidationError):
        sg.writes.load(bad)
    assert as_sets(store.read()) == before


def test_sqlite_file_persists_across_opens(tmp_path: Path) -> None:
    from servicegraph.store import SqliteStore

    path = tmp_path / "g.db"
    first = SqliteStore(path)
    ServiceGraph(first).writes.load(EXAMPLE)
    first.close()
    again = SqliteStore(path)
    assert len(again.read().nodes) == len(EXAMPLE.nodes)
    again.close()


def test_a_write_by_another_process_is_seen(store: GraphStore, tmp_path: Path) -> None:
    server = ServiceGraph(store)
    server.writes.load(EXAMPLE)
    assert what_if(server, ["feed-job"]).broken_promises == ["onboarding"]
    # Another process (here: a second connection to the same store) adds a backup feed.
    other_store: GraphStore
    if isinstance(store, SqliteStore):
        other_store = SqliteStore(store.path)
    else:
        assert isinstance(store, Neo4jStore)
        other_store = Neo4jStore(store.uri, driver=store.driver)
    other = ServiceGraph(other_store)
    other.writes.load(loads("""
nodes:
  - {id: recruiting-feed, kind: service_system, name: New-hire feed, redundancy: {jobs: 1}}
  - {id: feed-job-2, kind: ci, name: Backup integration job}
edges:
  - {from: recruiting-feed, to: feed-job, group: jobs}
  - {from: recruiting-feed, to: feed-job-2, group: jobs}
"""))
    assert what_if(server, ["feed-job"]).broken_promises == []
    assert what_if(server, ["feed-job"]).at_risk_promises == ["onboarding"]
