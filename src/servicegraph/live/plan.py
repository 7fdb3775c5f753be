"""Planning writes against the live graph: each costs what it changes.

Every write is planned in memory at the replica's version, fetching from the
store only the stored items it changes (their claims are not held in memory),
and validated on the small part of the graph the rules look at (its
*vicinity*), not on the whole graph. A push that repeats what is stored is
recognised in memory and never reaches the store.

The planners are pure functions of the live graph and what they fetch; the
caller holds the read lock while they run and writes the change after, checking
in the store's transaction that the version did not move.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from servicegraph.ingest.push import (
    PushPlan,
    check_batch,
    plan_claims,
    retire_missing,
    validate_plan,
)
from servicegraph.ingest.status import StatusPlan, StatusUpdate
from servicegraph.live.state import LiveGraph
from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.graph import GraphData, Observation
from servicegraph.model.times import iso
from servicegraph.model.validate import find_problems, validate_removal
from servicegraph.store.base import Change

#: Reads stored items (with their claims) by node id and edge key.
Fetch = Callable[[Sequence[str], Sequence[tuple[str, str]]], GraphData]


@dataclass(frozen=True)
class PushWork:
    """What a push needs from the store before it can be planned: the batch's items
    that may change, and (for a full sync) what the source claims and did not push."""

    changed: GraphData
    retire_nodes: tuple[str, ...]
    retire_edges: tuple[tuple[str, str], ...]
    unchanged_nodes: int
    unchanged_edges: int

    @property
    def nothing(self) -> bool:
        """Whether the push repeats exactly what is stored."""
        return not (self.changed.nodes or self.changed.edges or self.retire_nodes
                    or self.retire_edges)


def push_work(graph: LiveGraph, source: str, batch: GraphData, *, full_sync: bool,
              asserted: tuple[set[str], set[tuple[str, str]]] | None = None) -> PushWork:
    """Sort a push's items into unchanged (known in memory) and those to plan.

    With ``full_sync``, what ``source`` claims and did not assert is to be retired:
    ``asserted`` names what it asserted (node ids, edge keys), the batch by default
    (a sync session's commit passes what its pages asserted).
    """
    check_batch(source, batch)
    nodes = [n for n in batch.nodes if not graph.holds_unchanged(source, n)]
    same = graph.unchanged_edges(source, batch.edges)
    edges = [e for e, unchanged in zip(batch.edges, same, strict=True) if not unchanged]
    retire_nodes: list[str] = []
    retire_edges: list[tuple[str, str]] = []
    if full_sync:
        pushed, pushed_edges = asserted if asserted is not None else (
            {n.id for n in batch.nodes}, {e.key for e in batch.edges})
        claimed_nodes, claimed_edges = graph.claimed_by(source)
        idx = graph.index
        retire_nodes = [idx.ids[v] for v in claimed_nodes if idx.ids[v] not in pushed]
        for e in claimed_edges:
            key = (idx.ids[int(idx.edge_source[e])], idx.ids[int(idx.edge_target[e])])
            if key not in pushed_edges:
                retire_edges.append(key)
    return PushWork(GraphData(tuple(nodes), tuple(edges)), tuple(retire_nodes),
                    tuple(retire_edges), len(batch.nodes) - len(nodes),
                    len(batch.edges) - len(edges))


def held(graph: LiveGraph, work: PushWork) -> tuple[list[str], list[tuple[str, str]]]:
    """The node ids and edge keys of ``work`` that the store holds, to fetch: the live
    graph, caught up inside the store's transaction, holds what the store holds, so
    the items it lacks are new and a push of new items reads nothing from the store."""
    idx = graph.index
    position = idx.position
    nodes = [n.id for n in work.changed.nodes if n.id in position]
    known = [e.key for e in work.changed.edges
             if e.source in position and e.target in position]
    if known:
        found = idx.find_edges(np.fromiter((position[s] for s, _ in known), np.int64,
                                           len(known)),
                               np.fromiter((position[t] for _, t in known), np.int64,
                                           len(known)))
        known = [k for k, e in zip(known, found.tolist(), strict=True) if e >= 0]
    return [*nodes, *work.retire_nodes], [*known, *work.retire_edges]


def plan_push(graph: LiveGraph, work: PushWork, stored: GraphData, source: str,
              batch: GraphData, *, full_sync: bool, precedence: Sequence[str],
              now: str) -> PushPlan:
    """Plan a push from the items it may change (``stored``: their stored versions,
    fetched) and validate it on its vicinity; raises
    :class:`~servicegraph.model.ValidationError` naming the batch's items."""
    plan = plan_claims(stored, source, work.changed, precedence=precedence, now=now,
                       full_sync=full_sync)
    plan.nodes.unchanged += work.unchanged_nodes
    plan.edges.unchanged += work.unchanged_edges
    if full_sync:
        retiring = set(work.retire_nodes)
        retiring_edges = set(work.retire_edges)
        retire_missing(plan, stored,
                       {n.id for n in stored.nodes if n.id not in retiring},
                       {e.key for e in stored.edges if e.key not in retiring_edges},
                       precedence, now)
    changed_ids = [n.id for n in work.changed.nodes]
    sources = [e.source for e in work.changed.edges]
    losers = [s for s, _ in work.retire_edges]
    around = graph.vicinity(
        [*changed_ids, *(end for e in work.changed.edges for end in e.key),
         *work.retire_nodes],
        out_of=[*changed_ids, *sources, *losers], in_of=changed_ids)
    validate_plan(plan, around.merged_with(stored), work.changed)
    return plan


def plan_status(graph: LiveGraph, source: str, updates: Sequence[StatusUpdate]
                ) -> tuple[StatusPlan, tuple[tuple[str, Observation], ...]]:
    """Observations on stored nodes; unknown items are refused whole.

    An observation older than the one held for the node is ignored (counted as
    stale), so updates that arrive out of order cannot roll the state back.
    Retired nodes may be observed: monitoring that still sees a component is
    evidence it is there.
    """
    idx = graph.index
    problems: list[Problem] = []
    latest: dict[int, Observation] = {}
    stale = 0
    for i, update in enumerate(updates):
        if update.id is not None:
            v = idx.position.get(update.id)
        else:
            v = graph.find_by_key(source, update.external_id or "")
        if v is None:
            ident = update.id or update.external_id
            problems.append(Problem("statuses", i, repr(ident),
                                    "id" if update.id else "external_id",
                                    f"no node {ident!r}" + ("" if update.id else
                                                            f" pushed by source {source!r}")))
            continue
        held = latest.get(v, graph.observed.get(v))
        at = iso(update.at)
        if held is not None and held.at > at:
            stale += 1
            continue
        latest[v] = Observation(update.state, at, source)
    if problems:
        raise ValidationError(problems)
    observe = tuple((idx.ids[v], seen) for v, seen in latest.items()
                    if seen != graph.observed.get(v))
    nodes = tuple(graph.node_at(v).with_changes(observed=seen) for v, seen in latest.items()
                  if seen != graph.observed.get(v))
    return StatusPlan(source, nodes, stale, len(updates) - stale), observe


def plan_load(graph: LiveGraph, batch: GraphData, stored: GraphData, *,
              replace: bool) -> tuple[Change, GraphData]:
    """A load by hand: the change, and the batch as written. Provenance already
    stored for a node is kept; a node loaded by hand is live again if it was retired."""
    if replace:
        problems = find_problems(batch)
        if problems:
            raise ValidationError(problems)
        return Change.upsert(batch, replace=True), batch
    known = stored.node_map()
    written = GraphData(tuple(n.with_changes(claims=known[n.id].claims)
                              if n.id in known else n for n in batch.nodes), batch.edges)
    ids = [n.id for n in batch.nodes]
    sources = [e.source for e in batch.edges]
    around = graph.vicinity([*ids, *(end for e in batch.edges for end in e.key)],
                            out_of=[*ids, *sources], in_of=ids)
    problems = find_problems(written, around.live())
    if problems:
        raise ValidationError(problems)
    return Change.upsert(written), written


def plan_removal(graph: LiveGraph, node_ids: Sequence[str],
                 edge_keys: Sequence[tuple[str, str]]) -> Change:
    """Delete nodes (with their edges) and edges, if what remains is valid."""
    losers = [s for s, _ in edge_keys]
    for node_id in node_ids:
        losers += [graph.index.ids[int(graph.index.edge_source[e])]
                   for e in graph.edge_numbers(target=node_id)]
    around = graph.vicinity([*node_ids, *(end for k in edge_keys for end in k)],
                            out_of=[*node_ids, *losers], in_of=node_ids)
    validate_removal(around, node_ids, edge_keys)
    return Change(delete_edges=tuple(edge_keys), delete_nodes=tuple(node_ids))


def plan_purge(graph: LiveGraph, cutoff: str | None) -> tuple[Change, dict[str, int]]:
    """Delete retired items (those retired at or before ``cutoff``; all when ``None``).

    A retired node that a live edge still touches is kept: deleting it would
    delete another source's dependency with it.
    """
    idx = graph.index

    def due(retired_at: str) -> bool:
        return cutoff is None or retired_at <= cutoff

    edges = [e for e, at in graph.edge_retired.items() if due(at)]
    gone = set(edges)
    nodes = []
    for v, at in graph.node_retired.items():
        if not due(at):
            continue
        held = [e for e in graph.edge_numbers(source=idx.ids[v])
                + graph.edge_numbers(target=idx.ids[v]) if e not in gone]
        if not any(idx.edge_active[e] for e in held):
            nodes.append(v)
    keys = tuple((idx.ids[int(idx.edge_source[e])], idx.ids[int(idx.edge_target[e])])
                 for e in sorted(edges))
    change = Change(delete_edges=keys, delete_nodes=tuple(idx.ids[v] for v in sorted(nodes)))
    return change, {"nodes": len(nodes), "edges": len(keys)}


def dangling_view(graph: LiveGraph, edges: Sequence[int]) -> list[dict[str, Any]]:
    """The dangling dependencies among ``edges``, as the answers name them."""
    idx = graph.index
    out = []
    for e in graph.dangling(edges):
        s, t = int(idx.edge_source[e]), int(idx.edge_target[e])
        retired = [idx.ids[v] for v in (s, t) if v in graph.node_retired]
        out.append({"from": idx.ids[s], "to": idx.ids[t], "retired": retired})
    return out

