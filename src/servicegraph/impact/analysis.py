"""Impact answers in the customer's language: promises, acts, services, providers."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from servicegraph.impact.engine import Propagation, propagate
from servicegraph.impact.explain import Explanation, chains, explain, explain_all
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
    def _parents(self) -> dict[int, int]:
        return chains(self.propagation)

    def explain(self, node_id: str, *, chain: bool = True) -> Explanation | None:
        """Why ``node_id`` is in its state (``None`` when ok); with ``chain`` the
        whole chain back to the failure, else only its next hop ``via``.

        Raises :class:`~servicegraph.model.UnknownNodeError` for an unknown id.
        """
        (node,) = self.index.lookup([node_id])
        return explain(self.propagation, self._parents, node, chain=chain)

    @cached_property
    def explanations(self) -> dict[str, Explanation]:
        """Why each impacted node is in its state, every chain in full (computed once,
        on first use). For big answers use :meth:`answer`, which explains only what
        it returns."""
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

    def counts(self) -> dict[str, int]:
        """How many nodes of each sort the answer concerns, whatever a page shows."""
        down = sum(1 for s in self.impacted.values() if s == State.DOWN)
        return {"impacted": len(self.impacted), "down": down,
                "degraded": len(self.impacted) - down,
                "broken_promises": len(self.broken_promises),
                "at_risk_promises": len(self.at_risk_promises),
                "service_acts": len(self._of_kind(NodeKind.SERVICE_ACT)),
                "business_services": len(self._of_kind(NodeKind.BUSINESS_SERVICE)),
                "providers": len(self.providers())}

    def answer(self, *, limit: int | None = None, offset: int = 0,
               kind: NodeKind | None = None, within: Collection[str] | None = None,
               explain: bool = True) -> dict[str, Any]:
        """The answer, sized to the question.

        Parameters
        ----------
        limit : int, optional
            The most entries of each list (promises, acts, business services,
            providers, the page of ``impacted``); all when ``None``. ``counts``
            always gives the totals.
        offset : int
            Impacted nodes to skip before the page.
        kind : NodeKind, optional
            Only impacted nodes of this kind in the page.
        within : collection of str, optional
            Only these nodes in the page (e.g. the ones a picture shows); unknown
            ids raise :class:`~servicegraph.model.UnknownNodeError`.
        explain : bool
            Explain the promises, acts and business services listed and the page's
            nodes: causes, rule and ``via`` for each, the whole ``chain`` for promises.

        Returns
        -------
        dict
            ``counts``, ``broken_promises``, ``at_risk_promises``, ``service_acts``,
            ``business_services``, ``providers``, ``impacted`` (the page, ordered by
            id), ``page`` and ``explanations``.
        """
        def cap(items: list[Any]) -> list[Any]:
            return items if limit is None else items[:limit]

        ids = sorted(self.impacted)
        if within is not None:
            wanted = set(self.index.ids[n] for n in self.index.lookup(list(within)))
            ids = [n for n in ids if n in wanted]
        if kind is not None:
            ids = [n for n in ids if self.index.nodes[n].kind is kind] if self.index.nodes else [
                n for n in ids if self.index.kind(self.index.position[n]) is kind]
        page = ids[offset:] if limit is None else ids[offset:offset + limit]
        broken, at_risk = cap(self.broken_promises), cap(self.at_risk_promises)
        acts = cap(self._of_kind(NodeKind.SERVICE_ACT))
        services = cap(self._of_kind(NodeKind.BUSINESS_SERVICE))
        out: dict[str, Any] = {
            "counts": self.counts(),
            "broken_promises": broken,
            "at_risk_promises": at_risk,
            "service_acts": {n: self.impacted[n].word for n in acts},
            "business_services": {n: self.impacted[n].word for n in services},
            "providers": [p.to_dict() for p in cap(self.providers())],
            "impacted": {n: self.impacted[n].word for n in page},
            "page": {"total": len(ids), "limit": limit, "offset": offset,
                     "kind": kind.value if kind is not None else None},
            "explanations": {},
        }
        if explain:
            promises = set(broken) | set(at_risk)
            for node_id in sorted({*promises, *acts, *services, *page}):
                found = self.explain(node_id, chain=node_id in promises)
                if found is not None:
                    out["explanations"][node_id] = found.to_dict()
        return out

    def to_dict(self, *, explanations: bool = True) -> dict[str, Any]:
        """The whole answer: every impacted node, each explained (chains for promises,
        ``via`` for every node). See :meth:`answer` for answers sized to the question."""
        return self.answer(explain=explanations)


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
