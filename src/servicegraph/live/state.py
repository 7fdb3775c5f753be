"""The graph one process holds in memory, kept current by the changes themselves.

A :class:`LiveGraph` is the stored graph at one version: the impact index
(:class:`~servicegraph.impact.GraphIndex`), the node attributes as columns,
the observed states, and who claims what (without the claims' full text, which
stays in the store). It changes only by applying changes in row form, the same
rows the store writes and the journal keeps, whether the change was made by
this process or replayed from another's: one way in, so every process ends
in the same state after the same versions.

It is not thread-safe by itself: :class:`~servicegraph.live.follower.Live`
serialises changes against readers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from servicegraph.impact.index import I64, KIND_CODE, GraphIndex
from servicegraph.model.acknowledgements import Acknowledgement
from servicegraph.model.alert_mapping import PROPERTY_PREFIX, AlertMapping
from servicegraph.model.alerts import Alert, Status
from servicegraph.model.errors import UnknownNodeError
from servicegraph.model.fields import EDGE_NAMES, NODE_FIELDS, NODE_NAMES
from servicegraph.model.graph import Edge, GraphData, Node, Observation
from servicegraph.model.kinds import Impact, NodeKind, State
from servicegraph.model.maintenance import Window
from servicegraph.model.redundancy import Rule
from servicegraph.store.rows import EMPTY, observation_from_row, split_claim_key, string_list

log = logging.getLogger("servicegraph.live")

#: The node fields the index holds itself (it needs them for every answer).
INDEXED = frozenset({"id", "kind", "name", "owner", "provider", "redundancy"})
#: The node attributes kept as columns beside the index's own.
COLUMNS = (*(f.column for f in NODE_FIELDS if f.name not in INDEXED), "retired_at")
_EMPTY: tuple[str, ...] = ()
#: The wire's field names and kind words (see :meth:`LiveGraph.repeats`).
_NODE_NAMES = NODE_NAMES
_EDGE_NAMES = EDGE_NAMES
_WIRE_KIND = {k.value: KIND_CODE[k] for k in NodeKind}


class _Interned:
    """One shared object per distinct value (sources, silos, claim-source tuples
    repeat across millions of items)."""

    def __init__(self) -> None:
        self._values: dict[Any, Any] = {}

    def __call__(self, value: Any) -> Any:
        if value is None:
            return None
        return self._values.setdefault(value, value)


@dataclass
class LiveColumns:
    """A live graph as plain columns, compacted: the existing nodes numbered from 0
    in position order, the existing edges likewise (what a saved snapshot holds; see
    :meth:`LiveGraph.columns` and :meth:`LiveGraph.from_columns`)."""

    version: int
    ids: list[str]
    kinds: np.ndarray[Any, np.dtype[np.int8]]
    names: list[str]
    owners: list[str | None]
    providers: list[str | None]
    #: Per edge: its dependant and dependency (node numbers), soft, group number or -1,
    #: and whether it counts for impact (not retired).
    src: np.ndarray[Any, np.dtype[np.int64]]
    dst: np.ndarray[Any, np.dtype[np.int64]]
    soft: np.ndarray[Any, np.dtype[np.bool_]]
    grp: np.ndarray[Any, np.dtype[np.int64]]
    active: np.ndarray[Any, np.dtype[np.bool_]]
    #: Per redundancy group: its node, name, rule, and whether its node declares it
    #: (else only edges name it).
    group_node: np.ndarray[Any, np.dtype[np.int64]]
    group_name: list[str]
    group_rule: list[Rule]
    group_declared: np.ndarray[Any, np.dtype[np.bool_]]
    #: The node numbers in id order.
    id_order: np.ndarray[Any, np.dtype[np.int64]]
    #: The attribute columns (see :data:`COLUMNS`), by node number.
    columns: dict[str, list[Any]]
    claim_keys: list[tuple[str, ...]]
    #: (source, key, node number) for the keys other than the node's own id.
    by_key: list[tuple[str, str, int]]
    edge_sources: list[tuple[str, ...]]
    edge_retired: dict[int, str]
    observed: dict[int, Observation]
    alerts: list[Alert]
    windows: list[Window]
    acks: list[Acknowledgement] = field(default_factory=list)
    mappings: list[AlertMapping] = field(default_factory=list)


class FrozenGraph:
    """A live graph's containers copied as they stand (taken under the read lock;
    cheap), to be compacted into :class:`LiveColumns` after the lock is released."""

    def __init__(self, live: LiveGraph) -> None:
        idx = live.index
        n, m, g = idx.node_count, idx.edge_numbers, idx.group_count
        self.version = live.version
        self.n, self.m = n, m
        self.ids, self.names = list(idx.ids), list(idx.names)
        self.owners, self.providers = list(idx.owners), list(idx.providers)
        self.exists = idx.stored_nodes().copy()
        self.kinds = idx.kind_codes.copy()
        self.rank = idx.id_rank().copy()
        self.src, self.dst = idx.edge_source.copy(), idx.edge_target.copy()
        self.soft, self.grp = idx.edge_soft.copy(), idx.edge_group.copy()
        self.active = idx.edge_active.copy()
        self.alive = idx.arrays().e_alive[:m].copy()
        self.group_node = idx.group_node.copy()
        self.group_name = list(idx.group_name)
        self.group_rule = [idx.group_rule(k) for k in range(g)]
        gnode = self.group_node.tolist()
        #: Whether each group is declared by its node (else it is kept only while an edge
        #: names it).
        self.declared = np.array([idx.exists(v) and idx.declares_group(v, name)
                                  for v, name in zip(gnode, self.group_name, strict=True)],
                                 dtype=np.bool_)
        self.columns = {c: list(values) for c, values in live._columns.items()}
        self.claim_keys = list(live.claim_keys)
        self.by_key = dict(live.by_key)
        self.edge_sources = list(live.edge_sources)
        self.edge_retired = dict(live.edge_retired)
        self.observed = dict(live.observed)
        self.alerts = list(live.alerts.values())
        self.windows = list(live.windows.values())
        self.acks = list(live.acks.values())
        self.mappings = list(live.mappings.values())

    def compact(self) -> LiveColumns:
        keep = np.flatnonzero(self.exists)
        renumber = np.full(self.n + 1, -1, dtype=np.int64)
        renumber[keep] = np.arange(len(keep), dtype=np.int64)
        edges = np.flatnonzero(self.alive)
        renumber_edge = np.full(self.m + 1, -1, dtype=np.int64)
        renumber_edge[edges] = np.arange(len(edges), dtype=np.int64)
        grp = self.grp[edges]
        used = np.zeros(len(self.group_node) + 1, dtype=np.bool_)
        used[grp[grp >= 0]] = True
        groups = np.flatnonzero((self.declared | used[:len(self.group_node)])
                                & (renumber[self.group_node] >= 0))
        regroup = np.full(len(self.group_node) + 1, -1, dtype=np.int64)
        regroup[groups] = np.arange(len(groups), dtype=np.int64)
        whole = len(keep) == self.n

        def nodes(values: list[Any]) -> list[Any]:
            if whole:
                return values[:self.n]
            return [values[v] for v in keep.tolist()]

        edge_list = edges.tolist()
        return LiveColumns(
            version=self.version, ids=nodes(self.ids), kinds=self.kinds[keep],
            names=nodes(self.names), owners=nodes(self.owners),
            providers=nodes(self.providers),
            src=renumber[self.src[edges]], dst=renumber[self.dst[edges]],
            soft=self.soft[edges], grp=np.where(grp >= 0, regroup[grp], -1),
            active=self.active[edges], group_node=renumber[self.group_node[groups]],
            group_name=[self.group_name[k] for k in groups.tolist()],
            group_rule=[self.group_rule[k] for k in groups.tolist()],
            group_declared=self.declared[groups],
            id_order=np.argsort(self.rank[keep], kind="stable").astype(np.int64),
            columns={c: nodes(values) for c, values in self.columns.items()},
            claim_keys=nodes(self.claim_keys),
            by_key=[(s, k, int(renumber[v])) for (s, k), v in self.by_key.items()
                    if renumber[v] >= 0],
            edge_sources=[self.edge_sources[e] for e in edge_list],
            edge_retired={int(renumber_edge[e]): at for e, at in self.edge_retired.items()
                          if renumber_edge[e] >= 0},
            observed={int(renumber[v]): seen for v, seen in self.observed.items()
                      if renumber[v] >= 0},
            alerts=self.alerts, windows=self.windows, acks=self.acks,
            mappings=self.mappings)


class LiveGraph:
    """The stored graph at one version, in memory (see the module docstring)."""

    def __init__(self) -> None:
        self.version = 0
        self.index = GraphIndex()
        self._columns: dict[str, list[Any]] = {c: [] for c in COLUMNS}
        #: Per node position: its claims' "<source> <key>" entries.
        self.claim_keys: list[tuple[str, ...]] = []
        #: (source, key) -> position, for keys other than the node's own id.
        self.by_key: dict[tuple[str, str], int] = {}
        #: Per edge number: the sources that claim it.
        self.edge_sources: list[tuple[str, ...]] = []
        #: Edge number -> when it was retired (retired edges only).
        self.edge_retired: dict[int, str] = {}
        #: Position -> the last observed state (observed nodes only).
        self.observed: dict[int, Observation] = {}
        #: Position -> when it was retired (retired nodes only).
        self.node_retired: dict[int, str] = {}
        #: Every alert held, by (source, fingerprint): firing, resolved, matched or not.
        self.alerts: dict[tuple[str, str], Alert] = {}
        #: Maintenance windows by id (cancelled and ended ones included).
        self.windows: dict[str, Window] = {}
        #: Active acknowledgements by node id (ended ones are not held).
        self.acks: dict[str, Acknowledgement] = {}
        #: Node id -> its firing alerts that impair it, by key, with their states.
        self.alerting: dict[str, dict[tuple[str, str], State]] = {}
        #: Alert mappings set per source (a source without one reads the default).
        self.mappings: dict[str, AlertMapping] = {}
        #: Node field (``name``, ``properties.x``) -> value -> position: the lookups the
        #: mappings' rules need, built when first asked, dropped when nodes or mappings
        #: change (an alert never scans the graph).
        self._lookups: dict[str, dict[str, int]] = {}
        self._intern = _Interned()

    # --- reading --------------------------------------------------------------------------

    def __contains__(self, node_id: object) -> bool:
        return node_id in self.index.position

    @property
    def node_count(self) -> int:
        """Nodes stored (retired ones included)."""
        return len(self.index.position)

    @property
    def edge_count(self) -> int:
        """Edges stored (retired ones included)."""
        return self.index.stored_edge_count

    def column(self, name: str, v: int) -> Any:
        """One attribute of node number ``v``."""
        return self._columns[name][v]

    def node(self, node_id: str) -> Node | None:
        """The node as stored (without its claims, which stay in the store)."""
        v = self.index.position.get(node_id)
        return None if v is None else self.node_at(v)

    def node_at(self, v: int) -> Node:
        """The node at position ``v``."""
        idx, col = self.index, self._columns
        props = col["properties"][v]
        return Node(idx.ids[v], idx.kind(v), idx.names[v], owner=idx.owners[v],
                    provider=idx.providers[v], visible=col["visible"][v],
                    silo=col["silo"][v], description=col["description"][v],
                    source=col["source"][v], external_id=col["external_id"][v],
                    properties=json.loads(props) if props != EMPTY else {},
                    # Most nodes declare no group: no index Node built to learn it.
                    redundancy=idx.node(v).redundancy if idx.declares_groups(v) else {},
                    retired_at=col["retired_at"][v],
                    observed=self.observed.get(v))

    def edge_at(self, e: int) -> Edge:
        """The edge with number ``e`` (without its claims)."""
        idx = self.index
        g = int(idx.edge_group[e])
        return Edge(idx.ids[int(idx.edge_source[e])], idx.ids[int(idx.edge_target[e])],
                    idx.group_name[g] if g >= 0 else None,
                    Impact.SOFT if idx.edge_soft[e] else Impact.HARD,
                    (), self.edge_retired.get(e))

    def edge_numbers(self, source: str | None = None, target: str | None = None
                     ) -> list[int]:
        """Numbers of the stored edges from ``source`` and/or to ``target`` (all when
        neither is given), retired ones included."""
        idx = self.index
        arrays = idx.arrays()
        if source is not None or target is not None:
            end = source if source is not None else target
            v = idx.position.get(end)  # type: ignore[arg-type]
            if v is None:
                return []
            start, length, pool = ((arrays.out_start, arrays.out_len, arrays.out_pool)
                                   if source is not None else
                                   (arrays.in_start, arrays.in_len, arrays.in_pool))
            block = pool[start[v]:start[v] + length[v]]
            found = block[arrays.e_alive[block]]
            if source is not None and target is not None:
                t = idx.position.get(target)
                found = found[arrays.e_dst[found] == t] if t is not None else found[:0]
            return found.tolist()  # type: ignore[no-any-return]
        every: list[int] = np.flatnonzero(arrays.e_alive[:idx.edge_numbers]).tolist()
        return every

    def nodes(self) -> Iterator[Node]:
        """Every stored node."""
        for v in range(self.index.node_count):
            if self.index.exists(v):
                yield self.node_at(v)

    def graph(self) -> GraphData:
        """The whole stored graph as model objects (without claims): for views that
        need all of it (the whole-graph exports)."""
        return GraphData(tuple(self.nodes()),
                         tuple(self.edge_at(e) for e in self.edge_numbers()))

    def neighbours(self) -> LiveNeighbours:
        """The live part of the graph (what :meth:`GraphData.live
        <servicegraph.model.GraphData.live>` keeps) for walks that cost what they reach."""
        return LiveNeighbours(self)

    def links(self) -> LiveLinks:
        """The live part of the graph as the catalogues and the matrix read it
        (:class:`~servicegraph.views.catalogue.Links`), from the index and the columns."""
        return LiveLinks(self)

    def view(self, node_ids: Sequence[str]) -> GraphData:
        """The nodes ``node_ids`` of the live part of the graph and every live edge among
        them, in the order of the whole graph (by position, then by edge number); raises
        :class:`~servicegraph.model.UnknownNodeError` naming the ids it lacks."""
        idx = self.index
        wanted = set(node_ids)
        missing = sorted(n for n in wanted
                         if n not in idx.position or not idx.counted(idx.position[n]))
        if missing:
            raise UnknownNodeError(missing)
        positions = sorted(idx.position[n] for n in wanted)
        return GraphData(tuple(self.node_at(v) for v in positions),
                         tuple(self.neighbours().edges_among(wanted)))

    def claimed_by(self, source: str) -> tuple[list[int], list[int]]:
        """Positions of the nodes and numbers of the edges ``source`` claims."""
        prefix = f"{source} "
        nodes = [v for v, keys in enumerate(self.claim_keys)
                 if keys and any(k.startswith(prefix) for k in keys)]
        edges = [e for e, sources in enumerate(self.edge_sources) if source in sources]
        return nodes, edges

    def find_by_key(self, source: str, key: str) -> int | None:
        """The position of the node ``source`` knows as ``key``, if any."""
        found = self.by_key.get((source, key))
        if found is not None:
            return found
        v = self.index.position.get(key)
        if v is not None and f"{source} {key}" in self.claim_keys[v]:
            return v
        return None

    def find_nodes(self, kind: NodeKind | None = None, query: str | None = None) -> list[int]:
        """Positions of the stored nodes (of ``kind``; whose id or name contains
        ``query``, any case), in id order, exact id or name matches first."""
        idx = self.index
        n = idx.node_count
        positions = np.flatnonzero(self.index.stored_nodes()[:n])
        if kind is not None:
            positions = positions[idx.kind_codes[positions] == KIND_CODE[kind]]
        ordered = idx.in_id_order(positions).tolist()
        if not query:
            return ordered  # type: ignore[no-any-return]
        wanted = query.casefold()
        ids, names = idx.ids, idx.names
        found = [v for v in ordered
                 if wanted in ids[v].casefold() or wanted in names[v].casefold()]
        exact = [v for v in found if wanted in (ids[v].casefold(), names[v].casefold())]
        return exact + [v for v in found if v not in set(exact)]

    def ordered_edges(self, edges: list[int]) -> list[int]:
        """Edge numbers ordered by (from, to) ids."""
        if not edges:
            return []
        idx = self.index
        es = np.array(edges, dtype=np.int64)
        order = idx.id_rank()
        keys = np.lexsort((order[idx.edge_target[es]], order[idx.edge_source[es]]))
        return es[keys].tolist()  # type: ignore[no-any-return]

    def holds_unchanged(self, source: str, node: Node) -> bool:
        """Whether ``source`` alone claims ``node`` (under its key), live, with exactly
        these attributes: then a push of it by ``source`` changes nothing."""
        v = self.index.position.get(node.id)
        if v is None or v in self.node_retired:
            return False
        if self.claim_keys[v] != (f"{source} {node.external_id or node.id}",):
            return False
        idx, col = self.index, self._columns
        if (idx.kind(v) is not node.kind or idx.names[v] != node.name
                or idx.owners[v] != node.owner or idx.providers[v] != node.provider
                or col["visible"][v] != node.visible or col["silo"][v] != node.silo
                or col["description"][v] != node.description):
            return False
        props = json.dumps(dict(node.properties), sort_keys=True) if node.properties else EMPTY
        if col["properties"][v] != props:
            return False
        declared = idx.node(v).redundancy if node.redundancy or idx.declares_groups(v) else {}
        return dict(declared) == dict(node.redundancy)

    def repeats(self, source: str, nodes: Sequence[Any], edges: Sequence[Any]) -> bool:
        """Whether a push by ``source`` of ``nodes`` and ``edges``, as decoded from the
        wire and not checked yet, repeats exactly what the source alone claims, live:
        then it changes nothing, and every item is valid because it equals what is
        stored. Says ``False`` at the first doubt (a field of another type, a ``source``
        field, an id or a dependency given twice), so the caller reads the push the
        full way, which names every problem.

        Compares the wire's values with the columns, without building model objects:
        a big unchanged sync costs a look-up and a few comparisons per item.
        """
        idx, col = self.index, self._columns
        position, retired, claim_keys = idx.position, self.node_retired, self.claim_keys
        kinds, names, owners, providers = idx.kind_codes, idx.names, idx.owners, idx.providers
        visible, silo, description = col["visible"], col["silo"], col["description"]
        properties = col["properties"]
        allowed, codes = _NODE_NAMES, _WIRE_KIND
        prefix = f"{source} "
        ids: set[str] = set()
        keys: set[str] = set()
        positions: list[int] = []
        wanted: list[int] = []
        for raw in nodes:
            if type(raw) is not dict or not raw.keys() <= allowed or "source" in raw:
                return False
            node_id: str = raw.get("id", "")  # a text, once found in the index below
            v = position.get(node_id) if type(node_id) is str else None
            if v is None or v in retired or node_id in ids:
                return False
            ids.add(node_id)
            external = raw.get("external_id")
            if external is not None and (type(external) is not str or not external):
                return False
            key: str = external or node_id
            if key in keys or claim_keys[v] != (prefix + key,):
                return False
            keys.add(key)
            word = raw.get("kind")
            code = codes.get(word) if type(word) is str else None
            seen = raw.get("visible")
            if code is None:
                return False
            positions.append(v)
            wanted.append(code)
            if (names[v] != raw.get("name", node_id)
                    or owners[v] != raw.get("owner") or providers[v] != raw.get("provider")
                    or (seen is not None and type(seen) is not bool) or visible[v] != seen
                    or silo[v] != raw.get("silo")
                    or description[v] != raw.get("description")):
                return False
            props = raw.get("properties") or {}
            redundancy = raw.get("redundancy") or {}
            if type(props) is not dict or type(redundancy) is not dict:
                return False
            try:
                if properties[v] != (json.dumps(props, sort_keys=True) if props else EMPTY):
                    return False
                if redundancy or idx.declares_groups(v):
                    # As text: JSON's true is not the count 1, nor is 1.0.
                    held = dict(idx.node(v).redundancy)
                    if (json.dumps(redundancy, sort_keys=True)
                            != json.dumps(held, sort_keys=True)):
                        return False
            except (ValueError, RecursionError):
                return False  # nested past what the stores hold: not what is stored
        # The kinds at once: a numpy scalar per item costs more than the comparison.
        if positions and not np.array_equal(kinds[np.array(positions, dtype=np.int64)],
                                            np.array(wanted, dtype=kinds.dtype)):
            return False
        return self._repeats_edges(source, edges)

    def _repeats_edges(self, source: str, edges: Sequence[Any]) -> bool:
        """:meth:`repeats` for the dependencies."""
        if not edges:
            return True
        idx = self.index
        position = idx.position
        allowed = _EDGE_NAMES
        sources: list[int] = []
        targets: list[int] = []
        pairs: set[tuple[str, str]] = set()
        for raw in edges:
            if type(raw) is not dict or not raw.keys() <= allowed:
                return False
            source_id, target_id = raw.get("from"), raw.get("to")
            if type(source_id) is not str or type(target_id) is not str:
                return False
            s, t = position.get(source_id), position.get(target_id)
            if s is None or t is None or (source_id, target_id) in pairs:
                return False
            pairs.add((source_id, target_id))
            sources.append(s)
            targets.append(t)
        found = idx.find_edges(np.array(sources, dtype=np.int64),
                               np.array(targets, dtype=np.int64))
        if (found < 0).any():
            return False
        group, soft = idx.edge_group[found].tolist(), idx.edge_soft[found].tolist()
        names, retired, claimed = idx.group_name, self.edge_retired, self.edge_sources
        alone = (source,)
        for raw, e, g, is_soft in zip(edges, found.tolist(), group, soft, strict=True):
            word = raw.get("impact", "hard")
            named = raw.get("group")
            if (e in retired or claimed[e] != alone
                    or word != ("soft" if is_soft else "hard")
                    or named != (names[g] if g >= 0 else None)):
                return False
        return True

    def unchanged_edges(self, source: str, edges: Sequence[Edge]) -> list[bool]:
        """For each edge, whether ``source`` alone claims it, live, exactly as given."""
        idx = self.index
        pos = idx.position
        known = [i for i, e in enumerate(edges) if e.source in pos and e.target in pos]
        out = [False] * len(edges)
        if not known:
            return out
        found = idx.find_edges(np.fromiter((pos[edges[i].source] for i in known), np.int64),
                               np.fromiter((pos[edges[i].target] for i in known), np.int64))
        alone = (source,)
        for i, e in zip(known, found.tolist(), strict=True):
            if e < 0 or e in self.edge_retired or self.edge_sources[e] != alone:
                continue
            edge = edges[i]
            g = int(idx.edge_group[e])
            out[i] = (bool(idx.edge_soft[e]) == (edge.impact is Impact.SOFT)
                      and (idx.group_name[g] if g >= 0 else None) == edge.group)
        return out

    def vicinity(self, nodes: Iterable[str], out_of: Iterable[str] = (),
                 in_of: Iterable[str] = ()) -> GraphData:
        """The part of the graph the rules look at for a change: ``nodes``, every stored
        edge out of ``out_of`` and into ``in_of``, and the nodes at their ends.

        A retired node comes with one of its live edges, if it has any, so that it
        stays in the live graph as it does in the whole graph (see
        :meth:`GraphData.live <servicegraph.model.GraphData.live>`).
        """
        idx = self.index
        edges: dict[int, None] = {}
        for node_id in out_of:
            edges.update(dict.fromkeys(self.edge_numbers(source=node_id)))
        for node_id in in_of:
            edges.update(dict.fromkeys(self.edge_numbers(target=node_id)))
        wanted = {v for v in (idx.position.get(n) for n in nodes) if v is not None}
        for e in edges:
            wanted.add(int(idx.edge_source[e]))
            wanted.add(int(idx.edge_target[e]))
        for v in [v for v in wanted if v in self.node_retired]:
            held = np.concatenate([idx.dependencies(v), idx.dependants(v)])
            if len(held):
                e = int(held[0])
                edges[e] = None
                wanted.update((int(idx.edge_source[e]), int(idx.edge_target[e])))
        return GraphData(tuple(self.node_at(v) for v in sorted(wanted)),
                         tuple(self.edge_at(e) for e in edges))

    def dangling(self, edges: Iterable[int] | None = None) -> list[int]:
        """Numbers of the live edges (of ``edges``, or all) that touch a retired node:
        another source still needs what one source stopped asserting."""
        idx = self.index
        if edges is None:
            ends = {v for v in self.node_retired}
            found = set()
            for v in ends:
                found.update(idx.dependencies(v).tolist())
                found.update(idx.dependants(v).tolist())
            return sorted(found)
        return [e for e in edges if idx.edge_active[e]
                and (int(idx.edge_source[e]) in self.node_retired
                     or int(idx.edge_target[e]) in self.node_retired)]

    def lookup(self, target: str, value: str) -> int | None:
        """The position of the live node whose ``target`` field (``name``, or
        ``properties.<path>``) is ``value``; of several, the first by id. A property
        matches when it is text, or an integer written as text."""
        table = self._lookups.get(target)
        if table is None:
            table = self._build_lookup(target)
            self._lookups[target] = table
        return table.get(value)

    def _build_lookup(self, target: str) -> dict[str, int]:
        idx = self.index
        live = np.flatnonzero(idx.stored_nodes()[:idx.node_count])
        table: dict[str, int] = {}
        names, props = idx.names, self._columns["properties"]
        path = (target[len(PROPERTY_PREFIX):].split(".")
                if target.startswith(PROPERTY_PREFIX) else None)
        for v in idx.in_id_order(live).tolist():
            if v in self.node_retired:
                continue
            if path is None:
                table.setdefault(names[v], v)
                continue
            if props[v] == EMPTY:
                continue
            found: Any = json.loads(props[v])
            for key in path:
                found = found.get(key) if isinstance(found, dict) else None
            if isinstance(found, bool):
                continue
            if isinstance(found, int):
                found = str(found)
            if isinstance(found, str):
                table.setdefault(found, v)
        return table

    # --- changing -------------------------------------------------------------------------

    def _hold_ack(self, ack: Acknowledgement) -> None:
        if ack.active:
            self.acks[ack.node] = ack
        else:
            self.acks.pop(ack.node, None)

    def alert_state(self, node_id: str) -> State:
        """The worst state the node's firing alerts give it (ok without any)."""
        held = self.alerting.get(node_id)
        return max(held.values()) if held else State.OK

    def _hold_alert(self, alert: Alert) -> None:
        old = self.alerts.get(alert.key)
        if old is not None and old.node is not None:
            mine = self.alerting.get(old.node)
            if mine is not None:
                mine.pop(alert.key, None)
                if not mine:
                    del self.alerting[old.node]
        self.alerts[alert.key] = alert
        if alert.node is not None and alert.status is Status.FIRING and alert.state > State.OK:
            self.alerting.setdefault(alert.node, {})[alert.key] = alert.state

    @classmethod
    def build(cls, version: int, nodes: Iterable[Mapping[str, Any]],
              edges: Iterable[Mapping[str, Any]],
              alerts: Iterable[Mapping[str, Any]] = (),
              windows: Iterable[Mapping[str, Any]] = (),
              acks: Iterable[Mapping[str, Any]] = (),
              mappings: Iterable[Mapping[str, Any]] = ()) -> LiveGraph:
        """A live graph from a whole graph in row form (a store's snapshot)."""
        live = cls()
        for row in mappings:
            mapping = AlertMapping.from_dict(row)
            live.mappings[mapping.source] = mapping
        for row in windows:
            window = Window.from_dict(row)
            live.windows[window.id] = window
        for row in acks:
            live._hold_ack(Acknowledgement.from_dict(row))
        for row in alerts:
            live._hold_alert(Alert.from_dict(row))
        live.version = version
        ids: list[str] = []
        kinds: list[int] = []
        names: list[str] = []
        owners: list[str | None] = []
        providers: list[str | None] = []
        group_node: list[int] = []
        group_name: list[str] = []
        group_min: list[Rule] = []
        group_declared: list[bool] = []
        groups: dict[tuple[int, str], int] = {}
        intern = live._intern
        for row in nodes:
            v = len(ids)
            ids.append(row["id"])
            kinds.append(KIND_CODE[NodeKind(row["kind"])])
            names.append(row["name"])
            owners.append(intern(row.get("owner")))
            providers.append(intern(row.get("provider")))
            redundancy = row.get("redundancy") or EMPTY
            if redundancy != EMPTY:
                for name, rule in json.loads(redundancy).items():
                    groups[(v, name)] = len(group_node)
                    group_node.append(v)
                    group_name.append(name)
                    group_min.append(rule)
                    group_declared.append(True)
            live._append_columns(row)
        position = {node_id: v for v, node_id in enumerate(ids)}
        src: list[int] = []
        dst: list[int] = []
        soft: list[bool] = []
        grp: list[int] = []
        active: list[bool] = []
        for row in edges:
            s, t = position.get(row["source"]), position.get(row["target"])
            if s is None or t is None:
                # Read while a writer committed: the journal replay that follows restores it.
                log.info("skipped edge %s -> %s read without its node", row["source"],
                         row["target"])
                continue
            group = row.get("group")
            if group is not None and (s, group) not in groups:
                groups[(s, group)] = len(group_node)
                group_node.append(s)
                group_name.append(group)
                group_min.append(1)  # needed whole until declared, as in the index
                group_declared.append(False)
            e = len(src)
            src.append(s)
            dst.append(t)
            soft.append(row.get("impact") == Impact.SOFT.value)
            grp.append(-1 if group is None else groups[(s, group)])
            active.append(row.get("retired_at") is None)
            if row.get("retired_at") is not None:
                live.edge_retired[e] = row["retired_at"]
            live.edge_sources.append(intern(tuple(string_list(row.get("claim_sources")))))
        live.index = GraphIndex.from_arrays(
            ids, np.array(kinds, dtype=np.int8), np.array(src, dtype=np.int64),
            np.array(dst, dtype=np.int64), np.array(soft, dtype=np.bool_),
            np.array(grp, dtype=np.int64), group_node, group_name, group_min,
            names=names, owners=owners, providers=providers,
            active=np.array(active, dtype=np.bool_),
            declared=np.array(group_declared, dtype=np.bool_))
        live._recount(list(live.node_retired))
        return live

    def freeze(self) -> FrozenGraph:
        """Copies of what :meth:`columns` needs, cheap enough to take under the read
        lock; ``freeze().compact()`` (outside it) gives the columns."""
        return FrozenGraph(self)

    def columns(self) -> LiveColumns:
        """This graph as compacted columns (see :class:`LiveColumns`)."""
        return self.freeze().compact()

    @classmethod
    def from_columns(cls, c: LiveColumns) -> LiveGraph:
        """The live graph :meth:`columns` describes: the same as :meth:`build` gives
        from the same graph in row form, without a row per item."""
        live = cls()
        for window in c.windows:
            live.windows[window.id] = window
        for mapping in c.mappings:
            live.mappings[mapping.source] = mapping
        for ack in c.acks:
            live._hold_ack(ack)
        for alert in c.alerts:
            live._hold_alert(alert)
        live.version = c.version
        live.index = GraphIndex.from_arrays(
            c.ids, c.kinds, c.src, c.dst, c.soft, c.grp, c.group_node.tolist(),
            c.group_name, c.group_rule, names=c.names, owners=c.owners,
            providers=c.providers, active=c.active, declared=c.group_declared,
            id_order=c.id_order)
        live._columns = {name: c.columns[name] for name in COLUMNS}
        live.claim_keys = c.claim_keys
        live.by_key = {(source, key): v for source, key, v in c.by_key}
        live.edge_sources = c.edge_sources
        live.edge_retired = dict(c.edge_retired)
        live.observed = dict(c.observed)
        live.node_retired = {v: at for v, at in enumerate(c.columns["retired_at"])
                             if at is not None}
        # Later changes share these values rather than holding copies of their own.
        intern = live._intern
        for values in (*(c.columns[name] for name in ("silo", "source", "properties",
                                                      "retired_at")),
                       c.owners, c.providers, c.edge_sources):
            for value in set(values):
                intern(value)
        live._recount(list(live.node_retired))
        return live

    def _recount(self, positions: Iterable[int]) -> None:
        """Whether each node counts for impact: live, or retired but still needed by a
        live edge (kept so impact never silently stops flowing through it)."""
        idx = self.index
        for v in positions:
            if idx.exists(v):
                held = v not in self.node_retired or bool(
                    len(idx.dependencies(v)) or len(idx.dependants(v)))
                idx.set_counted(v, held)

    def _append_columns(self, row: Mapping[str, Any]) -> None:
        col, intern = self._columns, self._intern
        visible = row.get("visible")
        col["visible"].append(None if visible is None else bool(visible))
        col["silo"].append(intern(row.get("silo")))
        col["description"].append(row.get("description"))
        col["source"].append(intern(row.get("source")))
        col["external_id"].append(row.get("external_id"))
        col["properties"].append(intern(row.get("properties") or EMPTY))
        col["retired_at"].append(intern(row.get("retired_at")))
        keys = intern(tuple(string_list(row.get("claim_keys"))))
        self.claim_keys.append(keys)
        v = len(self.claim_keys) - 1
        if row.get("retired_at") is not None:
            self.node_retired[v] = row["retired_at"]
        self._index_keys(v, row["id"], keys)
        seen = observation_from_row(row)
        if seen is not None:
            self.observed[v] = seen

    def _index_keys(self, v: int, node_id: str, keys: Sequence[str]) -> None:
        for entry in keys:
            source, key = split_claim_key(entry)
            if key != node_id:
                self.by_key[(self._intern(source), key)] = v

    def _drop_keys(self, v: int) -> None:
        node_id = self.index.ids[v]
        for entry in self.claim_keys[v]:
            source, key = split_claim_key(entry)
            if key != node_id and self.by_key.get((source, key)) == v:
                del self.by_key[(source, key)]

    def apply(self, version: int, rows: Mapping[str, Any]) -> None:
        """Apply a change in row form (a journal entry's ``rows``), reaching ``version``.

        Replaying a change over a state that already holds some of its effect ends
        in the same state, which is what lets a snapshot read while writers are busy
        be made exact by replaying the journal from the snapshot's version.
        """
        if rows.get("replace"):
            fresh = LiveGraph()  # the alerts too: a replace empties the store
            self.__dict__.update(fresh.__dict__)
        if rows.get("nodes") or rows.get("delete_nodes") or rows.get("mappings"):
            self._lookups = {}
        idx = self.index
        touched: set[int] = set()
        for source, target in rows.get("delete_edges", ()):
            e = self._edge(source, target)
            if e >= 0:
                touched.update((int(idx.edge_source[e]), int(idx.edge_target[e])))
                self._remove_edge(e)
        for node_id in rows.get("delete_nodes", ()):
            v = idx.position.get(node_id)
            if v is not None:
                for e in self.edge_numbers(source=node_id) + self.edge_numbers(target=node_id):
                    touched.update((int(idx.edge_source[e]), int(idx.edge_target[e])))
                    self._remove_edge(e)
                self._drop_keys(v)
                idx.remove_node(v)
                self.observed.pop(v, None)
                self.node_retired.pop(v, None)
                self.acks.pop(node_id, None)
        with idx.bulk():  # ids are put in order once, not node by node
            for row in rows.get("nodes", ()):
                self._upsert_node(row)
                touched.add(idx.position[row["id"]])
        edge_rows = rows.get("edges", ())
        for row, e in zip(edge_rows, self._find_edges(edge_rows), strict=True):
            self._upsert_edge(row, e)
            touched.update(idx.position[end] for end in (row["source"], row["target"])
                           if end in idx.position)
        self._recount(touched)
        for row in rows.get("observe", ()):
            v = idx.position.get(row["id"])
            seen = observation_from_row(row)
            if v is not None and seen is not None:
                self.observed[v] = seen
        for row in rows.get("alerts", ()):
            self._hold_alert(Alert.from_dict(row))
        for row in rows.get("windows", ()):
            window = Window.from_dict(row)
            self.windows[window.id] = window
        for row in rows.get("acks", ()):
            self._hold_ack(Acknowledgement.from_dict(row))
        for row in rows.get("mappings", ()):
            mapping = AlertMapping.from_dict(row)
            self.mappings[mapping.source] = mapping
        self.version = version

    def _edge(self, source: str, target: str) -> int:
        s, t = self.index.position.get(source), self.index.position.get(target)
        if s is None or t is None:
            return -1
        return self.index.find_edge(s, t)

    def _remove_edge(self, e: int) -> None:
        if not self.index.alive(e):
            return
        self.index.remove_edge(e)
        self.edge_retired.pop(e, None)
        self.edge_sources[e] = _EMPTY

    def _upsert_node(self, row: Mapping[str, Any]) -> None:
        idx, intern = self.index, self._intern
        redundancy = row.get("redundancy") or EMPTY
        declared = {str(k): rule for k, rule in json.loads(redundancy).items()} \
            if redundancy != EMPTY else {}
        kind = NodeKind(row["kind"])
        owner, provider = intern(row.get("owner")), intern(row.get("provider"))
        v = idx.position.get(row["id"])
        if v is None:
            idx.add_node(row["id"], kind, row["name"], owner, provider, declared)
            # A node's upsert never sets its observed state (only observations do);
            # rows without one (every push's) are taken as they are.
            self._append_columns(row if "observed_state" not in row else
                                 {k: c for k, c in row.items() if not k.startswith("observed")})
            return
        idx.set_node(v, kind, row["name"], owner, provider, declared)
        col = self._columns
        visible = row.get("visible")
        col["visible"][v] = None if visible is None else bool(visible)
        col["silo"][v] = intern(row.get("silo"))
        col["description"][v] = row.get("description")
        col["source"][v] = intern(row.get("source"))
        col["external_id"][v] = row.get("external_id")
        col["properties"][v] = intern(row.get("properties") or EMPTY)
        col["retired_at"][v] = intern(row.get("retired_at"))
        if row.get("retired_at") is None:
            self.node_retired.pop(v, None)
        else:
            self.node_retired[v] = row["retired_at"]
        self._drop_keys(v)
        keys = intern(tuple(string_list(row.get("claim_keys"))))
        self.claim_keys[v] = keys
        self._index_keys(v, row["id"], keys)

    def _find_edges(self, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """For each edge row, the number of the stored edge (-1: none yet; -2: an end
        is not held), found for all rows at once."""
        position = self.index.position
        ends = [(position.get(r["source"]), position.get(r["target"])) for r in rows]
        known = [i for i, (s, t) in enumerate(ends) if s is not None and t is not None]
        out = [-2] * len(rows)
        if known:
            found = self.index.find_edges(
                np.fromiter((ends[i][0] for i in known), np.int64, len(known)),
                np.fromiter((ends[i][1] for i in known), np.int64, len(known)))
            for i, e in zip(known, found.tolist(), strict=True):
                out[i] = e
        return out

    def _upsert_edge(self, row: Mapping[str, Any], e: int) -> None:
        idx = self.index
        s, t = idx.position.get(row["source"]), idx.position.get(row["target"])
        if e == -2 or s is None or t is None:
            log.warning("edge %s -> %s names a node that is not held: skipped",
                        row["source"], row["target"])
            return
        soft = row.get("impact") == Impact.SOFT.value
        retired = row.get("retired_at")
        if e < 0:
            e = idx.add_edge(s, t, row.get("group"), soft, active=retired is None)
            self.edge_sources.append(_EMPTY)
        else:
            idx.set_edge(e, row.get("group"), soft)
            idx.set_active(e, retired is None)
        self.edge_sources[e] = self._intern(tuple(string_list(row.get("claim_sources"))))
        if retired is None:
            self.edge_retired.pop(e, None)
        else:
            self.edge_retired[e] = retired


class LiveNeighbours:
    """The live part of a :class:`LiveGraph` as
    :class:`~servicegraph.views.neighbourhood.Neighbours`: nodes that count for impact
    and the edges that do (not retired)."""

    def __init__(self, graph: LiveGraph) -> None:
        self.graph = graph

    def node(self, node_id: str) -> Node | None:
        """The node, when it counts for impact."""
        v = self.graph.index.position.get(node_id)
        return self.graph.node_at(v) if v is not None and self.graph.index.counted(v) else None

    def needs(self, node_id: str) -> list[str]:
        """The ids of its live dependencies."""
        idx = self.graph.index
        v = idx.position.get(node_id)
        if v is None:
            return []
        return [idx.ids[int(t)] for t in idx.edge_target[idx.dependencies(v)]]

    def needed_by(self, node_id: str) -> list[str]:
        """The ids of its live dependants."""
        idx = self.graph.index
        v = idx.position.get(node_id)
        if v is None:
            return []
        return [idx.ids[int(s)] for s in idx.edge_source[idx.dependants(v)]]

    def edges_among(self, ids: set[str]) -> list[Edge]:
        """Every live edge among ``ids``, by edge number (the order edges were added)."""
        idx = self.graph.index
        found: set[int] = set()
        for node_id in ids:
            v = idx.position.get(node_id)
            if v is None:
                continue
            for e in idx.dependencies(v).tolist():
                if idx.ids[int(idx.edge_target[e])] in ids:
                    found.add(e)
        return [self.graph.edge_at(e) for e in sorted(found)]


class LiveLinks:
    """The live part of a :class:`LiveGraph` as
    :class:`~servicegraph.views.catalogue.Links`: each answer is read from the index
    and the columns, so a catalogue costs what it lists and a walk what it reaches."""

    def __init__(self, graph: LiveGraph) -> None:
        self.graph = graph
        self._seen: npt.NDArray[np.bool_] | None = None

    def of_kind(self, kind: NodeKind) -> list[Node]:
        """The live nodes of one kind, by id."""
        idx = self.graph.index
        return [self.graph.node_at(v) for v in idx.in_id_order(idx.of_kind(kind)).tolist()]

    def _ends(self, node_id: str, edges: Callable[[int], I64], end: I64,
              kinds: tuple[NodeKind, ...]) -> list[str]:
        idx = self.graph.index
        v = idx.position.get(node_id)
        if v is None:
            return []
        found = end[edges(v)].tolist()
        if kinds:
            # A node has few direct links: plain Python beats numpy's per-call cost here.
            codes = {KIND_CODE[k] for k in kinds}
            kind = idx.kind_codes
            found = [u for u in found if int(kind[u]) in codes]
        ids = idx.ids
        return sorted(ids[u] for u in found)

    def needs(self, node_id: str, *kinds: NodeKind) -> list[str]:
        """Ids of its live dependencies (of ``kinds``, or all), sorted."""
        idx = self.graph.index
        return self._ends(node_id, idx.dependencies, idx.edge_target, kinds)

    def needed_by(self, node_id: str, *kinds: NodeKind) -> list[str]:
        """Ids of its live dependants (of ``kinds``, or all), sorted."""
        idx = self.graph.index
        return self._ends(node_id, idx.dependants, idx.edge_source, kinds)

    def ci_silos(self) -> dict[str, str | None]:
        """Every live CI's silo, by id."""
        idx, silo = self.graph.index, self.graph._columns["silo"]
        return {idx.ids[v]: silo[v] for v in idx.of_kind(NodeKind.CI).tolist()}

    def descendants(self, node_id: str) -> list[str]:
        """Ids ``node_id`` depends on over live edges, directly or not (itself
        excluded): a breadth-first walk level by level over the index's blocks."""
        idx = self.graph.index
        start = idx.position.get(node_id)
        if start is None:
            return []
        a = idx.arrays()
        if self._seen is None or len(self._seen) < a.n:
            self._seen = np.zeros(a.n, dtype=np.bool_)
        seen = self._seen
        frontier = np.array([start], dtype=np.int64)
        seen[start] = True
        reached: list[I64] = []
        while len(frontier):
            lens = a.out_len[frontier]
            total = int(lens.sum())
            if not total:
                break
            # Every slot of the frontier's blocks, at once.
            offsets = np.repeat(a.out_start[frontier] - (np.cumsum(lens) - lens), lens)
            edges = a.out_pool[offsets + np.arange(total)]
            targets = a.e_dst[edges[a.e_active[edges]]]
            fresh = np.unique(targets[~seen[targets]])
            seen[fresh] = True
            reached.append(fresh)
            frontier = fresh
        found = np.concatenate(reached) if reached else np.zeros(0, dtype=np.int64)
        seen[found] = False
        seen[start] = False
        # The walk itself never names its start: a cycle back to it is not a descendant.
        return [idx.ids[int(u)] for u in found]
