"""Redundancy as people state it: a count, a share of the group, or ``{min_ok, ok_at}``.

Worked examples at the edges (one member, three at 50 %, a group emptied by
retirement), the rule in every answer that uses it (impact, headroom, single points
of failure, change assessment, root cause, exports), validation naming the item,
and the engine, the naive reference, the live graph and the single points of failure
held to each other on random graphs whose groups take every form, with cycles, soft
edges, retired members and emptied groups.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.impact import (
    GraphIndex,
    PlannedChange,
    analyse,
    assess_changes,
    naive_states,
    root_cause_candidates,
    single_points_of_failure,
    to_networkx,
)
from servicegraph.impact.spof_table import SpofTable
from servicegraph.live.state import LiveGraph
from servicegraph.model import (
    Edge,
    GraphData,
    Node,
    NodeKind,
    State,
    ValidationError,
    find_problems,
    parse_document,
    validate_removal,
)
from servicegraph.model.redundancy import Rule
from servicegraph.store.rows import change_rows, edge_row, node_row
from servicegraph.views.export import to_cytoscape, to_graphml

from graphs import graphs, graphs_with_scenario, rules

PROMISE, SYSTEM, CI = NodeKind.PROMISE, NodeKind.SERVICE_SYSTEM, NodeKind.CI
OK, DOWN, DEGRADED = State.OK, State.DOWN, State.DEGRADED
T = "2030-01-01T00:00:00.000000Z"


def tier(rule: Rule, members: int = 4) -> GraphData:
    """A promise on a tier of ``members`` servers in group ``web`` under ``rule``."""
    return GraphData.of(
        [Node("p", PROMISE, "Promise"), Node("tier", SYSTEM, "Tier", redundancy={"web": rule}),
         *(Node(f"w{i}", CI, f"W{i}") for i in range(1, members + 1))],
        [Edge("p", "tier"), *(Edge("tier", f"w{i}", "web") for i in range(1, members + 1))])


def tier_state(rule: Rule, members: int = 4, **given: State) -> State:
    """The tier's state under ``given``, by the engine; the reference must agree."""
    g = tier(rule, members)
    engine = dict(analyse(GraphIndex.from_graph(g), given).impacted).get("tier", OK)
    assert naive_states(to_networkx(g), given)["tier"] == engine
    return engine


# --- the rule, worked at the edges ------------------------------------------------------


@pytest.mark.parametrize(("rule", "down", "expected"), [
    # {min_ok: 2, ok_at: 3} of 4: one member lost is absorbed, two put it at risk, three
    # take it down.
    ({"min_ok": 2, "ok_at": 3}, 1, OK),
    ({"min_ok": 2, "ok_at": 3}, 2, DEGRADED),
    ({"min_ok": 2, "ok_at": 3}, 3, DOWN),
    # A count alone: ok only whole, as always.
    (2, 1, DEGRADED),
    (2, 3, DOWN),
    # 50 % of 4 is 2; 75 % of 4 is 3.
    ("50%", 2, DEGRADED),
    ("50%", 3, DOWN),
    ({"min_ok": "50%", "ok_at": "75%"}, 1, OK),
    ({"min_ok": "50%", "ok_at": "75%"}, 2, DEGRADED),
    ({"min_ok": 1, "ok_at": "50%"}, 2, OK),
    ({"min_ok": 1, "ok_at": "50%"}, 3, DEGRADED),
    ({"min_ok": 1, "ok_at": "50%"}, 4, DOWN),
])
def test_a_group_is_ok_degraded_or_down_by_its_rule(rule: Rule, down: int,
                                                    expected: State) -> None:
    given = {f"w{i}": DOWN for i in range(1, down + 1)}
    assert tier_state(rule, 4, **given) is expected


def test_three_members_at_half_need_two() -> None:
    assert tier_state("50%", 3, w1=DOWN) is DEGRADED
    assert tier_state("50%", 3, w1=DOWN, w2=DOWN) is DOWN


def test_one_member_needs_itself_whatever_the_share() -> None:
    assert tier_state("1%", 1, w1=DOWN) is DOWN
    assert tier_state({"min_ok": "1%", "ok_at": "1%"}, 1, w1=DEGRADED) is DEGRADED
    assert tier_state("100%", 1) is OK


