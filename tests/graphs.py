"""Hypothesis strategies for random valid service graphs and failure scenarios.

Graphs respect the layer table, and deliberately include cycles (among
business services, among service systems and among CIs, where the table
allows them), redundancy groups whose rules take every form (a count in 1..n, a share,
``{min_ok, ok_at}`` of counts and shares), and soft edges.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.impact import ImpactResult, analyse, scenario
from servicegraph.model import Edge, GraphData, Impact, Node, NodeKind, State, may_depend
from servicegraph.model.redundancy import Rule, group_problem, resolve_one

KINDS = list(NodeKind)


@st.composite
def graphs(draw: st.DrawFn, max_nodes: int = 12) -> GraphData:
    """A random valid graph."""
    n = draw(st.integers(1, max_nodes))
    kinds = [draw(st.sampled_from(KINDS)) for _ in range(n)]
    pairs = [(a, b) for a in range(n) for b in range(n)
             if a != b and may_depend(kinds[a], kinds[b])]
    chosen = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=3 * n)) if pairs else []
    edges: list[Edge] = []
    members: dict[tuple[int, str], int] = {}
    for a, b in chosen:
        how = draw(st.sampled_from(["hard", "soft", "g1", "g2"]))
        if how == "soft":
            edges.append(Edge(f"n{a}", f"n{b}", None, Impact.SOFT))
        elif how == "hard":
            edges.append(Edge(f"n{a}", f"n{b}"))
        else:
            edges.append(Edge(f"n{a}", f"n{b}", how))
            members[(a, how)] = members.get((a, how), 0) + 1
    redundancy: dict[int, dict[str, Rule]] = {}
    for (a, group), size in members.items():
        redundancy.setdefault(a, {})[group] = draw(rules(size))
    nodes = [Node(f"n{i}", kinds[i], f"Node {i}", redundancy=redundancy.get(i, {}))
             for i in range(n)]
    return GraphData(tuple(nodes), tuple(edges))


FORMS = 6


def make_rule(form: int, low: int, high: int, size: int) -> Rule:
    """A valid rule for a group of ``size`` members, of one of :data:`FORMS` forms
    (a count; a share; ``{min_ok, ok_at}`` as two counts, two shares, a count and a
    share, a share and a count), its amounts picked by the integers ``low`` and
    ``high``."""
    form %= FORMS
    count = 1 + low % size
    share = 1 + low % 100
    if form == 0:
        rule: Rule = count
    elif form == 1:
        rule = f"{share}%"
    elif form == 2:
        rule = {"min_ok": count, "ok_at": count + high % (size - count + 1)}
    elif form == 3:
        rule = {"min_ok": f"{share}%", "ok_at": f"{share + high % (101 - share)}%"}
    elif form == 4:
        at = 1 + high % 100
        if resolve_one(-at, size) < count:
            at = 100
        rule = {"min_ok": count, "ok_at": f"{at}%"}
    else:
        need = resolve_one(-share, size)
        rule = {"min_ok": f"{share}%", "ok_at": need + high % (size - need + 1)}
    assert group_problem(rule, size) is None, (rule, size)
    return rule


@st.composite
def rules(draw: st.DrawFn, size: int) -> Rule:
    """A valid rule of any form for a group of ``size`` members."""
    return make_rule(draw(st.integers(0, FORMS - 1)), draw(st.integers(0, 10_000)),
                     draw(st.integers(0, 10_000)), size)


def fitted(rule: Rule, size: int) -> Rule:
    """``rule`` made valid for a group left with ``size`` (at least 1) members: counts
    cut to ``size``, an ``ok_at`` below ``min_ok`` dropped (all members)."""
    if isinstance(rule, int):
        return min(rule, size)
    if isinstance(rule, str):
        return rule
    low, high = rule["min_ok"], rule["ok_at"]
    low = min(low, size) if isinstance(low, int) else low
    high = min(high, size) if isinstance(high, int) else high
    out: Rule = {"min_ok": low, "ok_at": high}
    return out if group_problem(out, size) is None else {"min_ok": low}


@st.composite
def graphs_with_scenario(draw: st.DrawFn, max_nodes: int = 12
                         ) -> tuple[GraphData, dict[str, State]]:
    """A random graph and a failure scenario on it (some nodes down or degraded)."""
    g = draw(graphs(max_nodes))
    ids = [node.id for node in g.nodes]
    failed = draw(st.lists(st.sampled_from(ids), unique=True, max_size=max(1, len(ids) // 2)))
    given = {n: draw(st.sampled_from([State.DEGRADED, State.DOWN])) for n in failed}
    return g, given


def what_if(sg: ServiceGraph, down: Sequence[str] = (),
            degraded: Sequence[str] = ()) -> ImpactResult:
    """The typed impact of a what-if on ``sg``'s live graph."""
    return analyse(sg.questions.index(), scenario(down, degraded))


def observed(sg: ServiceGraph) -> ImpactResult:
    """The typed impact of what integrators observe now on ``sg``."""
    with sg.questions.reading() as live:
        return sg.questions.current_on(live)
