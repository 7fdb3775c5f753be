"""The promise record: its figures over 30 days of a synthetic incident history, on both
stores, with the naive way beside each.

The history: ``incidents`` incidents spread over the 30 days before the run, each one
failing 1 to ``most`` CIs of the generated enterprise (drawn log-uniformly, so most
incidents are small) for 1 to 240 minutes, a fifth of them degraded rather than down.
Incidents overlap as they fall. At every start and end the observed failures are
evaluated on the live graph and turned into transitions by the recorder's own code
(:func:`~servicegraph.runtime.recorder.record_states` and
:func:`~servicegraph.runtime.recorder.changes`), stamped with that past moment, and
written through the store's record tables (a change of record rows only): the recorder
stamps what it writes with the moment of the change, so a month cannot be pushed in a
few minutes. The same rows go to both stores.

Then, on each store: the month's record of every promise, business service and service
act (what ``GET /v1/record`` computes), one promise's record for the month (``GET
/v1/promises/{id}/record``), what ``GET /v1/current?at=T`` answers at random moments,
the cost recording adds to a status push (the recorder left out against left in), and
the record's growth.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks.enterprise import Enterprise, generate
from benchmarks.neo4j_server import server_version
from benchmarks.report import Row, human, log, machine, shortfall, table
from benchmarks.timing import Timing, ms, mt
from servicegraph.core import ServiceGraph
from servicegraph.impact.analysis import ImpactResult, analyse
from servicegraph.impact.index import KINDS
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model import parse_document
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.record import Transition
from servicegraph.model.times import iso
from servicegraph.runtime import record as the_record
from servicegraph.runtime.recorder import Noted, changes, record_states, touched
from servicegraph.store import Neo4jStore, SqliteStore
from servicegraph.store.base import Change, ChangeInfo, GraphStore, RecordStore

MINUTE = timedelta(minutes=1)
DAYS = 30
#: Record rows per store transaction when writing the history.
ROWS_PER_WRITE = 5_000


@dataclass(frozen=True)
class Sizes:
    """One tier's history: the enterprise's nodes, the incidents, the most CIs one
    incident fails, and the repetitions of each timed question."""

    nodes: int
    incidents: int
    most: int
    reps: int = 50
    pushes: int = 100


SIZES = {"S": Sizes(20_000, 1_000, 20), "M": Sizes(1_000_000, 10_000, 1_000)}


def of_kind(ent: Enterprise, kind: NodeKind) -> list[str]:
    """The ids of ``ent``'s nodes of ``kind``."""
    code = KINDS.index(kind)
    return [ent.ids[v] for v in range(ent.n) if ent.kinds[v] == code]


@dataclass
class History:
    """The synthetic month: its rows, its events (moment, failures then), its span."""

    rows: list[Transition]
    events: list[tuple[str, dict[str, State]]]
    start: datetime
    end: datetime
    seconds: float  # evaluating the graph at every event: the naive way's whole month


def load(store: GraphStore, ent: Enterprise, page: int = 18_000) -> ServiceGraph:
    """``ent`` written to ``store`` (emptied) in pages; its graph, read."""
    store.clear()
    sg = ServiceGraph(store)
    for nodes, edges in ent.pages(page):
        sg.writes.push("bench", parse_document({"nodes": nodes, "edges": edges}))
    sg.refresh(force=True)
    return sg


