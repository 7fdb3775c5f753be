"""Single points of failure: worked examples on the example enterprise, and brute force."""

from __future__ import annotations

import json

import networkx as nx
import pytest
from hypothesis import given, settings

from servicegraph.examples import example_text
from servicegraph.impact import (
    GraphIndex,
    SinglePoint,
    naive_states,
    single_points_of_failure,
    spof_ranking,
    to_networkx,
)
from servicegraph.model import GraphData, NodeKind, State, UnknownNodeError, loads

from graphs import graphs

DOWN = State.DOWN


@pytest.fixture(scope="module")
def example() -> GraphIndex:
    return GraphIndex.from_graph(loads(example_text()))


def by_component(points: list[SinglePoint]) -> dict[str, SinglePoint]:
    return {sp.component: sp for sp in points}


def test_a_data_feed_job_breaks_onboarding_alone(example: GraphIndex) -> None:
    points = by_component(single_points_of_failure(example, "onboarding"))
    assert points["feed-job"] == SinglePoint("feed-job", NodeKind.CI, ("onboarding",), ())
    # The business service and the acts in between are single points too.
    assert {"employee-onboarding", "act-new-employee", "hr-app", "recruiting-feed"} <= set(points)


def test_storage_breaks_ordering_and_puts_the_park_at_risk(example: GraphIndex) -> None:
    points = by_component(single_points_of_failure(example, "order-anytime"))
    san = points["san"]
    assert (san.breaks, san.at_risk) == (("order-anytime",), ("fun-day",))


def test_redundant_and_soft_dependencies_are_not_single_points(example: GraphIndex) -> None:
    ordering = set(by_component(single_points_of_failure(example, "order-anytime")))
    # One web server of a 2-of-3 tier, one of two database nodes, one of two WAN links:
    # each leaves the promise at risk, never broken. Delivery times are a soft need.
    assert not ordering & {"web-1", "web-2", "web-3", "erp-db-a", "wan-a", "act-check-delivery"}
    assert {"web-tier", "lb", "erp-db", "wan"} <= ordering
    park = set(by_component(single_points_of_failure(example, "fun-day")))
    assert park == {"park-visit", "act-enter-park", "gate-control"}


def test_ranked_by_promises_broken_then_id(example: GraphIndex) -> None:
    points = single_points_of_failure(example, "onboarding")
    assert [sp.component for sp in points[:4]] == ["itsm-tenant", "network", "ticketing", "wan"]
    keys = [(-len(sp.breaks), sp.component) for sp in points]
    assert keys == sorted(keys)
    assert all(sp.component != "onboarding" for sp in points)


def test_catalogue_ranking_by_kind_and_limit(example: GraphIndex) -> None:
    ranking = spof_ranking(example)
    assert {sp.kind for sp in ranking} == {NodeKind.SERVICE_SYSTEM, NodeKind.CI}
    assert [sp.component for sp in ranking[:4]] == ["itsm-tenant", "network", "ticketing", "wan"]
    assert all(sp.breaks for sp in ranking)
    assert "web-1" not in by_component(ranking) and "gate-1" not in by_component(ranking)
    cis = spof_ranking(example, kinds=[NodeKind.CI], limit=3)
    assert [sp.component for sp in cis] == ["itsm-tenant", "wan", "ad-1"]
    acts = spof_ranking(example, kinds={NodeKind.SERVICE_ACT})
    assert {sp.component for sp in acts} == {
        "act-new-employee", "act-order-computer", "act-get-help", "act-place-order",
        "act-enter-park"}


def test_to_dict_is_json_ready(example: GraphIndex) -> None:
    doc = by_component(single_points_of_failure(example, "order-anytime"))["san"].to_dict()
    assert json.loads(json.dumps(doc)) == {
        "component": "san", "kind": "ci", "breaks": ["order-anytime"], "at_risk": ["fun-day"]}


def test_bad_requests(example: GraphIndex) -> None:
    with pytest.raises(UnknownNodeError) as err:
        single_points_of_failure(example, "nope")
    assert err.value.ids == ("nope",)
    with pytest.raises(ValueError, match="not a promise"):
        single_points_of_failure(example, "san")
    with pytest.raises(ValueError, match="limit"):
        spof_ranking(example, limit=0)


def brute_force(g: GraphData, kinds: set[NodeKind] | None = None
                ) -> dict[str, tuple[set[str], set[str]]]:
    """Every node -> (promises broken, at risk) when it alone is down, by the naive oracle."""
    nxg = to_networkx(g)
    promises = {n.id for n in g.nodes if n.kind is NodeKind.PROMISE}
    out = {}
    for n in g.nodes:
        if kinds is not None and n.kind not in kinds:
            continue
        states = naive_states(nxg, {n.id: DOWN})
        out[n.id] = ({p for p in promises if states[p] == DOWN},
                     {p for p in promises if states[p] == State.DEGRADED})
    return out


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_single_points_agree_with_brute_force(g: GraphData) -> None:
    idx = GraphIndex.from_graph(g)
    alone = brute_force(g)
    nxg = to_networkx(g)
    for promise in (n.id for n in g.nodes if n.kind is NodeKind.PROMISE):
        found = by_component(single_points_of_failure(idx, promise))
        expected = {c for c in nx.descendants(nxg, promise) if promise in alone[c][0]}
        assert set(found) == expected
        for c, sp in found.items():
            assert (set(sp.breaks), set(sp.at_risk)) == alone[c]
            assert sp.kind is idx.nodes[c].kind


@settings(max_examples=200, deadline=None)
@given(graphs())
def test_ranking_agrees_with_brute_force(g: GraphData) -> None:
    idx = GraphIndex.from_graph(g)
    kinds = {NodeKind.SERVICE_SYSTEM, NodeKind.CI}
    expected = {c: b for c, (b, _) in brute_force(g, kinds).items() if b}
    ranking = spof_ranking(idx)
    assert {sp.component: set(sp.breaks) for sp in ranking} == expected
    assert ranking == sorted(ranking, key=lambda sp: (-len(sp.breaks), sp.component))
