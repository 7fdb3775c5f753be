"""The impact rules: worked examples, and the engine held against a naive oracle."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.impact import GraphIndex, analyse, naive_states, to_networkx
from servicegraph.model import Edge, GraphData, Impact, Node, NodeKind, State, UnknownNodeError

from graphs import graphs_with_scenario

PROMISE, SYSTEM, CI = NodeKind.PROMISE, NodeKind.SERVICE_SYSTEM, NodeKind.CI
DOWN, DEGRADED = State.DOWN, State.DEGRADED


def web(min_ok: int = 2) -> GraphData:
    """A promise on a web tier of three servers, min_ok of them needed."""
    return GraphData.of(
        [Node("p", PROMISE, "Promise"), Node("tier", SYSTEM, "Tier", redundancy={"web": min_ok}),
         *(Node(f"w{i}", CI, f"W{i}", provider="Vendor") for i in (1, 2, 3))],
        [Edge("p", "tier"), *(Edge("tier", f"w{i}", "web") for i in (1, 2, 3))],
    )


def run(g: GraphData, **given: State) -> dict[str, State]:
    return dict(analyse(GraphIndex.from_graph(g), given).impacted)


def test_one_member_of_two_of_three_down_puts_promise_at_risk() -> None:
    result = analyse(GraphIndex.from_graph(web()), {"w1": DOWN})
    assert result.impacted == {"w1": DOWN, "tier": DEGRADED, "p": DEGRADED}
    assert result.at_risk_promises == ["p"] and result.broken_promises == []
    cause = result.explanations["tier"].causes[0]
    assert (cause.dependency, cause.rule, cause.headroom) == ("w1", "group", "2 of 3 up, needs 2")


def test_two_of_three_down_breaks_the_promise_and_names_both_members() -> None:
    result = analyse(GraphIndex.from_graph(web()), {"w1": DOWN, "w2": DOWN})
    assert result.broken_promises == ["p"]
    tier = result.explanations["tier"]
    assert {c.dependency for c in tier.causes} == {"w1", "w2"}
    assert tier.causes[0].headroom == "1 of 3 up, needs 2"
    assert result.explanations["p"].chain[0] == "p"
    assert result.explanations["p"].chain[-1] in {"w1", "w2"}


def test_degraded_member_degrades_a_group_without_taking_it_down() -> None:
    assert run(web(3), w3=DEGRADED) == {"w3": DEGRADED, "tier": DEGRADED, "p": DEGRADED}


def test_soft_dependency_only_degrades() -> None:
    g = GraphData.of([Node("a", SYSTEM, "A"), Node("b", SYSTEM, "B")],
                     [Edge("a", "b", impact=Impact.SOFT)])
    assert run(g, b=DOWN) == {"b": DOWN, "a": DEGRADED}
    assert analyse(GraphIndex.from_graph(g), {"b": DOWN}).explanations["a"].rule == "soft"


def test_cycle_is_the_least_fixpoint() -> None:
    # a <-> b in a cycle, nothing failed: both stay ok (not "down by assumption").
    g = GraphData.of([Node("a", SYSTEM, "A"), Node("b", SYSTEM, "B"), Node("c", CI, "C")],
                     [Edge("a", "b"), Edge("b", "a"), Edge("b", "c")])
    assert run(g) == {}
    assert run(g, c=DOWN) == {"c": DOWN, "b": DOWN, "a": DOWN}
    explanation = analyse(GraphIndex.from_graph(g), {"c": DOWN}).explanations["a"]
    assert explanation.chain == ("a", "b", "c")


def test_given_state_is_kept_when_dependencies_are_better() -> None:
    g = web()
    assert run(g, tier=DEGRADED) == {"tier": DEGRADED, "p": DEGRADED}
    expl = analyse(GraphIndex.from_graph(g), {"tier": DEGRADED}).explanations["tier"]
    assert expl.rule == "failed" and expl.chain == ("tier",)


def test_unknown_ids_are_all_named() -> None:
    with pytest.raises(UnknownNodeError) as err:
        analyse(GraphIndex.from_graph(web()), {"w1": DOWN, "nope": DOWN, "gone": DEGRADED})
    assert err.value.ids == ("nope", "gone")


def test_providers_who_must_act_come_first() -> None:
    g = web().merged_with(GraphData.of([Node("w2", CI, "W2", provider="Other")]))
    calls = analyse(GraphIndex.from_graph(g), {"w1": DOWN}).providers()
    assert [(c.provider, c.failed) for c in calls] == [("Vendor", ("w1",))]


def test_json_answer_has_the_designed_shape() -> None:
    doc = analyse(GraphIndex.from_graph(web()), {"w1": DOWN, "w2": DOWN}).to_dict()
    assert doc["impacted"] == {"p": "down", "tier": "down", "w1": "down", "w2": "down"}
    assert doc["broken_promises"] == ["p"] and doc["at_risk_promises"] == []
    assert set(doc["explanations"]) == set(doc["impacted"])
    assert doc["explanations"]["w1"]["rule"] == "failed"


def test_an_answer_listing_nothing_counts_everything_and_explains_nothing() -> None:
    result = analyse(GraphIndex.from_graph(web()), {"w1": DOWN, "w2": DOWN})
    counts = result.answer(limit=0)
    assert counts["counts"] == result.answer()["counts"]
    assert counts["counts"]["impacted"] == 4 and counts["counts"]["broken_promises"] == 1
    assert counts["broken_promises"] == [] and counts["impacted"] == {}
    assert counts["explanations"] == {}
    assert result.answer(limit=1)["explanations"]["p"]["chain"][0] == "p"


def test_analysis_leaves_the_index_untouched() -> None:
    idx = GraphIndex.from_graph(web())
    def look(i: GraphIndex) -> tuple[object, ...]:
        a = i.arrays()
        return (a.in_pool.tolist(), a.out_pool.tolist(), i.group_size.tolist(),
                i.edge_group.tolist(), i.edge_active.tolist(), i.structure)

    before = look(idx)
    analyse(idx, {"w1": DOWN, "w2": DOWN}).to_dict()
    assert look(idx) == before


@settings(max_examples=300, deadline=None)
@given(graphs_with_scenario())
def test_engine_agrees_with_naive_fixpoint(case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case
    expected = {n: s for n, s in naive_states(to_networkx(g), scenario).items() if s > State.OK}
    result = analyse(GraphIndex.from_graph(g), scenario)
    assert dict(result.impacted) == expected


@settings(max_examples=200, deadline=None)
@given(graphs_with_scenario())
def test_every_explanation_is_a_valid_chain_of_causes(
        case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case
    result = analyse(GraphIndex.from_graph(g), scenario)
    edges = {e.key for e in g.edges}
    for node_id, expl in result.explanations.items():
        assert expl.state == result.impacted[node_id]
        assert expl.chain[0] == node_id and expl.chain[-1] in scenario
        for a, b in zip(expl.chain, expl.chain[1:], strict=False):
            assert (a, b) in edges
            assert b in {c.dependency for c in result.explanations[a].causes}
        if node_id not in scenario or scenario[node_id] < expl.state:
            assert expl.causes, f"{node_id} is {expl.state.word} with no cause"


@settings(max_examples=100, deadline=None)
@given(graphs_with_scenario(), st.data())
def test_more_failures_never_improve_anything(
        case: tuple[GraphData, dict[str, State]], data: st.DataObject) -> None:
    g, scenario = case
    idx = GraphIndex.from_graph(g)
    extra = data.draw(st.sampled_from([n.id for n in g.nodes]))
    worse = {**scenario, extra: State.DOWN}
    small, big = analyse(idx, scenario).impacted, analyse(idx, worse).impacted
    assert all(big.get(n, State.OK) >= s for n, s in small.items())
