"""Single points of failure of one graph, computed once, answered page by page.

:class:`SpofTable` holds what :func:`~servicegraph.impact.spof_breakage.breakage`
found on a frozen index: how many promises each component takes down alone, and
the implication graph in which a component reaches exactly what it takes down.
A question is then a walk: the components that break a promise are the nodes
that reach it (backward); what a component breaks, the promises it reaches
(forward); what it puts at risk, the promises that depend on it in any way and
that it does not break (every node that depends on a failed node ends at least
degraded, unless a redundancy group ok short of all its members (an ``ok_at``)
absorbs the loss: then the risk graph of the same kind says what it reaches). Only
the page asked for is spelled out.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from servicegraph.impact import spof_kernels as kern
from servicegraph.impact.index import I64, GraphIndex
from servicegraph.impact.spof_breakage import Breakage, breakage
from servicegraph.impact.spof_graph import csr, kind_mask, promise_mask
from servicegraph.model.kinds import NodeKind

#: The kinds ranked across the catalogue unless asked otherwise.
COMPONENT_KINDS = (NodeKind.SERVICE_SYSTEM, NodeKind.CI)


@dataclass(frozen=True)
class SinglePoint:
    """A component and the promises its failure alone (state down) breaks or puts at risk."""

    component: str
    kind: NodeKind
    breaks: tuple[str, ...]
    at_risk: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"component": self.component, "kind": self.kind.value,
                "breaks": list(self.breaks), "at_risk": list(self.at_risk)}


def _check_page(limit: int | None, offset: int) -> None:
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if offset < 0:
        raise ValueError(f"offset must be at least 0, got {offset}")


class _Scratches:
    """Scratch arrays for the walks, one set per walk under way (questions may run at
    the same time), all zero between walks."""

    def __init__(self, n: int, levels: int) -> None:
        self._n, self._levels = n, levels
        self._lock = threading.Lock()
        self._free: list[tuple[npt.NDArray[Any], ...]] = []

    def take(self) -> tuple[npt.NDArray[Any], ...]:
        with self._lock:
            if self._free:
                return self._free.pop()
        n = self._n
        return (np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.uint64),
                np.zeros(n, dtype=np.bool_), np.full(self._levels, -1, dtype=np.int64),
                np.zeros(n, dtype=np.int64), np.zeros(max(n, 1), dtype=np.int64))

    def give(self, scratch: tuple[npt.NDArray[Any], ...]) -> None:
        with self._lock:
            self._free.append(scratch)


class _Walks:
    """The graphs questions walk, with the nodes renumbered level by level: nodes a walk
    visits one after the other sit together in memory (walks run about twice as fast).

    ``imp``: the implication graph forward, ``back``: backward, ``every``: what a
    component puts at risk, every active dependency in the direction impact flows, or
    the risk implication graph ``risk`` when one is given; ``new[v]`` is node ``v``'s
    number here, ``old`` the inverse.
    """

    def __init__(self, index: GraphIndex, found: Breakage, risk: Breakage | None) -> None:
        n = index.node_count
        live = np.flatnonzero(index.edge_active[:index.edge_numbers])
        every = csr(index.edge_target[live], index.edge_source[live], n)
        # Levels that climb along every edge of each graph: an edge of the implication
        # graph joins two nodes the first reaches over the dependencies.
        comp, count = kern.strong_components(*every)
        level = kern.levels(*every, comp, count)
        self.old: I64 = np.lexsort((np.arange(n), level))
        self.new = np.empty(n, dtype=np.int64)
        self.new[self.old] = np.arange(n, dtype=np.int64)
        self.level = np.ascontiguousarray(level[self.old])
        self.promise = np.ascontiguousarray(promise_mask(index)[self.old])
        self.imp = self._renumber(found.imp_start, found.imp_node)
        self.back = self._renumber(found.back_start, found.back_node)
        self.every = self._renumber(*every) if risk is None else self._renumber(
            risk.imp_start, risk.imp_node)
        self.levels = int(level.max()) + 1 if n else 1

    def _renumber(self, start: I64, adj: I64) -> tuple[I64, I64]:
        owner = np.repeat(np.arange(len(start) - 1, dtype=np.int64), np.diff(start))
        return csr(self.new[owner], self.new[adj], len(start) - 1)

    def arrays(self) -> dict[str, npt.NDArray[Any]]:
        """The walks as plain arrays (to keep them in a file)."""
        out: dict[str, npt.NDArray[Any]] = {
            "old": self.old, "new": self.new, "level": self.level, "promise": self.promise}
        for name in ("imp", "back", "every"):
            out[f"{name}_start"], out[f"{name}_node"] = getattr(self, name)
        return out

    @classmethod
    def of(cls, arrays: dict[str, npt.NDArray[Any]]) -> _Walks:
        """The walks from :meth:`arrays`."""
        walks = cls.__new__(cls)
        walks.old, walks.new = arrays["old"], arrays["new"]
        walks.level, walks.promise = arrays["level"], arrays["promise"]
        for name in ("imp", "back", "every"):
            setattr(walks, name, (arrays[f"{name}_start"], arrays[f"{name}_node"]))
        walks.levels = int(walks.level.max()) + 1 if len(walks.level) else 1
        return walks


class SpofTable:
    """The single points of failure of one (frozen) index.

    Build it with :meth:`compute`; it keeps a reference to the index, which must
    not change afterwards (a snapshot never does).

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node
    >>> g = GraphData.of([Node("p", NodeKind.PROMISE, "P"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App", redundancy={"db": 1}),
    ...                   Node("db-a", NodeKind.CI, "DB A"), Node("db-b", NodeKind.CI, "DB B"),
    ...                   Node("san", NodeKind.CI, "SAN")],
    ...                  [Edge("p", "app"), Edge("app", "db-a", "db"), Edge("app", "db-b", "db"),
    ...                   Edge("db-a", "san"), Edge("db-b", "san")])
    >>> table = SpofTable.compute(GraphIndex.from_graph(g))
    >>> points, total = table.of_promise("p")
    >>> [sp.component for sp in points], total
    (['app', 'san'], 2)
    >>> table.ranking(limit=1)[0][0].component
    'app'
    """

    def __init__(self, index: GraphIndex, found: Breakage, risk: Breakage | None = None,
                 walks: dict[str, npt.NDArray[Any]] | None = None) -> None:
        self.index = index
        #: What the table was made of (kept so that it can be saved and made again).
        self.found, self.risk = found, risk
        self._counts = found.counts
        self._rank = index.id_rank()
        #: Every component that breaks a promise: most promises first, then by id.
        self._ranked = self._order(np.flatnonzero(found.counts > 0))
        self._walks = _Walks(index, found, risk) if walks is None else _Walks.of(walks)
        self._scratch = _Scratches(index.node_count, self._walks.levels)

    @classmethod
    def compute(cls, index: GraphIndex, *, workers: int | None = None) -> SpofTable:
        """Compute the single points of failure of every promise of ``index``.

        Parameters
        ----------
        index : GraphIndex
            The graph, left untouched (and not to be changed while the table is used).
        workers : int, optional
            Threads to compute with; all CPUs available by default.
        """
        # Only groups ok short of all their members (an ok_at) need the risk graph: else
        # everything depending on a failed component is at risk, and no more is computed.
        size = index.group_size
        slack = bool(np.any((size > 0) & (index.group_ok_at < size)))
        return cls(index, breakage(index, workers=workers),
                   breakage(index, workers=workers, risk=True) if slack else None)

    def _order(self, nodes: I64) -> I64:
        """``nodes`` most promises broken first, then by id."""
        return nodes[np.lexsort((self._rank[nodes], -self._counts[nodes]))]

    def walks(self) -> dict[str, npt.NDArray[Any]]:
        """The graphs the questions walk, as plain arrays (given back to the constructor
        as ``walks``, they spare computing them again)."""
        return self._walks.arrays()

    @property
    def components(self) -> int:
        """How many components break at least one promise alone."""
        return len(self._ranked)

    def ranking(self, kinds: Collection[NodeKind] = COMPONENT_KINDS, *,
                limit: int | None = None, offset: int = 0) -> tuple[list[SinglePoint], int]:
        """Components of ``kinds`` that break at least one promise alone, most promises
        broken first, then by id: the page from ``offset`` (``limit`` of them, all
        when ``None``), and how many there are in all. Promises are never components."""
        _check_page(limit, offset)
        wanted = kind_mask(self.index, frozenset(kinds) - {NodeKind.PROMISE})
        ranked = self._ranked[wanted[self._ranked]]
        end = None if limit is None else offset + limit
        return self.points(ranked[offset:end]), len(ranked)

    def of_promise(self, promise: str, *, limit: int | None = None, offset: int = 0
                   ) -> tuple[list[SinglePoint], int]:
        """The components (of any kind) whose failure alone breaks ``promise``, ranked
        like :meth:`ranking`: a page, and how many there are in all.

        Raises :class:`~servicegraph.model.UnknownNodeError` for an unknown id and
        ``ValueError`` for a node that is not a promise.
        """
        _check_page(limit, offset)
        (target,) = self.index.lookup([promise])
        if self.index.kind(target) is not NodeKind.PROMISE:
            kind = self.index.kind(target).value
            raise ValueError(f"{promise!r} is a {kind}, not a promise")
        walks = self._walks
        found = walks.old[kern.reach(*walks.back, walks.new[[target]])]
        ranked = self._order(found[found != target])
        end = None if limit is None else offset + limit
        return self.points(ranked[offset:end]), len(ranked)

    def points(self, nodes: I64) -> list[SinglePoint]:
        """Each node with the promises it breaks and puts at risk alone, in order."""
        idx, out = self.index, []
        for first in range(0, len(nodes), 64):
            batch = np.ascontiguousarray(nodes[first:first + 64], dtype=np.int64)
            breaks = self._by_lane(self._walks.imp, batch)
            reached = self._by_lane(self._walks.every, batch)
            for lane, v in enumerate(batch.tolist()):
                broken = set(breaks[lane])
                out.append(SinglePoint(
                    idx.ids[v], idx.kind(v), tuple(idx.ids[p] for p in breaks[lane]),
                    tuple(idx.ids[p] for p in reached[lane] if p not in broken)))
        return out

    def _by_lane(self, graph: tuple[I64, I64], batch: I64) -> list[list[int]]:
        """Per node of ``batch`` (at most 64), the promises it reaches in ``graph`` (one
        of the walks), as positions in id order."""
        walks = self._walks
        scratch = self._scratch.take()
        lane, node = kern.reach_lanes(*graph, walks.level, walks.new[batch], walks.promise,
                                      *scratch)
        self._scratch.give(scratch)  # clean again (a walk that failed keeps its own)
        node = walks.old[node]
        order = np.lexsort((self._rank[node], lane))
        lane, node = lane[order], node[order]
        cuts = np.searchsorted(lane, np.arange(len(batch) + 1))
        return [node[cuts[i]:cuts[i + 1]].tolist() for i in range(len(batch))]

_compiling = threading.Lock()


@functools.cache
def _compiled() -> bool:
    index = GraphIndex.from_arrays(
        ("p", "s", "a", "b"), np.array([0, 3, 4, 4], dtype=np.int8),
        np.array([0, 1, 1, 2, 3], dtype=np.int64), np.array([1, 2, 3, 3, 2], dtype=np.int64),
        np.array([0, 0, 0, 1, 0]), np.array([-1, 0, 0, -1, -1], dtype=np.int64),
        [1], ["r"], [1])
    SpofTable(index, breakage(index, workers=1)).of_promise("p")
    return True


def compile_kernels() -> None:
    """Compile (or load from the disk cache) every kernel a table uses, once per process:
    compiling takes seconds the first time on a machine, loading a fraction of one."""
    with _compiling:
        _compiled()