def history(sg: ServiceGraph, ent: Enterprise, sizes: Sizes, seed: int,
            end: datetime) -> History:
    """The month's transitions, built by the recorder's code over ``sg``'s live graph."""
    rng = random.Random(seed)
    cis = of_kind(ent, NodeKind.CI)
    start = end - timedelta(days=DAYS)
    span = int((end - start) / MINUTE)
    marks: list[tuple[datetime, int, int]] = []  # (moment, +1 start / -1 end, incident)
    failed: list[dict[str, State]] = []
    for i in range(sizes.incidents):
        count = min(sizes.most, int(math.exp(rng.uniform(0, math.log(sizes.most + 1)))))
        state = State.DEGRADED if rng.random() < 0.2 else State.DOWN
        failed.append({c: state for c in rng.sample(cis, max(1, count))})
        begins = start + rng.randrange(span - 240) * MINUTE + timedelta(seconds=rng.random())
        marks += [(begins, 1, i), (begins + rng.randint(1, 240) * MINUTE, -1, i)]
    marks.sort()
    active: set[int] = set()
    rows: list[Transition] = []
    events: list[tuple[str, dict[str, State]]] = []
    last: dict[tuple[str, str], Transition] = {}
    previous: ImpactResult | None = None
    began = time.perf_counter()
    with sg.replica.reading() as live:
        for k, (moment, step, i) in enumerate(marks):
            if k and k % max(1, len(marks) // 20) == 0:
                took = time.perf_counter() - began
                log(f"record: {k:,} of {len(marks):,} starts and ends evaluated, "
                    f"{took:,.0f} s (about {took / k * (len(marks) - k):,.0f} s to go)")
            (active.add if step > 0 else active.discard)(i)
            observed: dict[str, State] = {}
            for j in active:
                for c, s in failed[j].items():
                    observed[c] = max(observed.get(c, State.OK), s)
            at = iso(moment)
            result = analyse(live.index, observed)
            # As a status push records: only what lies above a change is explained again.
            changed = set(failed[i]) if previous is not None else set(observed)
            fresh = touched(live, changed, result, *([previous] if previous else []))
            states = record_states(live, result, at, observed, windows=(),
                                   inputs=status_of(observed), fresh=fresh, held=last)
            previous = result
            rows += changes(last, states, at, None)
            events.append((at, observed))
    return History(rows, events, start, end, time.perf_counter() - began)


def status_of(observed: dict[str, State]) -> Callable[[str], dict[str, Any]]:
    """A failed node's inputs: the status it was pushed."""
    return lambda n: {"status": {"source": "bench", "state": observed[n].word}}


def rows_only(part: tuple[Transition, ...]) -> Callable[[Any], tuple[Change, ChangeInfo, None]]:
    """A change of record rows only (the graph's version stays)."""
    return lambda _: (Change(record=part), ChangeInfo(part[-1].at, "record"), None)


def write_history(store: GraphStore, rows: list[Transition]) -> float:
    """The rows written through the store's record tables; seconds taken."""
    began = time.perf_counter()
    for k in range(0, len(rows), ROWS_PER_WRITE):
        part = tuple(rows[k:k + ROWS_PER_WRITE])
        store.transact(rows_only(part))
    return time.perf_counter() - began


def timed(call: Callable[[Any], object], inputs: list[Any]) -> Timing:
    """Each input once, after one warm-up call."""
    call(inputs[0])
    out = []
    for x in inputs:
        t0 = time.perf_counter()
        call(x)
        out.append(time.perf_counter() - t0)
    return Timing(tuple(out))


def minute_by_minute(found: list[Transition], start: datetime, end: datetime) -> float:
    """The naive record of one node: its state looked up minute by minute (the share
    of minutes kept)."""
    ats = [t.at for t in found]
    kept = total = 0
    moment = start
    while moment < end:
        k = bisect.bisect_right(ats, iso(moment)) - 1
        kept += k < 0 or found[k].state is State.OK
        total += 1
        moment += MINUTE
    return kept / total


def replayed(sg: ServiceGraph, events: list[tuple[str, dict[str, State]]], at: str
             ) -> dict[str, Any]:
    """The naive ``/v1/current?at=T``: the inputs replayed up to ``at``, then evaluated
    on the graph."""
    observed: dict[str, State] = {}
    for moment, now in events:
        if moment > at:
            break
        observed = now
    with sg.replica.reading() as live:
        return analyse(live.index, observed).answer(limit=1000)


@contextmanager
def recording(sg: ServiceGraph, on: bool) -> Iterator[None]:
    """The recorder left in (``on``) or out: its transitions neither computed nor
    written."""
    if on:
        yield
        return
    writes, recorder = sg.writes, sg.writes.recorder
    saved = writes.record, recorder.due, recorder.own
    writes.record = lambda: None  # type: ignore[method-assign]
    recorder.due = lambda view, live, now: Noted()  # type: ignore[method-assign]
    recorder.own = lambda view, live, change, at, prior: prior  # type: ignore[method-assign]
    try:
        yield
    finally:
        writes.record, recorder.due, recorder.own = saved  # type: ignore[method-assign]


def pushes(sg: ServiceGraph, ids: list[str], on: bool) -> Timing:
    """Status pushes toggling random CIs down and ok again, each answered."""
    out = []
    with recording(sg, on):
        for k, node in enumerate(ids * 2):
            state = State.DOWN if k < len(ids) else State.OK
            t0 = time.perf_counter()
            sg.writes.push_status("bench", [StatusUpdate(state, datetime.now(UTC), id=node)])
            out.append(time.perf_counter() - t0)
    return Timing(tuple(out))


def text_bytes(store: GraphStore) -> int | None:
    """The bytes of text a Neo4j store's record keeps (each transition's JSON and its
    packed figures): its growth, where the store's files are not at hand."""
    if not isinstance(store, Neo4jStore):
        return None
    with store.driver.session(database=store.database) as session:
        found = session.run("MATCH (t:ServiceGraphTransition) RETURN sum(size(t.payload) "
                            "+ size(coalesce(t.figures, ''))) AS n").single(strict=True)
    return int(found["n"] or 0)


def store_rows(name: str, store: GraphStore, sg: ServiceGraph, ent: Enterprise,
               hist: History, sizes: Sizes, seed: int, size_of: Callable[[], int] | None
               ) -> dict[str, Any]:
    """Every figure on one store (whose graph ``sg`` reads)."""
    rec: RecordStore = store  # type: ignore[assignment]
    log(f"record, {name}: writing {human(len(hist.rows))} transitions")
    before = size_of() if size_of else 0
    wrote = write_history(store, hist.rows)
    grown = (size_of() - before) if size_of else text_bytes(store)
    kept = rec.record_size()
    start, end = iso(hist.start), iso(hist.end)
    q = sg.questions
    log(f"record, {name}: the questions")
    t0 = time.perf_counter()
    whole = the_record.records(q, q.record_transitions, start=start, end=end)
    all_took = time.perf_counter() - t0
    rng = random.Random(seed)
    broken = sorted({t.node for t in hist.rows if t.layer == NodeKind.PROMISE.value})
    chosen = rng.sample(broken, min(sizes.reps, len(broken)))
    one = timed(lambda p: the_record.promise_record(q, q.record_transitions, p, start=start,
                                                    end=end), chosen)
    moments = [iso(hist.start + (hist.end - hist.start) * rng.random())
               for _ in range(sizes.reps)]
    travel = timed(q.current_at, moments)
    ids = rng.sample(of_kind(ent, NodeKind.CI), sizes.pushes // 2)
    pushes(sg, ids[:5], True)  # warm: query plans, caches
    off, on = pushes(sg, ids, False), pushes(sg, ids, True)
    return {"name": name, "wrote": wrote, "grown": grown, "kept": kept, "all": all_took,
            "whole": whole, "one": one, "chosen": chosen, "travel": travel,
            "moments": moments, "off": off, "on": on}


def record_rows(work: Path, tier: str, seed: int, neo4j_uri: str | None,
                sizes: Sizes | None = None) -> tuple[list[Row], str | None]:
    """The record's figures at ``tier`` (or ``sizes``) on the embedded store and, with
    ``neo4j_uri`` (emptied), on Neo4j."""
    sizes = sizes or SIZES[tier]
    ent = generate(sizes.nodes, seed)
    db = work / "record.db"
    sqlite = SqliteStore(db)
    log(f"record: {human(ent.n)} nodes into SQLite, then {human(sizes.incidents)} incidents")
    sg = load(sqlite, ent)
    end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    hist = history(sg, ent, sizes, seed, end)

    def file_size() -> int:
        return sum(p.stat().st_size for p in work.glob("record.db*"))

    found = [store_rows("SQLite", sqlite, sg, ent, hist, sizes, seed, file_size)]
    naive_sg = sg
    version = None
    if neo4j_uri:
        neo = Neo4jStore(neo4j_uri)
        version = server_version(neo.driver)
        try:
            found.append(store_rows("Neo4j", neo, load(neo, ent), ent, hist, sizes, seed,
                                    None))
        finally:
            neo.close()
    # The naive ways, once (they do not read a store).
    chosen = found[0]["chosen"]
    by_node: dict[str, list[Transition]] = {}
    for t in hist.rows:
        by_node.setdefault(t.node, []).append(t)
    naive_one = timed(lambda p: minute_by_minute(by_node[p], hist.start, hist.end),
                      chosen[:max(3, len(chosen) // 10)])
    naive_at = timed(lambda at: replayed(naive_sg, hist.events, at),
                     found[0]["moments"][:max(3, len(found[0]["moments"]) // 5)])
    sqlite.close()
    return rows_of(found, hist, ent, sizes, naive_one, naive_at), version


def rows_of(found: list[dict[str, Any]], hist: History, ent: Enterprise, sizes: Sizes,
            naive_one: Timing, naive_at: Timing) -> list[Row]:
    """The section's rows: one per figure, each store's value beside the other."""
    names = " / ".join(f["name"] for f in found)
    size = (f"{human(ent.n)} nodes, {human(sizes.incidents)} incidents")
    promises = len(of_kind(ent, NodeKind.PROMISE))

    def each(fmt: Callable[[dict[str, Any]], str]) -> str:
        return " / ".join(fmt(f) for f in found)

    whole = found[0]["whole"]
    breaks = sum(n["break_count"] for n in whole["nodes"] if n["layer"] == "promise")
    worst_all = max(f["all"] for f in found)
    one_p50 = max(f["one"].median for f in found)
    at_p50 = max(f["travel"].median for f in found)
    added = [f["on"].median / f["off"].median - 1 for f in found]
    rows = [
        Row(f"the month's record for all {human(promises)} promises ({names})", size,
            each(lambda f: ms(f["all"])), "≤ 1 s", worst_all <= 1.0,
            f"every promise, business service and service act, as `GET /v1/record` "
            f"computes it (transitions read from the store, then the figures); "
            f"{human(breaks)} breaks; naive way: evaluating the graph at every start "
            f"and end of an incident, {ms(hist.seconds)} for the month"),
        Row(f"one promise's record for a month ({names})", size,
            each(lambda f: mt(f["one"])), "p50 ≤ 20 ms", one_p50 <= 0.020,
            f"`GET /v1/promises/{{id}}/record` in process, promises that broke; naive "
            f"way: its state looked up minute by minute over its transitions, "
            f"{mt(naive_one)}"),
        Row(f"`/v1/current?at=T` anywhere in the 30 days ({names})", size,
            each(lambda f: mt(f["travel"])), "p50 ≤ 200 ms", at_p50 <= 0.200,
            f"in process, from the record's last transition of each node at T; naive "
            f"way: the inputs replayed to T and evaluated on the graph as it stands, "
            f"{mt(naive_at)} (it needs the structure at T, which the journal keeps 7 days)"),
        Row(f"cost of recording, added to a status push ({names})", size,
            each(lambda f: f"{ms(f['off'].median)} → {ms(f['on'].median)} "
                           f"({(f['on'].median / f['off'].median - 1) * 100:+.0f} %)"),
            "≤ 20 %", max(added) <= 0.20,
            f"p50 without the recorder → with it; {found[0]['on'].reps} pushes each, "
            f"a random CI down then ok, in process"),
        Row(f"store growth for the 30 days ({names})", size,
            each(lambda f: f"{human(f['kept'])} transitions"
                           + (f", {f['grown'] / 2**20:,.1f} MiB" if f["grown"] is not None
                              else "")),
            "measured and reported", None,
            f"{len(hist.rows) / sizes.incidents:.1f} transitions per incident; "
            f"SQLite: the file's growth; Neo4j: the text its transitions keep (JSON and "
            f"packed figures; the store's own records come on top); "
            f"written in {each(lambda f: ms(f['wrote']))}; the history generated in "
            f"{ms(hist.seconds)}"),
    ]
    return rows


def section(rows: list[Row], tier: str, sizes: Sizes, started: float,
            neo4j_version: str | None) -> list[str]:
    """The page's section for the record at ``tier``."""
    return [
        f"## The promise record, tier {tier}",
        "",
        f"`python -m benchmarks --only record --tier {tier}`; whole run "
        f"{time.perf_counter() - started:,.0f} s. 30 days of a synthetic incident history "
        f"over the generated enterprise of {human(sizes.nodes)} nodes: "
        f"{human(sizes.incidents)} incidents of 1 to {human(sizes.most)} failed CIs "
        f"(log-uniform), 1 to 240 minutes each. The transitions are built by the "
        f"recorder's own code (the graph evaluated at every start and end) and written "
        f"at their past moments through the store's record tables, not through the "
        f"writer (whose clock is the present). Questions are asked in process, through "
        f"the same functions the routes call.",
        "",
        *machine(neo4j_version),
        "",
        *table(rows),
        "",
        shortfall(rows),
        "",
    ]
