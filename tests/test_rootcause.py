"""Root-cause candidates: worked examples on the example enterprise, and properties on
random graphs held to the naive evaluator: a component that truly fails alone is always
a candidate, and every candidate is consistent with every observation."""

from __future__ import annotations

import itertools
import json

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.examples import example_text
from servicegraph.impact import GraphIndex, naive_states, root_cause_candidates, to_networkx
from servicegraph.model import GraphData, NodeKind, State, UnknownNodeError, loads

from graphs import graphs

DOWN, DEGRADED, OK = State.DOWN, State.DEGRADED, State.OK
ALL_KINDS = frozenset(NodeKind)


@pytest.fixture(scope="module")
def example() -> GraphIndex:
    return GraphIndex.from_graph(loads(example_text()))


def test_symptoms_are_not_causes_by_default(example: GraphIndex) -> None:
    # The onboarding promise and its act observed down: the act is where the customer
    # meets the failure, not something anyone can repair.
    found = root_cause_candidates(example, {"onboarding": DOWN, "act-new-employee": DOWN},
                                  limit=100)
    assert {c.kind for c in found} <= {NodeKind.SERVICE_SYSTEM, NodeKind.CI}
    assert found[0].component == "hr-app" and found[0].explains_all
    assert found[0].chains["onboarding"] == ("onboarding", "employee-onboarding",
                                             "act-new-employee", "hr-app")
    # Asked for, acts may be candidates too.
    acts = root_cause_candidates(example, {"onboarding": DOWN, "act-new-employee": DOWN},
                                 kinds={NodeKind.SERVICE_ACT}, limit=100)
    assert acts[0].component == "act-new-employee" and acts[0].explains_all
    assert all(c.kind is NodeKind.SERVICE_ACT for c in acts)


def test_a_component_seen_ok_is_ruled_out_and_rules_out_what_would_fail_it(
        example: GraphIndex) -> None:
    seen = {"onboarding": DOWN, "act-new-employee": DOWN}
    before = {c.component for c in root_cause_candidates(example, seen, limit=100)}
    assert {"hr-app", "recruiting-feed", "feed-job"} <= before
    found = root_cause_candidates(example, {**seen, "hr-app": OK}, limit=100)
    after = {c.component for c in found}
    # hr-app is fine, so neither it nor anything whose failure would take it down is.
    assert not {"hr-app", "hr-tenant", "recruiting-feed", "feed-job"} & after
    assert found[0].component == "automation" and found[0].explains_all


def test_evidence_and_parsimony_rank_the_full_explainers(example: GraphIndex) -> None:
    found = root_cause_candidates(example, {
        "act-new-employee": DOWN, "hr-app": DOWN, "recruiting-feed": DOWN,
        "recruiting-app": OK}, limit=10)
    assert [c.component for c in found[:2]] == ["recruiting-feed", "feed-job"]
    first, second = found[0], found[1]
    assert first.evidence is DOWN and second.evidence is None
    assert (first.extra, second.extra) == (2, 3)
    # hr-app is down in every hypothesis left, but alone it leaves the feed unexplained.
    hr = next(c for c in found if c.component == "hr-app")
    assert (hr.explains, hr.unexplained) == (("act-new-employee", "hr-app"),
                                             ("recruiting-feed",))
    assert found.index(hr) > 1


def test_degraded_observations_take_degraded_and_redundancy_hypotheses(
        example: GraphIndex) -> None:
    found = root_cause_candidates(example, {"order-anytime": DEGRADED, "fun-day": DEGRADED},
                                  limit=100)
    by_id = {c.component: c for c in found}
    assert found[0].component == "web-tier" and found[0].state is DEGRADED
    # Losing one web server of three costs the tier its spare: both promises at risk.
    assert by_id["web-1"].state is DOWN and by_id["web-1"].explains_all
    # The tier down would break the promises, worse than seen: only degraded fits.
    assert all(c.state is DEGRADED for c in found if c.component in ("web-tier", "lb"))


def test_answer_form(example: GraphIndex) -> None:
    (best,) = root_cause_candidates(example, {"webshop": DOWN}, limit=1)
    assert json.loads(json.dumps(best.to_dict())) == {
        "component": "webshop", "kind": "service_system", "state": "down",
        "explains": ["webshop"], "unexplained": [], "extra": 4, "evidence": "down",
        "explains_all": True, "chains": {"webshop": ["webshop"]}}


