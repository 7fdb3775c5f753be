"""The compiled explanations of an answer against the Python ones, node by node."""

from __future__ import annotations

from hypothesis import given, settings

from servicegraph.impact import GraphIndex, analyse, propagate
from servicegraph.impact.explain import explain
from servicegraph.model import Edge, GraphData, Node, NodeKind, State

from graphs import graphs_with_scenario


def _forward(p: object, vs: list[int]) -> list[list[int]]:
    """The chains :attr:`Propagation.parents` gives (the search from the roots)."""
    return p.chains_of(vs, budget=-1)  # type: ignore[attr-defined, no-any-return]


@settings(max_examples=300, deadline=None)
@given(graphs_with_scenario())
def test_searched_back_chains_are_the_chains_from_the_roots(
        case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case
    idx = GraphIndex.from_graph(g)
    positions = {v: s for v, s in zip(idx.lookup(list(scenario)), scenario.values(),
                                      strict=True)}
    everyone = list(range(idx.node_count))
    back = propagate(idx, positions).chains_of(everyone)
    assert back == _forward(propagate(idx, positions), everyone)
    for v, chain in zip(everyone, back, strict=True):
        assert (chain == []) == (v not in propagate(idx, positions).state)


@settings(max_examples=300, deadline=None)
@given(graphs_with_scenario())
def test_an_answers_explanations_are_the_python_ones(
        case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case
    idx = GraphIndex.from_graph(g)
    result = analyse(idx, scenario)
    answer = result.answer()
    promises = set(answer["broken_promises"]) | set(answer["at_risk_promises"])
    assert set(answer["explanations"]) == {
        n for n in result.impacted
        if idx.kind(idx.position[n]) is not NodeKind.PROMISE or n in promises}
    for node_id, got in answer["explanations"].items():
        expected = explain(result.propagation, idx.position[node_id],
                           chain=node_id in promises)
        assert expected is not None
        assert got == expected.to_dict(chain=node_id in promises), node_id


def test_a_search_past_its_budget_follows_the_parents() -> None:
    # a <- b <- c <- d, each needing the next; d fails.
    nodes = [Node(x, NodeKind.CI, x.upper()) for x in "abcd"]
    g = GraphData.of(nodes, [Edge("a", "b"), Edge("b", "c"), Edge("c", "d")])
    idx = GraphIndex.from_graph(g)
    p = propagate(idx, {idx.position["d"]: 2})
    ids = idx.ids
    tight = p.chains_of([idx.position["a"]], budget=1)
    assert [[ids[v] for v in c] for c in tight] == [["a", "b", "c", "d"]]
    roomy = propagate(idx, {idx.position["d"]: 2}).chains_of([idx.position["a"]])
    assert roomy == tight
