"""Time for the promise record: instants as integer microseconds, the calendar of a
time zone, and business hours.

Every figure of the record is a sum of whole microseconds, so totals add up exactly;
rounding happens only when a figure is shown. Calendar periods (a day, a week, a
month) are bounded by local midnights of an IANA time zone (:mod:`zoneinfo`), so a
day in which the clocks go forward lasts 23 hours and one in which they go back 25.

>>> berlin = zone("Europe/Berlin")
>>> spring = day(date(2026, 3, 29), berlin)
>>> (spring.end - spring.start) / 3_600_000_000
23.0
>>> show(spring.start, berlin), show(spring.end, berlin)
('2026-03-29T00:00:00+01:00', '2026-03-30T00:00:00+02:00')
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

#: Microseconds in a second.
SECOND = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_DAY = timedelta(days=1)


def micros(moment: datetime) -> int:
    """An aware ``moment`` as whole microseconds since 1970-01-01 UTC.

    >>> micros(datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC))
    1000005
    """
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{moment.isoformat()} has no time zone")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds


_NAIVE_EPOCH = datetime(1970, 1, 1)


def micros_of(text: str) -> int:
    """An ISO 8601 time with a zone (as the store writes them: UTC with a ``Z``) as
    :func:`micros`.

    >>> micros_of("1970-01-01T00:00:01.000005Z"), micros_of("1970-01-01T01:00:00+01:00")
    (1000005, 0)
    """
    if text.endswith("Z"):
        # The stored form: read as naive UTC, which spares the time zone arithmetic.
        delta = datetime.fromisoformat(text[:-1]) - _NAIVE_EPOCH
        return (delta.days * 86_400 + delta.seconds) * SECOND + delta.microseconds
    return micros(datetime.fromisoformat(text))


def moment(us: int, where: tzinfo = UTC) -> datetime:
    """The instant ``us`` (:func:`micros`) as an aware datetime in ``where``."""
    return (_EPOCH + timedelta(microseconds=us)).astimezone(where)


def show(us: int, where: tzinfo = UTC) -> str:
    """The instant ``us`` as ISO 8601 text with its local offset in ``where`` (to the
    second when it falls on one, else to the microsecond).

    >>> show(0, zone("America/New_York"))
    '1969-12-31T19:00:00-05:00'
    """
    found = moment(us, where)
    return found.isoformat(timespec="seconds" if found.microsecond == 0 else "microseconds")


def zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name``; ``ValueError`` naming ``tz`` when there is none.

    >>> zone("Europe/Berlin").key
    'Europe/Berlin'
    >>> zone("Mars/Olympus")
    Traceback (most recent call last):
    ...
    ValueError: tz: 'Mars/Olympus' is not an IANA time zone (e.g. Europe/Berlin, UTC)
    """
    try:
        if not name or name != name.strip() or len(name) > 200:
            raise ValueError(name)
        return ZoneInfo(name)
    except (KeyError, ValueError, OSError):
        raise ValueError(f"tz: {name[:200]!r} is not an IANA time zone "
                         "(e.g. Europe/Berlin, UTC)") from None


def local(naive: datetime, where: tzinfo) -> int:
    """The instant at which the clocks of ``where`` show ``naive`` (:func:`micros`).

    A time shown twice (the clocks went back) is its first showing; a time never
    shown (the clocks jumped over it) is the instant of the jump.

    >>> ny = zone("America/New_York")
    >>> show(local(datetime(2026, 3, 8, 2, 30), ny), ny)  # skipped: 02:00 -> 03:00
    '2026-03-08T03:00:00-04:00'
    >>> show(local(datetime(2026, 11, 1, 1, 30), ny), ny)  # shown twice
    '2026-11-01T01:30:00-04:00'
    """
    first = micros(naive.replace(tzinfo=where, fold=0))
    if moment(first, where).replace(tzinfo=None) == naive:
        return first
    # In a gap: find the jump, the first instant whose local time is past ``naive``.
    low, high = sorted((micros(naive.replace(tzinfo=where, fold=1)), first))
    while low < high:
        mid = (low + high) // 2
        if moment(mid, where).replace(tzinfo=None) >= naive:
            high = mid
        else:
            low = mid + 1
    return low


