"""The promise record's figures: exact sums on random transitions, periods, zones and
business hours (held to a minute-by-minute evaluator), and the clock's edges:
boundaries cutting a break, DST changes, breaks open at the end."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicegraph.model.kinds import State
from servicegraph.model.record import NO_PROVIDER, Cause, Transition
from servicegraph.model.times import iso
from servicegraph.record import (
    NO_CAUSE,
    NO_OWNER,
    Period,
    Schedule,
    day,
    document,
    month,
    period,
    promise_document,
    record,
    share,
    week,
    zone,
)
from servicegraph.record.clock import SECOND, local, micros, moment, show
from servicegraph.record.exports import to_csv, to_html, to_markdown

MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]
PROVIDERS = ["Northwind", "Contoso", "IT", None]
#: Around both DST changes of 2026 in Europe and America.
ANCHORS = [datetime(2026, 3, 7, tzinfo=UTC), datetime(2026, 3, 27, tzinfo=UTC),
           datetime(2026, 10, 23, tzinfo=UTC), datetime(2026, 10, 31, tzinfo=UTC),
           datetime(2026, 4, 4, tzinfo=UTC)]


def at(us: int) -> str:
    return iso(moment(us))


def t(us: int, node: str, state: State, *providers: str | None, planned: bool = False,
      layer: str = "promise") -> Transition:
    causes = tuple(Cause(f"c-{i}-{p}", state, provider=p) for i, p in enumerate(providers))
    return Transition(at(us), node, layer, state, planned, causes)


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """Minute-aligned transitions of a few promises, a period, a zone, maybe hours."""
    where = zone(draw(st.sampled_from(ZONES)))
    anchor = micros(draw(st.sampled_from(ANCHORS)))
    start = anchor + draw(st.integers(0, 3 * 24 * 60)) * MINUTE
    end = start + draw(st.integers(1, 3 * 24 * 60)) * MINUTE
    nodes = [f"p{i}" for i in range(draw(st.integers(1, 3)))]
    transitions = []
    for node in nodes:
        for _ in range(draw(st.integers(0, 8))):
            minute = draw(st.integers(-2 * 24 * 60, 6 * 24 * 60))
            state = draw(st.sampled_from(list(State)))
            providers = draw(st.lists(st.sampled_from(PROVIDERS), max_size=3))
            transitions.append(t(anchor + minute * MINUTE, node, state, *providers,
                                 planned=draw(st.booleans())))
    hours = None
    if draw(st.booleans()):
        spans = draw(st.lists(st.tuples(st.sampled_from(["mon", "tue-thu", "fri", "sat,sun",
                                                         "sun"]),
                                        st.integers(0, 23), st.integers(1, 24)),
                              min_size=1, max_size=3))
        text = "; ".join(f"{d} {a:02d}:00-{max(a + 1, b):02d}:00" for d, a, b in spans)
        hours = Schedule.parse(text)
    as_of = None
    if draw(st.booleans()):
        as_of = start + draw(st.integers(-60, 4 * 24 * 60)) * MINUTE
    owners = {n: draw(st.sampled_from(["HR", "Sales", None])) for n in nodes}
    services = {n: draw(st.lists(st.sampled_from(["bs-a", "bs-b"]), unique=True))
                for n in nodes}
    return {"where": where, "start": start, "end": end, "nodes": nodes,
            "transitions": transitions, "hours": hours, "as_of": as_of, "owners": owners,
            "services": services}


def _in_hours(us: int, hours: Schedule | None, where) -> bool:
    if hours is None:
        return True
    seen = moment(us, where)
    minute = seen.hour * 60 + seen.minute
    return any(d == seen.weekday() and a <= minute < b for d, a, b in hours.spans)


def naive(s: dict) -> dict[str, dict[str, int]]:
    """Minute by minute: the state of each node at each minute that counts."""
    end = s["end"] if s["as_of"] is None else max(s["start"], min(s["end"], s["as_of"]))
    by_node = defaultdict(list)
    for tr in s["transitions"]:
        by_node[tr.node].append((micros(datetime.fromisoformat(tr.at.replace("Z", "+00:00"))),
                                 tr))
    out = {}
    for node in s["nodes"]:
        steps = sorted(by_node[node], key=lambda p: p[0])
        sums = {"kept": 0, "at_risk": 0, "broken": 0, "period": 0, "breaks": 0,
                "recovered": []}
        lo = min([s["start"], *(u for u, _ in steps)])
        run = None  # in a down run: [minutes counted in the period, in hours at all]
        minute = lo
        while minute < end:
            state = State.OK
            for u, tr in steps:
                if u <= minute:
                    state = tr.state
            in_hours = _in_hours(minute, s["hours"], s["where"])
            counts = minute >= s["start"] and in_hours
            if counts:
                sums["period"] += MINUTE
                key = {State.OK: "kept", State.DEGRADED: "at_risk", State.DOWN: "broken"}
                sums[key[state]] += MINUTE
            if state is State.DOWN:
                run = run or [0, 0]
                run[0] += counts
                run[1] += in_hours
            else:
                if run and run[0]:
                    sums["breaks"] += 1
                    sums["recovered"].append(run[1] * MINUTE)
                run = None
            minute += MINUTE
        if run and run[0]:
            sums["breaks"] += 1
        out[node] = sums
    return out


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_figures_add_up_and_match_a_minute_by_minute_evaluator(s: dict) -> None:
    span = Period(s["start"], s["end"], s["where"])
    rec = record(s["transitions"], span, hours=s["hours"], as_of=s["as_of"],
                 nodes={n: "promise" for n in s["nodes"]}, owners=s["owners"],
                 business_services=s["services"])
    expected = naive(s)
    for node in rec.nodes:
        # kept + at risk + broken = the counted time of the period, exactly
        assert node.kept + node.at_risk + node.broken == node.period == rec.counted
        assert node.period == expected[node.node]["period"]
        assert (node.kept, node.at_risk, node.broken) == tuple(
            expected[node.node][k] for k in ("kept", "at_risk", "broken"))
        assert len(node.breaks) == expected[node.node]["breaks"]
        # totals equal the sum over breaks
        assert node.broken == sum(b.duration for b in node.breaks)
        assert node.planned_broken == sum(b.planned for b in node.breaks)
        for brk in node.breaks:
            assert sum(brk.shares.values()) == brk.duration > 0
            assert sum(brk.planned_shares.values()) == brk.planned
        assert [b.time_to_recover for b in node.breaks if b.end is not None] == expected[
            node.node]["recovered"]
        mean, longest, count = node.recovery()
        closed = [b.time_to_recover for b in node.breaks if b.end is not None]
        assert count == len(closed)
        assert mean == (Fraction(sum(closed), len(closed)) if closed else None)
        assert longest == (max(closed) if closed else None)
    promises = rec.promises
    broken = sum(p.broken for p in promises)
    # per-provider shares add up to the broken time
    assert sum(p.broken for p in rec.providers) == broken
    assert sum(p.planned for p in rec.providers) == sum(p.planned_broken for p in promises)
    # roll-ups equal sums of their promises
    assert sum(r.broken for r in rec.owners) == broken
    for roll in rec.owners:
        members = [p for p in promises if (s["owners"][p.node] or NO_OWNER) == roll.key]
        assert roll.promises == tuple(sorted(p.node for p in members))
        for key in ("period", "kept", "at_risk", "broken", "planned_broken"):
            assert getattr(roll, key) == sum(getattr(p, key) for p in members)
        assert roll.breaks == sum(len(p.breaks) for p in members)
    for roll in rec.business_services:
        members = [p for p in promises if roll.key in s["services"][p.node]]
        for key in ("period", "kept", "at_risk", "broken", "planned_broken"):
            assert getattr(roll, key) == sum(getattr(p, key) for p in members)
    # every export renders
    doc = document(rec, "provider")
    assert to_csv(doc) and to_markdown(doc) and to_html(doc)


@given(st.integers(0, 10**12), st.lists(st.sampled_from(["a", "b", "c", "d"]), max_size=6))
def test_shares_are_equal_to_the_microsecond_and_add_up(duration: int,
                                                        providers: list[str]) -> None:
    parts = share(duration, providers)
    assert sum(parts.values()) == duration
    assert max(parts.values()) - min(parts.values()) <= 1
    assert list(parts) == sorted(parts)


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(ZONES), st.dates(date(2020, 1, 1), date(2035, 12, 31)))
def test_calendar_periods_tile_and_start_at_local_midnight(name: str, which: date) -> None:
    where = zone(name)
    one = day(which, where)
    assert one.end == day(which + timedelta(days=1), where).start
    assert moment(one.start, where).time().hour in (0, 1)  # 1: a midnight the clocks skip
    w = week(which, where)
    assert w.start <= one.start < w.end and moment(w.start, where).weekday() == 0
    m = month(which.year, which.month, where)
    assert m.start <= one.start < m.end
    assert moment(m.start, where).date() == which.replace(day=1)
    # a day is 24 hours but for a DST change, by the zone's own offsets
    offsets = moment(one.end, where).utcoffset() - moment(one.start, where).utcoffset()
    assert one.end - one.start == 24 * HOUR - micros(datetime(1970, 1, 1, tzinfo=UTC)
                                                     + offsets)


# --- the clock's edges -------------------------------------------------------------------

BERLIN = zone("Europe/Berlin")
NEW_YORK = zone("America/New_York")


def berlin(text: str) -> int:
    return local(datetime.fromisoformat(text), BERLIN)


def test_a_period_boundary_cuts_a_break() -> None:
    trs = [t(berlin("2026-02-28T22:00"), "p", State.DOWN, "Northwind"),
           t(berlin("2026-03-01T02:00"), "p", State.OK)]
    march = record(trs, month(2026, 3, BERLIN)).node("p")
    assert march.broken == 2 * HOUR
    (brk,) = march.breaks
    assert show(brk.start, BERLIN) == "2026-02-28T22:00:00+01:00"  # began before
    assert brk.duration == 2 * HOUR and brk.time_to_recover == 4 * HOUR
    february = record(trs, month(2026, 2, BERLIN)).node("p")
    (open_break,) = february.breaks
    assert open_break.end is None and open_break.duration == 2 * HOUR
    assert open_break.time_to_recover is None and february.recovery() == (None, None, 0)


def test_dst_spring_forward_in_berlin() -> None:
    sunday = day(date(2026, 3, 29), BERLIN)
    assert sunday.end - sunday.start == 23 * HOUR
    # 01:30 to 03:30 on the clock: the hour 02:00-03:00 never happened
    trs = [t(berlin("2026-03-29T01:30"), "p", State.DOWN, "IT"),
           t(berlin("2026-03-29T03:30"), "p", State.OK)]
    rec = record(trs, sunday).node("p")
    assert rec.broken == HOUR and rec.kept == 22 * HOUR and rec.period == 23 * HOUR
    hours = Schedule.parse("sun 00:00-24:00")
    assert record(trs, sunday, hours=hours).node("p").period == 23 * HOUR
    # business hours starting inside the skipped hour start when the clocks jump
    odd = Schedule.parse("sun 02:30-04:00")
    assert record([], sunday, hours=odd, nodes={"p": "promise"}).counted == HOUR


def test_dst_fall_back_in_new_york() -> None:
    sunday = day(date(2026, 11, 1), NEW_YORK)
    assert sunday.end - sunday.start == 25 * HOUR
    # down from 00:30 EDT, up at 01:30 EST: the hour 01:00-02:00 was lived twice
    down = local(datetime(2026, 11, 1, 0, 30), NEW_YORK)
    up = micros(datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1))
    rec = record([t(down, "p", State.DOWN, "Contoso"), t(up, "p", State.OK)], sunday)
    assert rec.node("p").broken == 2 * HOUR
    assert rec.node("p").breaks[0].time_to_recover == 2 * HOUR
    hours = Schedule.parse("sun 01:00-02:00")  # the repeated hour counts twice
    assert record([], sunday, hours=hours, nodes={"p": "promise"}).counted == 2 * HOUR


def test_the_other_dst_change_of_each_zone() -> None:
    # Berlin goes back on 25 October: 25 hours, 02:00-03:00 lived twice
    sunday = day(date(2026, 10, 25), BERLIN)
    assert sunday.end - sunday.start == 25 * HOUR
    down = berlin("2026-10-25T01:30")  # CEST
    up = micros(datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=1))  # CET
    node = record([t(down, "p", State.DOWN, "IT"), t(up, "p", State.OK)], sunday).node("p")
    assert node.broken == 2 * HOUR and node.kept == 23 * HOUR
    # New York goes forward on 8 March: 23 hours, 02:00-03:00 never lived
    sunday = day(date(2026, 3, 8), NEW_YORK)
    assert sunday.end - sunday.start == 23 * HOUR
    hours = Schedule.parse("sun 01:00-04:00")
    down = local(datetime(2026, 3, 8, 1, 30), NEW_YORK)
    up = local(datetime(2026, 3, 8, 3, 30), NEW_YORK)
    node = record([t(down, "p", State.DOWN, "IT"), t(up, "p", State.OK)], sunday,
                  hours=hours).node("p")
    assert node.period == 2 * HOUR and node.broken == HOUR


def test_business_hours_across_a_dst_week() -> None:
    w = week(date(2026, 3, 25), BERLIN)  # Monday 23 to Sunday 29 March
    hours = Schedule.parse("mon-fri 08:00-18:00")
    # down Friday 17:00 to Monday 09:00: two business hours, over a weekend that lost one
    trs = [t(berlin("2026-03-27T17:00"), "p", State.DOWN, "IT"),
           t(berlin("2026-03-30T09:00"), "p", State.OK)]
    rec = record(trs, Period(w.start, w.end + 24 * HOUR, BERLIN), hours=hours).node("p")
    assert rec.period == 60 * HOUR
    assert rec.broken == 2 * HOUR
    assert rec.breaks[0].time_to_recover == 2 * HOUR


def test_a_break_open_at_the_end_and_time_not_yet_lived() -> None:
    span = month(2026, 3, BERLIN)
    trs = [t(berlin("2026-03-31T23:00"), "p", State.DOWN, "IT")]
    (brk,) = record(trs, span).node("p").breaks
    assert brk.end is None and brk.duration == HOUR
    now = berlin("2026-03-10T12:00")
    so_far = record([t(berlin("2026-03-10T11:00"), "p", State.DOWN)], span, as_of=now)
    node = so_far.node("p")
    assert so_far.counted == now - span.start and node.broken == HOUR
    assert node.breaks[0].end is None and node.breaks[0].shares == {NO_CAUSE: HOUR}
    doc = promise_document(so_far, "p")
    assert doc["period"]["as_of"] == "2026-03-10T12:00:00+01:00"
    assert doc["record"]["breaks"][0]["open"] is True


def test_planned_time_is_apart_and_does_not_spend_the_budget() -> None:
    span = month(2026, 4, zone("UTC"))  # 30 days: 99.9% allows 43.2 minutes
    trs = [t(span.start + HOUR, "p", State.DOWN, "IT", planned=True),
           t(span.start + 2 * HOUR, "p", State.OK),
           t(span.start + 5 * HOUR, "p", State.DOWN, "IT", None),
           t(span.start + 5 * HOUR + 40 * MINUTE, "p", State.DEGRADED),
           t(span.start + 6 * HOUR, "p", State.OK)]
    rec = record(trs, span, targets={"p": Fraction(999, 10)})
    node = rec.node("p")
    assert node.broken == 100 * MINUTE and node.planned_broken == HOUR
    assert node.at_risk == 20 * MINUTE
    assert node.allowed_broken == Fraction(432, 10) * MINUTE
    assert node.budget_left == Fraction(32, 10) * MINUTE
    assert [b.is_planned for b in node.breaks] == [True, False]
    assert node.recovery(True) == (HOUR, HOUR, 1)
    assert node.recovery(False) == (40 * MINUTE, 40 * MINUTE, 1)
    (provider_it, none) = rec.providers
    assert (provider_it.provider, provider_it.broken, provider_it.planned) == (
        "IT", 80 * MINUTE, HOUR)
    assert (none.provider, none.broken) == (NO_PROVIDER, 20 * MINUTE)
    doc = promise_document(rec, "p")["record"]
    assert doc["target"]["met"] is True and doc["target"]["budget_left_seconds"] == 192.0


def test_periods_as_callers_write_them() -> None:
    p = period("2026-10", None, BERLIN)
    assert (show(p.start, BERLIN), show(p.end, BERLIN)) == (
        "2026-10-01T00:00:00+02:00", "2026-11-01T00:00:00+01:00")
    p = period(None, "2026-03-29", NEW_YORK)
    assert show(p.start, NEW_YORK) == "2026-03-01T00:00:00-05:00"
    p = period("2026-03-08T01:00", "2026-03-08T04:00", NEW_YORK)
    assert p.end - p.start == 2 * HOUR
    for bad, name in ((("x", None), "from"), ((None, "2026-13"), "to"),
                      (("2026-03", "2026-02"), "to")):
        try:
            period(*bad, BERLIN)
        except ValueError as exc:
            assert str(exc).startswith(f"{name}:"), exc
        else:
            raise AssertionError(bad)
    for bad in ("", "mon", "xyz 08:00-10:00", "mon 10:00-08:00", "mon 08:00-25:00",
                "mon 8-10"):
        try:
            Schedule.parse(bad)
        except ValueError as exc:
            assert str(exc).startswith("hours:"), exc
        else:
            raise AssertionError(bad)


def test_reports_escape_what_the_graph_says() -> None:
    evil = "<script>alert(1)</script> | *x* =cmd"
    trs = [t(0, "p", State.DOWN, evil), t(HOUR, "p", State.OK)]
    rec = record(trs, Period(0, 2 * HOUR, zone("UTC")), names={"p": evil},
                 owners={"p": "=HYPERLINK(1)"})
    for doc in (document(rec), promise_document(rec, "p"), document(rec, "provider"),
                document(rec, "owner")):
        page, text, table = to_html(doc), to_markdown(doc), to_csv(doc)
        assert "<script>" not in page and "<script>" not in text
        assert "\n=" not in table and ",=" not in table
        if doc.get("by") != "owner":  # the others name the evil provider or promise
            assert "&lt;script&gt;" in page and "&lt;script&gt;" in text
            assert "\\|" in text and "\\*x\\*" in text
        else:
            assert "\n'=HYPERLINK(1)," in table
