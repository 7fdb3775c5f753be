"""The index of the graph the impact engine works on, kept current change by change.

Nodes are numbered by *position* in the order they were added; edges by their
own numbers. Each node's dependencies and dependants are kept in *blocks* of a
shared pool of edge numbers (``pool[start[v]:start[v] + len[v]]``) with room to
spare, so adding an edge is O(1) amortised (a full block moves to the end of
the pool with twice the room) and the compiled kernels walk the same arrays
whatever changed since the index was built. Removing or retiring an edge only
clears its flag; the pool is compacted when dead entries pile up. Positions and
edge numbers are never reused, so a number read under one version still means
the same thing under the next.

Built whole with :meth:`GraphIndex.from_graph` or :meth:`GraphIndex.from_arrays`;
changed in place with :meth:`add_node`, :meth:`set_node`, :meth:`remove_node`,
:meth:`add_edge`, :meth:`set_edge`, :meth:`set_active` and :meth:`remove_edge`
(the live graph does this under its write lock); :meth:`snapshot` makes a
compact frozen copy for long computations.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from servicegraph.impact import kernels
from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.graph import GraphData, Node
from servicegraph.model.kinds import Impact, NodeKind
from servicegraph.model.redundancy import ALL, Rule, codes
from servicegraph.model.redundancy import resolve_one as _resolve_one

#: Numbers the indexes a process makes (see :attr:`GraphIndex.generation`).
_GENERATIONS = itertools.count(1)

KINDS: tuple[NodeKind, ...] = tuple(NodeKind)
KIND_CODE = {k: i for i, k in enumerate(KINDS)}
I64 = npt.NDArray[np.int64]


def _grow(arr: npt.NDArray[np.generic], need: int) -> npt.NDArray[np.generic]:
    """``arr`` with room for ``need`` entries (doubling), zero-filled beyond its end."""
    if need <= arr.shape[0]:
        return arr
    bigger = np.zeros(max(need, 2 * arr.shape[0], 16), dtype=arr.dtype)
    bigger[:arr.shape[0]] = arr
    return bigger


def resolve(code: I64, size: I64) -> I64:
    """Members each group's rule code asks for among its ``size`` members (see
    :func:`servicegraph.model.redundancy.resolve_one`), for many groups at once."""
    share = np.maximum(1, (-code * size + 99) // 100)
    return np.where(code > 0, code, np.where(code == ALL, size, share)).astype(np.int64)


def _links(src: I64, soft: npt.NDArray[np.bool_], grp: I64,
           active: npt.NDArray[np.bool_]) -> I64:
    """The packed ``link`` word of each edge (see ``GraphIndex._link``)."""
    code = np.where(grp >= 0, grp + 3, np.where(soft, 2, 1))
    code = np.where(active, code, 0)
    return (src.astype(np.int64) << 32) | code.astype(np.int64)


@dataclass
class _Blocks:
    """One direction of adjacency: per node a block of edge numbers in a shared pool.

    ``link``, when kept, is a second pool beside ``pool``: per entry a word about its
    edge (the dependants' blocks keep each edge's ``link`` word there, see
    ``GraphIndex``), so a kernel walking a block reads it in order rather than looking
    each edge up.
    """

    start: I64
    length: I64
    room: I64
    pool: I64
    link: I64 | None = None
    used: int = 0  # pool entries handed out (live, dead or spare)
    dead: int = 0  # pool entries handed out but no longer in any block

    @classmethod
    def empty(cls, linked: bool = False) -> _Blocks:
        """Blocks of no node (with a ``link`` pool when ``linked``)."""
        blocks = cls(*(np.zeros(0, dtype=np.int64) for _ in range(4)))  # type: ignore[arg-type]
        if linked:
            blocks.link = np.zeros(0, dtype=np.int64)
        return blocks

    @classmethod
    def build(cls, keys: I64, n: int, links: I64 | None = None) -> _Blocks:
        """Blocks for edges grouped by ``keys`` (edge e belongs to node keys[e]), with
        each edge's word of ``links`` beside it when given."""
        order = np.argsort(keys, kind="stable").astype(np.int64)
        counts = np.bincount(keys, minlength=n).astype(np.int64)
        start = np.zeros(n, dtype=np.int64)
        if n:
            np.cumsum(counts[:-1], out=start[1:])
        return cls(start, counts, counts.copy(), order,
                   None if links is None else links[order], used=len(order))

    def grow_nodes(self, n: int) -> None:
        self.start = _grow(self.start, n)  # type: ignore[assignment]
        self.length = _grow(self.length, n)  # type: ignore[assignment]
        self.room = _grow(self.room, n)  # type: ignore[assignment]

    def add(self, v: int, e: int, alive: npt.NDArray[np.bool_], link: int = 0) -> None:
        """Put edge ``e`` (with its ``link`` word, when kept) in node ``v``'s block,
        moving the block when it is full."""
        if self.length[v] == self.room[v]:
            old, size = int(self.start[v]), int(self.length[v])
            kept = self.pool[old:old + size]
            live = alive[kept]  # dead entries are left behind when a block moves
            kept = kept[live]
            room = max(4, 2 * (len(kept) + 1))
            self.pool = _grow(self.pool, self.used + room)  # type: ignore[assignment]
            self.pool[self.used:self.used + len(kept)] = kept
            if self.link is not None:
                words = self.link[old:old + size][live]
                grown: I64 = _grow(self.link, self.used + room)  # type: ignore[assignment]
                grown[self.used:self.used + len(kept)] = words
                self.link = grown
            self.dead += int(self.room[v])
            self.start[v], self.length[v], self.room[v] = self.used, len(kept), room
            self.used += room
        at = self.start[v] + self.length[v]
        self.pool[at] = e
        if self.link is not None:
            self.link[at] = link
        self.length[v] += 1

    def set_link(self, v: int, e: int, link: int) -> None:
        """Set the ``link`` word of edge ``e`` in node ``v``'s block."""
        assert self.link is not None
        s = int(self.start[v])
        (at,) = np.flatnonzero(self.pool[s:s + int(self.length[v])] == e)[:1]
        self.link[s + int(at)] = link

    def of(self, v: int) -> I64:
        s = int(self.start[v])
        return self.pool[s:s + int(self.length[v])]

    def compact(self, n: int, alive: npt.NDArray[np.bool_]) -> None:
        """Rewrite the pool with only live entries, each block with a little room."""
        lengths = self.length[:n]
        total = int(lengths.sum())
        owner = np.repeat(np.arange(n, dtype=np.int64), lengths)
        first = np.repeat(np.cumsum(lengths) - lengths, lengths)
        entries = self.pool[np.repeat(self.start[:n], lengths) + np.arange(total) - first]
        keep = alive[entries]
        words = None
        if self.link is not None:
            words = self.link[np.repeat(self.start[:n], lengths) + np.arange(total)
                              - first][keep]
        entries, owner = entries[keep], owner[keep]
        sizes = np.bincount(owner, minlength=n).astype(np.int64)
        room = sizes + np.minimum(sizes, 4)
        start = np.zeros(n, dtype=np.int64)
        if n:
            np.cumsum(room[:-1], out=start[1:])
        within = np.arange(len(entries)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        pool = np.zeros(int(room.sum()) + 16, dtype=np.int64)
        pool[start[owner] + within] = entries
        if words is not None:
            self.link = np.zeros(len(pool), dtype=np.int64)
            self.link[start[owner] + within] = words
        self.start[:n] = start
        self.length[:n] = sizes
        self.room[:n] = room
        self.pool, self.used, self.dead = pool, int(room.sum()), 0

    def crowded(self) -> bool:
        """Whether dead entries are worth a compaction."""
        return self.dead > max(4096, self.used // 2)


class NodeView(Mapping[str, Node]):
    """The indexed nodes by id, as :class:`~servicegraph.model.Node` values carrying
    what the index keeps (kind, name, owner, provider, redundancy)."""

    def __init__(self, index: GraphIndex) -> None:
        self._index = index

    def __getitem__(self, node_id: str) -> Node:
        v = self._index.position[node_id]
        return self._index.node(v)

    def __iter__(self) -> Iterator[str]:
        return iter(self._index.position)

    def __len__(self) -> int:
        return len(self._index.position)


class GraphIndex:
    """Integer-numbered graph with dependency and dependant blocks, for the kernels.

    Readers must not run while it changes: the live graph serialises the two
    (:class:`~servicegraph.live.LiveGraph`); an index built for a question alone
    (``from_graph``) is never changed.
    """

    def __init__(self) -> None:
        #: Which index this is, among every index this process made: with
        #: :attr:`structure`, the :attr:`key` of what caches derive from it.
        self.generation = next(_GENERATIONS)
        self.ids: list[str] = []
        self.position: dict[str, int] = {}
        self.names: list[str] = []
        self.owners: list[str | None] = []
        self.providers: list[str | None] = []
        self._n = 0
        self._kind = np.zeros(0, dtype=np.int8)
        self._exists = np.zeros(0, dtype=np.bool_)
        self._counted = np.zeros(0, dtype=np.bool_)  # exists and counts for impact
        self._groups_of: list[dict[str, int]] = []  # declared groups: name -> number
        self._m = 0
        self._src = np.zeros(0, dtype=np.int64)
        self._dst = np.zeros(0, dtype=np.int64)
        self._soft = np.zeros(0, dtype=np.bool_)
        self._grp = np.zeros(0, dtype=np.int64)
        self._alive = np.zeros(0, dtype=np.bool_)  # exists in the graph
        self._active = np.zeros(0, dtype=np.bool_)  # exists and counts for impact
        # Per edge, what the propagation reads of it in one word: its dependant (high 32
        # bits) and how it counts (low bits: 0 not at all, 1 hard, 2 soft, 3 + g in group
        # g). Kept beside the edge's entry in its dependency's block of dependants (the
        # ``link`` pool of ``_in``): the kernels read a block's words in order, one read
        # per edge instead of four and no lookup by edge number.
        self._active_count = 0
        self._alive_count = 0  # edges that exist: kept, so a write never counts them all
        self._g = 0
        self._gnode = np.zeros(0, dtype=np.int64)
        # Each group's rule as codes (see servicegraph.model.redundancy), and resolved
        # against its current size: members needed up (_gmin) and ok (_gok). Resolved
        # whenever the size or the rule changes, so the kernels read two integers.
        self._gmin_code = np.zeros(0, dtype=np.int64)
        self._gok_code = np.zeros(0, dtype=np.int64)
        self._gmin = np.zeros(0, dtype=np.int64)
        self._gok = np.zeros(0, dtype=np.int64)
        self._gsize = np.zeros(0, dtype=np.int64)
        self._grule: list[Rule] = []  # each group's rule as declared (1 when undeclared)
        self.group_name: list[str] = []
        self._group_at: dict[tuple[int, str], int] = {}
        self._out = _Blocks.empty()
        self._in = _Blocks.empty(linked=True)
        #: Bumped by every change of nodes or edges: caches derived from the structure
        #: (kind lists, id ranks) are keyed by it.
        self.structure = 0
        self._cache: dict[str, object] = {}
        # The ids in order, and per position a key that sorts like its id: answers list
        # nodes in id order without sorting strings, and the chain search breaks ties
        # by it. A new id takes a key between its neighbours' (renumbered when none fits).
        self._sorted_ids: list[str] = []
        self._order = np.zeros(0, dtype=np.float64)
        self._pending: list[int] = []  # positions added whose ids await an order key
        self._bulk = False
        # Who to call for each node (its provider, else its owner), as codes.
        self._who = np.zeros(0, dtype=np.int32)
        self.who_names: list[str] = []
        self._who_code: dict[str, int] = {}

    # --- reading ------------------------------------------------------------------------

    @property
    def node_count(self) -> int:
        """Positions handed out (removed nodes keep theirs)."""
        return self._n

    @property
    def edge_count(self) -> int:
        """Edges that count for impact."""
        return self._active_count

    @property
    def stored_edge_count(self) -> int:
        """Edges that exist, whether they count for impact or not."""
        return self._alive_count

    def alive(self, e: int) -> bool:
        """Whether edge number ``e`` exists (retired or not)."""
        return bool(self._alive[e])

    @property
    def edge_numbers(self) -> int:
        """Edge numbers handed out (removed and retired edges keep theirs)."""
        return self._m

    @property
    def group_count(self) -> int:
        """Redundancy groups numbered."""
        return self._g

    @property
    def nodes(self) -> NodeView:
        """The nodes by id (what the index keeps of them)."""
        return NodeView(self)

    def exists(self, v: int) -> bool:
        """Whether position ``v`` holds a node (not a removed one)."""
        return bool(self._exists[v])

    def stored_nodes(self) -> npt.NDArray[np.bool_]:
        """Whether each position holds a node (retired records included)."""
        return self._exists[:self._n]

    def counted(self, v: int) -> bool:
        """Whether node ``v`` counts for impact answers (see :meth:`set_counted`)."""
        return bool(self._counted[v])

    def set_counted(self, v: int, counted: bool) -> None:
        """Whether node ``v`` counts for impact answers: a node kept in the index only
        as a retired record does not (questions about it answer "unknown")."""
        if bool(self._counted[v]) != counted:
            self._counted[v] = counted
            self._touch()

    def kind(self, v: int) -> NodeKind:
        """The kind of node number ``v``."""
        return KINDS[int(self._kind[v])]

    @property
    def kind_codes(self) -> npt.NDArray[np.int8]:
        """Kind codes by position (indexes into :data:`KINDS`)."""
        return self._kind[:self._n]

    def declares_groups(self, v: int) -> bool:
        """Whether node ``v`` declares redundancy groups."""
        return bool(self._groups_of[v])

    def declares_group(self, v: int, name: str) -> bool:
        """Whether node ``v`` declares the redundancy group ``name``."""
        return name in self._groups_of[v]

    def node(self, v: int) -> Node:
        """What the index keeps of node number ``v``, as a Node."""
        groups = self._groups_of[v]
        return Node(self.ids[v], self.kind(v), self.names[v], owner=self.owners[v],
                    provider=self.providers[v],
                    redundancy={name: self._grule[g] for name, g in groups.items()})

    def of_kind(self, kind: NodeKind) -> I64:
        """Positions of the existing nodes of one kind, ascending."""
        key = f"kind:{kind.value}:{self.structure}"
        found = self._cache.get(key)
        if found is None:
            found = np.flatnonzero((self._kind[:self._n] == KIND_CODE[kind])
                                   & self._counted[:self._n]).astype(np.int64)
            self._cache = {k: c for k, c in self._cache.items()
                           if not k.startswith(f"kind:{kind.value}:")}
            self._cache[key] = found
        return found  # type: ignore[return-value]

    def id_rank(self) -> npt.NDArray[np.float64]:
        """Per position a key that sorts like the ids (for id order and tie-breaks)."""
        return self._order[:self._n]

    def in_id_order(self, positions: I64) -> I64:
        """``positions`` sorted by their ids.

        >>> from servicegraph.model import Node, NodeKind
        >>> idx = GraphIndex.from_graph(GraphData.of([Node("b", NodeKind.CI, "B"),
        ...                                           Node("a", NodeKind.CI, "A")]))
        >>> [idx.ids[v] for v in idx.in_id_order(np.array([0, 1]))]
        ['a', 'b']
        """
        positions = np.asarray(positions, dtype=np.int64)
        return positions[np.argsort(self._order[positions], kind="stable")]

    def who(self, v: int) -> str | None:
        """Who to call about node ``v``: its provider, else its owner."""
        code = int(self._who[v])
        return None if code < 0 else self.who_names[code]

    @property
    def who_codes(self) -> npt.NDArray[np.int32]:
        """:meth:`who` as codes into :attr:`who_names` (-1: nobody named), by position."""
        return self._who[:self._n]

    def _set_who(self, v: int) -> None:
        name = self.providers[v] or self.owners[v]
        if name is None:
            self._who[v] = -1
            return
        code = self._who_code.get(name)
        if code is None:
            code = self._who_code[name] = len(self.who_names)
            self.who_names.append(name)
        self._who[v] = code

    def _place(self, v: int) -> None:
        """Give the new id at ``v`` an order key between its neighbours' (now, or with
        the others added in bulk, by :meth:`place_pending`)."""
        self._pending.append(v)
        if not self._bulk:
            self.place_pending()

    def place_pending(self) -> None:
        """Order keys for the ids added since the last call, all at once.

        The new ids are merged into the sorted list in one pass, and the ids that fall
        between the same two neighbours share the middle half of their gap, so a
        load of many neighbouring ids (a sync in id order) does not exhaust it; only
        when floating point runs out of room are all keys renumbered.
        """
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        ids, old = self.ids, self._sorted_ids
        fresh = sorted(pending, key=ids.__getitem__)
        at = [bisect.bisect_left(old, ids[v]) for v in fresh]
        merged: list[str] = []
        order, position = self._order, self.position
        room = True
        prev = 0
        j = 0
        while j < len(fresh):
            i = at[j]
            k = j
            while k < len(fresh) and at[k] == i:
                k += 1
            merged += old[prev:i]
            merged += [ids[v] for v in fresh[j:k]]
            prev = i
            count = k - j
            below = float(order[position[old[i - 1]]]) if i > 0 else None
            above = float(order[position[old[i]]]) if i < len(old) else None
            if below is None and above is None:
                keys = np.arange(count, dtype=np.float64)
            elif below is None:
                keys = above - count + np.arange(count, dtype=np.float64)  # type: ignore[operator]
            elif above is None:
                keys = below + 1.0 + np.arange(count, dtype=np.float64)
            else:
                gap = above - below
                keys = below + gap / 4 + (gap / 2) * (np.arange(1, count + 1) / (count + 1))
                inside = np.r_[below, keys, above]
                room = room and bool(np.all(np.diff(inside) > 0))
            order[np.array(fresh[j:k], dtype=np.int64)] = keys
            j = k
        merged += old[prev:]
        self._sorted_ids = merged
        if not room:  # no room left between some neighbours: renumber all
            self._renumber_order()

    @contextmanager
    def bulk(self) -> Iterator[None]:
        """Add many nodes, placing their ids in order once at the end."""
        self._bulk = True
        try:
            yield
        finally:
            self._bulk = False
            self.place_pending()

    def _renumber_order(self) -> None:
        position = self.position
        at = np.fromiter((position[i] for i in self._sorted_ids), dtype=np.int64,
                         count=len(self._sorted_ids))
        self._order[at] = np.arange(len(at), dtype=np.float64)

    def lookup(self, node_ids: Sequence[str]) -> list[int]:
        """Node numbers for ids; raises :class:`UnknownNodeError` naming every unknown one."""
        position, counted = self.position, self._counted
        missing = [n for n in node_ids if n not in position or not counted[position[n]]]
        if missing:
            raise UnknownNodeError(missing)
        return [position[n] for n in node_ids]

    def dependencies(self, v: int) -> I64:
        """Numbers of the active edges from ``v`` (what it needs)."""
        block = self._out.of(v)
        return block[self._active[block]]

    def dependants(self, v: int) -> I64:
        """Numbers of the active edges into ``v`` (what needs it)."""
        block = self._in.of(v)
        return block[self._active[block]]

    @property
    def edge_source(self) -> I64:
        """Dependant of each edge, by edge number."""
        return self._src[:self._m]

    @property
    def edge_target(self) -> I64:
        """Dependency of each edge, by edge number."""
        return self._dst[:self._m]

    @property
    def edge_soft(self) -> npt.NDArray[np.bool_]:
        """Whether each edge is soft."""
        return self._soft[:self._m]

    @property
    def edge_group(self) -> I64:
        """Redundancy group number of each edge, -1 when ungrouped."""
        return self._grp[:self._m]

    @property
    def edge_active(self) -> npt.NDArray[np.bool_]:
        """Whether each edge counts for impact (exists and is not retired)."""
        return self._active[:self._m]

    @property
    def group_node(self) -> I64:
        """The node of each group."""
        return self._gnode[:self._g]

    @property
    def group_min_ok(self) -> I64:
        """How many members each group needs up not to be down (its ``min_ok``
        resolved against its current size)."""
        return self._gmin[:self._g]

    @property
    def group_ok_at(self) -> I64:
        """How many members each group needs ok to be ok (its ``ok_at`` resolved
        against its current size: all of them by default)."""
        return self._gok[:self._g]

    def group_rule(self, g: int) -> Rule:
        """Group ``g``'s rule as its node declares it."""
        return self._grule[g]

    @property
    def group_size(self) -> I64:
        """Active members of each group."""
        return self._gsize[:self._g]

    def find_edge(self, source: int, target: int) -> int:
        """The number of the edge ``source -> target`` (retired or not), or -1."""
        found = np.zeros(1, dtype=np.int64)
        kernels.find_edges(self._out.start, self._out.length, self._out.pool, self._dst,
                           self._alive, np.array([source], dtype=np.int64),
                           np.array([target], dtype=np.int64), found)
        return int(found[0])

    def find_edges(self, sources: I64, targets: I64) -> I64:
        """Vectorised :meth:`find_edge`."""
        found = np.zeros(len(sources), dtype=np.int64)
        kernels.find_edges(self._out.start, self._out.length, self._out.pool, self._dst,
                           self._alive, sources.astype(np.int64), targets.astype(np.int64),
                           found)
        return found

    def arrays(self) -> KernelArrays:
        """The arrays the kernels read, as they stand now."""
        assert self._in.link is not None
        return KernelArrays(
            in_start=self._in.start, in_len=self._in.length, in_pool=self._in.pool,
            out_start=self._out.start, out_len=self._out.length, out_pool=self._out.pool,
            e_src=self._src, e_dst=self._dst, e_soft=self._soft, e_grp=self._grp,
            e_active=self._active, e_alive=self._alive, in_link=self._in.link,
            g_size=self._gsize,
            g_min=self._gmin, g_ok=self._gok, n=self._n, g=self._g)

    # --- building -----------------------------------------------------------------------

    @classmethod
    def from_graph(cls, graph: GraphData) -> GraphIndex:
        """Index a validated graph: every node and edge it holds.

        >>> from servicegraph.model import Edge, Node, NodeKind
        >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
        ...                  [Edge("a", "b")])
        >>> GraphIndex.from_graph(g).edge_count
        1
        """
        ids = [n.id for n in graph.nodes]
        position = {node_id: i for i, node_id in enumerate(ids)}
        kinds = np.fromiter((KIND_CODE[n.kind] for n in graph.nodes), dtype=np.int8,
                            count=len(ids))
        groups: dict[tuple[int, str], int] = {}
        group_node: list[int] = []
        group_name: list[str] = []
        group_min: list[Rule] = []
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
                key = (s, e.group)
                if key not in groups:  # a group without min_ok: needed whole
                    groups[key] = len(group_node)
                    group_node.append(s)
                    group_name.append(e.group)
                    group_min.append(1)
                grp[k] = groups[key]
        return cls.from_arrays(tuple(ids), kinds, src, dst, soft, grp, group_node,
                               tuple(group_name), group_min,
                               names=[n.name for n in graph.nodes],
                               owners=[n.owner for n in graph.nodes],
                               providers=[n.provider for n in graph.nodes])

    @classmethod
    def from_arrays(
        cls,
        ids: Sequence[str],
        kinds: npt.NDArray[np.int8],
        src: I64,
        dst: I64,
        soft: npt.NDArray[np.integer] | npt.NDArray[np.bool_],
        grp: I64,
        group_node: Sequence[int],
        group_name: Sequence[str],
        group_min: Sequence[Rule],
        *,
        names: Sequence[str] | None = None,
        owners: Sequence[str | None] | None = None,
        providers: Sequence[str | None] | None = None,
        active: npt.NDArray[np.bool_] | None = None,
        declared: npt.NDArray[np.bool_] | None = None,
        id_order: I64 | None = None,
    ) -> GraphIndex:
        """Index from plain arrays (what a bulk loader or a benchmark has at hand).

        ``active`` marks the edges that count for impact (all by default); the others
        are kept, e.g. retired edges of the live graph. ``group_min`` holds each
        group's rule (see :mod:`servicegraph.model.redundancy`), a count at its simplest.
        ``declared`` marks the groups their node declares (all by default); the others
        are only named by edges, as an index changed in place keeps them.
        ``id_order`` lists the positions in id order, when known (it is checked; the
        ids are sorted when it is wrong).
        """
        idx = cls()
        n, m, g = len(ids), len(src), len(group_node)
        idx.ids = list(ids)
        idx.position = {node_id: i for i, node_id in enumerate(idx.ids)}
        idx.names = list(names) if names is not None else list(ids)
        idx.owners = list(owners) if owners is not None else [None] * n
        idx.providers = list(providers) if providers is not None else [None] * n
        idx._n = n
        idx._kind = np.asarray(kinds, dtype=np.int8).copy()
        idx._exists = np.ones(n, dtype=np.bool_)
        idx._counted = np.ones(n, dtype=np.bool_)
        idx._m = m
        idx._src = np.asarray(src, dtype=np.int64).copy()
        idx._dst = np.asarray(dst, dtype=np.int64).copy()
        idx._soft = np.asarray(soft).astype(np.bool_)
        idx._grp = np.asarray(grp, dtype=np.int64).copy()
        idx._alive = np.ones(m, dtype=np.bool_)
        idx._active = (np.ones(m, dtype=np.bool_) if active is None
                       else np.asarray(active, dtype=np.bool_).copy())
        idx._active_count = int(idx._active.sum())
        idx._alive_count = m
        idx._g = g
        idx._gnode = np.asarray(group_node, dtype=np.int64).copy()
        idx._grule = list(group_min)
        pairs = [codes(rule) for rule in idx._grule]
        idx._gmin_code = np.array([p[0] for p in pairs], dtype=np.int64)
        idx._gok_code = np.array([p[1] for p in pairs], dtype=np.int64)
        members = idx._grp[idx._active & (idx._grp >= 0)]
        idx._gsize = np.bincount(members, minlength=g).astype(np.int64)
        idx._gmin = resolve(idx._gmin_code, idx._gsize)
        idx._gok = resolve(idx._gok_code, idx._gsize)
        idx.group_name = list(group_name)
        idx._groups_of = [{} for _ in range(n)]
        declared_list = [True] * g if declared is None else np.asarray(declared).tolist()
        for number, (node, name, own) in enumerate(zip(idx._gnode.tolist(), idx.group_name,
                                                       declared_list, strict=True)):
            if own:
                idx._groups_of[node][name] = number
            idx._group_at[(node, name)] = number
        idx._out = _Blocks.build(idx._src, n)
        idx._in = _Blocks.build(idx._dst, n,
                                _links(idx._src, idx._soft, idx._grp, idx._active))
        idx._order = np.zeros(n, dtype=np.float64)
        ranked: list[str] | None = None
        if id_order is not None and len(id_order) == n:
            ranked = [idx.ids[v] for v in np.asarray(id_order).tolist()]
            if not all(a < b for a, b in itertools.pairwise(ranked)):
                ranked = None  # not the id order: sorted below
        if ranked is None:
            idx._sorted_ids = sorted(idx.ids)
            idx._renumber_order()
        else:
            idx._sorted_ids = ranked
            idx._order[np.asarray(id_order, dtype=np.int64)] = np.arange(n, dtype=np.float64)
        idx._who = np.full(n, -1, dtype=np.int32)
        for v in range(n):
            if idx.providers[v] is not None or idx.owners[v] is not None:
                idx._set_who(v)
        return idx

    @property
    def key(self) -> tuple[int, int]:
        """Which graph structure this is: (:attr:`generation`, :attr:`structure`). Two
        indexes (a graph read again from the store, a frozen copy) never share one."""
        return self.generation, self.structure

    # --- changing -----------------------------------------------------------------------

    def _touch(self) -> None:
        self.structure += 1

    def add_node(self, node_id: str, kind: NodeKind, name: str, owner: str | None = None,
                 provider: str | None = None,
                 redundancy: Mapping[str, Rule] | None = None) -> int:
        """Add a node; returns its position."""
        if node_id in self.position:
            raise ValueError(f"node {node_id!r} is indexed already")
        v = self._n
        self._n += 1
        self._kind = _grow(self._kind, self._n)  # type: ignore[assignment]
        self._exists = _grow(self._exists, self._n)  # type: ignore[assignment]
        self._counted = _grow(self._counted, self._n)  # type: ignore[assignment]
        self._order = _grow(self._order, self._n)  # type: ignore[assignment]
        self._who = _grow(self._who, self._n)  # type: ignore[assignment]
        self._out.grow_nodes(self._n)
        self._in.grow_nodes(self._n)
        self.ids.append(node_id)
        self.names.append(name)
        self.owners.append(owner)
        self.providers.append(provider)
        self._groups_of.append({})
        self.position[node_id] = v
        self._exists[v] = True
        self._counted[v] = True
        self._kind[v] = KIND_CODE[kind]
        self._set_who(v)
        self._place(v)
        self._declare(v, redundancy or {})
        self._touch()
        return v

    def set_node(self, v: int, kind: NodeKind, name: str, owner: str | None = None,
                 provider: str | None = None,
                 redundancy: Mapping[str, Rule] | None = None) -> None:
        """Change what the index keeps of node ``v``."""
        self._kind[v] = KIND_CODE[kind]
        self.names[v], self.owners[v], self.providers[v] = name, owner, provider
        self._set_who(v)
        self._declare(v, redundancy or {})
        self._touch()

    def _declare(self, v: int, redundancy: Mapping[str, Rule]) -> None:
        declared = self._groups_of[v]
        for name in [n for n in declared if n not in redundancy]:
            # Undeclared now; its members (if any) are moved or removed by the same change.
            self._set_rule(declared.pop(name), 1)
        for name, rule in redundancy.items():
            declared[name] = g = self._group(v, name)
            self._set_rule(g, rule)

    def _set_rule(self, g: int, rule: Rule) -> None:
        self._grule[g] = rule
        self._gmin_code[g], self._gok_code[g] = codes(rule)
        self._resolve(g)

    def _resolve(self, g: int) -> None:
        """Resolve group ``g``'s rule against its size (after either changed)."""
        size = int(self._gsize[g])
        self._gmin[g] = _resolve_one(int(self._gmin_code[g]), size)
        # Never below min_ok: a share can resolve lower than a count once members
        # retire, and a group short of min_ok up is not "ok" whatever ok_at says.
        self._gok[g] = max(_resolve_one(int(self._gok_code[g]), size), int(self._gmin[g]))

    def _group(self, v: int, name: str) -> int:
        g = self._group_at.get((v, name))
        if g is None:
            g = self._g
            self._g += 1
            for name_ in ("_gnode", "_gmin", "_gok", "_gmin_code", "_gok_code", "_gsize"):
                setattr(self, name_, _grow(getattr(self, name_), self._g))
            self._gnode[g], self._gsize[g] = v, 0
            self._grule.append(1)
            self.group_name.append(name)
            self._set_rule(g, 1)  # needed whole until declared
            self._group_at[(v, name)] = g
        return g

    def remove_node(self, v: int) -> None:
        """Remove node ``v`` and every edge touching it."""
        for e in np.concatenate([self._out.of(v), self._in.of(v)]).tolist():
            if self._alive[e]:
                self.remove_edge(e)
        self._exists[v] = False
        self._counted[v] = False
        node_id = self.ids[v]
        self.place_pending()
        del self._sorted_ids[bisect.bisect_left(self._sorted_ids, node_id)]
        del self.position[node_id]
        self._groups_of[v] = {}
        self._touch()

    def add_edge(self, source: int, target: int, group: str | None = None,
                 soft: bool = False, active: bool = True) -> int:
        """Add the edge ``source -> target``; returns its number."""
        e = self._m
        self._m += 1
        for name in ("_src", "_dst", "_soft", "_grp", "_alive", "_active"):
            setattr(self, name, _grow(getattr(self, name), self._m))
        self._src[e], self._dst[e], self._soft[e] = source, target, soft
        self._grp[e] = -1 if group is None else self._group(source, group)
        self._alive[e] = True
        self._alive_count += 1
        self._active[e] = False
        self._out.add(source, e, self._alive)
        self._in.add(target, e, self._alive, source << 32)
        if active:
            self.set_active(e, True)
        self._touch()
        if self._out.crowded() or self._in.crowded():
            self.compact()
        return e

    def set_edge(self, e: int, group: str | None, soft: bool) -> None:
        """Change an edge's redundancy group and impact."""
        was = self._active[e]
        if was:
            self.set_active(e, False)
        self._soft[e] = soft
        self._grp[e] = -1 if group is None else self._group(int(self._src[e]), group)
        if was:
            self.set_active(e, True)
        self._touch()

    def set_active(self, e: int, active: bool) -> None:
        """Whether edge ``e`` counts for impact (a retired edge does not)."""
        if bool(self._active[e]) == active:
            return
        self._active[e] = active
        g = int(self._grp[e])
        code = (g + 3 if g >= 0 else 2 if self._soft[e] else 1) if active else 0
        self._in.set_link(int(self._dst[e]), e, (int(self._src[e]) << 32) | code)
        step = 1 if active else -1
        self._active_count += step
        if g >= 0:
            self._gsize[g] += step
            self._resolve(g)
        self._touch()

    def remove_edge(self, e: int) -> None:
        """Remove edge ``e`` (its number is not reused)."""
        if not self._alive[e]:
            return
        self.set_active(e, False)
        self._alive[e] = False
        self._alive_count -= 1
        self._out.dead += 1
        self._in.dead += 1
        self._touch()
        if self._out.crowded() or self._in.crowded():
            self.compact()

    def compact(self) -> None:
        """Rewrite both pools without the entries of removed edges."""
        self._out.compact(self._n, self._alive)
        self._in.compact(self._n, self._alive)

    def forget_edges(self) -> None:
        """Drop the edges and their blocks, keeping the nodes (ids, kinds, names, id
        order): for a frozen copy whose edges were read into something else (a table
        of single points of failure), so that they are not held twice. The index then
        has no edges; never call it on an index that is still changed or walked."""
        empty = np.zeros(0, dtype=np.int64)
        self._m = self._active_count = self._alive_count = 0
        self._src, self._dst, self._grp = empty, empty.copy(), empty.copy()
        self._soft = np.zeros(0, dtype=np.bool_)
        self._alive, self._active = self._soft.copy(), self._soft.copy()
        self._out = _Blocks.empty()
        self._in = _Blocks.empty(linked=True)
        self._out.grow_nodes(self._n)
        self._in.grow_nodes(self._n)
        self.__dict__.pop("_workspaces", None)
        self._touch()

    def snapshot(self) -> GraphIndex:
        """A compact frozen copy: existing nodes, active edges, renumbered."""
        keep = np.flatnonzero(self._counted[:self._n])
        renumber = np.full(self._n, -1, dtype=np.int64)
        renumber[keep] = np.arange(len(keep), dtype=np.int64)
        edges = np.flatnonzero(self._active[:self._m])
        # An active edge always has counted ends (the live graph keeps them so).
        used_groups = np.flatnonzero(self._counted[self._gnode[:self._g]]) if self._g else \
            np.zeros(0, dtype=np.int64)
        regroup = np.full(max(self._g, 1), -1, dtype=np.int64)
        regroup[used_groups] = np.arange(len(used_groups), dtype=np.int64)
        grp = self._grp[edges]
        new_grp = np.where(grp >= 0, regroup[np.maximum(grp, 0)], -1)
        keep_list = keep.tolist()
        return GraphIndex.from_arrays(
            [self.ids[v] for v in keep_list], self._kind[keep], renumber[self._src[edges]],
            renumber[self._dst[edges]], self._soft[edges], new_grp,
            renumber[self._gnode[used_groups]].tolist(),
            [self.group_name[g] for g in used_groups.tolist()],
            [self._grule[g] for g in used_groups.tolist()],
            names=[self.names[v] for v in keep_list],
            owners=[self.owners[v] for v in keep_list],
            providers=[self.providers[v] for v in keep_list])


@dataclass(frozen=True)
class KernelArrays:
    """The index's arrays as handed to the kernels (valid until the index changes)."""

    in_start: I64
    in_len: I64
    in_pool: I64
    out_start: I64
    out_len: I64
    out_pool: I64
    e_src: I64
    e_dst: I64
    e_soft: npt.NDArray[np.bool_]
    e_grp: I64
    e_active: npt.NDArray[np.bool_]
    e_alive: npt.NDArray[np.bool_]
    in_link: I64  # beside in_pool: each entry's link word (see GraphIndex)
    g_size: I64
    g_min: I64
    g_ok: I64
    n: int
    g: int
