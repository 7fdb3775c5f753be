"""A deliberately naive evaluator of the impact rules, over networkx.

It restates the model's rules as literally as possible: start with every node ok,
recompute every node from all its dependencies, repeat until nothing changes.
It shares no code with the engine, so tests can hold one against the other,
and the benchmark measures the engine against it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import networkx as nx

from servicegraph.model.graph import GraphData
from servicegraph.model.kinds import State


def to_networkx(graph: GraphData) -> Any:
    """The graph as a ``networkx.DiGraph``: node attributes from the interchange
    form (``kind`` as its string value), edge attributes ``group`` and ``impact``.

    >>> from servicegraph.model import Edge, Node, NodeKind
    >>> g = to_networkx(GraphData.of([Node("a", NodeKind.CI, "A"),
    ...                               Node("b", NodeKind.CI, "B")], [Edge("a", "b")]))
    >>> sorted(g.edges(data="impact"))
    [('a', 'b', 'hard')]
    """
    g = nx.DiGraph()
    for n in graph.nodes:
        attrs = n.to_dict()
        node_id = attrs.pop("id")
        g.add_node(node_id, **attrs)
    for e in graph.edges:
        g.add_edge(e.source, e.target, group=e.group, impact=e.impact.value)
    return g


def naive_states(g: Any, given: Mapping[str, State]) -> dict[str, State]:
    """Least fixpoint by global iteration; returns every node's state.

    ``g`` is a DiGraph as :func:`to_networkx` makes it.
    """
    state = {n: given.get(n, State.OK) for n in g.nodes}
    changed = True
    while changed:
        changed = False
        for node in g.nodes:
            new = max(state[node], given.get(node, State.OK), _derived(g, node, state))
            if new != state[node]:
                state[node] = new
                changed = True
    return state


def _derived(g: Any, node: str, state: Mapping[str, State]) -> State:
    worst = State.OK
    groups: dict[str, list[State]] = {}
    for _, dep, data in g.out_edges(node, data=True):
        if data["group"] is not None:
            groups.setdefault(data["group"], []).append(state[dep])
        elif data["impact"] == "soft":
            if state[dep] != State.OK:
                worst = max(worst, State.DEGRADED)
        else:
            worst = max(worst, state[dep])
    rules = g.nodes[node].get("redundancy", {})
    for group, members in groups.items():
        need, ok_at = _needs(rules[group], len(members))
        up = sum(1 for s in members if s != State.DOWN)
        ok = sum(1 for s in members if s == State.OK)
        if up < need:
            worst = max(worst, State.DOWN)
        elif ok < ok_at:
            worst = max(worst, State.DEGRADED)
    return worst


def _needs(rule: Any, size: int) -> tuple[int, int]:
    """(members needed up, members needed ok) of a rule among ``size`` members, read
    from the rule as written: a count, a share ``"N%"`` (rounded up, at least one),
    or ``{min_ok, ok_at}`` of those (``ok_at`` all members when left out)."""
    def count(amount: Any) -> int:
        if isinstance(amount, str):
            percent = int(amount.rstrip("%"))
            return max(1, -(-percent * size // 100))
        return int(amount)

    if isinstance(rule, Mapping):
        needed = count(rule["min_ok"])
        return needed, max(needed, count(rule.get("ok_at", size)))  # never below min_ok
    return count(rule), max(count(rule), size)
