"""The record's figures computed over columns equal, to the microsecond and break by
break, those of the plain step-by-step walk they replaced (kept here as the reference),
on random transitions with ties, causes, planned marks, hours and ``as_of``."""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_text
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model import loads
from servicegraph.model.kinds import State
from servicegraph.model.record import Cause, Columns, Transition
from servicegraph.model.times import iso
from servicegraph.record import Period, Schedule, period, record, share, zone
from servicegraph.record.clock import SECOND, Clock, clock, micros, micros_of, moment
from servicegraph.record.figures import (
    LAYERS,
    NO_OWNER,
    Break,
    NodeRecord,
    Record,
    _providers,
    _roll_up,
    record_of,
)
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore

MINUTE = 60 * SECOND


class _Open:
    def __init__(self, start: int) -> None:
        self.start, self.duration, self.planned = start, 0, 0
        self.causes: dict[str, Cause] = {}
        self.shares: dict[str, int] = defaultdict(int)
        self.planned_shares: dict[str, int] = defaultdict(int)

    def closed(self, node: str, until: int | None, whole: Clock) -> Break:
        recover = None if until is None else whole.counted(self.start, until)
        return Break(node, self.start, until, self.duration, self.planned,
                     tuple(self.causes[c] for c in sorted(self.causes)),
                     dict(sorted(self.shares.items())), recover,
                     dict(sorted(self.planned_shares.items())))


def _node(node: str, layer: str, transitions: Sequence[tuple[int, Transition]], start: int,
          end: int, counting: Clock, whole: Clock, name, owner, target) -> NodeRecord:
    """The reference: one node's transitions walked one by one."""
    totals, planned = [0, 0, 0], [0, 0, 0]
    breaks: list[Break] = []
    current: _Open | None = None
    steps = sorted(((at, t) for at, t in transitions if at < end), key=lambda s: s[0])
    if not steps or steps[0][0] > start:
        totals[0] += counting.counted(start, steps[0][0] if steps else end)
    for i, (at, t) in enumerate(steps):
        until = steps[i + 1][0] if i < len(steps) - 1 else end
        a, b = max(at, start), min(until, end)
        counted = counting.counted(a, b) if b > a else 0
        totals[t.state] += counted
        if t.planned and t.state is not State.OK:
            planned[t.state] += counted
        if t.state is State.DOWN:
            if current is None:
                current = _Open(at)
            for cause in t.causes:
                current.causes.setdefault(cause.component, cause)
            if not counted:
                continue
            current.duration += counted
            current.planned += counted if t.planned else 0
            for provider, part in share(counted, t.providers).items():
                if part:
                    current.shares[provider] += part
                    if t.planned:
                        current.planned_shares[provider] += part
        elif current is not None:
            if current.duration > 0:
                breaks.append(current.closed(node, at, whole))
            current = None
    if current is not None and current.duration > 0:
        breaks.append(current.closed(node, None, whole))
    return NodeRecord(node, layer, counting.counted(start, end), totals[0], totals[1],
                      totals[2], planned[1], planned[2], tuple(breaks), name, owner, target)


def reference(transitions: list[Transition], span: Period, *, hours, as_of, nodes, owners,
              business_services) -> Record:
    start = span.start
    end = span.end if as_of is None else max(span.start, min(span.end, as_of))
    by_node: dict[str, list[tuple[int, Transition]]] = defaultdict(list)
    layers = dict(nodes)
    earliest = start
    for t in transitions:
        at = micros_of(t.at)
        earliest = min(earliest, at)
        by_node[t.node].append((at, t))
        layers.setdefault(t.node, t.layer)
    whole = clock(min(earliest, start), end, span.where, hours)
    counting = Clock([(max(a, start), b) for a, b in zip(whole.starts, whole.ends, strict=True)
                      if b > start]) if earliest < start else whole
    order = {layer: i for i, layer in enumerate(LAYERS)}
    records = tuple(_node(n, layers[n], by_node.get(n, ()), start, end, counting, whole,
                          None, owners.get(n), None)
                    for n in sorted(layers, key=lambda n: (order.get(layers[n], 9), n)))
    promises = [r for r in records if r.layer == "promise"]
    by_owner: dict[str, list[NodeRecord]] = defaultdict(list)
    by_service: dict[str, list[NodeRecord]] = defaultdict(list)
    for rec in promises:
        by_owner[rec.owner or NO_OWNER].append(rec)
        for service in sorted(set(business_services.get(rec.node, ()))):
            by_service[service].append(rec)
    return Record(span, hours, as_of, counting.total, records, _providers(promises),
                  tuple(_roll_up(k, v) for k, v in sorted(by_owner.items())),
                  tuple(_roll_up(k, v) for k, v in sorted(by_service.items())))


