"""What each component takes down alone: the down graph, and one pass over it.

A component alone down takes a node down through three rules only (the impact
rules restricted to "down"): a hard dependency outside any group passes "down"
on; a redundancy group of n members that needs k goes down once n - k + 1 of its
members are down (a *voting gate* needing that many; a group needing all its
members needs one, so it passes "down" on like a hard dependency); a soft
dependency never takes anything down. :class:`DownGraph` is the graph of those
rules, and :func:`breakage` takes every component that some promise depends on
down alone, 64 at a time (:func:`~servicegraph.impact.spof_kernels.spread`).

What comes out (:class:`Breakage`): how many promises each component takes down,
and the *implication graph*: the pass-on edges plus one edge from a component to
every node that a gate took down under it first. In it, a component reaches
exactly the nodes it takes down (each node down under ``c`` went down through an
edge from a node down before it, or through a gate, and then ``c`` has an edge to
it; and every edge holds, since a node down under ``c`` takes down at least what
it takes down alone). Both questions are then walks in that graph: what does
``c`` take down (forward), which components take ``p`` down (backward).

A group with fewer members than it needs (which validation never lets into a
graph) is down as soon as any member is not ok, which is no "down" rule: an
index holding one is answered by the engine run per component instead.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from servicegraph.impact import spof_kernels as kern
from servicegraph.impact.engine import propagate, reachable
from servicegraph.impact.index import I64, KIND_CODE, GraphIndex
from servicegraph.model.kinds import NodeKind, State

_BATCH = 64
#: Room for gate records a worker starts with (it doubles when full).
_FIRST_RECORDS = 4096
#: Words of 64 promises counted together in one sweep.
_WORDS = 4
T = TypeVar("T")
_DOWN = int(State.DOWN)


def csr(keys: I64, values: I64, n: int) -> tuple[I64, I64]:
    """``values`` grouped by ``keys`` (each in 0..n-1): (start, adj) with node v's
    entries at ``adj[start[v]:start[v + 1]]``, in their original order."""
    order = np.argsort(keys, kind="stable")
    start = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(keys, minlength=n), out=start[1:])
    return start, np.ascontiguousarray(values[order], dtype=np.int64)


@dataclass(frozen=True)
class DownGraph:
    """The rules by which one component down takes other nodes down, as arrays.

    ``up_start``/``up_node`` hold each node's dependants over the hard and grouped
    dependencies; ``up_gate`` is -1 where the dependency passes "down" on by itself,
    else the voting gate (group number) it is a member of, which needs
    ``gate_need[g]`` members down. ``down_start``/``down_node`` are the same edges
    the other way (each node's dependencies). ``level`` orders the nodes so that an
    edge between two cycles always climbs.
    """

    n: int
    up_start: I64
    up_node: I64
    up_gate: I64
    down_start: I64
    down_node: I64
    gate_need: I64
    gate_offset: I64
    level: I64
    #: A group has fewer members than it needs: the down rules do not describe it.
    degenerate: bool

    @classmethod
    def of(cls, index: GraphIndex) -> DownGraph:
        """The down graph of ``index``'s active edges (the index is left untouched)."""
        n, m = index.node_count, index.edge_numbers
        live = np.flatnonzero(index.edge_active[:m])
        src, dst = index.edge_source[live], index.edge_target[live]
        soft, grp = index.edge_soft[live], index.edge_group[live]
        size = index.group_size.astype(np.int64)
        # Members that must be down for the group to be down: up < min_ok.
        need = size - index.group_min_ok.astype(np.int64) + 1
        degenerate = bool(np.any((size >= 1) & (need <= 0)))
        grouped = grp >= 0
        edge_need = np.where(grouped, need[np.maximum(grp, 0)] if len(need) else 0, 0)
        keep = grouped | ~soft
        src, dst = src[keep], dst[keep]
        gate = np.where(grouped & (edge_need >= 2), grp, -1)[keep]
        up_start, up_node = csr(dst, src, n)
        _, up_gate = csr(dst, gate, n)
        down_start, down_node = csr(src, dst, n)
        gate_need = np.where(need >= 2, need, 0).astype(np.int64)
        gate_offset = np.zeros(len(need), dtype=np.int64)
        if len(need):
            np.cumsum(gate_need[:-1], out=gate_offset[1:])
        comp, count = kern.strong_components(up_start, up_node)
        level = kern.levels(up_start, up_node, comp, count)
        return cls(n, up_start, up_node, up_gate, down_start, down_node, gate_need,
                   gate_offset, level, degenerate)

    def components(self, promises: I64, promise: npt.NDArray[np.bool_]) -> I64:
        """The nodes that could take a promise down (those some promise depends on
        through hard or grouped dependencies), promises left out, in an order that
        keeps nodes that take the same things down close: depth-first post-order
        from the promises."""
        found: I64 = kern.post_order(self.down_start, self.down_node, promises)
        return found[~promise[found]]


@dataclass(frozen=True)
class Breakage:
    """What every component takes down alone.

    ``counts[v]``: the promises node ``v`` takes down alone (0 for promises and for
    what no promise depends on). ``imp_start``/``imp_node``: the implication graph,
    forward (``v`` reaches exactly what it takes down, itself included);
    ``back_start``/``back_node``: the same graph backward.
    """

    counts: npt.NDArray[np.int32]
    imp_start: I64
    imp_node: I64
    back_start: I64
    back_node: I64


class _Scratch:
    """One worker's scratch space for :func:`~servicegraph.impact.spof_kernels.spread`."""

    def __init__(self, graph: DownGraph) -> None:
        n, groups = graph.n, len(graph.gate_need)
        self.mask = np.zeros(n, dtype=np.uint64)
        self.sent = np.zeros(n, dtype=np.uint64)
        self.queued = np.zeros(n, dtype=np.bool_)
        self.touched = np.zeros(max(n, 1), dtype=np.int64)
        self.head = np.full(int(graph.level.max()) + 1 if n else 1, -1, dtype=np.int64)
        self.nxt = np.zeros(n, dtype=np.int64)
        self.tally = np.zeros(max(int(graph.gate_need.sum()), 1), dtype=np.uint64)
        self.g_seen = np.zeros(groups, dtype=np.bool_)
        self.g_touched = np.zeros(max(groups, 1), dtype=np.int64)


def _records(graph: DownGraph, comps: I64, region: npt.NDArray[np.bool_]) -> tuple[I64, I64]:
    """One worker's share of the gate records (see :func:`~servicegraph.impact.
    spof_kernels.spread`)."""
    scratch = _Scratch(graph)
    cap = _FIRST_RECORDS
    rec_comp = np.zeros(cap, dtype=np.int64)
    rec_node = np.zeros(cap, dtype=np.int64)
    done, n_rec = 0, 0
    while done < len(comps):
        step, n_rec = kern.spread(
            comps[done:], graph.up_start, graph.up_node, graph.up_gate, graph.gate_need,
            graph.gate_offset, graph.level, region, rec_comp, rec_node, n_rec,
            scratch.mask, scratch.sent, scratch.queued, scratch.touched, scratch.head,
            scratch.nxt, scratch.tally, scratch.g_seen, scratch.g_touched)
        done += step
        if done < len(comps):  # the records filled up: grow them, go on from there
            cap *= 2
            rec_comp = np.resize(rec_comp, cap)
            rec_node = np.resize(rec_node, cap)
    return rec_comp[:n_rec], rec_node[:n_rec]


def workers_available() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def _shared(work: Callable[[int], T], parts: int) -> list[T]:
    """``work(0) .. work(parts - 1)``, on that many threads when more than one."""
    if parts == 1:
        return [work(0)]
    with ThreadPoolExecutor(parts, thread_name_prefix="spof") as pool:
        return list(pool.map(work, range(parts)))


def _gate_records(graph: DownGraph, promises: I64, promise: npt.NDArray[np.bool_],
                  workers: int) -> tuple[I64, I64]:
    """Every component down alone, 64 at a time: the nodes gates take down first."""
    members = np.repeat(np.arange(graph.n, dtype=np.int64), np.diff(graph.up_start))
    members = np.unique(members[graph.up_gate >= 0])
    region = np.zeros(graph.n, dtype=np.bool_)
    region[kern.reach(graph.down_start, graph.down_node, members)] = True
    comps = graph.components(promises, promise)
    comps = comps[region[comps]]  # a component outside the region reaches no gate
    batches = [comps[i:i + _BATCH] for i in range(0, len(comps), _BATCH)]
    parts = max(1, min(workers, len(batches)))
    # Batch i goes to worker i mod w: neighbouring batches cost about the same.
    shares = [np.concatenate(batches[w::parts]) if batches[w::parts]
              else np.zeros(0, dtype=np.int64) for w in range(parts)]
    made = _shared(lambda w: _records(graph, shares[w], region), parts)
    return np.concatenate([r[0] for r in made]), np.concatenate([r[1] for r in made])


def _by_engine(index: GraphIndex, promises: I64, promise: npt.NDArray[np.bool_]
               ) -> tuple[I64, I64]:
    """Records the slow, literal way: the engine once per component that a promise
    depends on in any way, and a record for every node it takes down (so the
    records alone imply everything)."""
    every = reachable(index, promises)
    comp_rows: list[I64] = [np.zeros(0, dtype=np.int64)]
    node_rows: list[I64] = [np.zeros(0, dtype=np.int64)]
    for c in every[~promise[every]].tolist():
        p = propagate(index, {c: _DOWN})
        down = p.nodes[p.states == _DOWN]
        comp_rows.append(np.full(len(down), c, dtype=np.int64))
        node_rows.append(down)
    return np.concatenate(comp_rows), np.concatenate(node_rows)


def _counts(start: I64, adj: I64, promises: I64, workers: int) -> npt.NDArray[np.int32]:
    """Per node, how many of ``promises`` it reaches in the graph ``start``/``adj``."""
    n = len(start) - 1
    comp, count = kern.strong_components(start, adj)
    owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(start))
    across = comp[owner] != comp[adj]
    c_start, c_adj = csr(comp[owner[across]], comp[adj[across]], count)
    targets = comp[promises]
    width = 64 * _WORDS
    passes = -(-len(targets) // width)
    parts = max(1, min(workers, passes))
    bounds = [min(len(targets), (passes * w // parts) * width) for w in range(parts + 1)]

    def share(w: int) -> npt.NDArray[np.int64]:
        found = np.zeros(count, dtype=np.int64)
        kern.count_reached(c_start, c_adj, targets, _WORDS, bounds[w], bounds[w + 1], found)
        return found

    per_comp = np.sum(_shared(share, parts), axis=0) if count else np.zeros(0, np.int64)
    counts: npt.NDArray[np.int32] = per_comp[comp].astype(np.int32)
    counts[promises] = 0  # a promise reaches itself, but is no component
    return counts


def breakage(index: GraphIndex, *, workers: int | None = None) -> Breakage:
    """What every component takes down alone, on ``index`` (left untouched).

    Parameters
    ----------
    index : GraphIndex
        The graph.
    workers : int, optional
        Threads sharing the work (the kernels release the GIL); all CPUs available
        by default.

    Returns
    -------
    Breakage
        Promises taken down per node, and the implication graph.
    """
    graph = DownGraph.of(index)
    n = graph.n
    wanted = max(1, workers or workers_available())
    promises = index.of_kind(NodeKind.PROMISE)
    promise = promise_mask(index)
    if graph.degenerate:
        imp_src, imp_dst = _by_engine(index, promises, promise)
    else:
        rec_comp, rec_node = _gate_records(graph, promises, promise, wanted)
        # The implication graph: the dependencies that pass "down" on, and the records.
        passes = graph.up_gate < 0
        owner = np.repeat(np.arange(n, dtype=np.int64), np.diff(graph.up_start))
        imp_src = np.concatenate([owner[passes], rec_comp])
        imp_dst = np.concatenate([graph.up_node[passes], rec_node])
    imp_start, imp_node = csr(imp_src, imp_dst, n)
    back_start, back_node = csr(imp_dst, imp_src, n)
    counts = _counts(imp_start, imp_node, promises, wanted)
    return Breakage(counts, imp_start, imp_node, back_start, back_node)


def kind_mask(index: GraphIndex, kinds: frozenset[NodeKind]) -> npt.NDArray[np.bool_]:
    """Per position, whether the node is of one of ``kinds``."""
    codes = np.array([KIND_CODE[k] for k in kinds], dtype=np.int8)
    return np.isin(index.kind_codes, codes)


def promise_mask(index: GraphIndex) -> npt.NDArray[np.bool_]:
    """Per position, whether the node is a promise (that counts for impact)."""
    out = np.zeros(index.node_count, dtype=np.bool_)
    out[index.of_kind(NodeKind.PROMISE)] = True
    return out
