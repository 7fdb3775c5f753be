"""The impact engine: DESIGN.md's propagation rules as a worklist over the index.

States only ever rise (ok -> degraded -> down), so each node changes at most
twice and each edge is looked at most twice: the least fixpoint costs
O(edges reached), whatever cycles the graph holds. Redundancy groups keep two
counters (members not ok, members down) that are updated as members rise,
so a group of a thousand members is never rescanned.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from servicegraph.impact.index import GraphIndex
from servicegraph.model.kinds import State

_OK, _DEGRADED, _DOWN = int(State.OK), int(State.DEGRADED), int(State.DOWN)


@dataclass(frozen=True)
class Propagation:
    """Raw outcome: the state of every node that is not ok, by node number.

    ``group_not_ok`` and ``group_down`` are the final member counters per group
    number (absent = 0); the explanation step reads them.
    """

    index: GraphIndex
    given: Mapping[int, int]
    state: Mapping[int, int]
    group_not_ok: Mapping[int, int]
    group_down: Mapping[int, int]

    def group_state(self, g: int) -> int:
        """What redundancy group ``g`` contributes to its node."""
        up = self.index.group_size[g] - self.group_down.get(g, 0)
        if up < self.index.group_min_ok[g]:
            return _DOWN
        return _DEGRADED if self.group_not_ok.get(g, 0) else _OK

    def contribution(self, e: int) -> int:
        """What edge ``e`` contributes to its dependant under the final states."""
        idx = self.index
        g = idx.edge_group[e]
        if g >= 0:
            return self.group_state(g)
        dep = self.state.get(idx.edge_target[e], _OK)
        if idx.edge_soft[e]:
            return _DEGRADED if dep else _OK
        return dep


def propagate(index: GraphIndex, given: Mapping[int, int]) -> Propagation:
    """Least fixpoint of the impact rules from the scenario ``given``.

    Parameters
    ----------
    index : GraphIndex
        The graph, left untouched.
    given : mapping of node number to state (1 degraded, 2 down)
        The scenario: nodes with a state of their own.

    Returns
    -------
    Propagation
        Every node that ends not ok, with its state.

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node, NodeKind
    >>> g = GraphData.of([Node("app", NodeKind.SERVICE_SYSTEM, "App"),
    ...                   Node("db", NodeKind.CI, "DB")], [Edge("app", "db")])
    >>> idx = GraphIndex.from_graph(g)
    >>> propagate(idx, {idx.position["db"]: 2}).state[idx.position["app"]]
    2
    """
    state: dict[int, int] = {}
    not_ok: dict[int, int] = {}
    down: dict[int, int] = {}
    # Each entry records one rise of a node: (node, old state, new state).
    queue: deque[tuple[int, int, int]] = deque()
    for node, s in given.items():
        if s > _OK:
            state[node] = s
            queue.append((node, _OK, s))
    rev_ptr, rev_edge = index.rev_ptr, index.rev_edge
    edge_source, edge_group, edge_soft = index.edge_source, index.edge_group, index.edge_soft
    group_size, group_min = index.group_size, index.group_min_ok
    while queue:
        dep, old, new = queue.popleft()
        for e in rev_edge[rev_ptr[dep]:rev_ptr[dep + 1]]:
            g = edge_group[e]
            if g >= 0:
                if old == _OK:
                    not_ok[g] = not_ok.get(g, 0) + 1
                if new == _DOWN:
                    down[g] = d = down.get(g, 0) + 1
                else:
                    d = down.get(g, 0)
                cand = _DOWN if group_size[g] - d < group_min[g] else _DEGRADED
            elif edge_soft[e]:
                cand = _DEGRADED
            else:
                cand = new
            a = edge_source[e]
            before = state.get(a, _OK)
            if cand > before:
                state[a] = cand
                queue.append((a, before, cand))
    return Propagation(index, {n: s for n, s in given.items() if s > _OK}, state, not_ok, down)
