"""The impact engine: the model's propagation rules, compiled, over the index.

:func:`propagate` runs the worklist kernel of :mod:`servicegraph.impact.kernels`
from a scenario and returns what it reached: the nodes that end not ok with
their states, and the counters of the redundancy groups it touched. Scratch
space is reused between queries (a small pool per index, so concurrent queries
never share one) and only the entries a query touched are reset, so a query
costs what it reaches, not what the graph holds.

A failure set of any size is one propagation: an incident storm of a thousand
failures is one call, not a thousand.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

from servicegraph.impact import kernels
from servicegraph.impact.index import I64, GraphIndex, KernelArrays
from servicegraph.model.kinds import State

_OK, _DEGRADED, _DOWN = int(State.OK), int(State.DEGRADED), int(State.DOWN)


class Workspace:
    """Scratch arrays for one query at a time, all zero between queries (``parent``
    all -1). Propagation uses ``prev`` for the state each node's dependants last saw
    and ``queue`` and ``frontier`` as its two stacks (down, degraded); the chain
    searches use ``parent`` as stamps, ``depth`` as levels, ``inq`` as marks."""

    def __init__(self, n: int, g: int) -> None:
        self.n, self.g = n, g
        self.state = np.zeros(n, dtype=np.int8)
        self.prev = np.zeros(n, dtype=np.int8)
        self.inq = np.zeros(n, dtype=np.bool_)
        self.queue = np.zeros(max(n, 1), dtype=np.int64)
        self.touched = np.zeros(max(n, 1), dtype=np.int64)
        self.g_notok = np.zeros(g, dtype=np.int32)
        self.g_down = np.zeros(g, dtype=np.int32)
        self.g_seen = np.zeros(g, dtype=np.bool_)
        self.touched_groups = np.zeros(max(g, 1), dtype=np.int64)
        self.parent = np.full(n, -1, dtype=np.int64)
        self.depth = np.zeros(n, dtype=np.int32)
        self.frontier = np.zeros(max(n, 1), dtype=np.int64)
        self.following = np.zeros(max(n, 1), dtype=np.int64)

    def fits(self, n: int, g: int) -> bool:
        return n <= self.n and g <= self.g


class Workspaces:
    """A pool of workspaces for one index: taken per query, given back after."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._free: list[Workspace] = []

    def take(self, n: int, g: int) -> Workspace:
        with self._lock:
            while self._free:
                ws = self._free.pop()
                if ws.fits(n, g):
                    return ws
        # Room to grow, so a growing index does not reallocate on every query.
        return Workspace(n + n // 4 + 16, g + g // 4 + 16)

    def give(self, ws: Workspace) -> None:
        with self._lock:
            self._free.append(ws)


def _workspaces(index: GraphIndex) -> Workspaces:
    pool = index.__dict__.get("_workspaces")
    if pool is None:
        pool = index.__dict__.setdefault("_workspaces", Workspaces())
    return pool  # type: ignore[no-any-return]


@dataclass(frozen=True, eq=False)
class Propagation:
    """What a scenario reached: every node that ends not ok, with its state.

    ``nodes`` (ascending positions) and ``states`` are aligned arrays; ``groups``
    (ascending group numbers) with ``group_not_ok`` and ``group_down`` are the final
    member counters of the groups it touched. Valid while the index is unchanged.
    """

    index: GraphIndex
    given: Mapping[int, int]
    nodes: I64
    states: npt.NDArray[np.int8]
    groups: I64
    group_not_ok_counts: npt.NDArray[np.int32]
    group_down_counts: npt.NDArray[np.int32]

    @cached_property
    def state(self) -> Mapping[int, int]:
        """Node number -> state, for every node not ok (built on first use)."""
        return dict(zip(self.nodes.tolist(), self.states.tolist(), strict=True))

    def state_of(self, v: int) -> int:
        """The final state of node number ``v``."""
        i = int(np.searchsorted(self.nodes, v))
        return int(self.states[i]) if i < len(self.nodes) and self.nodes[i] == v else _OK

    def states_of(self, vs: I64) -> npt.NDArray[np.int8]:
        """Vectorised :meth:`state_of`."""
        if not len(self.nodes):
            return np.zeros(len(vs), dtype=np.int8)
        i = np.minimum(np.searchsorted(self.nodes, vs), len(self.nodes) - 1)
        return np.where(self.nodes[i] == vs, self.states[i], 0).astype(np.int8)

    def _counter(self, counts: npt.NDArray[np.int32], g: int) -> int:
        i = int(np.searchsorted(self.groups, g))
        return int(counts[i]) if i < len(self.groups) and self.groups[i] == g else 0

    @property
    def group_not_ok(self) -> Mapping[int, int]:
        """Group number -> members not ok (groups touched only)."""
        return dict(zip(self.groups.tolist(), self.group_not_ok_counts.tolist(), strict=True))

    @property
    def group_down(self) -> Mapping[int, int]:
        """Group number -> members down (groups touched only)."""
        return dict(zip(self.groups.tolist(), self.group_down_counts.tolist(), strict=True))

    def members_down(self, g: int) -> int:
        """Members of group ``g`` that end down."""
        return self._counter(self.group_down_counts, g)

    def members_not_ok(self, g: int) -> int:
        """Members of group ``g`` that end not ok (degraded or down)."""
        return self._counter(self.group_not_ok_counts, g)

    def group_state(self, g: int) -> int:
        """What redundancy group ``g`` contributes to its node."""
        idx = self.index
        up = int(idx.group_size[g]) - self.members_down(g)
        if up < int(idx.group_min_ok[g]):
            return _DOWN
        ok = int(idx.group_size[g]) - self.members_not_ok(g)
        return _DEGRADED if ok < int(idx.group_ok_at[g]) else _OK

    def contribution(self, e: int) -> int:
        """What edge ``e`` contributes to its dependant under the final states."""
        idx = self.index
        g = int(idx.edge_group[e])
        if g >= 0:
            return self.group_state(g)
        dep = self.state_of(int(idx.edge_target[e]))
        if idx.edge_soft[e]:
            return _DEGRADED if dep else _OK
        return dep

    @contextmanager
    def _dense(self) -> Iterator[tuple[KernelArrays, Workspace]]:
        """A workspace holding the final states and group counters as dense arrays
        (what the kernels read), all zero again afterwards."""
        idx = self.index
        a = idx.arrays()
        pool = _workspaces(idx)
        ws = pool.take(a.n, a.g)
        try:
            ws.state[self.nodes] = self.states
            ws.g_notok[self.groups] = self.group_not_ok_counts
            ws.g_down[self.groups] = self.group_down_counts
            yield a, ws
        finally:
            ws.state[self.nodes] = 0
            ws.g_notok[self.groups] = 0
            ws.g_down[self.groups] = 0
            pool.give(ws)

    @cached_property
    def parents(self) -> I64:
        """For each node of ``nodes``, the next node on a shortest chain of causes back
        to a node given a state (itself for those), found by a compiled breadth-first
        search; among equally short chains the next hop first in id order."""
        idx = self.index
        with self._dense() as (a, ws):
            roots = np.fromiter((v for v, s in self.given.items() if s > _OK),
                                dtype=np.int64)
            try:
                kernels.parents(a.in_start, a.in_len, a.in_link, a.g_size,
                                a.g_min, a.g_ok, ws.g_notok, ws.g_down, ws.state,
                                idx.id_rank(),
                                roots, ws.parent, ws.depth, ws.frontier, ws.following)
                found = ws.parent[self.nodes].copy()
            finally:
                ws.parent[self.nodes] = -1
        return found

    @cached_property
    def parent_by_node(self) -> I64:
        """:attr:`parents` by node number (-1 for nodes that are ok)."""
        out = np.full(self.index.node_count, -1, dtype=np.int64)
        out[self.nodes] = self.parents
        return out

    def cause_edges(self, vs: I64) -> tuple[I64, I64]:
        """The cause edges of each node of ``vs`` (see :func:`kernels.is_cause`): the
        edges, and where each node's end (``ends[i]``), for many nodes in one pass."""
        vs = np.asarray(vs, dtype=np.int64)
        with self._dense() as (a, ws):
            return self._causes(a, ws, vs)

    def chains_of(self, vs: I64, *, budget: int | None = None) -> list[list[int]]:
        """The chain of causes from each node of ``vs`` back to a node given a state
        (the node first; the node alone when it was given one, or traces to none;
        empty when it is ok): the chains :attr:`parents` gives, found by a compiled
        search backwards from each node alone while that costs less than the search
        over the whole reach :attr:`parents` makes, and by that search otherwise
        (``budget``: the nodes the searches back may visit in all; by default an
        eighth of the reach, at least 1,024)."""
        vs = np.asarray(vs, dtype=np.int64)
        found = None
        if "parents" not in self.__dict__ and len(vs):
            with self._dense() as (a, ws):
                found = self._searched(a, ws, vs, budget)
        return found if found is not None else self._walked(vs)

    def causes_and_chains(self, vs: I64) -> tuple[I64, I64, list[list[int]]]:
        """:meth:`cause_edges` and :meth:`chains_of` of the same nodes, the final
        states laid out once for both."""
        vs = np.asarray(vs, dtype=np.int64)
        with self._dense() as (a, ws):
            edges, ends = self._causes(a, ws, vs)
            found = (self._searched(a, ws, vs, None)
                     if "parents" not in self.__dict__ and len(vs) else None)
        return edges, ends, found if found is not None else self._walked(vs)

    def _causes(self, a: KernelArrays, ws: Workspace, vs: I64) -> tuple[I64, I64]:
        ends = np.zeros(len(vs), dtype=np.int64)
        found = np.zeros(4 * len(vs) + 16, dtype=np.int64)
        for _ in range(2):
            k = kernels.causes(a.out_start, a.out_len, a.out_pool, a.e_dst, a.e_soft,
                               a.e_grp, a.e_active, a.g_size, a.g_min, a.g_ok, ws.g_notok,
                               ws.g_down, ws.state, vs, found, ends)
            if k <= len(found):
                break
            found = np.zeros(k, dtype=np.int64)  # more causes than guessed: again
        return found[:k], ends

    def _searched(self, a: KernelArrays, ws: Workspace, vs: I64,
                  budget: int | None) -> list[list[int]] | None:
        """The chains searched back from each node (``None``: past the budget)."""
        roots = np.fromiter((v for v, s in self.given.items() if s > _OK), dtype=np.int64)
        if budget is None:
            budget = max(1024, len(self.nodes) // 8)
        found = np.zeros(16 * len(vs) + 64, dtype=np.int64)
        ends = np.zeros(len(vs), dtype=np.int64)
        ws.prev[roots] = 1
        try:
            k = kernels.chains(a.out_start, a.out_len, a.out_pool, a.e_dst, a.e_soft,
                               a.e_grp, a.e_active, a.g_size, a.g_min, a.g_ok, ws.g_notok,
                               ws.g_down, ws.state, ws.prev, self.index.id_rank(), vs,
                               budget, ws.parent, ws.depth, ws.inq, ws.frontier, found,
                               ends)
        finally:
            ws.prev[roots] = 0
        return _split(found[:k], ends) if k >= 0 else None

    def _walked(self, vs: I64) -> list[list[int]]:
        """The chains followed along :attr:`parents`."""
        parent = self.parent_by_node
        lonely = self.nodes[self.parents < 0]  # not ok, yet tracing to no given node
        if len(lonely):
            parent = parent.copy()
            parent[lonely] = lonely  # a chain of one
        found = np.zeros(16 * len(vs) + 64, dtype=np.int64)
        ends = np.zeros(len(vs), dtype=np.int64)
        for _ in range(2):
            k = kernels.walk_chains(parent, vs, found, ends)
            if k <= len(found):
                break
            found = np.zeros(k, dtype=np.int64)  # longer chains than guessed: again
        return _split(found[:k], ends)

    def parent_of(self, v: int) -> int:
        """The next hop of node ``v`` towards the failure (``v`` for a given node, -1
        when ``v`` is ok)."""
        i = int(np.searchsorted(self.nodes, v))
        if i < len(self.nodes) and self.nodes[i] == v:
            return int(self.parents[i])
        return -1

    def __iter__(self) -> Iterator[int]:
        return iter(self.nodes.tolist())


def _split(found: I64, ends: I64) -> list[list[int]]:
    """``found`` cut at ``ends``: one list per node."""
    flat, cuts = found.tolist(), ends.tolist()
    return [flat[lo:hi] for lo, hi in zip([0, *cuts[:-1]], cuts, strict=True)]


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
    failed = {int(v): int(s) for v, s in given.items() if s > _OK}
    a: KernelArrays = index.arrays()
    pool = _workspaces(index)
    ws = pool.take(a.n, a.g)
    nodes = np.fromiter(failed, dtype=np.int64, count=len(failed))
    states = np.fromiter(failed.values(), dtype=np.int8, count=len(failed))
    k = j = 0
    try:
        k, j = kernels.propagate(a.in_start, a.in_len, a.in_link, a.g_size,
                                 a.g_min, a.g_ok, nodes, states,
                                 ws.state, ws.prev, ws.queue, ws.frontier, ws.g_notok,
                                 ws.g_down,
                                 ws.g_seen, ws.touched, ws.touched_groups)
        # A big answer is read off the dense states (linear, no sort of its nodes).
        touched = (np.flatnonzero(ws.state[:a.n]) if k > a.n // 16
                   else np.sort(ws.touched[:k]))
        groups = np.sort(ws.touched_groups[:j])
        return Propagation(index, failed, touched, ws.state[touched].copy(), groups,
                           ws.g_notok[groups].copy(), ws.g_down[groups].copy())
    finally:
        # Reset only what this query touched: the next query finds all zeros.
        reset, reset_groups = ws.touched[:k], ws.touched_groups[:j]
        if k > a.n // 16:
            ws.state[:a.n] = 0
            ws.prev[:a.n] = 0
        else:
            ws.state[reset] = 0
            ws.prev[reset] = 0
        ws.g_notok[reset_groups] = 0
        ws.g_down[reset_groups] = 0
        ws.g_seen[reset_groups] = False
        pool.give(ws)


def reachable(index: GraphIndex, starts: npt.ArrayLike) -> I64:
    """Node numbers reachable from ``starts`` along dependencies, ``starts`` included
    (everything whose failure could possibly reach them), ascending.

    >>> from servicegraph.model import Edge, GraphData, Node, NodeKind
    >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B"),
    ...                   Node("c", NodeKind.CI, "C")], [Edge("a", "b")])
    >>> idx = GraphIndex.from_graph(g)
    >>> [idx.ids[n] for n in reachable(idx, [idx.position["a"]])]
    ['a', 'b']
    """
    a = index.arrays()
    pool = _workspaces(index)
    ws = pool.take(a.n, a.g)
    k = 0
    try:
        k = kernels.reach(a.out_start, a.out_len, a.out_pool, a.e_dst, a.e_active,
                          np.asarray(starts, dtype=np.int64), ws.inq, ws.queue)
        return np.sort(ws.queue[:k])
    finally:
        ws.inq[ws.queue[:k]] = False
        pool.give(ws)