@dataclass(frozen=True)
class Period:
    """The half-open span ``[start, end)`` (:func:`micros`) in time zone ``where``."""

    start: int
    end: int
    where: ZoneInfo

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"to: must be after from ({show(self.end, self.where)} is not "
                             f"after {show(self.start, self.where)})")


def day(which: date, where: ZoneInfo) -> Period:
    """The calendar day ``which`` in ``where``: local midnight to local midnight."""
    return Period(_midnight(which, where), _midnight(which + _DAY, where), where)


def week(which: date, where: ZoneInfo) -> Period:
    """The week (Monday to Sunday) that holds ``which``, in ``where``.

    >>> ny = zone("America/New_York")
    >>> w = week(date(2026, 11, 4), ny)
    >>> show(w.start, ny), (w.end - w.start) // 3_600_000_000
    ('2026-11-02T00:00:00-05:00', 168)
    """
    monday = which - timedelta(days=which.weekday())
    return Period(_midnight(monday, where), _midnight(monday + 7 * _DAY, where), where)


def month(year: int, number: int, where: ZoneInfo) -> Period:
    """The calendar month ``number`` of ``year``, in ``where``.

    >>> berlin = zone("Europe/Berlin")
    >>> m = month(2026, 10, berlin)
    >>> show(m.start, berlin), show(m.end, berlin), (m.end - m.start) // 3_600_000_000
    ('2026-10-01T00:00:00+02:00', '2026-11-01T00:00:00+01:00', 745)
    """
    following = date(year + number // 12, number % 12 + 1, 1)
    return Period(_midnight(date(year, number, 1), where), _midnight(following, where), where)


def this_month(where: ZoneInfo, now: datetime | None = None) -> Period:
    """The calendar month in ``where`` that holds ``now`` (default: now)."""
    today = (now or datetime.now(UTC)).astimezone(where).date()
    return month(today.year, today.month, where)


def this_week(where: ZoneInfo, now: datetime | None = None) -> Period:
    """The week in ``where`` that holds ``now`` (default: now)."""
    return week((now or datetime.now(UTC)).astimezone(where).date(), where)


def today(where: ZoneInfo, now: datetime | None = None) -> Period:
    """The calendar day in ``where`` that holds ``now`` (default: now)."""
    return day((now or datetime.now(UTC)).astimezone(where).date(), where)


def _midnight(which: date, where: tzinfo) -> int:
    return local(datetime.combine(which, time()), where)


_MONTH = re.compile(r"\d{4}-\d{2}")
#: The years a period may touch, and its longest span: what one question may ask for.
YEARS = (1900, 2999)
LONGEST_DAYS = 3700


def instant(text: str, where: ZoneInfo, parameter: str) -> int:
    """A bound of a period as given: ``YYYY-MM`` (the first of that month), ``YYYY-MM-DD``
    (that day), both from local midnight in ``where``; an ISO 8601 time with an offset
    (that instant) or without one (that local time in ``where``).

    >>> berlin = zone("Europe/Berlin")
    >>> show(instant("2026-03", berlin, "from"), berlin)
    '2026-03-01T00:00:00+01:00'
    >>> show(instant("2026-07-01T12:00:00Z", berlin, "to"), berlin)
    '2026-07-01T14:00:00+02:00'
    """
    given = text.strip()
    if len(given) > 100:
        raise ValueError(f"{parameter}: longer than 100 characters")
    try:
        if _MONTH.fullmatch(given):
            found = datetime.fromisoformat(given + "-01")
        elif len(given) == 10:
            found = datetime.fromisoformat(given)
        else:
            found = datetime.fromisoformat(given.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{parameter}: {text[:100]!r} is not a month (2026-03), a day "
                         "(2026-03-01) or an ISO 8601 time (2026-03-01T08:00:00+01:00)"
                         ) from None
    if not YEARS[0] <= found.year <= YEARS[1]:
        raise ValueError(f"{parameter}: {text[:100]!r} is outside the years {YEARS[0]} "
                         f"to {YEARS[1]}")
    if found.tzinfo is None:
        return local(found, where)
    return micros(found)


def period(start: str | None, end: str | None, where: ZoneInfo,
           now: datetime | None = None) -> Period:
    """The period a caller asks for: ``start`` and ``end`` as :func:`instant` reads them;
    without ``start``, the month of ``end`` (or this month) begins it; without ``end``,
    the month that ``start`` falls in ends it.

    >>> berlin = zone("Europe/Berlin")
    >>> p = period("2026-03", None, berlin)
    >>> show(p.start, berlin), show(p.end, berlin)
    ('2026-03-01T00:00:00+01:00', '2026-04-01T00:00:00+02:00')
    """
    if start is None and end is None:
        return this_month(where, now)
    first = None if start is None else instant(start, where, "from")
    last = None if end is None else instant(end, where, "to")
    if first is None:
        assert last is not None
        held = moment(last - 1, where).date()
        first = month(held.year, held.month, where).start
    if last is None:
        held = moment(first, where).date()
        last = month(held.year, held.month, where).end
    if last - first > LONGEST_DAYS * 86_400 * SECOND:
        raise ValueError(f"to: a period spans at most {LONGEST_DAYS} days")
    return Period(first, last, where)


# --- business hours --------------------------------------------------------------------------

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_SPAN = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")
_MINUTES_A_DAY = 24 * 60


def _weekday(word: str, text: str) -> int:
    word = word.strip().lower()
    if word in _DAYS:
        return _DAYS.index(word)
    if word in _FULL:
        return _FULL.index(word)
    raise ValueError(f"hours: {word!r} is not a day (mon, tue, wed, thu, fri, sat, sun) "
                     f"in {text!r}")


@dataclass(frozen=True)
class Schedule:
    """A weekly schedule of business hours in local time: only time inside it counts.

    ``spans`` are ``(weekday, start, end)`` with Monday 0 and times in minutes after
    local midnight (``end`` at most 1440, the next midnight). Written as
    ``DAYS HH:MM-HH:MM[,HH:MM-HH:MM...]`` entries joined by ``;``, where ``DAYS`` is a
    day, a range of days or a comma-separated list of them:

    >>> s = Schedule.parse("mon-fri 08:00-12:00,13:00-18:00; sat 09:00-12:00")
    >>> len(s.spans), s.spans[0]
    (11, (0, 480, 720))
    >>> str(s)
    'mon-fri 08:00-12:00,13:00-18:00; sat 09:00-12:00'
    """

    spans: tuple[tuple[int, int, int], ...]
    text: str

    def __str__(self) -> str:
        return self.text

    @classmethod
    def parse(cls, text: str) -> Schedule:
        """Read a schedule; ``ValueError`` naming ``hours`` and the offending part."""
        if len(text) > 1000:
            raise ValueError("hours: longer than 1,000 characters")
        spans: set[tuple[int, int, int]] = set()
        entries = [e.strip() for e in text.split(";") if e.strip()]
        if not entries:
            raise ValueError("hours: empty; write e.g. 'mon-fri 08:00-18:00'")
        for entry in entries:
            days_text, _, times_text = entry.partition(" ")
            if not times_text.strip():
                raise ValueError(f"hours: {entry!r} has no times; write e.g. "
                                 "'mon-fri 08:00-18:00'")
            days: list[int] = []
            for part in days_text.split(","):
                first, dash, last = part.partition("-")
                a = _weekday(first, text)
                b = _weekday(last, text) if dash else a
                days += [(a + i) % 7 for i in range((b - a) % 7 + 1)]
            for span_text in times_text.replace(" ", "").split(","):
                found = _SPAN.fullmatch(span_text)
                if found is None:
                    raise ValueError(f"hours: {span_text!r} is not a span of times "
                                     "(HH:MM-HH:MM)")
                h1, m1, h2, m2 = (int(g) for g in found.groups())
                begin, finish = h1 * 60 + m1, h2 * 60 + m2
                if m1 > 59 or m2 > 59 or begin >= _MINUTES_A_DAY or finish > _MINUTES_A_DAY:
                    raise ValueError(f"hours: {span_text!r}: times run from 00:00 to 24:00")
                if finish <= begin:
                    raise ValueError(f"hours: {span_text!r} ends before it starts")
                spans.update((d, begin, finish) for d in days)
        return cls(tuple(sorted(spans)), "; ".join(entries))

    def intervals(self, start: int, end: int, where: tzinfo) -> list[tuple[int, int]]:
        """The instants of ``[start, end)`` inside the schedule, in ``where``'s local
        time, as sorted disjoint half-open intervals.

        >>> ny = zone("America/New_York")
        >>> s = Schedule.parse("sun 00:00-24:00")
        >>> fall = day(date(2026, 11, 1), ny)  # the clocks go back
        >>> [(b - a) // 3_600_000_000 for a, b in s.intervals(fall.start, fall.end, ny)]
        [25]
        """
        if end <= start:
            return []
        found: list[tuple[int, int]] = []
        first = moment(start, where).date() - _DAY
        last = moment(end, where).date() + _DAY
        which = first
        while which <= last:
            for weekday, begin, finish in self.spans:
                if weekday != which.weekday():
                    continue
                a = _at_minute(which, begin, where)
                b = _at_minute(which, finish, where)
                a, b = max(a, start), min(b, end)
                if a < b:
                    found.append((a, b))
            which += _DAY
        return _merged(found)


def _at_minute(which: date, minute: int, where: tzinfo) -> int:
    if minute >= _MINUTES_A_DAY:
        return _midnight(which + _DAY, where)
    return local(datetime.combine(which, time(minute // 60, minute % 60)), where)


def _merged(intervals: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            if b > out[-1][1]:
                out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return out


class Clock:
    """What counts of the time: sorted disjoint half-open intervals, and how much of
    any span falls inside them (in whole microseconds).

    >>> c = Clock([(0, 10), (20, 30)])
    >>> c.counted(5, 25), c.counted(10, 20), c.total
    (10, 0, 20)
    """

    def __init__(self, intervals: Sequence[tuple[int, int]]) -> None:
        # One interval (no business hours): counting is clipping.
        self.single = intervals[0] if len(intervals) == 1 else None
        self.starts = [a for a, _ in intervals]
        self.ends = [b for _, b in intervals]
        self.prefix = [0]
        for a, b in intervals:
            self.prefix.append(self.prefix[-1] + b - a)
        self.total = self.prefix[-1]

    def _before(self, t: int) -> int:
        i = bisect_right(self.starts, t)
        if i == 0:
            return 0
        return self.prefix[i - 1] + min(self.ends[i - 1], t) - self.starts[i - 1]

    def counted(self, a: int, b: int) -> int:
        """How much of ``[a, b)`` counts."""
        if self.single is not None:
            low, high = self.single
            a, b = (a if a > low else low), (b if b < high else high)
            return b - a if b > a else 0
        return self._before(b) - self._before(a) if b > a else 0


def clock(start: int, end: int, where: ZoneInfo, hours: Schedule | None) -> Clock:
    """The :class:`Clock` of ``[start, end)``: all of it, or the business ``hours``."""
    if hours is None:
        return Clock([(start, end)] if end > start else [])
    return Clock(hours.intervals(start, end, where))