def test_a_degraded_member_counts_as_up_but_not_as_ok() -> None:
    rule = {"min_ok": 2, "ok_at": 3}
    assert tier_state(rule, 4, w1=DEGRADED) is OK
    assert tier_state(rule, 4, w1=DEGRADED, w2=DEGRADED, w3=DEGRADED) is DEGRADED
    assert tier_state(rule, 4, w1=DOWN, w2=DEGRADED, w3=DEGRADED, w4=DEGRADED) is DEGRADED


def test_a_share_follows_the_group_as_members_retire_and_an_empty_group_has_no_effect(
) -> None:
    g = tier({"min_ok": "50%", "ok_at": "75%"}, 4)
    live = LiveGraph()
    live.apply(1, change_rows(g.nodes, g.edges, [], [], (), False))
    # Two members retire: 50 % of the 2 left is 1, 75 % is 2.
    retired = tuple(Edge(e.source, e.target, e.group, e.impact, (), T)
                    if e.target in ("w3", "w4") else e for e in g.edges)
    live.apply(2, change_rows(g.nodes, retired, [], [], (), False))
    assert dict(analyse(live.index, {"w1": DOWN}).impacted)["tier"] is DEGRADED
    assert dict(analyse(live.index, {"w1": DOWN, "w2": DOWN}).impacted)["tier"] is DOWN
    assert dict(analyse(live.index, {"w3": DOWN}).impacted) == {"w3": DOWN}
    # All retire: the group is empty, nothing of it can fail.
    emptied = tuple(Edge(e.source, e.target, e.group, e.impact, (), T)
                    if e.group else e for e in g.edges)
    live.apply(3, change_rows(g.nodes, emptied, [], [], (), False))
    assert dict(analyse(live.index, {"w1": DOWN}).impacted) == {"w1": DOWN}
    assert live.index.group_size.tolist() == [0]


# --- explanations ------------------------------------------------------------------------


def test_headroom_names_ok_at_only_when_a_rule_states_one() -> None:
    def headroom(rule: Rule, **given: State) -> str | None:
        result = analyse(GraphIndex.from_graph(tier(rule)), given)
        return result.explanations["tier"].causes[0].headroom

    assert headroom({"min_ok": 2, "ok_at": 3}, w1=DOWN, w2=DOWN) == \
        "2 of 4 up: ok at 3, needs 2"
    assert headroom({"min_ok": "50%", "ok_at": "75%"}, w1=DOWN, w2=DOWN, w3=DOWN) == \
        "1 of 4 up: ok at 3, needs 2"
    assert headroom({"min_ok": 2, "ok_at": 4}, w1=DEGRADED) == \
        "4 of 4 up, 3 ok: ok at 4, needs 2"
    # Today's text for today's rules, and for a share without ok_at.
    assert headroom(2, w1=DOWN) == "3 of 4 up, needs 2"
    assert headroom("75%", w1=DOWN, w2=DOWN) == "2 of 4 up, needs 3"


def test_explanations_listed_in_bulk_read_like_one_by_one() -> None:
    idx = GraphIndex.from_graph(tier({"min_ok": 2, "ok_at": 3}))
    result = analyse(idx, {"w1": DOWN, "w2": DEGRADED})
    one = result.explanations["tier"].to_dict()
    bulk = result.to_dict()["explanations"]["tier"]
    assert bulk["causes"] == one["causes"]
    assert one["causes"][0]["headroom"] == "3 of 4 up, 2 ok: ok at 3, needs 2"


# --- single points of failure, change assessment, root cause -----------------------------


def shared_san(rule: Rule) -> GraphData:
    """Two promises: ``p`` on a tier of four servers in a group under ``rule``, of which
    ``w1`` and ``w2`` sit on ``san``; ``q`` directly on ``w4``."""
    g = tier(rule)
    return GraphData.of(
        [*g.nodes, Node("san", CI, "SAN"), Node("q", PROMISE, "Q"),
         Node("qs", SYSTEM, "QS")],
        [*g.edges, Edge("w1", "san"), Edge("w2", "san"), Edge("q", "qs"), Edge("qs", "w4")])


def test_a_member_is_a_single_point_only_if_its_loss_alone_takes_the_group_below_min_ok(
) -> None:
    # min_ok 3 of 4: any one member lost leaves 3; the SAN takes two.
    idx = GraphIndex.from_graph(shared_san({"min_ok": 3, "ok_at": 4}))
    assert [sp.component for sp in single_points_of_failure(idx, "p")] == ["san", "tier"]
    # min_ok 2: the SAN leaves two up, at ok_at 3 it only puts p at risk.
    idx = GraphIndex.from_graph(shared_san({"min_ok": 2, "ok_at": 3}))
    assert [sp.component for sp in single_points_of_failure(idx, "p")] == ["tier"]


