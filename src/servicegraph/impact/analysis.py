"""Impact answers in the customer's language: promises, acts, services, providers.

The answer is computed from the propagation's arrays: counts, the promise-level
lists and the page of impacted nodes are vectorised, and only the nodes an
answer returns are explained, so a failure that reaches half a million nodes
answers in milliseconds with a payload sized to the question.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from servicegraph.impact.engine import Propagation, propagate
from servicegraph.impact.explain import Explanation, explain, explain_all, headroom
from servicegraph.impact.index import I64, KIND_CODE, GraphIndex
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.redundancy import ALL, codes

_STATES = tuple(State)  # indexing a tuple is far cheaper than State(s) per node
_COMPONENTS = np.array([KIND_CODE[NodeKind.SERVICE_SYSTEM], KIND_CODE[NodeKind.CI]])


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


@dataclass(frozen=True, eq=False)
class ImpactResult:
    """The answer to "what breaks if these fail?".

    ``impacted`` holds every node that is not ok, the failed ones included. The
    result reads the index it was computed on: use it while that index is unchanged.
    """

    propagation: Propagation = field(repr=False)
    given: Mapping[str, State]

    @property
    def index(self) -> GraphIndex:
        """The graph the answer is about."""
        return self.propagation.index

    @cached_property
    def impacted(self) -> Mapping[str, State]:
        """Every node that is not ok, with its state (built on first use)."""
        ids = self.index.ids
        p = self.propagation
        return {ids[n]: _STATES[s] for n, s in zip(p.nodes.tolist(), p.states.tolist(),
                                                   strict=True)}

    @cached_property
    def _kinds(self) -> npt.NDArray[np.int8]:
        """The kind code of each impacted node (aligned with the propagation's nodes)."""
        return self.index.kind_codes[self.propagation.nodes]

    def _positions(self, kind: NodeKind | None = None, state: State | None = None,
                   first: int | None = None) -> I64:
        """Impacted positions (of ``kind``, in ``state``), in id order; only the
        ``first`` of them when given (chosen without sorting the others)."""
        p = self.propagation
        found = p.nodes
        if kind is not None or state is not None:
            mask = np.ones(len(p.nodes), dtype=np.bool_)
            if kind is not None:
                mask &= self._kinds == KIND_CODE[kind]
            if state is not None:
                mask &= p.states == int(state)
            found = found[mask]
        return first_in_id_order(self.index, found, first)

    def _of_kind(self, kind: NodeKind, state: State | None = None) -> list[str]:
        ids = self.index.ids
        return [ids[v] for v in self._positions(kind, state).tolist()]

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
        p, ids = self.propagation, self.index.ids
        positions = self._positions(kind)
        return {ids[v]: _STATES[p.state_of(v)] for v in positions.tolist()}

    def explain(self, node_id: str, *, chain: bool = True) -> Explanation | None:
        """Why ``node_id`` is in its state (``None`` when ok); with ``chain`` the
        whole chain back to the failure, else only its next hop ``via``.

        Raises :class:`~servicegraph.model.UnknownNodeError` for an unknown id.
        """
        (node,) = self.index.lookup([node_id])
        return explain(self.propagation, node, chain=chain)

    @cached_property
    def explanations(self) -> dict[str, Explanation]:
        """Why each impacted node is in its state, every chain in full (computed once,
        on first use). For big answers use :meth:`answer`, which explains only what
        it returns."""
        return explain_all(self.propagation)

    @cached_property
    def _components(self) -> tuple[I64, npt.NDArray[np.bool_], I64, I64, list[int]]:
        """The impacted components someone is named for (ascending positions); whether
        each failed itself; the components grouped by who they are for (``by``, cut
        at ``cuts[c]:cuts[c + 1]`` for code ``c``); and the providers to call, in
        order (those who must act first, then by name). Linear in the reach: nothing
        is sorted but the providers."""
        idx, p = self.index, self.propagation
        who = idx.who_codes[p.nodes]
        kinds = self._kinds
        mask = ((kinds == _COMPONENTS[0]) | (kinds == _COMPONENTS[1])) & (who >= 0)
        components, codes = p.nodes[mask], who[mask]
        given = np.fromiter((idx.position[n] for n in self.given), dtype=np.int64,
                            count=len(self.given))
        failed_mask = np.zeros(len(components), dtype=np.bool_)
        if len(components) and len(given):
            at = np.minimum(np.searchsorted(components, given), len(components) - 1)
            failed_mask[at[components[at] == given]] = True
        names = idx.who_names
        acting = {int(c) for c in np.unique(codes[failed_mask]).tolist()}
        present = np.flatnonzero(np.bincount(codes, minlength=len(names)))
        order = sorted(present.tolist(), key=lambda c: (c not in acting, names[c]))
        # Grouped by code with a stable sort of small integers (a radix sort).
        narrow = codes.astype(np.int16) if len(names) < 2**15 else codes
        by = np.argsort(narrow, kind="stable")
        cuts = np.searchsorted(codes[by], np.arange(len(names) + 1))
        return components, failed_mask, by, cuts, order

    def _calls(self, limit: int | None) -> tuple[int, list[ProviderCall]]:
        """How many providers to call, and the first ``limit`` of them."""
        idx = self.index
        ids, names = idx.ids, idx.who_names
        components, failed_mask, by, cuts, order = self._components
        chosen = order if limit is None else order[:limit]
        calls = []
        for code in chosen:
            mine = by[cuts[code]:cuts[code + 1]]
            failed = failed_mask[mine]
            lists = []
            for which in (mine[failed], mine[~failed]):
                found = first_in_id_order(idx, components[which], limit)
                lists.append(tuple(map(ids.__getitem__, found.tolist())))
            calls.append(ProviderCall(names[code], lists[0], lists[1]))
        return len(order), calls

    def providers(self) -> list[ProviderCall]:
        """Who must act (providers of failed components) and who is affected.

        A node's ``provider`` is used, else its ``owner``; providers with failed
        components come first.
        """
        return self._calls(None)[1]

    def counts(self) -> dict[str, int]:
        """How many nodes of each sort the answer concerns, whatever a page shows."""
        p = self.propagation
        kinds = self._kinds
        down = int(np.count_nonzero(p.states == int(State.DOWN)))

        def of(kind: NodeKind, state: State | None = None) -> int:
            mask = kinds == KIND_CODE[kind]
            if state is not None:
                mask &= p.states == int(state)
            return int(mask.sum())

        return {"impacted": len(p.nodes), "down": down, "degraded": len(p.nodes) - down,
                "broken_promises": of(NodeKind.PROMISE, State.DOWN),
                "at_risk_promises": of(NodeKind.PROMISE, State.DEGRADED),
                "service_acts": of(NodeKind.SERVICE_ACT),
                "business_services": of(NodeKind.BUSINESS_SERVICE),
                "providers": len(self._components[4])}

    def answer(self, *, limit: int | None = None, offset: int = 0,
               kind: NodeKind | None = None, within: Collection[str] | None = None,
               explain: bool = True) -> dict[str, Any]:
        """The answer, sized to the question.

        Parameters
        ----------
        limit : int, optional
            The most entries of each list (promises, acts, business services,
            providers and their components, the page of ``impacted``); all when
            ``None``. ``counts`` always gives the totals.
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
        idx, p = self.index, self.propagation
        ids = idx.ids
        end = None if limit is None else offset + limit

        def listed(kind: NodeKind, state: State | None = None) -> list[int]:
            found: list[int] = self._positions(kind, state, limit).tolist()
            return found

        if within is not None:
            wanted = np.fromiter(idx.lookup(list(within)), dtype=np.int64)
            pool = self._positions(kind)
            pool = pool[np.isin(pool, wanted)]
            total, page = len(pool), pool[offset:end].tolist()
        else:
            total = (len(p.nodes) if kind is None
                     else int(np.count_nonzero(self._kinds == KIND_CODE[kind])))
            page = self._positions(kind, first=end)[offset:].tolist()
        broken, at_risk = listed(NodeKind.PROMISE, State.DOWN), listed(NodeKind.PROMISE,
                                                                        State.DEGRADED)
        acts, services = listed(NodeKind.SERVICE_ACT), listed(NodeKind.BUSINESS_SERVICE)

        def states(positions: list[int]) -> dict[str, str]:
            found = p.states_of(np.array(positions, dtype=np.int64)).tolist()
            return {ids[v]: _WORDS[s] for v, s in zip(positions, found, strict=True)}

        out: dict[str, Any] = {
            "counts": self.counts(),
            "broken_promises": [ids[v] for v in broken],
            "at_risk_promises": [ids[v] for v in at_risk],
            "service_acts": states(acts),
            "business_services": states(services),
            "providers": [c.to_dict() for c in self._calls(limit)[1]],
            "impacted": states(page),
            "page": {"total": total, "limit": limit, "offset": offset,
                     "kind": kind.value if kind is not None else None},
            "explanations": {},
        }
        if explain:
            promises = set(broken) | set(at_risk)
            shown = sorted({*promises, *acts, *services, *page}, key=ids.__getitem__)
            # Nothing listed, nothing to explain: skip the search over the whole reach
            # that the next hops need.
            out["explanations"] = explained(p, shown, promises) if shown else {}
        return out

    def to_dict(self, *, explanations: bool = True) -> dict[str, Any]:
        """The whole answer: every impacted node, each explained (chains for promises,
        ``via`` for every node). See :meth:`answer` for answers sized to the question."""
        return self.answer(explain=explanations)


_WORDS = tuple(st.word for st in State)


def first_in_id_order(index: GraphIndex, positions: I64, first: int | None) -> I64:
    """The ``first`` of ``positions`` in id order (all when ``None``): those are
    chosen by partition, and only they are sorted."""
    if first is None or first >= len(positions):
        return index.in_id_order(positions)
    if first <= 0:
        return positions[:0]
    rank = index.id_rank()[positions]
    chosen = np.argpartition(rank, first - 1)[:first]
    return positions[chosen[np.argsort(rank[chosen], kind="stable")]]


def explained(p: Propagation, nodes: list[int], chains: Collection[int]
              ) -> dict[str, dict[str, Any]]:
    """The explanations of ``nodes`` (those not ok), in the form of
    :meth:`Explanation.to_dict <servicegraph.impact.explain.Explanation.to_dict>`,
    whole chains for ``chains`` and the next hop ``via`` for the others.

    The same answer as explaining node by node, computed for all of them at once:
    their causes in one compiled pass, their chains by compiled searches back from
    each of them (see :meth:`Propagation.chains_of`).
    """
    idx = p.index
    ids, names = idx.ids, idx.group_name
    vs = np.fromiter(nodes, dtype=np.int64, count=len(nodes))
    finals = p.states_of(vs).tolist()
    edges, ends, found_chains = p.causes_and_chains(vs)
    dst = idx.edge_target[edges]
    dep_states = p.states_of(dst).tolist()
    grp = idx.edge_group[edges].tolist()
    soft = idx.edge_soft[edges].tolist()
    dst_list = dst.tolist()
    sizes, needs = idx.group_size, idx.group_min_ok
    # Group headroom: the members down of each group cause, all looked up at once.
    gs = np.array(grp, dtype=np.int64)
    at = np.minimum(np.searchsorted(p.groups, gs), max(len(p.groups) - 1, 0))
    hit = (gs >= 0) & (len(p.groups) > 0)
    if len(p.groups):
        hit &= p.groups[at] == gs
    downs = np.where(hit, p.group_down_counts[at] if len(p.groups) else 0, 0).tolist()
    not_oks = np.where(hit, p.group_not_ok_counts[at] if len(p.groups) else 0, 0).tolist()
    gsafe = np.maximum(gs, 0)
    sizes_of = np.where(gs >= 0, sizes[gsafe] if len(sizes) else 0, 0).tolist()
    needs_of = np.where(gs >= 0, needs[gsafe] if len(needs) else 0, 0).tolist()
    # Groups ok only whole (the default ok_at) read as today; others say more.
    plain_ok = {g: codes(idx.group_rule(g))[1] == ALL for g in set(grp) if g >= 0}
    words = [_WORDS[x] for x in dep_states]
    # Each node's causes in (rule, group, dependency) order, sorted at once: the rule
    # ("group" < "hard" < "soft"), the group's name among those named, the id's rank.
    soft_arr = np.asarray(soft, dtype=np.bool_)
    rule_code = np.where(gs >= 0, 0, np.where(soft_arr, 2, 1))
    named = sorted({names[g] for g in plain_ok})
    name_rank = {name: i for i, name in enumerate(named)}
    g_rank = np.array([name_rank[names[g]] if g >= 0 else 0 for g in grp], dtype=np.int64)
    owner = np.repeat(np.arange(len(vs)), np.diff(np.r_[0, ends]))
    order = np.lexsort((idx.id_rank()[dst], g_rank, rule_code, owner)).tolist()
    # A dependency that is a hard or soft cause of many nodes is one shared cause.
    plain: dict[tuple[int, bool], dict[str, Any]] = {}
    rules = ("group", "hard", "soft")
    codes_list = rule_code.tolist()
    made: list[dict[str, Any]] = []
    for c in order:
        g = grp[c]
        if g >= 0:
            dep, size = ids[dst_list[c]], sizes_of[c]
            made.append({
                "dependency": dep, "state": words[c], "rule": "group", "group": names[g],
                "headroom": f"{size - downs[c]} of {size} up, needs {needs_of[c]}"
                if plain_ok[g] else headroom(idx, g, downs[c], not_oks[c])})
        else:
            key = (dst_list[c], soft[c])
            cause = plain.get(key)
            if cause is None:
                cause = plain[key] = {
                    "dependency": ids[dst_list[c]], "state": words[c],
                    "rule": "soft" if soft[c] else "hard", "group": None, "headroom": None}
            made.append(cause)
    given = p.given
    out: dict[str, dict[str, Any]] = {}
    start = 0
    for v, final, end, found in zip(nodes, finals, ends.tolist(), found_chains, strict=True):
        if final == _OK_CODE:
            start = end
            continue
        mine = given.get(v)
        first = rules[codes_list[order[start]]] if end > start else None
        rule = "failed" if (mine and mine == final) or first is None else first
        up = found[1] if len(found) > 1 else -1
        chain = [ids[x] for x in found] if v in chains else None
        out[ids[v]] = {"state": _WORDS[final], "rule": rule,
                       "given": _WORDS[mine] if mine else None,
                       "causes": made[start:end],
                       "via": None if up in (v, -1) else ids[up], "chain": chain}
        start = end
    return out


_OK_CODE = int(State.OK)


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
    return ImpactResult(p, {n: s for n, s in given.items() if s > State.OK})


def scenario(down: Iterable[str] = (), degraded: Iterable[str] = ()) -> dict[str, State]:
    """A scenario from two lists; a node named in both is down (the worse).

    >>> scenario(["a"], ["a", "b"])
    {'a': <State.DOWN: 2>, 'b': <State.DEGRADED: 1>}
    """
    out = dict.fromkeys(down, State.DOWN)
    for n in degraded:
        out.setdefault(n, State.DEGRADED)
    return out


def failed_behind(result: ImpactResult, node: str,
                  explained: dict[str, Explanation | None] | None = None,
                  seen: set[str] | None = None) -> list[str]:
    """The failed components ``node``'s state traces back to through its causes, in id
    order (``explained`` caches explanations across calls on one result: the nodes
    of one incident share most of what is behind them; ``seen``, when given, receives
    every node the causes pass through, ``node`` and the failed ones included)."""
    cache = explained if explained is not None else {}
    if seen is None:
        seen = set()
    seen.add(node)
    todo: list[str] = [node]
    failed: list[str] = []
    while todo:
        current = todo.pop()
        if current not in cache:
            cache[current] = result.explain(current, chain=False)
        found = cache[current]
        if found is None:
            continue
        if found.given is not None:
            failed.append(current)
        for cause in found.causes:
            if cause.dependency not in seen:
                seen.add(cause.dependency)
                todo.append(cause.dependency)
    return sorted(failed)
