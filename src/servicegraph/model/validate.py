"""The graph rules of the model, checked on a batch against the graph it joins.

A batch is valid when the graph it produces (existing upserted with the batch)
obeys every rule. Problems are reported against the batch's own items, so the
caller can point at the line to fix.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection

from servicegraph.model.errors import (
    Problem,
    UnknownEdgeError,
    UnknownNodeError,
    ValidationError,
    short,
    show,
)
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.interchange import edge_problems, node_problems
from servicegraph.model.kinds import ALLOWED, Impact, may_depend
from servicegraph.model.redundancy import group_problem


def _locate(batch: GraphData) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    nodes = {n.id: i for i, n in enumerate(batch.nodes)}
    edges = {e.key: i for i, e in enumerate(batch.edges)}
    return nodes, edges


def batch_problems(batch: GraphData) -> list[Problem]:
    """What is wrong with the batch on its own, without the graph it joins: its items'
    bounds (see :func:`~servicegraph.model.interchange.node_problems`), else ids and
    dependencies given twice.

    Check this before taking the store's write lock, so a batch that is wrong on its
    face costs the other writers nothing: parsing checks the bounds of what it reads,
    and a push what is given twice; a batch built in code (an import) is checked whole.

    >>> from servicegraph.model.graph import Node
    >>> from servicegraph.model.kinds import NodeKind
    >>> twice = GraphData.of([Node("a", NodeKind.CI, "A"), Node("a", NodeKind.CI, "A")])
    >>> [str(p) for p in batch_problems(twice)]
    ["nodes[1] ('a'): id: duplicate id in batch"]
    """
    return _out_of_bounds(batch) or given_twice(batch)


def _out_of_bounds(batch: GraphData) -> list[Problem]:
    # Parsing checked the bounds for what it read, but batches are also built in code,
    # and nothing out of bounds may reach a store.
    problems: list[Problem] = []
    for i, node in enumerate(batch.nodes):
        problems.extend(node_problems("nodes", i, node))
    for i, edge in enumerate(batch.edges):
        problems.extend(edge_problems("edges", i, edge))
    return problems


def given_twice(batch: GraphData) -> list[Problem]:
    """The batch's ids and dependencies given twice (each copy after the first)."""
    problems: list[Problem] = []
    seen: set[str] = set()
    for i, node in enumerate(batch.nodes):
        if node.id in seen:
            problems.append(Problem("nodes", i, show(node.id), "id", "duplicate id in batch"))
        seen.add(node.id)
    seen_edges: set[tuple[str, str]] = set()
    for i, edge in enumerate(batch.edges):
        if edge.key in seen_edges:
            problems.append(Problem("edges", i, _edge_item(edge), "to",
                                    "duplicate edge in batch (one dependency per pair)"))
        seen_edges.add(edge.key)
    return problems


def find_problems(batch: GraphData, existing: GraphData | None = None,
                  also_check: Collection[str] = ()) -> list[Problem]:
    """Every rule the batch breaks, in document order (empty when valid).

    ``also_check`` names further nodes whose redundancy groups must be checked
    (nodes that lost members outside the batch, e.g. by retirement).

    >>> from servicegraph.model.graph import Node, Edge
    >>> from servicegraph.model.kinds import NodeKind
    >>> bad = GraphData.of([Node("p", NodeKind.PROMISE, "P"), Node("c", NodeKind.CI, "C")],
    ...                    [Edge("p", "c")])
    >>> [str(p) for p in find_problems(bad)]
    ['edges[0] (p -> c): to: a promise may not depend on a ci (allowed: ...)']
    """
    node_at, edge_at = _locate(batch)
    problems = _out_of_bounds(batch)
    if problems:
        return problems
    problems = given_twice(batch)

    graph = (existing or GraphData()).merged_with(batch)
    nodes = graph.node_map()
    for i, edge in enumerate(batch.edges):
        problems.extend(_edge_problems(i, edge, nodes))
    # A node whose kind changes must still fit the layer table on its stored edges.
    if existing is not None:
        old = existing.node_map()
        rekinded = {n.id for n in batch.nodes if n.id in old and old[n.id].kind is not n.kind}
        for edge in existing.edges:
            if edge.key in edge_at or not rekinded & {edge.source, edge.target}:
                continue
            a, b = nodes[edge.source].kind, nodes[edge.target].kind
            if not may_depend(a, b):
                moved = edge.source if edge.source in rekinded else edge.target
                problems.append(Problem(
                    "nodes", node_at[moved], show(moved), "kind",
                    f"as a {nodes[moved].kind.value} it breaks the stored dependency "
                    f"{edge.source} -> {edge.target}: a {a.value} may not depend on a "
                    f"{b.value}"))

    # Group rules concern a node and all its edges, wherever each came from.
    members: dict[tuple[str, str], int] = defaultdict(int)
    for edge in graph.edges:
        if edge.group is not None:
            members[(edge.source, edge.group)] += 1
    touched = set(node_at) | {e.source for e in batch.edges} | set(also_check)
    for edge in graph.edges:
        if edge.source not in touched or edge.group is None or edge.source not in nodes:
            continue
        if edge.group not in nodes[edge.source].redundancy:
            problems.append(_blame(edge, node_at, edge_at, "group",
                                   f"group {show(edge.group)} has no min_ok: declare it "
                                   f"in {show(edge.source)}'s redundancy"))
    for node_id in sorted(touched & set(nodes), key=lambda n: node_at.get(n, len(node_at))):
        node = nodes[node_id]
        for group, rule in node.redundancy.items():
            n = members[(node_id, group)]
            wrong = group_problem(rule, n) if n else f"group {show(group)} has no member edges"
            if wrong is not None:
                problems.append(Problem(
                    "nodes", node_at.get(node_id), show(node_id), f"redundancy.{short(group)}",
                    wrong))
    # Deduplicate (a duplicate edge is reported once per copy above).
    unique: dict[str, Problem] = {}
    for p in problems:
        unique.setdefault(str(p), p)
    return list(unique.values())


