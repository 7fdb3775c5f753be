"""Root-cause candidates: worked examples, and the naive oracle as judge."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from hypothesis import given, settings

from servicegraph.examples import example_text
from servicegraph.impact import (
    Candidate,
    GraphIndex,
    naive_states,
    root_cause_candidates,
    to_networkx,
)
from servicegraph.model import GraphData, NodeKind, State, UnknownNodeError, loads

from graphs import graphs_with_scenario

DOWN, DEGRADED, OK = State.DOWN, State.DEGRADED, State.OK


@pytest.fixture(scope="module")
def example() -> GraphIndex:
    return GraphIndex.from_graph(loads(example_text()))


def test_both_ordering_acts_down_points_at_the_shop_first(example: GraphIndex) -> None:
    found = root_cause_candidates(example, {"act-place-order": DOWN, "act-check-delivery": DOWN},
                                  limit=50)
    full = [c.component for c in found if c.explains_all]
    # Every full explainer, the closest (fewest unobserved casualties) first.
    assert full == ["webshop", "erp", "erp-db", "web-tier", "lb", "san", "network", "wan"]
    assert found[0] == Candidate("webshop", ("act-check-delivery", "act-place-order"), (), 3)
    # Then the partial ones: each act explains itself only.
    partial = found[len(full):]
    assert {c.component for c in partial} == {"act-place-order", "act-check-delivery"}
    assert all(len(c.explains) == 1 and len(c.unexplained) == 1 for c in partial)
    # A redundant member cannot take the acts down alone: not even a partial candidate.
    assert not {"web-1", "erp-db-a", "wan-a"} & {c.component for c in found}


def test_degraded_observations_are_explained_by_redundancy_loss(example: GraphIndex) -> None:
    found = root_cause_candidates(example, {"order-anytime": DEGRADED, "fun-day": DEGRADED},
                                  limit=100)
    full = {c.component for c in found if c.explains_all}
    # The web tier serves the shop and the park; losing one of its three servers
    # costs it its spare, which puts both promises at risk.
    assert found[0].component == "web-tier"
    assert {"web-1", "web-2", "web-3", "lb", "san"} <= full
    # A soft need of identity reaches ordering only: a partial explanation.
    ad2 = next(c for c in found if c.component == "ad-2")
    assert (ad2.explains, ad2.unexplained) == (("order-anytime",), ("fun-day",))
    assert all(example.nodes[c.component].kind is not NodeKind.PROMISE for c in found)


def test_observed_nodes_are_candidates_and_parsimony_breaks_ties(example: GraphIndex) -> None:
    found = root_cause_candidates(example, {"recruiting-feed": DOWN, "hr-app": DOWN}, limit=4)
    # recruiting-feed was itself observed, so explaining with it assumes the least;
    # each step further down adds one unobserved casualty.
    assert [c.component for c in found] == [
        "recruiting-feed", "feed-job", "recruiting-app", "ats-tenant"]
    assert [c.extra for c in found] == [3, 4, 4, 5]
    assert all(c.explains_all for c in found)


def test_observed_ok_is_ignored_and_promises_are_never_candidates(example: GraphIndex) -> None:
    found = root_cause_candidates(example, {"onboarding": DOWN, "fun-day": OK}, limit=100)
    assert "onboarding" not in {c.component for c in found}
    assert all(c.explains == ("onboarding",) for c in found)
    assert found[0].component == "employee-onboarding"


def test_limit_and_to_dict(example: GraphIndex) -> None:
    found = root_cause_candidates(example, {"webshop": DOWN}, limit=2)
    # Extra: both ordering acts, online ordering and its promise, none of them observed.
    assert len(found) == 2
    assert json.loads(json.dumps(found[0].to_dict())) == {
        "component": "webshop", "explains": ["webshop"], "unexplained": [], "extra": 4,
        "explains_all": True}


def test_bad_requests(example: GraphIndex) -> None:
    with pytest.raises(UnknownNodeError) as err:
        root_cause_candidates(example, {"san": DOWN, "x": DOWN, "y": DEGRADED})
    assert err.value.ids == ("x", "y")
    with pytest.raises(ValueError, match="degraded or down"):
        root_cause_candidates(example, {"san": OK})
    with pytest.raises(ValueError, match="degraded or down"):
        root_cause_candidates(example, {})
    with pytest.raises(ValueError, match="limit"):
        root_cause_candidates(example, {"san": DOWN}, limit=0)


@settings(max_examples=200, deadline=None)
@given(graphs_with_scenario())
def test_candidates_agree_with_the_naive_oracle(case: tuple[GraphData, dict[str, State]]) -> None:
    g, observed = case
    if not observed:
        return
    nxg = to_networkx(g)
    idx = GraphIndex.from_graph(g)
    found = root_cause_candidates(idx, observed, limit=10_000)
    pool = set(observed).union(*(nx.descendants(nxg, n) for n in observed))
    pool -= {n.id for n in g.nodes if n.kind is NodeKind.PROMISE}

    def explained(component: str) -> set[str]:
        states = naive_states(nxg, {component: DOWN})
        return {n for n, s in observed.items() if states[n] >= s}

    by_id = {c.component: c for c in found}
    for c in found:
        assert c.component in pool
        assert set(c.explains) == explained(c.component)
        assert set(c.explains) | set(c.unexplained) == set(observed)
        impacted = {n for n, s in naive_states(nxg, {c.component: DOWN}).items() if s > OK}
        assert c.extra == len(impacted - set(observed))
    # Nothing that explains something is missing, full explainers above all.
    assert {n for n in pool if explained(n)} == set(by_id)
    keys = [(bool(c.unexplained), -len(c.explains), c.extra, c.component) for c in found]
    assert keys == sorted(keys)
