"""Times as servicegraph writes them: UTC ISO-8601 text that sorts in time order.

Every stored time (a claim's, an observation's, a journal entry's, a retirement's)
is written by :func:`iso`, so comparing two of them as text compares them in time.
"""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime) -> str:
    """``moment`` as UTC ISO-8601 text with microseconds and a ``Z``.

    >>> from datetime import timedelta, timezone
    >>> iso(datetime(2030, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))))
    '2030-01-01T00:00:00.000000Z'
    """
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def utc_now() -> str:
    """Now, as :func:`iso` writes it."""
    return iso(datetime.now(UTC))


def parse_iso(text: str) -> datetime:
    """The moment an ISO-8601 text with a time zone names (``Z`` accepted).

    >>> parse_iso("2030-01-01T00:00:00Z").isoformat()
    '2030-01-01T00:00:00+00:00'
    """
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
