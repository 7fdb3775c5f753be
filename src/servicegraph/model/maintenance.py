"""Maintenance windows: planned work on named components, for a time.

While a window is active, a component it covers that is observed down or degraded is
*planned*: the impact is reported all the same (never hidden), marked planned, with the
window and its owner. A promise's breakage is planned when the failures outside active
windows alone would leave the promise ok; one that outlives its window, or that also
has an unplanned cause, is unplanned.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from servicegraph.model.times import iso, parse_iso

#: A window's life: scheduled (active between its times), or cancelled.
SCHEDULED, CANCELLED = "scheduled", "cancelled"


@dataclass(frozen=True)
class Window:
    """One maintenance window. Times are ISO 8601 UTC; the window is half-open."""

    id: str
    title: str
    components: tuple[str, ...]
    starts_at: str
    ends_at: str
    owner: str | None = None
    state: str = SCHEDULED
    created_at: str = ""
    updated_at: str = ""

    def active(self, now: str) -> bool:
        """Whether the window covers ``now``.

        >>> w = Window("w1", "patch", ("db",), "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z")
        >>> w.active("2030-01-01T01:00:00Z"), w.active("2030-01-01T02:00:00Z")
        (True, False)
        """
        return self.state == SCHEDULED and self.starts_at <= now < self.ends_at

    def phase(self, now: str) -> str:
        """``upcoming``, ``active``, ``ended`` or ``cancelled`` at ``now``."""
        if self.state == CANCELLED:
            return CANCELLED
        if now < self.starts_at:
            return "upcoming"
        return "active" if now < self.ends_at else "ended"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the stored one)."""
        return {"id": self.id, "title": self.title, "components": list(self.components),
                "starts_at": self.starts_at, "ends_at": self.ends_at, "owner": self.owner,
                "state": self.state, "created_at": self.created_at,
                "updated_at": self.updated_at}

    @classmethod
    def plan(cls, window_id: str, title: str, components: Sequence[str], starts: datetime,
             ends: datetime, owner: str | None = None) -> Window:
        """A window from times with a time zone; raises ``ValueError`` naming the window
        when a time has none or the span is empty.

        >>> from datetime import UTC
        >>> Window.plan("w", "t", ["a", "a"], datetime(2030, 1, 1, tzinfo=UTC),
        ...             datetime(2030, 1, 1, 1, tzinfo=UTC)).components
        ('a',)
        """
        if starts.tzinfo is None or ends.tzinfo is None:
            raise ValueError(f"window {window_id!r}: starts_at and ends_at need a time "
                             "zone, e.g. 2030-01-01T22:00:00Z")
        if ends <= starts:
            raise ValueError(f"window {window_id!r}: ends_at must be after starts_at")
        return cls(window_id, title, tuple(dict.fromkeys(components)),
                   iso(starts.astimezone(UTC)), iso(ends.astimezone(UTC)), owner)

    def span(self) -> tuple[datetime, datetime]:
        """Its start and end as moments."""
        return parse_iso(self.starts_at), parse_iso(self.ends_at)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Window:
        """Inverse of :meth:`to_dict`."""
        return cls(str(raw["id"]), str(raw["title"]), tuple(raw["components"]),
                   str(raw["starts_at"]), str(raw["ends_at"]), raw.get("owner"),
                   str(raw.get("state") or SCHEDULED), str(raw.get("created_at") or ""),
                   str(raw.get("updated_at") or ""))
