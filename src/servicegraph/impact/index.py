"""A compact, read-only index of the graph for the impact engine.

Nodes are numbered ``0..n-1``; dependencies and dependants are kept as CSR
arrays (offsets plus targets) of machine integers, so a graph of a million
nodes and a few million edges fits in tens of megabytes and one node's
neighbours are a slice, not a walk through Python objects. networkx is the
reference and the bridge for exports; it is not used here.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.graph import GraphData, Node
from servicegraph.model.kinds import Impact, NodeKind

KINDS: tuple[NodeKind, ...] = tuple(NodeKind)
_KIND_CODE = {k: i for i, k in enumerate(KINDS)}


def _csr(keys: npt.NDArray[np.int64], n: int) -> tuple[array[int], npt.NDArray[np.int64]]:
    """Offsets for ``keys`` grouped by value, and the stable order that groups them."""
    order = np.argsort(keys, kind="stable")
    counts = np.bincount(keys, minlength=n)
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    return _arr(ptr), order


def _arr(values: npt.NDArray[np.int64]) -> array[int]:
    # array('q') slices are cheap C copies and index faster from Python than numpy scalars.
    return array("q", values.astype(np.int64).tobytes())


def _np_view(values: array[int]) -> npt.NDArray[np.int64]:
    return np.frombuffer(values, dtype=np.int64) if len(values) else np.zeros(0, np.int64)


@dataclass(frozen=True)
class ReverseArrays:
    """The reverse CSR with each position's edge attributes laid out alongside."""

    ptr: npt.NDArray[np.int64]
    source: npt.NDArray[np.int64]
    group: npt.NDArray[np.int64]
    soft: npt.NDArray[np.bool_]
    group_size: npt.NDArray[np.int64]
    group_min_ok: npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class GraphIndex:
    """Integer-numbered graph: CSR dependencies (forward) and dependants (reverse).

    Build it with :meth:`from_graph`; it never changes afterwards, so one index
    can serve any number of concurrent impact queries.
    """

    ids: tuple[str, ...]
    position: Mapping[str, int]
    kind_codes: npt.NDArray[np.int8]
    # Edge arrays, by edge number.
    edge_source: array[int]
    edge_target: array[int]
    edge_soft: array[int]
    edge_group: array[int]  # redundancy group number, -1 when ungrouped
    # Forward CSR: the dependencies of node i are edges fwd_edge[fwd_ptr[i]:fwd_ptr[i+1]].
    fwd_ptr: array[int]
    fwd_edge: array[int]
    # Reverse CSR: the edges in which node i is the dependency.
    rev_ptr: array[int]
    rev_edge: array[int]
    # Groups, by group number.
    group_node: array[int]
    group_name: tuple[str, ...]
    group_min_ok: array[int]
    group_size: array[int]
    nodes: Mapping[str, Node] = field(default_factory=dict)

    @property
    def node_count(self) -> int:
        """Number of nodes."""
        return len(self.ids)

    @property
    def edge_count(self) -> int:
        """Number of edges."""
        return len(self.edge_source)

    def kind(self, i: int) -> NodeKind:
        """The kind of node number ``i``."""
        return KINDS[int(self.kind_codes[i])]

    def of_kind(self, kind: NodeKind) -> npt.NDArray[np.int64]:
        """Node numbers of one kind, ascending (computed once per kind)."""
        cache: dict[NodeKind, npt.NDArray[np.int64]] = self.__dict__.setdefault("_kinds", {})
        if kind not in cache:
            cache[kind] = np.flatnonzero(self.kind_codes == _KIND_CODE[kind])
        return cache[kind]

    def reverse_arrays(self) -> ReverseArrays:
        """Per reverse-CSR position: the dependant, group and soft flag (numpy views,
        computed once) for the vectorised engine."""
        cached: ReverseArrays | None = self.__dict__.get("_reverse")
        if cached is None:
            as_np = _np_view
            rev_edge = as_np(self.rev_edge)
            cached = ReverseArrays(
                ptr=as_np(self.rev_ptr),
                source=as_np(self.edge_source)[rev_edge],
                group=as_np(self.edge_group)[rev_edge],
                soft=as_np(self.edge_soft)[rev_edge].astype(bool),
                group_size=as_np(self.group_size),
                group_min_ok=as_np(self.group_min_ok),
            )
            self.__dict__["_reverse"] = cached
        return cached

    def lookup(self, node_ids: Sequence[str]) -> list[int]:
        """Node numbers for ids; raises :class:`UnknownNodeError` naming every unknown one."""
        missing = [n for n in node_ids if n not in self.position]
        if missing:
            raise UnknownNodeError(missing)
        return [self.position[n] for n in node_ids]

    @classmethod
    def from_graph(cls, graph: GraphData) -> GraphIndex:
        """Index a validated graph.

        >>> from servicegraph.model import Edge, Node, NodeKind
        >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
        ...                  [Edge("a", "b")])
        >>> GraphIndex.from_graph(g).edge_count
        1
        """
        ids = [n.id for n in graph.nodes]
        position = {node_id: i for i, node_id in enumerate(ids)}
        kinds = np.fromiter((_KIND_CODE[n.kind] for n in graph.nodes), dtype=np.int8,
                            count=len(ids))
        groups: dict[tuple[int, str], int] = {}
        group_node: list[int] = []
        group_name: list[str] = []
        group_min: list[int] = []
        for n in graph.nodes:
            for name, min_ok in n.redundancy.items():
                groups[(position[n.id], name)] = len(group_node)
                group_node.append(position[n.id])
                group_name.append(name)
                group_min.append(min_ok)
        m = len(graph.edges)
        src = np.empty(m, dtype=np.int64)
        dst = np.empty(m, dtype=np.int64)
        soft = np.zeros(m, dtype=np.int64)
        grp = np.full(m, -1, dtype=np.int64)
        for k, e in enumerate(graph.edges):
            s = position[e.source]
            src[k], dst[k] = s, position[e.target]
            soft[k] = e.impact is Impact.SOFT
            if e.group is not None:
                grp[k] = groups[(s, e.group)]
        return cls.from_arrays(tuple(ids), kinds, src, dst, soft, grp, group_node,
                               tuple(group_name), group_min, graph.node_map())

    @classmethod
    def from_arrays(
        cls,
        ids: tuple[str, ...],
        kinds: npt.NDArray[np.int8],
        src: npt.NDArray[np.int64],
        dst: npt.NDArray[np.int64],
        soft: npt.NDArray[np.int64],
        grp: npt.NDArray[np.int64],
        group_node: Sequence[int],
        group_name: tuple[str, ...],
        group_min: Sequence[int],
        nodes: Mapping[str, Node] | None = None,
    ) -> GraphIndex:
        """Index from plain arrays (what a bulk loader or a benchmark has at hand)."""
        n = len(ids)
        fwd_ptr, fwd_order = _csr(src, n)
        rev_ptr, rev_order = _csr(dst, n)
        sizes = np.bincount(grp[grp >= 0], minlength=len(group_node))
        return cls(
            ids=ids,
            position={node_id: i for i, node_id in enumerate(ids)},
            kind_codes=kinds,
            edge_source=_arr(src),
            edge_target=_arr(dst),
            edge_soft=_arr(soft),
            edge_group=_arr(grp),
            fwd_ptr=fwd_ptr,
            fwd_edge=_arr(fwd_order),
            rev_ptr=rev_ptr,
            rev_edge=_arr(rev_order),
            group_node=array("q", group_node),
            group_name=group_name,
            group_min_ok=array("q", group_min),
            group_size=_arr(sizes),
            nodes=nodes or {},
        )
