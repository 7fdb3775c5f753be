"""Alerts: what monitoring says is wrong, with a lifecycle, keyed by (source, fingerprint).

An alert is an observation that lasts: it fires, may be sent again while it fires,
and ends (resolved, or its ``ends_at`` passed). A node's observed state is the worst
of the states its active alerts map to, from every source, and of the latest status
observation (see ``docs/model.md``).

These are plain values and pure rules; the live graph keeps the alerts, the writer
plans deliveries against them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from servicegraph.model.kinds import State

#: Severities (lower case) that mean the component is down, and those that mean it is
#: degraded; any other severity, or none, is taken as degraded: an alert that fires
#: says something is wrong, and under-reporting impact is the worse error.
DOWN_SEVERITIES = frozenset({"critical", "page", "error", "emergency", "alert", "disaster",
                             "high", "major", "fatal"})
DEGRADED_SEVERITIES = frozenset({"warning", "warn", "average", "medium", "minor", "low"})
#: Severities that say nothing is impaired: such alerts are kept, and impact nothing.
QUIET_SEVERITIES = frozenset({"info", "informational", "none", "not_classified", "ok"})


class Status(StrEnum):
    """Where an alert is in its life."""

    FIRING = "firing"
    RESOLVED = "resolved"


def severity_state(severity: str | None) -> State:
    """The state an alert of this severity gives its node while it fires.

    >>> severity_state("critical").word, severity_state("Warning").word
    ('down', 'degraded')
    >>> severity_state(None).word, severity_state("info").word
    ('degraded', 'ok')
    """
    word = (severity or "").strip().lower()
    if word in DOWN_SEVERITIES:
        return State.DOWN
    if word in QUIET_SEVERITIES:
        return State.OK
    return State.DEGRADED


def fingerprint_of(labels: Mapping[str, str]) -> str:
    """A stable fingerprint of a label set, for senders that give none.

    >>> fingerprint_of({"b": "2", "a": "1"}) == fingerprint_of({"a": "1", "b": "2"})
    True
    """
    text = json.dumps(sorted(labels.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Alert:
    """One alert as kept: who sent it, its fingerprint, the node it maps to (``None``:
    unmatched), the state it gives that node, and its life.

    ``starts_at`` is when it started firing; ``ends_at`` when it ended (resolved), or
    when it will end unless sent again (``None``: not said). Times are ISO 8601 UTC.
    """

    source: str
    fingerprint: str
    node: str | None
    state: State
    status: Status
    starts_at: str
    ends_at: str | None
    labels: Mapping[str, str] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    #: When this delivery was received (the last one that changed the alert).
    received_at: str = ""
    #: What the sender stated outright rather than through labels (the generic route's
    #: ``node``, ``state`` or ``severity``): a mapping read again keeps to it.
    given: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str]:
        """The identity of an alert."""
        return (self.source, self.fingerprint)

    def active(self, now: str) -> bool:
        """Whether the alert fires at ``now`` (ISO 8601 UTC).

        >>> a = Alert("am", "f", "web-1", State.DOWN, Status.FIRING, "2030-01-01T00:00:00Z",
        ...           "2030-01-01T01:00:00Z")
        >>> a.active("2030-01-01T00:30:00Z"), a.active("2030-01-01T02:00:00Z")
        (True, False)
        """
        if self.status is Status.RESOLVED:
            return False
        return self.ends_at is None or self.ends_at > now

    def same_delivery(self, other: Alert) -> bool:
        """Whether ``other`` says nothing this one does not (a resend)."""
        return replace(other, received_at=self.received_at) == self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        out = {"source": self.source, "fingerprint": self.fingerprint, "node": self.node,
               "state": self.state.word, "status": self.status.value,
               "starts_at": self.starts_at, "ends_at": self.ends_at,
               "labels": dict(self.labels), "annotations": dict(self.annotations),
               "received_at": self.received_at}
        if self.given:
            out["given"] = dict(self.given)
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Alert:
        """Inverse of :meth:`to_dict`."""
        return cls(str(raw["source"]), str(raw["fingerprint"]), raw.get("node"),
                   State.parse(raw["state"]), Status(raw["status"]), str(raw["starts_at"]),
                   raw.get("ends_at"), dict(raw.get("labels") or {}),
                   dict(raw.get("annotations") or {}), str(raw.get("received_at") or ""),
                   dict(raw.get("given") or {}))


def supersedes(new: Alert, held: Alert | None) -> bool:
    """Whether delivery ``new`` is newer than what is ``held`` for its key, so it
    counts; an older delivery arriving late is ignored (stale).

    A firing delivery of an alert held resolved counts only when it started after the
    resolution (a new episode); a resolution counts unless it ended before the held
    episode started.

    >>> fire = Alert("am", "f", "n", State.DOWN, Status.FIRING, "2030-01-01T00:00:00Z", None)
    >>> done = replace(fire, status=Status.RESOLVED, ends_at="2030-01-01T00:10:00Z")
    >>> supersedes(done, fire), supersedes(fire, done)
    (True, False)
    >>> supersedes(replace(fire, starts_at="2030-01-01T00:20:00Z"), done)
    True
    """
    if held is None:
        return True
    if held.status is Status.RESOLVED:
        if new.status is Status.FIRING:
            return new.starts_at > (held.ends_at or held.starts_at)
        return (new.ends_at or "") >= (held.ends_at or "")
    if new.status is Status.RESOLVED:
        return (new.ends_at or new.starts_at) >= held.starts_at
    return new.starts_at >= held.starts_at
