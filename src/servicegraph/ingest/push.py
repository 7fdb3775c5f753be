"""Planning a push from a source: what it creates, updates, leaves and retires.

A push is planned as a pure function of the stored graph and the batch, so
the same plan serves a dry run, validation and the one atomic write.
Items are keyed by source + external id (the node id when none is given;
``from->to`` for an edge); a repeated push finds every claim unchanged and
writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from servicegraph.ingest.reconcile import (
    MANUAL,
    edge_fields,
    node_fields,
    resolve_edge,
    resolve_node,
)
from servicegraph.model.errors import Problem, ValidationError
from servicegraph.model.graph import Claim, Edge, GraphData, Node
from servicegraph.model.validate import find_problems
from servicegraph.store.base import Change


@dataclass
class Counts:
    """Items by outcome."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    retired: int = 0

    def to_dict(self) -> dict[str, int]:
        """JSON-ready form."""
        return {"created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "retired": self.retired}


@dataclass
class PushPlan:
    """What a push will do; ``change`` is empty when it changes nothing."""

    source: str
    full_sync: bool
    nodes: Counts = field(default_factory=Counts)
    edges: Counts = field(default_factory=Counts)
    upsert_nodes: dict[str, Node] = field(default_factory=dict)
    upsert_edges: dict[tuple[str, str], Edge] = field(default_factory=dict)

    @property
    def change(self) -> Change:
        """The one atomic write that carries the plan out."""
        return Change(tuple(self.upsert_nodes.values()), tuple(self.upsert_edges.values()))

    @property
    def changes_anything(self) -> bool:
        """False when the push repeats what the store already holds."""
        return bool(self.upsert_nodes or self.upsert_edges)

    def to_dict(self, *, dry_run: bool) -> dict[str, Any]:
        """The answer to the integrator."""
        total = Counts(*(a + b for a, b in zip(self.nodes.to_dict().values(),
                                                self.edges.to_dict().values(), strict=True)))
        return {"source": self.source, "full_sync": self.full_sync, "dry_run": dry_run,
                "changed": self.changes_anything, **total.to_dict(),
                "nodes": self.nodes.to_dict(), "edges": self.edges.to_dict()}


#: What pushes claim: nodes and edges alike carry claims and a retirement mark.
Item = TypeVar("Item", Node, Edge)


def _key(node: Node) -> str:
    return node.external_id or node.id


def _with_claim(claims: tuple[Claim, ...], claim: Claim) -> tuple[Claim, ...]:
    return tuple(sorted((*(c for c in claims if c.source != claim.source), claim),
                        key=lambda c: c.source))


def _manual_claim(node: Node, now: str) -> Claim:
    # A node written by hand becomes the "manual" source's claim the first time an
    # integration claims it, so its attributes keep their say under precedence.
    return Claim(MANUAL, node.id, now, node_fields(node))


def plan_claims(current: GraphData, source: str, batch: GraphData, *,
                precedence: Sequence[str], now: str, full_sync: bool = False) -> PushPlan:
    """The claims ``source`` makes with ``batch`` on the items of ``current`` (the
    stored versions of the batch's items, with their claims), counted; not validated.

    Examples
    --------
    >>> from servicegraph.model import Node, NodeKind
    >>> batch = GraphData.of([Node("srv", NodeKind.CI, "Server")])
    >>> plan = plan_claims(GraphData(), "discovery", batch, precedence=[],
    ...                    now="2026-01-01T00:00:00Z")
    >>> plan.nodes.created, plan.changes_anything
    (1, True)
    """
    plan = PushPlan(source, full_sync)
    nodes = current.node_map()
    for node in batch.nodes:
        old = nodes.get(node.id)
        claim = Claim(source, _key(node), now, node_fields(node))
        if old is None:  # the usual item of a big sync: its one claim, as pushed
            plan.nodes.created += 1
            plan.upsert_nodes[node.id] = _created_node(node, claim)
            continue
        claims = _claimed(plan.nodes, old, claim, lambda o: _manual_claim(o, now))
        if claims is not None:
            plan.upsert_nodes[node.id] = resolve_node(node.id, claims, precedence, old)
    edges = {e.key: e for e in current.edges}
    for edge in batch.edges:
        key = f"{edge.source}->{edge.target}"
        found = edges.get(edge.key)
        edge_claim = Claim(source, key, now, edge_fields(edge))
        if found is None:
            plan.edges.created += 1
            plan.upsert_edges[edge.key] = Edge(edge.source, edge.target, edge.group,
                                               edge.impact, (edge_claim,), None)
            continue
        claims = _claimed(plan.edges, found, edge_claim,
                          lambda o: Claim(MANUAL, f"{o.source}->{o.target}", now,
                                          edge_fields(o)))
        if claims is not None:
            plan.upsert_edges[edge.key] = resolve_edge(edge, claims, precedence)
    return plan


def _created_node(node: Node, claim: Claim) -> Node:
    """What :func:`~servicegraph.ingest.reconcile.resolve_node` makes of a new node's
    one claim, without merging claims: the node as pushed, keyed by its source."""
    return Node(node.id, node.kind, node.name, owner=node.owner, provider=node.provider,
                visible=node.visible, silo=node.silo, description=node.description,
                source=claim.source, external_id=claim.key,
                properties=dict(node.properties), redundancy=dict(node.redundancy),
                claims=(claim,), retired_at=None, observed=node.observed)


def _claimed(counts: Counts, old: Item | None, claim: Claim,
             manual: Callable[[Item], Claim]) -> tuple[Claim, ...] | None:
    """The claims an item carries once ``claim`` is added, counting the outcome;
    ``None`` when the source repeats exactly what it said before."""
    if old is None:
        counts.created += 1
        return (claim,)
    mine = next((c for c in old.claims if c.source == claim.source), None)
    if mine is not None and mine.digest == claim.digest and old.retired_at is None:
        counts.unchanged += 1
        return None
    counts.updated += 1
    return _with_claim(old.claims or (manual(old),), claim)


def _withdrawn(counts: Counts, item: Item, source: str) -> tuple[Claim, ...] | None:
    """The claims left once ``source`` withdraws (empty: retire the item), counting
    the outcome; ``None`` when there is nothing to do."""
    if not any(c.source == source for c in item.claims):
        return None
    rest = tuple(c for c in item.claims if c.source != source)
    if rest:
        counts.updated += 1
        return rest
    if item.retired_at is not None:
        return None
    counts.retired += 1
    return ()


def retire_missing(plan: PushPlan, current: GraphData, pushed: Collection[str],
                   pushed_edges: Collection[tuple[str, str]], precedence: Sequence[str],
                   now: str) -> None:
    """Withdraw the source's claims on the items of ``current`` it did not push now
    (``pushed`` node ids, ``pushed_edges`` edge keys): a full sync."""
    plan.full_sync = True
    for node in current.nodes:
        rest = None if node.id in pushed else _withdrawn(plan.nodes, node, plan.source)
        if rest is not None:
            plan.upsert_nodes[node.id] = (resolve_node(node.id, rest, precedence, node) if rest
                                          else node.with_changes(retired_at=now))
    for edge in current.edges:
        rest = None if edge.key in pushed_edges else _withdrawn(plan.edges, edge, plan.source)
        if rest is not None:
            plan.upsert_edges[edge.key] = (resolve_edge(edge, rest, precedence) if rest
                                           else replace(edge, retired_at=now))


def refuse_empty_sync(source: str, batch: GraphData) -> None:
    """Raise when ``batch`` is empty: as a full sync it would retire all the source said.

    An empty body is the usual shape of an integration failure (an export that
    produced nothing, a retry that lost its body), not of a source that emptied.

    >>> refuse_empty_sync("cmdb", GraphData())
    Traceback (most recent call last):
    ...
    servicegraph.model.errors.ValidationError: 1 problem(s), nothing written: ...
    """
    if not batch.nodes and not batch.edges:
        raise ValidationError([Problem(
            "document", None, repr(source), "full_sync",
            f"a full sync with no items would retire everything source {source!r} pushed "
            "before; if the source really is empty now, say so with allow_empty=true")])


#: What a source name may hold: it names the integrator in paths, keys and logs.
SOURCE_NAME = re.compile(r"[A-Za-z0-9._:-]{1,200}")


def check_source(source: str) -> list[Problem]:
    """Problems with a source name (none when it is fine).

    >>> check_source("cmdb"), len(check_source("a b"))
    ([], 1)
    """
    if SOURCE_NAME.fullmatch(source or ""):
        return []
    return [Problem("source", None, repr(source), "source",
                    "a source name is 1..200 letters, digits and . _ : -")]


def check_batch(source: str, batch: GraphData) -> None:
    """Refuse a bad source name, or two items of the batch under one external id."""
    problems = check_source(source)
    seen: dict[str, int] = {}
    for i, node in enumerate(batch.nodes):
        key = _key(node)
        if key in seen:
            problems.append(Problem("nodes", i, repr(node.id), "external_id",
                                    f"external id {key!r} already used by nodes[{seen[key]}]"))
        seen.setdefault(key, i)
    if problems:
        raise ValidationError(problems)


def validate_plan(plan: PushPlan, current: GraphData, batch: GraphData) -> None:
    """Check the live graph the push leaves, blaming the batch's own items.

    ``current`` must hold every stored item the rules look at: the batch's items,
    their ends, the other edges of the nodes the batch touches, the items retired.
    """
    after = current.merged_with(GraphData(tuple(plan.upsert_nodes.values()),
                                          tuple(plan.upsert_edges.values())))
    live = after.live()
    live_ids = {n.id for n in live.nodes}
    live_edges = {e.key for e in live.edges}
    # The batch as it will stand once resolved (other sources may have the last word),
    # in the batch's own order so problems point at its items.
    after_nodes = after.node_map()
    after_edges = {e.key: e for e in after.edges}
    ordered = GraphData(tuple(after_nodes[n.id] for n in batch.nodes),
                        tuple(after_edges[b.key] for b in batch.edges))
    # Nodes that lost members through retirement must still have enough.
    losers = {e.source for e in after.edges
              if e.source in live_ids and e.key not in live_edges}
    problems = find_problems(ordered, GraphData(live.nodes, live.edges), also_check=losers)
    if problems:
        raise ValidationError(problems)
