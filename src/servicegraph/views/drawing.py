"""Pictures of a graph for notebooks: a layered layout and a matplotlib drawing.

The layout puts promises on top and CIs at the bottom, as the customer reads the
model: rows by kind, a chain within one kind (a system needing a system, a CI
needing a CI) pushed a row down, and each row ordered by the mean position of
the neighbours above it, which keeps most dependencies short and uncrossed.
Drawing needs matplotlib (``pip install "servicegraph[notebooks]"``); the layout
does not.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from servicegraph.model.graph import GraphData
from servicegraph.model.kinds import NodeKind, State

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: Rows, top to bottom.
LAYER = {NodeKind.PROMISE: 0, NodeKind.BUSINESS_SERVICE: 1, NodeKind.SERVICE_ACT: 2,
         NodeKind.SERVICE_SYSTEM: 3, NodeKind.CI: 4}
#: The colours of the explorer page: kinds when ok, red and amber when not.
KIND_COLOURS = {NodeKind.PROMISE: "#6a4c93", NodeKind.BUSINESS_SERVICE: "#1982c4",
                NodeKind.SERVICE_ACT: "#2a9d8f", NodeKind.SERVICE_SYSTEM: "#8ac926",
                NodeKind.CI: "#8d99ae"}
STATE_COLOURS = {State.DOWN: "#d62828", State.DEGRADED: "#f4a100"}


def _rows(graph: GraphData) -> dict[str, int]:
    """Each node's row: its kind's layer, pushed down by chains within the kind."""
    sub = {n.id: 0 for n in graph.nodes}
    kind = {n.id: n.kind for n in graph.nodes}
    same = [e for e in graph.edges if e.source in kind and kind[e.source] == kind.get(e.target)]
    for _ in range(4):  # a few passes only: a cycle must not push forever
        moved = False
        for e in same:
            if sub[e.target] < sub[e.source] + 1 <= 3:
                sub[e.target] = sub[e.source] + 1
                moved = True
        if not moved:
            break
    depth = {k: 0 for k in LAYER}
    for n in graph.nodes:
        depth[n.kind] = max(depth[n.kind], sub[n.id] + 1)
    offset, total = {}, 0
    for k in sorted(LAYER, key=LAYER.__getitem__):
        offset[k] = total
        total += depth[k]
    return {n.id: offset[n.kind] + sub[n.id] for n in graph.nodes}


def layered_positions(graph: GraphData) -> dict[str, tuple[float, float]]:
    """Positions ``(x, y)`` of every node, promises on top (largest ``y``).

    Rows are one unit apart; within a row nodes are one unit apart and centred.

    >>> from servicegraph.model import Edge, Node, NodeKind
    >>> g = GraphData.of([Node("p", NodeKind.PROMISE, "P"), Node("s", NodeKind.SERVICE_SYSTEM, "S"),
    ...                   Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
    ...                  [Edge("p", "s"), Edge("s", "a"), Edge("a", "b")])
    >>> pos = layered_positions(g)
    >>> pos["p"][1] > pos["s"][1] > pos["a"][1] > pos["b"][1]
    True
    """
    rows = _rows(graph)
    neighbours: dict[str, list[str]] = {n.id: [] for n in graph.nodes}
    for e in graph.edges:
        if e.source in neighbours and e.target in neighbours:
            neighbours[e.source].append(e.target)
            neighbours[e.target].append(e.source)
    by_row: dict[int, list[str]] = {}
    for n in graph.nodes:
        by_row.setdefault(rows[n.id], []).append(n.id)
    pos: dict[str, tuple[float, float]] = {}
    for row in sorted(by_row):
        def barycentre(node_id: str) -> float:
            placed = [pos[m][0] for m in neighbours[node_id] if m in pos]
            return sum(placed) / len(placed) if placed else float("inf")
        ordered = sorted(by_row[row], key=lambda i: (barycentre(i), i))
        for i, node_id in enumerate(ordered):
            pos[node_id] = (i - (len(ordered) - 1) / 2, -float(row))
    return pos


def subgraph(graph: GraphData, ids: Iterable[str]) -> GraphData:
    """The nodes ``ids`` of ``graph`` and the edges among them, in graph order."""
    wanted = set(ids)
    return GraphData(tuple(n for n in graph.nodes if n.id in wanted),
                     tuple(e for e in graph.edges if e.source in wanted and e.target in wanted))


def draw(graph: GraphData, states: Mapping[str, State] | None = None, *,
         failed: Iterable[str] = (), ax: Axes | None = None, title: str | None = None) -> Axes:
    """Draw ``graph`` layered by kind, coloured by state (red down, amber degraded).

    Parameters
    ----------
    graph : GraphData
        What to draw (e.g. :func:`subgraph` of the impacted nodes).
    states : mapping of id to State, optional
        Nodes not ok (e.g. ``ImpactResult.impacted``); the others keep their kind's colour.
    failed : iterable of str
        Components failed on purpose: drawn with a thick black edge.
    ax : matplotlib Axes, optional
        Where to draw; a new figure sized to the graph when not given.
    title : str, optional

    Returns
    -------
    matplotlib.axes.Axes
        The axes drawn on.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    states = states or {}
    failed = set(failed)
    pos = layered_positions(graph)
    if ax is None:
        per_row = Counter(y for _, y in pos.values())
        width, rows = max(per_row.values(), default=1), len(per_row) or 1
        _, ax = plt.subplots(figsize=(max(6.0, 2.3 * width), max(3.0, 1.3 * rows)))
    for e in graph.edges:
        # An edge between two impacted nodes is part of how the failure travelled.
        ends = (states.get(e.source), states.get(e.target))
        colour = STATE_COLOURS.get(min(ends[0], ends[1]), "#9aa5b1") \
            if ends[0] is not None and ends[1] is not None else "#9aa5b1"
        ax.add_patch(FancyArrowPatch(
            pos[e.source], pos[e.target], arrowstyle="-|>", mutation_scale=12, shrinkA=16,
            shrinkB=16, color=colour, linestyle="--" if e.impact == "soft" else "-",
            linewidth=2.5 if e.group else 1.3))
    for n in graph.nodes:
        x, y = pos[n.id]
        state = states.get(n.id)
        face = STATE_COLOURS.get(state, "#ffffff") if state else "#ffffff"
        text_colour = "#ffffff" if state == State.DOWN else "#1d232b"
        label = "\n".join(textwrap.wrap(n.name or n.id, 18)[:4])
        ax.text(x, y, label, ha="center", va="center", fontsize=7.5, color=text_colour,
                bbox={"boxstyle": "round,pad=0.4", "facecolor": face,
                      "edgecolor": "#111111" if n.id in failed else KIND_COLOURS[n.kind],
                      "linewidth": 3.5 if n.id in failed else 2.0})
    xs = [p[0] for p in pos.values()] or [0.0]
    ys = [p[1] for p in pos.values()] or [0.0]
    ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)
    ax.set_ylim(min(ys) - 0.6, max(ys) + 0.6)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax
