"""Root-cause candidates: which single component would explain what is observed.

Given nodes observed degraded or down, every component they transitively
depend on (or an observed node itself) is a hypothesis: "this one failed, and
nothing else". The engine plays each hypothesis out; a candidate *explains* an
observed node when its failure alone puts that node at least in its observed
state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from servicegraph.impact.engine import propagate
from servicegraph.impact.index import GraphIndex
from servicegraph.impact.spof import reachable
from servicegraph.model.kinds import NodeKind, State

_DOWN = int(State.DOWN)


@dataclass(frozen=True)
class Candidate:
    """One component that, failing alone (down), would explain some observations.

    ``explains`` and ``unexplained`` split the observed failing nodes; ``extra``
    counts the nodes its failure would impact that were not observed failing
    (the candidate itself included when it was not observed): fewer is simpler.
    """

    component: str
    explains: tuple[str, ...]
    unexplained: tuple[str, ...]
    extra: int

    @property
    def explains_all(self) -> bool:
        """Whether this candidate alone accounts for every observation."""
        return not self.unexplained

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"component": self.component, "explains": list(self.explains),
                "unexplained": list(self.unexplained), "extra": self.extra,
                "explains_all": self.explains_all}


def root_cause_candidates(
    index: GraphIndex, observed: Mapping[str, State], *, limit: int = 10
) -> list[Candidate]:
    """Single components whose failure alone would explain the observed states.

    Parameters
    ----------
    index : GraphIndex
        The graph, left untouched.
    observed : mapping of node id to State
        What is seen failing. Entries observed ``OK`` set no requirement and are
        ignored; at least one entry must be degraded or down.
    limit : int
        How many candidates to return (at least 1).

    Returns
    -------
    list of Candidate
        Candidates among the observed nodes and everything they transitively
        depend on, promises excluded, that explain at least one observation.
        Full explainers first, then by most observations explained; ties go to
        the fewest ``extra`` impacted nodes (parsimony), then to the id.

    Raises
    ------
    UnknownNodeError
        Naming every observed id not in the graph.
    ValueError
        When nothing is observed degraded or down, or ``limit`` < 1.

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node
    >>> g = GraphData.of([Node("act", NodeKind.SERVICE_ACT, "Act"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App"),
    ...                   Node("db", NodeKind.CI, "DB")], [Edge("act", "app"), Edge("app", "db")])
    >>> best = root_cause_candidates(GraphIndex.from_graph(g), {"act": State.DOWN,
    ...                                                          "app": State.DOWN})[0]
    >>> best.component, best.explains, best.extra
    ('app', ('act', 'app'), 0)
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    positions = index.lookup(list(observed))
    failing = {pos: int(s) for pos, s in zip(positions, observed.values(), strict=True)
               if s > State.OK}
    if not failing:
        raise ValueError("observe at least one node degraded or down")
    names = sorted(index.ids[n] for n in failing)
    found: list[Candidate] = []
    for node in reachable(index, failing):
        if index.kind(node) is NodeKind.PROMISE:
            continue
        state = propagate(index, {node: _DOWN}).state
        explained = {index.ids[n] for n, s in failing.items() if state.get(n, 0) >= s}
        if not explained:
            continue
        extra = sum(1 for n in state if n not in failing)
        found.append(Candidate(index.ids[node], tuple(n for n in names if n in explained),
                               tuple(n for n in names if n not in explained), extra))
    found.sort(key=lambda c: (len(c.unexplained) > 0, -len(c.explains), c.extra, c.component))
    return found[:limit]