def test_a_loss_the_group_absorbs_puts_nothing_at_risk() -> None:
    """Before, every promise depending on a failed component in any way was at risk."""
    idx = GraphIndex.from_graph(shared_san({"min_ok": 2, "ok_at": 3}))
    table = SpofTable.compute(idx, workers=1)
    by_component = {sp.component: sp for sp in table.points(idx.in_id_order(
        idx.lookup(["w4", "san"])))}
    # w4 down breaks q; p loses one member of four, which ok_at 3 absorbs.
    assert by_component["w4"].breaks == ("q",) and by_component["w4"].at_risk == ()
    # The SAN takes two members: p at risk, not broken.
    assert by_component["san"].breaks == () and by_component["san"].at_risk == ("p",)


def test_two_changes_on_one_group_conflict_only_past_its_threshold() -> None:
    at = [datetime(2030, 1, 1, h, tzinfo=UTC) for h in (20, 21, 22, 23)]
    idx = GraphIndex.from_graph(tier({"min_ok": 2, "ok_at": 3}))
    result = assess_changes(idx, [PlannedChange("a", ("w1",), at[0], at[2]),
                                  PlannedChange("b", ("w2",), at[1], at[3])])
    # Each alone is absorbed; together the tier is at risk (not broken: 2 still up).
    assert result.impacts["a"].at_risk_promises == []
    assert [c.at_risk_promises for c in result.conflicts] == [("p",)]
    assert [c.broken_promises for c in result.conflicts] == [()]


def test_root_cause_is_not_blamed_for_what_a_group_absorbs() -> None:
    idx = GraphIndex.from_graph(shared_san({"min_ok": 2, "ok_at": 3}))
    # p seen at risk, q seen fine: the tier itself, or the SAN taking two members; a
    # server alone is absorbed (and w4 would break q).
    found = root_cause_candidates(idx, {"p": DEGRADED, "q": OK})
    assert {c.component for c in found} == {"tier", "san"}


# --- validation --------------------------------------------------------------------------


def problems_of(rule: Any, members: int = 3) -> list[str]:
    doc = tier(1, members).to_dict()
    doc["nodes"][1]["redundancy"] = {"web": rule}
    try:
        batch = parse_document(doc)
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in find_problems(batch)]


@pytest.mark.parametrize(("rule", "expected"), [
    ("0%", "min_ok must be a count (an integer from 1), a share ('1%' to '100%') or a "
           "mapping {min_ok, ok_at} of those, got '0%'"),
    ("101%", "got '101%'"),
    ("50.5%", "got '50.5%'"),
    ("half", "got 'half'"),
    (2.0, "got 2.0"),
    (True, "got True"),
    ({"ok_at": 2}, "the rule needs min_ok"),
    ({"min_ok": 1, "ok": 2}, "unknown field 'ok' in the rule (allowed: min_ok, ok_at)"),
    ({"min_ok": 1, "ok_at": None}, "ok_at must be a count (an integer from 1) or a share"),
    ({"min_ok": 0}, "min_ok 0 out of range 1..3 (3 member(s) in group)"),
    ({"min_ok": 1, "ok_at": 4}, "ok_at 4 out of range 1..3 (3 member(s) in group)"),
    ({"min_ok": 2, "ok_at": 1}, "ok_at 1 is below min_ok 2"),
    ({"min_ok": "60%", "ok_at": "50%"}, "ok_at '50%' is below min_ok '60%'"),
    ({"min_ok": 3, "ok_at": "50%"}, "ok_at '50%' (2 of 3) is below min_ok 3"),
    ({"min_ok": "100%", "ok_at": 2}, "ok_at 2 is below min_ok '100%' (3 of 3)"),
])
def test_a_bad_rule_is_refused_naming_the_node_and_group(rule: Any, expected: str) -> None:
    found = problems_of(rule)
    assert len(found) == 1 and found[0].startswith("nodes[1] ('tier'): redundancy.web: ")
    assert expected in found[0], found


@pytest.mark.parametrize("rule", [
    "50%", "1%", "100%", {"min_ok": 2}, {"min_ok": 2, "ok_at": 2},
    {"min_ok": "34%", "ok_at": "34%"}, {"min_ok": 1, "ok_at": "50%"},
    {"min_ok": "50%", "ok_at": 3}, {"min_ok": 2, "ok_at": "60%"}])
