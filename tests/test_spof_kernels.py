"""The compiled pieces of the single-point-of-failure computation, each against a plain
restatement: components and levels against networkx, walks against breadth-first search."""

from __future__ import annotations

import networkx as nx
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph.impact import spof_kernels as kern
from servicegraph.impact.spof_graph import csr


@st.composite
def digraphs(draw: st.DrawFn) -> tuple[int, list[tuple[int, int]]]:
    n = draw(st.integers(1, 40))
    edges = draw(st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)),
                          max_size=4 * n))
    return n, edges


def arrays(n: int, edges: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    src = np.array([a for a, _ in edges], dtype=np.int64)
    dst = np.array([b for _, b in edges], dtype=np.int64)
    return csr(src, dst, n)


def networkx_graph(n: int, edges: list[tuple[int, int]]) -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(edges)
    return g


@settings(max_examples=200, deadline=None)
@given(digraphs())
def test_components_and_levels(graph: tuple[int, list[tuple[int, int]]]) -> None:
    n, edges = graph
    start, adj = arrays(n, edges)
    comp, count = kern.strong_components(start, adj)
    expected = {frozenset(c) for c in nx.strongly_connected_components(networkx_graph(n, edges))}
    found: dict[int, set[int]] = {}
    for v, c in enumerate(comp.tolist()):
        found.setdefault(c, set()).add(v)
    assert {frozenset(c) for c in found.values()} == expected
    assert count == len(expected)
    level = kern.levels(start, adj, comp, count)
    for a, b in edges:
        # Numbered so that what a component reaches has a smaller number; levels climb
        # along every edge between components and stay put within one.
        assert comp[b] <= comp[a]
        assert level[b] > level[a] if comp[a] != comp[b] else level[b] == level[a]


@settings(max_examples=200, deadline=None)
@given(digraphs(), st.data())
def test_walks(graph: tuple[int, list[tuple[int, int]]], data: st.DataObject) -> None:
    n, edges = graph
    start, adj = arrays(n, edges)
    g = networkx_graph(n, edges)
    roots = data.draw(st.lists(st.integers(0, n - 1), max_size=5))
    r = np.array(roots, dtype=np.int64)
    expected = set(roots).union(*(nx.descendants(g, x) for x in roots))
    assert sorted(kern.reach(start, adj, r).tolist()) == sorted(expected)
    post = kern.post_order(start, adj, r).tolist()
    assert sorted(post) == sorted(expected)
    # Post-order: a node comes after everything it reaches first (outside its cycle).
    at = {v: i for i, v in enumerate(post)}
    comp, count = kern.strong_components(start, adj)
    for a, b in edges:
        if a in at and comp[a] != comp[b]:
            assert at[b] < at[a]
    sources = np.array(data.draw(st.lists(st.integers(0, n - 1), max_size=64)),
                       dtype=np.int64)
    target = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    level = kern.levels(start, adj, comp, count)
    scratch = (np.zeros(n, np.uint64), np.zeros(n, np.uint64), np.zeros(n, np.bool_),
               np.full(int(level.max()) + 1, -1, np.int64), np.zeros(n, np.int64),
               np.zeros(n, np.int64))
    lane, node = kern.reach_lanes(start, adj, level, sources, target, *scratch)
    assert not scratch[0].any() and not scratch[1].any() and not scratch[2].any()
    assert (scratch[3] == -1).all()
    got = sorted(zip(lane.tolist(), node.tolist(), strict=True))
    want = sorted((i, v) for i, s in enumerate(sources.tolist())
                  for v in {s} | nx.descendants(g, s) if target[v])
    assert got == want


def test_popcount() -> None:
    for x in (0, 1, 2**63, 2**64 - 1, 0x5555_0000_FFFF_0001):
        assert kern.popcount(np.uint64(x)) == bin(x).count("1")
