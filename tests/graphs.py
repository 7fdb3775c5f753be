"""Hypothesis strategies for random valid service graphs and failure scenarios.

Graphs respect the layer table, and deliberately include cycles (among
business services, among service systems and among CIs, where the table
allows them), redundancy groups with any ``min_ok`` in 1..n, and soft edges.
"""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.impact import ImpactResult, analyse, scenario
from servicegraph.model import Edge, GraphData, Impact, Node, NodeKind, State, may_depend

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
    redundancy: dict[int, dict[str, int]] = {}
    for (a, group), size in members.items():
        redundancy.setdefault(a, {})[group] = draw(st.integers(1, size))
    nodes = [Node(f"n{i}", kinds[i], f"Node {i}", redundancy=redundancy.get(i, {}))
             for i in range(n)]
    return GraphData(tuple(nodes), tuple(edges))


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
