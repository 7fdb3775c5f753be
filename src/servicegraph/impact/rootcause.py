"""Root-cause candidates: which single component, failing, would produce what is seen.

An observation says a node is ``down``, ``degraded`` or ``ok``. A hypothesis says
"this one component failed (down, or only degraded), and nothing else". The
engine plays each hypothesis out and compares its prediction with every
observation:

- it is **consistent** when it predicts no observed node worse than it was seen:
  a node seen ok must stay ok, a node seen degraded must not be down. (It may
  predict better than seen: another fault may account for the rest.)
- it **explains** an observed failing node when it predicts exactly its state;
- it **predicts unseen** failures: nodes it puts out of ok that nobody observed.

Candidates are components (service systems and CIs unless other kinds are asked
for) upstream of a failing observation, with a consistent hypothesis that
explains at least one of them; each keeps its best hypothesis. They are ranked
by how much of what is seen they explain, then by how little unseen they
predict, then by the evidence on the component itself (its own observed
state), then by id. Each carries, for every observation it explains, the chain
from the observed node back to the component.

Under a single fault the real cause is always a candidate: its own hypothesis
predicts every node exactly, so it is consistent with any set of observations of
the real states and explains each failing one.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from servicegraph.impact.engine import Propagation, propagate, reachable
from servicegraph.impact.explain import chain_from
from servicegraph.impact.index import GraphIndex
from servicegraph.model.kinds import NodeKind, State

#: The kinds of component considered unless a question names others: where
#: something can be repaired or replaced, not where the customer meets it.
COMPONENTS: frozenset[NodeKind] = frozenset({NodeKind.SERVICE_SYSTEM, NodeKind.CI})

#: The failures a hypothesis tries, worst first.
_MODES = (int(State.DOWN), int(State.DEGRADED))


@dataclass(frozen=True)
class Candidate:
    """A component whose failure (``state``) alone is consistent with every
    observation and produces some of those that are not ok.

    ``explains`` and ``unexplained`` split the failing observations; ``extra``
    counts the nodes it would put out of ok that nobody observed (the component
    itself included when it was not observed); ``evidence`` is the component's own
    observed state, if it was observed; ``chains`` gives, for each explained
    observation, the chain of causes from that node back to the component.
    """

    component: str
    kind: NodeKind
    state: State
    explains: tuple[str, ...]
    unexplained: tuple[str, ...]
    extra: int
    evidence: State | None = None
    chains: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def explains_all(self) -> bool:
        """Whether this candidate alone accounts for every failing observation."""
        return not self.unexplained

    def rank(self) -> tuple[int, int, int, str]:
        """The sort key: most explained, fewest unseen, most evidence, then id."""
        evidence = int(self.evidence) if self.evidence is not None else -1
        return (-len(self.explains), self.extra, -evidence, self.component)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"component": self.component, "kind": self.kind.value,
                "state": self.state.word, "explains": list(self.explains),
                "unexplained": list(self.unexplained), "extra": self.extra,
                "evidence": self.evidence.word if self.evidence is not None else None,
                "explains_all": self.explains_all,
                "chains": {node: list(chain) for node, chain in self.chains.items()}}


def _hypothesis(index: GraphIndex, node: int, mode: int, seen: np.ndarray[Any, Any],
                seen_states: np.ndarray[Any, Any], names: list[str], failing: set[int],
                ) -> tuple[Candidate, Propagation] | None:
    """The candidate ``node`` failing in ``mode`` makes, if it is one."""
    p = propagate(index, {node: mode})
    predicted = p.states_of(seen)
    if bool((predicted > seen_states).any()):
        return None  # it predicts something worse than was seen: ruled out
    hits = {names[i] for i in np.flatnonzero(predicted == seen_states)
            if int(seen[i]) in failing}
    if not hits:
        return None
    observed = dict(zip(seen.tolist(), seen_states.tolist(), strict=True))
    extra = int(len(p.nodes) - np.isin(p.nodes, seen).sum())
    own = observed.get(node)
    failing_names = sorted(names[i] for i, v in enumerate(seen.tolist()) if v in failing)
    return Candidate(index.ids[node], index.kind(node), State(mode),
                     tuple(n for n in failing_names if n in hits),
                     tuple(n for n in failing_names if n not in hits), extra,
                     State(own) if own is not None else None), p


def root_cause_candidates(
    index: GraphIndex, observed: Mapping[str, State], *, limit: int = 10,
    kinds: Collection[NodeKind] = COMPONENTS,
) -> list[Candidate]:
    """The components whose failure alone is consistent with what is observed, best
    first (see the module for the method).

    Parameters
    ----------
    index : GraphIndex
        The graph, left untouched.
    observed : mapping of node id to State
        What is seen: failing nodes, and healthy ones (``OK``), which rule out every
        hypothesis that would have them fail. At least one must be degraded or down.
    limit : int
        How many candidates to return (at least 1).
    kinds : collection of NodeKind
        The kinds of component to consider (default: service systems and CIs).

    Returns
    -------
    list of Candidate
        Ranked by most failing observations explained, fewest failures predicted that
        nobody observed, the component's own observed state (worst first), then id;
        each with the chain from every observation it explains back to it.

    Raises
    ------
    UnknownNodeError
        Naming every observed id not in the graph.
    ValueError
        When nothing is observed degraded or down, no kind is named, or ``limit`` < 1.

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node
    >>> g = GraphData.of([Node("act", NodeKind.SERVICE_ACT, "Act"),
    ...                   Node("app", NodeKind.SERVICE_SYSTEM, "App"),
    ...                   Node("db", NodeKind.CI, "DB"), Node("ui", NodeKind.CI, "UI")],
    ...                  [Edge("act", "app"), Edge("app", "db"), Edge("app", "ui")])
    >>> idx = GraphIndex.from_graph(g)
    >>> [c.component for c in root_cause_candidates(idx, {"act": State.DOWN})]
    ['app', 'db', 'ui']
    >>> best = root_cause_candidates(idx, {"act": State.DOWN, "ui": State.OK})[0]
    >>> best.component, best.state.word, best.chains["act"]
    ('app', 'down', ('act', 'app'))
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if not kinds:
        raise ValueError("name at least one kind of component")
    positions = index.lookup(list(observed))
    states = {pos: int(s) for pos, s in zip(positions, observed.values(), strict=True)}
    failing = {pos for pos, s in states.items() if s > State.OK}
    if not failing:
        raise ValueError("observe at least one node degraded or down")
    seen = np.fromiter(states, dtype=np.int64, count=len(states))
    seen_states = np.fromiter(states.values(), dtype=np.int8, count=len(states))
    names = [index.ids[v] for v in seen.tolist()]
    wanted = set(kinds)
    best: list[tuple[Candidate, Propagation]] = []
    for node in reachable(index, sorted(failing)).tolist():
        if index.kind(node) not in wanted:
            continue
        found = [h for mode in _MODES
                 if (h := _hypothesis(index, node, mode, seen, seen_states, names,
                                      failing)) is not None]
        if found:
            best.append(min(found, key=lambda h: h[0].rank()))
    best.sort(key=lambda h: h[0].rank())
    out = []
    for candidate, p in best[:limit]:
        chains = {name: chain_from(p, index.position[name]) for name in candidate.explains}
        out.append(Candidate(candidate.component, candidate.kind, candidate.state,
                             candidate.explains, candidate.unexplained, candidate.extra,
                             candidate.evidence, chains))
    return out