def _edge_item(edge: Edge) -> str:
    return f"{short(edge.source)} -> {short(edge.target)}"


def _blame(edge: Edge, node_at: dict[str, int], edge_at: dict[tuple[str, str], int],
           field: str, message: str) -> Problem:
    if edge.key in edge_at:
        return Problem("edges", edge_at[edge.key], _edge_item(edge), field, message)
    return Problem("nodes", node_at.get(edge.source), show(edge.source), field, message)


def _edge_problems(i: int, edge: Edge, nodes: dict[str, Node]) -> list[Problem]:
    item = _edge_item(edge)
    out: list[Problem] = []
    for end, node_id in (("from", edge.source), ("to", edge.target)):
        if node_id not in nodes:
            out.append(Problem("edges", i, item, end, f"no node with id {show(node_id)}"))
    if edge.source == edge.target:
        out.append(Problem("edges", i, item, "to", "a node cannot depend on itself"))
    if edge.impact is Impact.SOFT and edge.group is not None:
        out.append(Problem("edges", i, item, "group",
                           "a soft dependency cannot be in a redundancy group"))
    if not out:
        a, b = nodes[edge.source].kind, nodes[edge.target].kind
        if not may_depend(a, b):
            allowed = ", ".join(sorted(k.value for k in ALLOWED[a])) or "nothing"
            out.append(Problem("edges", i, item, "to",
                               f"a {a.value} may not depend on a {b.value} (allowed: {allowed})"))
    return out


def validate(batch: GraphData, existing: GraphData | None = None) -> GraphData:
    """Return the merged graph if the batch is valid, else raise :class:`ValidationError`."""
    problems = find_problems(batch, existing)
    if problems:
        raise ValidationError(problems)
    return (existing or GraphData()).merged_with(batch)


def validate_removal(graph: GraphData, node_ids: Collection[str] = (),
                     edge_keys: Collection[tuple[str, str]] = ()) -> GraphData:
    """The graph without the given nodes (and their edges) and edges, if still valid.

    Removing a member of a redundancy group can leave its node needing more
    members than it has; that is refused, naming the node and the group.
    Unknown ids raise :class:`UnknownNodeError` / :class:`UnknownEdgeError`.

    >>> from servicegraph.model import Edge, Node, NodeKind
    >>> g = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
    ...                  [Edge("a", "b")])
    >>> len(validate_removal(g, ["b"]).edges)
    0
    """
    nodes = graph.node_map()
    missing = [n for n in node_ids if n not in nodes]
    if missing:
        raise UnknownNodeError(missing)
    edges = {e.key for e in graph.edges}
    gone_edges = [k for k in edge_keys if k not in edges]
    if gone_edges:
        raise UnknownEdgeError(gone_edges)
    drop_nodes, drop_edges = set(node_ids), set(edge_keys)
    kept_edges = tuple(e for e in graph.edges if e.key not in drop_edges
                       and e.source not in drop_nodes and e.target not in drop_nodes)
    remaining = GraphData(tuple(n for n in graph.nodes if n.id not in drop_nodes), kept_edges)
    members: dict[tuple[str, str], int] = defaultdict(int)
    for e in kept_edges:
        if e.group is not None:
            members[(e.source, e.group)] += 1
    losers = {e.source for e in graph.edges if e.source not in drop_nodes
              and (e.key in drop_edges or e.target in drop_nodes)}
    problems = []
    for node_id in sorted(losers):
        for group, rule in nodes[node_id].redundancy.items():
            left = members[(node_id, group)]
            # A share fits any group left with members; none left fits no rule.
            wrong = group_problem(rule, left) if left else "its rule needs a member"
            if wrong is not None:
                problems.append(Problem(
                    "nodes", None, show(node_id), f"redundancy.{group}",
                    f"removal leaves {left} member(s) in group {show(group)}: {wrong}"))
    if problems:
        raise ValidationError(problems)
    return remaining
