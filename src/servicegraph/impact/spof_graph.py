"""The down graph: the rules by which one component down takes other nodes down.

A component alone down takes a node down through three rules only (the impact
rules restricted to "down"): a hard dependency outside any group passes "down"
on; a redundancy group of n members that needs k goes down once n - k + 1 of its
members are down (a *voting gate* needing that many; a group needing all its
members needs one, so it passes "down" on like a hard dependency); a soft
dependency never takes anything down. A group with fewer members than it needs
(which validation never lets into a graph) is down as soon as any member is not
ok, which is no "down" rule: :attr:`DownGraph.degenerate` says an index holds one.

The *risk graph* is the same for "not ok" (degraded or down): every dependency, soft
ones included, passes "not ok" on, and a group of n members that is ok from k_ok of
them ok is not ok once n - k_ok + 1 of its members are not ok (its ``ok_at``; all
members by default, when one member not ok is enough). A component's failure puts at
risk exactly what it reaches there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from servicegraph.impact import spof_kernels as kern
from servicegraph.impact.index import I64, KIND_CODE, GraphIndex
from servicegraph.model.kinds import NodeKind


def csr(keys: I64, values: I64, n: int) -> tuple[I64, I64]:
    """``values`` grouped by ``keys`` (each in 0..n-1): (start, adj) with node v's
    entries at ``adj[start[v]:start[v + 1]]``, in their original order."""
    start, adj = kern.group_by(np.ascontiguousarray(keys, dtype=np.int64),
                               np.ascontiguousarray(values, dtype=np.int64), n)
    return start, adj


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
    def of(cls, index: GraphIndex, *, risk: bool = False) -> DownGraph:
        """The down graph of ``index``'s active edges (the index is left untouched), or
        with ``risk`` its risk graph (see the module)."""
        n, m = index.node_count, index.edge_numbers
        live = np.flatnonzero(index.edge_active[:m])
        src, dst = index.edge_source[live], index.edge_target[live]
        soft, grp = index.edge_soft[live], index.edge_group[live]
        size = index.group_size.astype(np.int64)
        # Members that must be down for the group to be down: up < min_ok.
        need = size - index.group_min_ok.astype(np.int64) + 1
        degenerate = bool(np.any((size >= 1) & (need <= 0)))
        if risk:
            # Members that must be not ok for the group to be not ok: ok < ok_at (or up
            # < min_ok, which validation makes imply it; the larger rule is kept anyway).
            most = np.maximum(index.group_ok_at, index.group_min_ok).astype(np.int64)
            need = size - most + 1
        grouped = grp >= 0
        edge_need = np.where(grouped, need[np.maximum(grp, 0)] if len(need) else 0, 0)
        keep = grouped | ~soft | risk
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


def kind_mask(index: GraphIndex, kinds: frozenset[NodeKind]) -> npt.NDArray[np.bool_]:
    """Per position, whether the node is of one of ``kinds``."""
    codes = np.array([KIND_CODE[k] for k in kinds], dtype=np.int8)
    return np.isin(index.kind_codes, codes)


def promise_mask(index: GraphIndex) -> npt.NDArray[np.bool_]:
    """Per position, whether the node is a promise (that counts for impact)."""
    out = np.zeros(index.node_count, dtype=np.bool_)
    out[index.of_kind(NodeKind.PROMISE)] = True
    return out
