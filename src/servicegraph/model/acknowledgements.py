"""Acknowledgements: an incident manager says "on it" for a node that is failing.

An acknowledgement names one node (a failed component, a broken or at-risk promise, or
anything else the current impact reaches), who acknowledged it, when, and an optional
comment. It lasts while the node stays impacted: the first write after which the node
is ok ends it (``ended`` is then ``recovered``), so the next breakage starts
unacknowledged. It can also be withdrawn by hand (``ended`` is ``cleared``). A node
holds at most one acknowledgement; acknowledging it again replaces the one it holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Why an acknowledgement ended.
RECOVERED, CLEARED = "recovered", "cleared"


@dataclass(frozen=True)
class Acknowledgement:
    """One acknowledgement of ``node`` (times ISO 8601 UTC).

    ``state`` is the node's state when it was acknowledged (``down`` or ``degraded``);
    ``ended_at`` and ``ended`` are set when it ends.

    >>> a = Acknowledgement("erp-db", "alice", "2030-01-01T00:00:00Z", "down", "on it")
    >>> a.active, Acknowledgement.from_dict(a.to_dict()) == a
    (True, True)
    """

    node: str
    by: str
    at: str
    state: str
    comment: str | None = None
    ended_at: str | None = None
    ended: str | None = None

    @property
    def active(self) -> bool:
        """Whether it still holds."""
        return self.ended_at is None

    def brief(self) -> dict[str, Any]:
        """What answers show of it: by whom, when, and the comment."""
        return {"by": self.by, "at": self.at, "comment": self.comment}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stored one)."""
        return {"node": self.node, "by": self.by, "at": self.at, "state": self.state,
                "comment": self.comment, "ended_at": self.ended_at, "ended": self.ended}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Acknowledgement:
        """Inverse of :meth:`to_dict`."""
        return cls(str(raw["node"]), str(raw["by"]), str(raw["at"]), str(raw["state"]),
                   raw.get("comment"), raw.get("ended_at"), raw.get("ended"))


class NotImpacted(ValueError):
    """Acknowledging a node the current impact leaves ok: there is nothing to be on."""

    def __init__(self, node: str) -> None:
        self.node = node
        super().__init__(f"node {node!r} is not failing or broken now: there is nothing "
                         "to acknowledge")