ANCHOR = micros(datetime(2026, 3, 27, tzinfo=UTC))
PROVIDERS = ["Northwind", "Contoso", "IT", None]


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """Transitions of a few nodes at microsecond times, many of them at the same moments
    (as one incident's are), with causes of several providers."""
    where = zone(draw(st.sampled_from(["UTC", "Europe/Berlin", "America/New_York"])))
    start = ANCHOR + draw(st.integers(0, 3 * 24 * 60)) * MINUTE
    end = start + draw(st.integers(1, 3 * 24 * 60)) * MINUTE
    moments = draw(st.lists(st.integers(-2 * 24 * 60 * MINUTE, 6 * 24 * 60 * MINUTE),
                            min_size=1, max_size=6))
    nodes = [f"n{i}" for i in range(draw(st.integers(1, 4)))]
    layer_of = {n: draw(st.sampled_from(LAYERS)) for n in nodes}
    transitions = []
    for _ in range(draw(st.integers(0, 30))):
        node = draw(st.sampled_from(nodes))
        state = draw(st.sampled_from(list(State)))
        causes = tuple(Cause(draw(st.sampled_from(["c1", "c2", "c3"])), state,
                             provider=draw(st.sampled_from(PROVIDERS)),
                             owner=draw(st.sampled_from(["HR", None])))
                       for _ in range(draw(st.integers(0, 3))))
        transitions.append(Transition(iso(moment(ANCHOR + draw(st.sampled_from(moments)))),
                                      node, layer_of[node], state, draw(st.booleans()),
                                      causes))
    hours = (Schedule.parse(draw(st.sampled_from(["mon-fri 09:00-17:00",
                                                  "sat,sun 00:00-24:00; tue 03:00-04:00"])))
             if draw(st.booleans()) else None)
    as_of = (start + draw(st.integers(-60, 4 * 24 * 60)) * MINUTE
             if draw(st.booleans()) else None)
    return {"span": Period(start, end, where), "transitions": transitions, "hours": hours,
            "as_of": as_of,
            "nodes": {n: layer_of[n] for n in nodes if draw(st.booleans())},
            "owners": {n: draw(st.sampled_from(["HR", None])) for n in nodes},
            "services": {n: ["bs-a"] for n in nodes if draw(st.booleans())}}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_the_columns_give_what_the_step_by_step_walk_gave(s: dict) -> None:
    kwargs = {"hours": s["hours"], "as_of": s["as_of"], "nodes": s["nodes"],
              "owners": s["owners"], "business_services": s["services"]}
    found = record(s["transitions"], s["span"], **kwargs)
    expected = reference(s["transitions"], s["span"], **kwargs)
    assert found == expected
    for got, want in zip(found.nodes, expected.nodes, strict=True):
        for a, b in zip(got.breaks, want.breaks, strict=True):
            assert list(a.shares) == list(b.shares)
            assert list(a.planned_shares) == list(b.planned_shares)
    # Without causes read, every figure is the same; the breaks only list no causes.
    bare = Columns.of(s["transitions"])
    bare.causes = None
    light = record_of(bare, s["span"], **kwargs)
    assert [(n.node, n.kept, n.at_risk, n.broken, [(b.start, b.end, b.shares)
                                                   for b in n.breaks]) for n in light.nodes] \
        == [(n.node, n.kept, n.at_risk, n.broken, [(b.start, b.end, b.shares)
                                                   for b in n.breaks]) for n in found.nodes]
    assert light.providers == found.providers
    assert all(not b.causes for n in light.nodes for b in n.breaks)


# --- the stores: packed figures, and rows written before them ------------------------------


def _month(sg: ServiceGraph) -> tuple[Columns, Columns, str, str]:
    """A few transitions on ``sg``'s store; the columns of all of them, and of one node's
    (with causes), over a period around them."""
    start = iso(datetime.now(UTC) - timedelta(seconds=5))
    for node, state in (("feed-job", State.DOWN), ("ad-1", State.DOWN),
                        ("feed-job", State.OK), ("ad-1", State.OK)):
        sg.writes.push_status("mon", [StatusUpdate(state, datetime.now(UTC), id=node)])
    end = iso(datetime.now(UTC) + timedelta(seconds=5))
    q = sg.questions
    return (q.record_transitions(start=start, end=end, layers=list(LAYERS)),
            q.record_transitions(start=start, end=end, nodes=["onboarding"],
                                 layers=["promise"]), start, end)


def _figures(cols: Columns, start: str, end: str) -> Record:
    return record_of(cols, period(start, end, zone("UTC")))


