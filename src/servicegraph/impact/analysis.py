"""Impact answers in the customer's language: promises, acts, services, providers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from servicegraph.impact.engine import Propagation, propagate
from servicegraph.impact.explain import Explanation, explain_all
from servicegraph.impact.index import GraphIndex
from servicegraph.model.kinds import NodeKind, State

_STATES = tuple(State)  # indexing a tuple is far cheaper than State(s) per node


@dataclass(frozen=True)
class ProviderCall:
    """A provider (or owner) who must act or is affected, with its components."""

    provider: str
    failed: tuple[str, ...]
    affected: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"provider": self.provider, "failed": list(self.failed),
                "affected": list(self.affected)}


@dataclass(frozen=True)
class ImpactResult:
    """The answer to "what breaks if these fail?".

    ``impacted`` holds every node that is not ok, the failed ones included.
    """

    propagation: Propagation = field(repr=False)
    given: Mapping[str, State]
    impacted: Mapping[str, State]

    @property
    def index(self) -> GraphIndex:
        """The graph the answer is about."""
        return self.propagation.index

    def _of_kind(self, kind: NodeKind, state: State | None = None) -> list[str]:
        # Walk the (few) nodes of the kind, not the (possibly huge) impacted set.
        idx, states = self.index, self.propagation.state
        return sorted(idx.ids[n] for n in idx.of_kind(kind).tolist()
                      if (s := states.get(n)) is not None and (state is None or s == state))

    @property
    def broken_promises(self) -> list[str]:
        """Promises that end down."""
        return self._of_kind(NodeKind.PROMISE, State.DOWN)

    @property
    def at_risk_promises(self) -> list[str]:
        """Promises that end degraded."""
        return self._of_kind(NodeKind.PROMISE, State.DEGRADED)

    def of_kind(self, kind: NodeKind) -> dict[str, State]:
        """Impacted nodes of one kind, by id."""
        return {n: self.impacted[n] for n in self._of_kind(kind)}

    @cached_property
    def explanations(self) -> dict[str, Explanation]:
        """Why each impacted node is in its state (computed once, on first use)."""
        return explain_all(self.propagation)

    def providers(self) -> list[ProviderCall]:
        """Who must act (providers of failed components) and who is affected.

        A node's ``provider`` is used, else its ``owner``; providers with failed
        components come first.
        """
        failed: dict[str, list[str]] = {}
        affected: dict[str, list[str]] = {}
        for node_id in sorted(self.impacted):
            node = self.index.nodes.get(node_id)
            if node is None or node.kind not in (NodeKind.SERVICE_SYSTEM, NodeKind.CI):
                continue
            who = node.provider or node.owner
            if who is None:
                continue
            (failed if node_id in self.given else affected).setdefault(who, []).append(node_id)
        names = sorted(set(failed) | set(affected), key=lambda p: (p not in failed, p))
        return [ProviderCall(p, tuple(failed.get(p, ())), tuple(affected.get(p, ())))
                for p in names]

    def to_dict(self, *, explanations: bool = True) -> dict[str, Any]:
        """The JSON answer of DESIGN.md, plus acts, services and providers."""
        out: dict[str, Any] = {
            "impacted": {n: s.word for n, s in sorted(self.impacted.items())},
            "broken_promises": self.broken_promises,
            "at_risk_promises": self.at_risk_promises,
            "service_acts": {n: s.word for n, s in self.of_kind(NodeKind.SERVICE_ACT).items()},
            "business_services": {
                n: s.word for n, s in self.of_kind(NodeKind.BUSINESS_SERVICE).items()
            },
            "providers": [p.to_dict() for p in self.providers()],
        }
        if explanations:
            out["explanations"] = {n: e.to_dict() for n, e in sorted(self.explanations.items())}
        return out


def analyse(index: GraphIndex, given: Mapping[str, State]) -> ImpactResult:
    """Impact of a scenario: node id -> its own state (degraded or down).

    Raises :class:`~servicegraph.model.UnknownNodeError` naming unknown ids.

    Examples
    --------
    >>> from servicegraph.model import Edge, GraphData, Node, NodeKind
    >>> g = GraphData.of([Node("p", NodeKind.PROMISE, "P"),
    ...                   Node("s", NodeKind.SERVICE_SYSTEM, "S")], [Edge("p", "s")])
    >>> analyse(GraphIndex.from_graph(g), {"s": State.DOWN}).broken_promises
    ['p']
    """
    positions = index.lookup(list(given))
    scenario = {pos: int(s) for pos, s in zip(positions, given.values(), strict=True)}
    p = propagate(index, scenario)
    ids = index.ids
    impacted = {ids[n]: _STATES[s] for n, s in p.state.items()}
    return ImpactResult(p, {n: s for n, s in given.items() if s > State.OK}, impacted)


def scenario(down: Iterable[str] = (), degraded: Iterable[str] = ()) -> dict[str, State]:
    """A scenario from two lists; a node named in both is down (the worse).

    >>> scenario(["a"], ["a", "b"])
    {'a': <State.DOWN: 2>, 'b': <State.DEGRADED: 1>}
    """
    out = dict.fromkeys(down, State.DOWN)
    for n in degraded:
        out.setdefault(n, State.DEGRADED)
    return out