def test_bad_requests(example: GraphIndex) -> None:
    with pytest.raises(UnknownNodeError) as err:
        root_cause_candidates(example, {"san": DOWN, "x": DOWN, "y": DEGRADED})
    assert err.value.ids == ("x", "y")
    for observed in ({"san": OK}, {}):
        with pytest.raises(ValueError, match="degraded or down"):
            root_cause_candidates(example, observed)
    with pytest.raises(ValueError, match="limit"):
        root_cause_candidates(example, {"san": DOWN}, limit=0)
    with pytest.raises(ValueError, match="kind"):
        root_cause_candidates(example, {"san": DOWN}, kinds=())


# --- properties on random graphs, the naive evaluator as oracle --------------------------


@st.composite
def single_faults(draw: st.DrawFn) -> tuple[GraphData, str, State, dict[str, State]]:
    """A graph, one component that truly fails (down or degraded), and observations of a
    random subset of the states that follow, healthy ones included."""
    g = draw(graphs())
    culprit = draw(st.sampled_from([n.id for n in g.nodes]))
    mode = draw(st.sampled_from([DOWN, DEGRADED]))
    truth = naive_states(to_networkx(g), {culprit: mode})
    failing = sorted(n for n, s in truth.items() if s > OK)
    healthy = sorted(n for n, s in truth.items() if s == OK)
    seen = draw(st.lists(st.sampled_from(failing), min_size=1, unique=True))
    seen += draw(st.lists(st.sampled_from(healthy), unique=True)) if healthy else []
    return g, culprit, mode, {n: truth[n] for n in seen}


@settings(max_examples=300, deadline=None)
@given(single_faults())
def test_the_true_single_fault_is_always_a_candidate(
        case: tuple[GraphData, str, State, dict[str, State]]) -> None:
    g, culprit, mode, observed = case
    found = root_cause_candidates(GraphIndex.from_graph(g), observed, limit=10_000,
                                  kinds=ALL_KINDS)
    by_id = {c.component: c for c in found}
    assert culprit in by_id, (culprit, mode, observed)
    # Its own hypothesis predicts every node exactly, so it explains all that is seen.
    assert by_id[culprit].explains_all


@settings(max_examples=300, deadline=None)
@given(single_faults(), st.sampled_from([frozenset({NodeKind.SERVICE_SYSTEM, NodeKind.CI}),
                                         ALL_KINDS]))
def test_every_candidate_is_consistent_and_ranked(
        case: tuple[GraphData, str, State, dict[str, State]], kinds: frozenset[NodeKind],
) -> None:
    g, _, _, observed = case
    nxg = to_networkx(g)
    kind_of = {n.id: n.kind for n in g.nodes}
    failing = {n for n, s in observed.items() if s > OK}
    pool = failing.union(*(nx.descendants(nxg, n) for n in failing))
    found = root_cause_candidates(GraphIndex.from_graph(g), observed, limit=10_000,
                                  kinds=kinds)

    def outcome(component: str, state: State) -> tuple[bool, set[str]]:
        predicted = naive_states(nxg, {component: state})
        consistent = all(predicted[n] <= s for n, s in observed.items())
        return consistent, {n for n in failing if predicted[n] == observed[n]}

    for c in found:
        assert c.component in pool and kind_of[c.component] in kinds
        consistent, explained = outcome(c.component, c.state)
        assert consistent and explained == set(c.explains), c
        assert set(c.explains) | set(c.unexplained) == failing
        predicted = naive_states(nxg, {c.component: c.state})
        assert c.extra == sum(1 for n, s in predicted.items() if s > OK and n not in observed)
        assert c.evidence == observed.get(c.component)
        for node, chain in c.chains.items():
            assert chain[0] == node and chain[-1] == c.component
            assert all(nxg.has_edge(a, b) for a, b in itertools.pairwise(chain))
    # Nothing consistent that explains something is missing.
    expected = {n for n in pool if kind_of[n] in kinds
                and any(ok and hits for ok, hits in (outcome(n, DOWN), outcome(n, DEGRADED)))}
    assert {c.component for c in found} == expected
    keys = [c.rank() for c in found]
    assert keys == sorted(keys)


def test_observations_that_no_single_fault_fits_leave_partial_candidates(
        example: GraphIndex) -> None:
    # Two unrelated failures: no single component explains both, each explains its own.
    found = root_cause_candidates(example, {"act-new-employee": DOWN, "act-enter-park": DOWN},
                                  limit=100)
    assert found and not any(c.explains_all for c in found)
    explained = {n for c in found for n in c.explains}
    assert explained == {"act-new-employee", "act-enter-park"}
