"""What each component takes down alone, for every component at once.

:func:`breakage` takes every component that can take a gate member down alone, 64
at a time, over the :class:`~servicegraph.impact.spof_graph.DownGraph`
(:func:`~servicegraph.impact.spof_kernels.spread`), and records each node a gate
takes down under it before anything else does. The *implication graph* is the
pass-on edges plus one edge per record. In it a component reaches exactly the
nodes it takes down (each node down under ``c`` went down through a pass-on edge
from a node down before it, or through a gate, and then ``c`` has an edge to it;
and every edge holds, since a node down under ``c`` takes down at least what it
takes down alone). How many promises each node takes down is then how many it
reaches there: one sweep of its condensation per 512 promises. Both questions are
walks in that graph: what ``c`` takes down (forward), which components take ``p``
down (backward).

An index holding a group with fewer members than it needs is answered by the
engine run per component instead, recording every node each takes down.
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
from servicegraph.impact.index import I64, GraphIndex
from servicegraph.impact.spof_graph import DownGraph, csr, promise_mask
from servicegraph.model.kinds import NodeKind, State

#: Components per batch: one per bit of the kernels' 64-bit words.
_BATCH = 64
#: Room for gate records a worker starts with (it doubles when full).
_FIRST_RECORDS = 4096
#: Words of 64 promises counted together in one sweep.
_WORDS = 8
T = TypeVar("T")
_DOWN = int(State.DOWN)


@dataclass(frozen=True)
class Breakage:
    """What every component takes down alone.

    ``counts[v]``: the promises node ``v`` takes down alone (0 for promises).
    ``imp_start``/``imp_node``: the implication graph, forward (``v`` reaches exactly
    what it takes down, itself included); ``back_start``/``back_node``: the same
    graph backward.
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


def _by_engine(index: GraphIndex, promises: I64, promise: npt.NDArray[np.bool_],
               risk: bool = False) -> tuple[I64, I64]:
    """Records the slow, literal way: the engine once per component that a promise
    depends on in any way, and a record for every node it takes down (with ``risk``,
    every node it puts out of ok), so the records alone imply everything."""
    every = reachable(index, promises)
    comp_rows: list[I64] = [np.zeros(0, dtype=np.int64)]
    node_rows: list[I64] = [np.zeros(0, dtype=np.int64)]
    for c in every[~promise[every]].tolist():
        p = propagate(index, {c: _DOWN})
        down = p.nodes if risk else p.nodes[p.states == _DOWN]
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


def breakage(index: GraphIndex, *, workers: int | None = None, risk: bool = False
             ) -> Breakage:
    """What every component takes down alone, on ``index`` (left untouched); with
    ``risk``, what it puts out of ok (down or degraded) instead.

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
    graph = DownGraph.of(index, risk=risk)
    n = graph.n
    wanted = max(1, workers or workers_available())
    promises = index.of_kind(NodeKind.PROMISE)
    promise = promise_mask(index)
    if graph.degenerate:
        imp_src, imp_dst = _by_engine(index, promises, promise, risk)
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
