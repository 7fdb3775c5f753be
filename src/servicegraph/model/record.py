"""The promise record's unit: one transition of one node's state, with its cause.

The record keeps, for the customer-facing layers (promises, business services and
service acts), every change of state, and for every component, every change of its
observed state (the input). One row per transition: a node's state between two of its
transitions is the state of the first. Everything the record answers (time travel,
the timeline, the kept/at-risk/broken minutes, the shares per provider) is computed
from these rows.

These are plain values; the stores keep them, the recorder writes them, and the
figures are computed from them by pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from servicegraph.model.kinds import State

#: The layer of a component's observed state, as the record names it (the other
#: layers are the node kinds: ``promise``, ``business_service``, ``service_act``).
OBSERVED = "observed"

#: How the record names who must act for a cause whose component has neither a
#: provider nor an owner.
NO_PROVIDER = "(no provider)"


_WORDS = {s.word: s for s in State}


def _state(raw: Any) -> State:
    """A stored state word (the record holds many: looked up, not parsed, when exact)."""
    found = _WORDS.get(raw) if isinstance(raw, str) else None
    return found if found is not None else State.parse(str(raw))


class RecordFormat(StrEnum):
    """How a record is exported."""

    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"


class By(StrEnum):
    """What every promise's record is listed by."""

    PROMISE = "promise"
    PROVIDER = "provider"
    OWNER = "owner"
    BUSINESS_SERVICE = "business_service"


@dataclass(frozen=True)
class Cause:
    """A failed component behind a transition, and who answers for it.

    ``planned`` says that the component's failure was covered by an active
    maintenance window (``window`` names it).
    """

    component: str
    state: State
    provider: str | None = None
    owner: str | None = None
    planned: bool = False
    window: str | None = None

    @property
    def accountable(self) -> str:
        """Who must act for it: its provider, else its owner (as the current impact
        names them), else :data:`NO_PROVIDER`."""
        return self.provider or self.owner or NO_PROVIDER

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stored one)."""
        return {"component": self.component, "state": self.state.word,
                "provider": self.provider, "owner": self.owner, "planned": self.planned,
                "window": self.window}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Cause:
        """Inverse of :meth:`to_dict`."""
        return cls(str(raw["component"]), _state(raw["state"]),
                   raw.get("provider"), raw.get("owner"), bool(raw.get("planned")),
                   raw.get("window"))


@dataclass(frozen=True)
class Transition:
    """``node`` entered ``state`` at ``at`` (ISO 8601 UTC, as :func:`~servicegraph.model.
    times.iso` writes it), and stayed in it until its next transition.

    ``layer`` is the node's kind for the customer-facing layers, or :data:`OBSERVED` for
    a component's observed state. ``version`` is the store version whose change caused
    the transition (``None`` when time alone caused it: a maintenance window or an
    alert's ``endsAt`` that passed). ``planned`` marks a state that is not ok only
    because of failures under active maintenance windows. ``causes`` are the failed
    components behind it (for an observed transition: the component itself), and
    ``inputs`` what was observed (alert fingerprints by source, the status held).

    >>> t = Transition("2030-01-01T00:00:00.000000Z", "onboarding", "promise", State.DOWN,
    ...                causes=(Cause("db-1", State.DOWN, provider="Northwind"),))
    >>> Transition.from_dict(t.to_dict()) == t
    True
    >>> t.providers
    ('Northwind',)
    """

    at: str
    node: str
    layer: str
    state: State
    planned: bool = False
    causes: tuple[Cause, ...] = ()
    version: int | None = None
    acknowledged_by: str | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)

    @property
    def providers(self) -> tuple[str, ...]:
        """Who must act for the causes (:attr:`Cause.accountable`: the provider, else the
        owner), distinct and sorted; empty when the state is ok."""
        if self.state is State.OK:
            return ()
        return tuple(sorted({c.accountable for c in self.causes}))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stored one)."""
        return {"at": self.at, "node": self.node, "layer": self.layer,
                "state": self.state.word, "planned": self.planned,
                "causes": [c.to_dict() for c in self.causes], "version": self.version,
                "acknowledged_by": self.acknowledged_by, "inputs": dict(self.inputs)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Transition:
        """Inverse of :meth:`to_dict`."""
        version = raw.get("version")
        return cls(str(raw["at"]), str(raw["node"]), str(raw["layer"]),
                   _state(raw["state"]), bool(raw.get("planned")),
                   tuple(Cause.from_dict(c) for c in raw.get("causes") or ()),
                   None if version is None else int(version), raw.get("acknowledged_by"),
                   dict(raw.get("inputs") or {}))


@dataclass
class Columns:
    """Transitions as columns, holding only what the record's figures read: one list
    per field, row ``i`` of each being one transition.

    ``state`` holds :class:`State` values as integers, ``providers`` each row's
    :attr:`Transition.providers` (or that list as the JSON text a store keeps: it is
    read only for the rows a figure needs). ``causes`` holds each row's causes when they were
    read (``None``: not read; the figures then list no causes with a break).
    ``order`` breaks ties of two rows of one node at the same moment (the store's
    numbering; ``None``: the rows' order).

    >>> cols = Columns.of([Transition("2030-01-01T00:00:00.000000Z", "p", "promise",
    ...                                State.DOWN, causes=(Cause("db", State.DOWN,
    ...                                                          provider="N"),))])
    >>> cols.state, cols.providers, len(cols)
    ([2], [('N',)], 1)
    """

    node: list[str] = field(default_factory=list)
    layer: list[str] = field(default_factory=list)
    at: list[str] = field(default_factory=list)
    state: list[int] = field(default_factory=list)
    planned: list[bool] = field(default_factory=list)
    providers: list[tuple[str, ...] | str] = field(default_factory=list)
    causes: list[tuple[Cause, ...]] | None = None
    order: list[int] | None = None

    def __len__(self) -> int:
        return len(self.node)

    @classmethod
    def of(cls, transitions: Iterable[Transition]) -> Columns:
        """The columns of ``transitions`` (their causes included), in their order."""
        found = list(transitions)
        return cls([t.node for t in found], [t.layer for t in found], [t.at for t in found],
                   [int(t.state) for t in found], [t.planned for t in found],
                   [t.providers for t in found], [t.causes for t in found])

    def extend(self, other: Columns) -> None:
        """``other``'s rows after these (both with causes, or the causes dropped; both
        with an order, or none)."""
        self.node += other.node
        self.layer += other.layer
        self.at += other.at
        self.state += other.state
        self.planned += other.planned
        self.providers += other.providers
        self.causes = (None if self.causes is None or other.causes is None
                       else self.causes + other.causes)
        self.order = (None if self.order is None or other.order is None
                      else self.order + other.order)