def test_good_rules_pass(rule: Rule) -> None:
    assert problems_of(rule) == []


def test_a_removal_is_checked_against_the_rule_left() -> None:
    g = tier({"min_ok": 2, "ok_at": 3}, 3)
    with pytest.raises(ValidationError, match=r"redundancy\.web: removal leaves 2 member\(s\) "
                                              r"in group 'web': ok_at 3 out of range 1\.\.2"):
        validate_removal(g, ["w3"])
    assert len(validate_removal(tier("50%", 3), ["w3"]).nodes) == 4
    with pytest.raises(ValidationError, match="removal leaves 0 member"):
        validate_removal(tier("50%", 1), ["w1"])


# --- exports -----------------------------------------------------------------------------


def test_exports_carry_the_rule_as_written() -> None:
    rule = {"min_ok": "50%", "ok_at": 3}
    g = tier(rule)
    graphml = nx.parse_graphml(to_graphml(g))
    assert json.loads(graphml.nodes["tier"]["redundancy"]) == {"web": rule}
    nodes = {n["data"]["id"]: n["data"] for n in to_cytoscape(g)["elements"]["nodes"]}
    assert nodes["tier"]["redundancy"] == {"web": rule}


# --- held to each other on random graphs -------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(graphs_with_scenario())
def test_the_index_resolves_every_rule_like_the_reference(
        case: tuple[GraphData, dict[str, State]]) -> None:
    g, scenario = case
    expected = {n: s for n, s in naive_states(to_networkx(g), scenario).items() if s}
    assert dict(analyse(GraphIndex.from_graph(g), scenario).impacted) == expected


@st.composite
def retiring(draw: st.DrawFn) -> tuple[GraphData, GraphData, dict[str, State]]:
    """A random graph; the same with some edges retired, group members included (their
    groups' counts cut to what is left, shares kept, groups possibly emptied); and a
    scenario."""
    g = draw(graphs(max_nodes=10))
    keys = [e.key for e in g.edges]
    gone = set(draw(st.lists(st.sampled_from(keys), unique=True))) if keys else set()
    edges = tuple(Edge(e.source, e.target, e.group, e.impact, (), T if e.key in gone
                       else None) for e in g.edges)
    left: dict[tuple[str, str], int] = {}
    for e in edges:
        if e.group and e.retired_at is None:
            left[(e.source, e.group)] = left.get((e.source, e.group), 0) + 1
    nodes = tuple(n.with_changes(redundancy={
        group: draw(rules(left[(n.id, group)])) if left.get((n.id, group)) else rule
        for group, rule in n.redundancy.items()}) for n in g.nodes)
    ids = [n.id for n in g.nodes]
    failed = draw(st.lists(st.sampled_from(ids), unique=True, max_size=4))
    given = {n: draw(st.sampled_from([DEGRADED, DOWN])) for n in failed}
    return g, GraphData(nodes, edges), given


@settings(max_examples=200, deadline=None)
@given(retiring())
def test_retired_members_and_emptied_groups_agree_with_the_reference(
        case: tuple[GraphData, GraphData, dict[str, State]]) -> None:
    before, after, scenario = case
    live = LiveGraph()
    live.apply(1, change_rows(before.nodes, before.edges, [], [], (), False))
    live.apply(2, change_rows(after.nodes, after.edges, [], [], (), False))
    whole = LiveGraph.build(2, (node_row(n) for n in after.nodes),
                            (edge_row(e) for e in after.edges))
    expected = {n: s for n, s in naive_states(to_networkx(after.live()), scenario).items()
                if s}
    assert dict(analyse(live.index, scenario).impacted) == expected
    assert dict(analyse(whole.index, scenario).impacted) == expected
    assert dict(analyse(live.index.snapshot(), scenario).impacted) == expected
    # Single points of failure on the changed index, held to the engine per component.
    snap = live.index.snapshot()
    table = SpofTable.compute(snap, workers=1)
    for promise in snap.of_kind(PROMISE).tolist():
        points, _ = table.of_promise(snap.ids[promise])
        for sp in points:
            states = dict(analyse(snap, {sp.component: DOWN}).impacted)
            promises = [snap.ids[p] for p in snap.of_kind(PROMISE).tolist()]
            assert set(sp.breaks) == {p for p in promises if states.get(p) is DOWN}
            assert set(sp.at_risk) == {p for p in promises if states.get(p) is DEGRADED}
