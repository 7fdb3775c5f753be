"""The fixed vocabulary of the model: node kinds, dependency impact and states.

Everything that may end up as a Neo4j label or a relationship type comes from
here, never from input: input is mapped onto these enums or rejected.
"""

from __future__ import annotations

from enum import IntEnum, StrEnum


class NodeKind(StrEnum):
    """The layers of the model, from the customer's promise down to the CIs."""

    PROMISE = "promise"
    BUSINESS_SERVICE = "business_service"
    SERVICE_ACT = "service_act"
    SERVICE_SYSTEM = "service_system"
    CI = "ci"

    @property
    def label(self) -> str:
        """The Neo4j label for this kind (CamelCase, from the enum only)."""
        return _LABELS[self]


_LABELS = {
    NodeKind.PROMISE: "Promise",
    NodeKind.BUSINESS_SERVICE: "BusinessService",
    NodeKind.SERVICE_ACT: "ServiceAct",
    NodeKind.SERVICE_SYSTEM: "ServiceSystem",
    NodeKind.CI: "CI",
}

#: ``ALLOWED[a]`` is the set of kinds a node of kind ``a`` may depend on (the layer table).
ALLOWED: dict[NodeKind, frozenset[NodeKind]] = {
    NodeKind.PROMISE: frozenset(
        {NodeKind.BUSINESS_SERVICE, NodeKind.SERVICE_ACT, NodeKind.SERVICE_SYSTEM}
    ),
    NodeKind.BUSINESS_SERVICE: frozenset(
        {NodeKind.BUSINESS_SERVICE, NodeKind.SERVICE_ACT, NodeKind.SERVICE_SYSTEM}
    ),
    NodeKind.SERVICE_ACT: frozenset({NodeKind.SERVICE_SYSTEM}),
    NodeKind.SERVICE_SYSTEM: frozenset({NodeKind.SERVICE_SYSTEM, NodeKind.CI}),
    NodeKind.CI: frozenset({NodeKind.CI}),
}


def may_depend(dependant: NodeKind, dependency: NodeKind) -> bool:
    """Whether the layer table allows ``dependant -[:DEPENDS_ON]-> dependency``.

    >>> may_depend(NodeKind.SERVICE_ACT, NodeKind.SERVICE_SYSTEM)
    True
    >>> may_depend(NodeKind.CI, NodeKind.PROMISE)
    False
    """
    return dependency in ALLOWED[dependant]


class Impact(StrEnum):
    """How a dependency's failure reaches its dependant."""

    HARD = "hard"
    SOFT = "soft"


class State(IntEnum):
    """Ordered states: ``OK < DEGRADED < DOWN``; the worst wins."""

    OK = 0
    DEGRADED = 1
    DOWN = 2

    @property
    def word(self) -> str:
        """The lower-case name used in files and answers."""
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> State:
        """Read ``"ok"``, ``"degraded"`` or ``"down"``.

        >>> State.parse("down")
        <State.DOWN: 2>
        """
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown state {text!r}: use ok, degraded or down") from None
