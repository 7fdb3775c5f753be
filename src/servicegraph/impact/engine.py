"""The impact engine: the model's propagation rules, vectorised over the index.

States only ever rise (ok -> degraded -> down), so each node changes at most
twice and each edge is looked at most twice: the least fixpoint costs
O(edges reached), whatever cycles the graph holds. Rounds are processed as
whole numpy arrays (the nodes that rose last round, all their dependant edges
at once), so a failure reaching half a million nodes is a few dozen array
operations per round rather than millions of Python steps. Redundancy groups
keep two counters (members not ok, members down) updated as members rise, so
a group of a thousand members is never rescanned.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

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
    rev = index.reverse_arrays()
    n = index.node_count
    state = np.zeros(n, dtype=np.int8)
    scratch = np.zeros(n, dtype=np.int8)
    not_ok = np.zeros(len(rev.group_size), dtype=np.int64)
    down = np.zeros(len(rev.group_size), dtype=np.int64)
    failed = {node: s for node, s in given.items() if s > _OK}
    nodes = np.fromiter(failed, dtype=np.int64, count=len(failed))
    rise_new = np.fromiter(failed.values(), dtype=np.int8, count=len(failed))
    state[nodes] = rise_new
    rise_old = np.zeros(len(nodes), dtype=np.int8)
    # Level by level: `nodes` rose from `rise_old` to `rise_new` in the last round;
    # every edge out of them to a dependant is looked at once per rise.
    while nodes.size:
        starts = rev.ptr[nodes]
        counts = rev.ptr[nodes + 1] - starts
        total = int(counts.sum())
        if total == 0:
            break
        which = np.repeat(np.arange(nodes.size), counts)
        pos = starts[which] + (np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts))
        old, new = rise_old[which], rise_new[which]
        cand = new.copy()
        cand[rev.soft[pos]] = _DEGRADED
        groups = rev.group[pos]
        in_group = groups >= 0
        if in_group.any():
            g, o, nw = groups[in_group], old[in_group], new[in_group]
            np.add.at(not_ok, g[o == _OK], 1)
            np.add.at(down, g[(nw == _DOWN) & (o < _DOWN)], 1)
            short = rev.group_size[g] - down[g] < rev.group_min_ok[g]
            cand[in_group] = np.where(short, _DOWN, _DEGRADED)
        dependants = rev.source[pos]
        np.maximum.at(scratch, dependants, cand)
        rising = np.unique(dependants[scratch[dependants] > state[dependants]])
        rise_old, rise_new = state[rising], scratch[rising]
        state[rising] = rise_new
        scratch[dependants] = 0
        nodes = rising
    impacted = np.flatnonzero(state)
    g_not_ok, g_down = np.flatnonzero(not_ok), np.flatnonzero(down)
    return Propagation(
        index, failed, dict(zip(impacted.tolist(), state[impacted].tolist(), strict=True)),
        dict(zip(g_not_ok.tolist(), not_ok[g_not_ok].tolist(), strict=True)),
        dict(zip(g_down.tolist(), down[g_down].tolist(), strict=True)))
