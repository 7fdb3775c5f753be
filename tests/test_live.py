"""The live graph, changed step by step, answers like a graph built whole, and like the
naive reference: on random graphs with cycles, redundancy groups, soft edges,
retirements and deletions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.impact import analyse, naive_states, to_networkx
from servicegraph.live.state import LiveGraph
from servicegraph.model import GraphData, State
from servicegraph.model.graph import Observation
from servicegraph.store.rows import change_rows, edge_row, node_row

from graphs import graphs

T = "2030-01-01T00:00:00.000000Z"


def rows_between(before: GraphData, after: GraphData) -> dict[str, object]:
    """The change that turns ``before`` into ``after``: deletions, then upserts."""
    gone_nodes = {n.id for n in before.nodes} - {n.id for n in after.nodes}
    kept = {e.key for e in after.edges}
    gone_edges = [e.key for e in before.edges if e.key not in kept
                  and e.source not in gone_nodes and e.target not in gone_nodes]
    return change_rows(after.nodes, after.edges, gone_edges, sorted(gone_nodes), (), False)


def impact_of(live: LiveGraph, failed: dict[str, State]) -> dict[str, State]:
    known = {n: s for n, s in failed.items() if n in live.index.position
             and live.index.counted(live.index.position[n])}
    return dict(analyse(live.index, known).impacted)


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[GraphData], dict[str, State]]:
    steps = draw(st.lists(graphs(max_nodes=9), min_size=1, max_size=4))
    ids = sorted({n.id for g in steps for n in g.nodes})
    failed = draw(st.lists(st.sampled_from(ids), unique=True, max_size=4)) if ids else []
    return steps, {n: draw(st.sampled_from([State.DEGRADED, State.DOWN])) for n in failed}


@settings(max_examples=150, deadline=None)
@given(histories(), st.data())
def test_a_graph_changed_step_by_step_answers_like_one_built_whole(
        case: tuple[list[GraphData], dict[str, State]], data: st.DataObject) -> None:
    steps, failed = case
    live = LiveGraph()
    previous = GraphData()
    for version, graph in enumerate(steps, start=1):
        # Some edges of this step arrive retired: they must stop counting. (Not group
        # members: validation refuses a retirement that leaves a group short.)
        loose = [e.key for e in graph.edges if e.group is None]
        retired = data.draw(st.lists(st.sampled_from(loose), unique=True,
                                     max_size=2)) if loose else []
        shown = GraphData(graph.nodes, tuple(
            e.__class__(e.source, e.target, e.group, e.impact, (), T if e.key in retired
                        else None) for e in graph.edges))
        live.apply(version, rows_between(previous, shown))
        previous = shown
    final = previous.live()
    whole = LiveGraph.build(len(steps), (node_row(n) for n in previous.nodes),
                            (edge_row(e) for e in previous.edges))
    expected = {n: s for n, s in naive_states(to_networkx(final), {
        n: s for n, s in failed.items() if n in {x.id for x in final.nodes}}).items() if s}
    assert impact_of(live, failed) == expected
    assert impact_of(whole, failed) == expected
    assert live.node_count == len(previous.nodes) and live.edge_count == len(previous.edges)


@settings(max_examples=60, deadline=None)
@given(graphs(max_nodes=9), st.data())
def test_observations_replayed_twice_end_the_same(graph: GraphData,
                                                   data: st.DataObject) -> None:
    """Replaying a change over its own effect ends in the same state (what makes a
    snapshot read while writers are busy exact after the journal replay)."""
    ids = [n.id for n in graph.nodes]
    seen = data.draw(st.lists(st.sampled_from(ids), unique=True, max_size=3))
    observe = [(n, Observation(State.DOWN, T, "mon")) for n in seen]
    change = change_rows(graph.nodes, graph.edges, (), (), observe, False)
    once = LiveGraph()
    once.apply(1, change)
    twice = LiveGraph()
    twice.apply(1, change)
    twice.apply(1, change)
    assert once.graph() == twice.graph()
    assert {once.index.ids[v]: o for v, o in once.observed.items()} == dict(observe)