def _strip(store: GraphStore) -> None:
    """The record as a store written before the figures were packed left it."""
    if isinstance(store, SqliteStore):
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE record SET figures = NULL")
            db.execute("INSERT OR REPLACE INTO record_meta (key, value) SELECT "
                       "'figures_from', max(seq) + 1 FROM record")
    else:
        assert isinstance(store, Neo4jStore)
        with store.driver.session(database=store.database) as session:
            session.run("MATCH (t:ServiceGraphTransition) REMOVE t.figures").consume()


def test_the_stores_pack_the_figures_and_read_older_rows_whole(store: GraphStore) -> None:
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()), replace=True)
    every, one, start, end = _month(sg)
    assert every.causes is None and len(every) > 0
    assert set(every.layer) <= set(LAYERS)
    assert one.causes is not None and set(one.node) == {"onboarding"}
    rows = sorted(range(len(one)), key=lambda i: (one.at[i], (one.order or [])[i]))
    assert [one.state[i] for i in rows][-2:] == [State.DOWN, State.OK]
    assert "feed-job" in {c.component for i in rows for c in one.causes[i]}
    before = _figures(every, start, end)
    assert before.node("onboarding").broken > 0
    assert before.node("onboarding").breaks[0].shares == {"IT": before.node("onboarding").broken}
    _strip(store)
    older = ServiceGraph(store).questions.record_transitions(start=start, end=end,
                                                            layers=list(LAYERS))
    assert sorted(older.order or []) == sorted(every.order or [])
    assert _figures(older, start, end).nodes == before.nodes


def test_an_older_file_gains_the_figures_column(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    store = SqliteStore(path)
    sg = ServiceGraph(store)
    sg.writes.load(loads(example_text()), replace=True)
    every, _, start, end = _month(sg)
    store.close()
    with sqlite3.connect(path) as db:  # as a file made before the column was
        db.execute("DROP INDEX IF EXISTS record_node_at")
        db.execute("ALTER TABLE record DROP COLUMN figures")
        db.execute("CREATE INDEX record_node_at ON record(node, layer, at, seq)")
    reopened = SqliteStore(path)
    try:
        columns = {r[1] for r in sqlite3.connect(path).execute("PRAGMA table_info(record)")}
        assert "figures" in columns
        older = ServiceGraph(reopened).questions.record_transitions(start=start, end=end,
                                                                   layers=list(LAYERS))
        assert _figures(older, start, end).nodes == _figures(every, start, end).nodes
        # What is written from now on is packed again.
        ServiceGraph(reopened).writes.push_status(
            "mon", [StatusUpdate(State.DOWN, datetime.now(UTC), id="feed-job")])
        packed = sqlite3.connect(path).execute(
            "SELECT count(*) FROM record WHERE figures IS NOT NULL").fetchone()[0]
        assert packed > 0
    finally:
        reopened.close()


def test_a_change_of_many_rows_packs_each_one(store: GraphStore) -> None:
    """More rows than one statement carries (the record's own batches on Neo4j): each
    read back as it was written, numbered in order."""
    from servicegraph.store.base import Change, ChangeInfo
    from servicegraph.store.neo4j import BATCH

    base = micros(datetime(2030, 1, 1, tzinfo=UTC))
    written = tuple(
        Transition(iso(moment(base + i * SECOND)), f"p{i % 7}", "promise",
                   State(i % 3), i % 5 == 0,
                   (Cause(f"c{i % 11}", State.DOWN, provider=f"P{i % 4}"),) if i % 3 else ())
        for i in range(BATCH + 3))
    store.transact(lambda _: (Change(record=written), ChangeInfo(written[-1].at, "record"),
                              None))
    cols = store.record_columns(iso(moment(base)), iso(moment(base + (BATCH + 9) * SECOND)),
                                layers=["promise"])
    rows = sorted(range(len(cols)), key=lambda i: (cols.order or [])[i])
    assert [(cols.node[i], cols.at[i], State(cols.state[i]), cols.planned[i])
            for i in rows] == [(t.node, t.at, t.state, t.planned) for t in written]
    assert [tuple(json.loads(p)) if isinstance(p, str) else p
            for p in (cols.providers[i] for i in rows)] == [t.providers for t in written]
    span = period(iso(moment(base)), iso(moment(base + (BATCH + 9) * SECOND)), zone("UTC"))
    assert _bare(record_of(cols, span)) == _bare(record(written, span))
    assert any(n.breaks for n in record_of(cols, span).nodes)


def _bare(rec: Record) -> list[tuple]:
    """Every figure of a record but the causes its breaks list."""
    return [(n.node, n.period, n.kept, n.at_risk, n.broken, n.planned_at_risk,
             n.planned_broken, [(b.start, b.end, b.duration, b.planned, b.shares,
                                 b.planned_shares, b.time_to_recover) for b in n.breaks])
            for n in rec.nodes]
