"""Why each impacted node is in its state: the causes, the rule, the chain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from servicegraph.impact.engine import _DOWN, _OK, Propagation
from servicegraph.impact.index import GraphIndex
from servicegraph.model.kinds import State
from servicegraph.model.redundancy import ALL, codes


@dataclass(frozen=True)
class Cause:
    """One dependency that put its dependant in its state."""

    dependency: str
    state: State
    rule: str  # "hard", "soft" or "group"
    group: str | None = None
    #: For a group: what is left of it, e.g. "1 of 3 up, needs 2" (see :func:`headroom`).
    headroom: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``group`` and ``headroom`` null unless the rule is ``group``)."""
        return {"dependency": self.dependency, "state": self.state.word, "rule": self.rule,
                "group": self.group, "headroom": self.headroom}


@dataclass(frozen=True)
class Explanation:
    """Why one node is not ok.

    ``given`` is the node's own state in the scenario (``None`` when derived);
    ``causes`` are the dependencies whose contribution equals the final state;
    ``chain`` is a shortest path of causes from this node to a failed one, and
    ``via`` its second node: the next hop towards the failure (``None`` for a
    node that failed itself). Following ``via`` from node to node rebuilds the
    chain, which is how answers about many nodes stay linear in their size.
    """

    node: str
    state: State
    given: State | None
    causes: tuple[Cause, ...]
    via: str | None
    #: ``None`` when only ``via`` was asked for.
    chain: tuple[str, ...] | None = None

    @property
    def rule(self) -> str:
        """The rule that set the state: "failed" for a node given its state, else the
        rule of the first cause."""
        if self.given is not None and self.given == self.state:
            return "failed"
        return self.causes[0].rule if self.causes else "failed"

    def to_dict(self, *, chain: bool = True) -> dict[str, Any]:
        """JSON-ready form; without ``chain`` the ``chain`` is null (follow ``via``)."""
        return {
            "state": self.state.word,
            "rule": self.rule,
            "given": self.given.word if self.given is not None else None,
            "causes": [c.to_dict() for c in self.causes],
            "via": self.via,
            "chain": list(self.chain) if chain and self.chain is not None else None,
        }


def _is_cause(p: Propagation, e: int, final: int) -> bool:
    """Whether edge ``e``'s dependency is among the causes of its dependant's ``final``."""
    idx = p.index
    if p.contribution(e) != final:
        return False
    dep_state = p.state_of(int(idx.edge_target[e]))
    if idx.edge_group[e] >= 0 and final == _DOWN:
        return dep_state == _DOWN  # the members whose loss broke the group
    return dep_state > _OK


def headroom(idx: GraphIndex, g: int, down: int, not_ok: int) -> str:
    """What is left of group ``g`` with ``down`` members down and ``not_ok`` not ok:
    ``1 of 3 up, needs 2`` for a group ok only whole (the default), and for one with
    an ``ok_at`` also from how many it is ok: ``3 of 4 up: ok at 3, needs 2`` (``, 2
    ok`` after ``up`` when degraded members count as up but not as ok)."""
    size = int(idx.group_size[g])
    up, need = size - down, int(idx.group_min_ok[g])
    if codes(idx.group_rule(g))[1] == ALL:
        return f"{up} of {size} up, needs {need}"
    ok = size - not_ok
    shown = f", {ok} ok" if ok != up else ""
    return f"{up} of {size} up{shown}: ok at {int(idx.group_ok_at[g])}, needs {need}"


def causes_of(p: Propagation, node: int) -> tuple[Cause, ...]:
    """The causes of one node's state (empty for a node that is ok or only given)."""
    idx = p.index
    final = p.state_of(node)
    if final == _OK:
        return ()
    out: list[Cause] = []
    for e in idx.dependencies(node).tolist():
        if not _is_cause(p, e, final):
            continue
        dep = int(idx.edge_target[e])
        g = int(idx.edge_group[e])
        if g >= 0:
            out.append(Cause(idx.ids[dep], State(p.state_of(dep)), "group",
                             idx.group_name[g],
                             headroom(idx, g, p.members_down(g), p.members_not_ok(g))))
        else:
            rule = "soft" if idx.edge_soft[e] else "hard"
            out.append(Cause(idx.ids[dep], State(p.state_of(dep)), rule))
    # Sorted, so the answer does not depend on the order edges were stored in.
    return tuple(sorted(out, key=lambda c: (c.rule, c.group or "", c.dependency)))


def chain_from(p: Propagation, node: int) -> tuple[str, ...]:
    """The chain of ids from ``node`` back to the failed node it traces to."""
    ids = p.index.ids
    out = [ids[node]]
    up = p.parent_of(node)
    while up not in (node, -1):
        node = up
        out.append(ids[node])
        up = p.parent_of(node)
    return tuple(out)


def explain(p: Propagation, node: int, *, chain: bool = True) -> Explanation | None:
    """The explanation of node number ``node`` (``None`` when it is ok); the whole
    chain only when ``chain``, else only its next hop ``via``."""
    final = p.state_of(node)
    if final == _OK:
        return None
    ids = p.index.ids
    given = p.given.get(node)
    up = p.parent_of(node)
    return Explanation(ids[node], State(final), State(given) if given else None,
                       causes_of(p, node), None if up in (node, -1) else ids[up],
                       chain_from(p, node) if chain else None)


def explain_all(p: Propagation) -> dict[str, Explanation]:
    """An explanation for every node that is not ok (chains in full: for small answers)."""
    ids = p.index.ids
    out: dict[str, Explanation] = {}
    for node in p.nodes.tolist():
        found = explain(p, node)
        if found is not None:
            out[ids[node]] = found
    return out
