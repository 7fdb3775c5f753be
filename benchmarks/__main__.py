"""``python -m benchmarks --tier S|M``: measure, print the table, write the page."""

from __future__ import annotations

import argparse
import contextlib
import gc
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import httpx
import neo4j

from benchmarks import alerts, api
from benchmarks.cli import cli_rows
from benchmarks.cli import section as cli_section
from benchmarks.enterprise import SHAPES, Enterprise, generate
from benchmarks.inprocess import engine_rows, naive_rows, shape_rows
from benchmarks.neo4j_server import cypher_reach, local_neo4j, server_version
from benchmarks.record import SIZES as RECORD_SIZES
from benchmarks.record import record_rows
from benchmarks.record import section as record_section
from benchmarks.report import Row, human, load, log, machine, mib, shortfall, table
from benchmarks.reread import reread
from benchmarks.routes import routes_rows
from benchmarks.routes import section as routes_section
from benchmarks.server import serve
from benchmarks.startup import section as startup_section
from benchmarks.startup import startup_rows
from benchmarks.timing import ms, mt
from servicegraph.model.times import utc_now
from servicegraph.store import Neo4jStore

TIERS = {"S": 100_000, "M": 1_000_000}
#: The sizes start-up from a snapshot is measured at, per tier: the growth shows.
STARTUP_SIZES = {"S": (10_000, 100_000), "M": (100_000, 1_000_000)}
#: Items per push when loading the graph: below the journal's inline limit (20,000), so
#: other processes replay each push instead of reading the whole graph again.
PAGE = 18_000
ROOT = Path(__file__).resolve().parents[1]
#: Status pushes before timing: the first statuses after Neo4j starts run its query
#: plans cold (compiled on first use), which five warm-ups do not cover.
STATUS_WARM = 100


def api_rows(ent: Enterprise, small: Enterprise, facts: dict[str, object], tier: str,
             size: str, args: argparse.Namespace,
             alert_figures: list[Row] | None = None) -> tuple[list[Row], str]:
    """Everything that needs Neo4j and a server process (the alert figures go to
    ``alert_figures``, for a section of their own)."""
    rows: list[Row] = []
    home = ROOT / ".neo4j" / "bench"
    work = Path(tempfile.mkdtemp(prefix="sg-bench-"))
    with local_neo4j(home, args.heap, args.pagecache) as uri:
        driver = neo4j.GraphDatabase.driver(uri, notifications_min_severity="OFF")
        version = server_version(driver)
        store = Neo4jStore(uri, driver=driver)
        start = api.now_minus(3600)

        # --- the small graph: status pushes and the re-read path at 10k --------------
        store.clear()
        small_size = human(small.n)
        with serve(work, uri, name="small") as srv, httpx.Client(
                base_url=srv.url, timeout=600) as client:
            api.push_all(client, api.bodies(small, PAGE))
            ids = api.random_ci_ids(small, args.seed, 50)
            t_small, _ = api.timed(client, "POST", f"/v1/sources/{api.SOURCE}/status",
                                   args.reps, bodies=api.status_bodies(ids, start, 400),
                                   warm=STATUS_WARM)
            rows_small_status = t_small
        naive_small = [reread(store, ids[0])[0] for _ in range(3)]
        store.clear()

        # --- the tier's graph through the API, beside the Neo4j side alone -------------
        log(f"ingesting {human(ent.n)} nodes, {human(ent.m)} edges through the API")
        pages = api.bodies(ent, PAGE)
        alone = neo4j_alone(store, pages)
        with serve(work, uri, name="tier") as srv, httpx.Client(
                base_url=srv.url, timeout=1800) as client:
            rows += ingest_rows(alone, client, pages, size)
            del pages
            gc.collect()
            cis: list[dict[str, object]] = [{"down": list(s)} for s in facts["cis"]]  # type: ignore[attr-defined]
            t_imp, _ = api.timed(client, "POST", "/v1/impact", args.reps, bodies=cis,
                                 params={"limit": 1000})
            rows.append(Row("ordinary failure over HTTP (`POST /v1/impact`, a random CI)",
                            size, mt(t_imp), "p50 ≤ 5 ms", t_imp.median <= 0.005,
                            "answer with limit=1000, explained"))
            worst = {"down": [facts["worst_id"]]}
            t_worst, answers = api.timed(client, "POST", "/v1/impact", 10, body=worst,
                                         params={"limit": 1000})
            counts = answers[0].json()["counts"]
            rows.append(Row("worst single failure over HTTP", size, mt(t_worst), "", None,
                            f"{human(counts['impacted'])} impacted, "
                            f"{human(counts['broken_promises'])} promises broken; "
                            f"{len(answers[0].content) / 1e6:.1f} MB answer"))
            ids = api.random_ci_ids(ent, args.seed, 50)
            t_status, _ = api.timed(client, "POST", f"/v1/sources/{api.SOURCE}/status",
                                    args.reps, bodies=api.status_bodies(ids, start, 400),
                                    warm=STATUS_WARM)
            flat = t_status.median <= 0.020 and rows_small_status.median <= 0.020
            rows.append(Row("one status push, answered (`POST /v1/sources/{s}/status`)",
                            f"{small_size} / {size}",
                            f"{ms(rows_small_status.median)} / {ms(t_status.median)}",
                            "p50 ≤ 20 ms, flat", flat,
                            f"p95 {ms(rows_small_status.p95)} / {ms(t_status.p95)}; "
                            f"{t_status.median / rows_small_status.median:.1f}x from "
                            f"{small_size} to {size} nodes"))
            took, got = spof_until_ready(client, args.spof_limit)
            if took is None:
                rows.append(Row("single points of failure for all promises (`GET /v1/spof`)",
                                size, f"> {args.spof_limit:.0f} s", "≤ 60 s", False,
                                f"no table within the limit; {got}"))
            else:
                rows.append(Row("single points of failure for all promises (`GET /v1/spof`)",
                                size, ms(took), "≤ 60 s", took <= 60, got))
                t_cached, _ = api.timed(client, "GET", "/v1/spof", 20,
                                        params={"limit": 10})
                rows.append(Row("single points of failure, answered from the table",
                                size, mt(t_cached), "", None,
                                "`GET /v1/spof?limit=10` once the table is computed"))
            rss = srv.rss()
            rows.append(Row("memory of the API process", size, mib(rss), "", None,
                            "resident, after the graph was loaded and questioned"))

        if tier == "S":
            limit = args.cypher_limit
            took, reach = cypher_reach(driver, str(facts["worst_id"]), limit)
            engine = facts["engine_worst"].median  # type: ignore[attr-defined]
            worst_reach = facts["worst"].reach  # type: ignore[attr-defined]
            if reach is not None and reach != worst_reach:
                sys.exit(f"ABORT: Cypher reached {reach} nodes, the engine {worst_reach}")
            value = ms(took) if reach is not None else f"> {limit:.0f} s (time limit hit)"
            rows.append(Row("Cypher variable-length traversal, worst failure", size, value,
                            "engine ≥ 50x faster", took / engine >= 50,
                            f"`{api.SOURCE}` graph in Neo4j; reach "
                            f"{'same as the engine' if reach else 'not counted'}; "
                            f"engine answer {took / engine:,.0f}x faster"))

        # --- the naive whole-graph re-read per status push ----------------------------
        t_tier, read = reread(store, str(facts["worst_id"]))
        rows.append(Row("whole-graph re-read per status push (the naive way)",
                        f"{small_size} / {size}",
                        f"{ms(min(naive_small))} / {ms(t_tier)}", "", None,
                        f"read the graph from Neo4j, rebuild the index, answer; "
                        f"{human(read)} nodes read; {t_tier / min(naive_small):,.0f}x "
                        f"from {small_size} to {size} nodes"))

        # --- start-up from Neo4j to the first answer ------------------------------------
        with serve(work, uri, name="startup") as srv:
            took = api.first_answer(srv.url, {"down": [facts["worst_id"]]}, srv.started,
                                    600)
            rows.append(Row("start-up from Neo4j to the first answer", size, ms(took),
                            "≤ 60 s", took <= 60, "process spawned to first "
                            "`POST /v1/impact` answered"))

        # --- two workers ---------------------------------------------------------------
        with serve(work, uri, name="two", args=["--workers", "2"]) as srv:
            api.warm(srv.url, {"down": [facts["worst_id"]]}, 900)
            fresh_s = [api.freshness(srv.url, i, api.now_minus(600 - k))
                       for k, i in enumerate(api.random_ci_ids(ent, args.seed + 9, 5))]
            rows.append(Row("a pushed status reflected by `GET /v1/current`", size,
                            f"{ms(max(fresh_s))} (worst of {len(fresh_s)})", "≤ 1 s",
                            max(fresh_s) <= 1.0, "two workers; shown on four fresh "
                            "connections in a row"))
            done = api.concurrent_writes(srv.url, args.concurrent_rounds,
                                         api.now_minus(7200))
            five = sum(c for code, c in done.statuses.items() if code >= 500)
            rows.append(Row("two API workers, concurrent pushes and statuses", size,
                            f"{len(done.lost)} lost, {five} x 5xx", "0 lost, 0 x 5xx",
                            not done.lost and not five,
                            f"{human(done.requests)} requests in {done.seconds:.1f} s; "
                            f"answers {dict(done.statuses)}"))
        if alert_figures is not None:
            alert_figures += alert_rows(work, uri, ent, size, args)
        store.close()
        driver.close()
    return rows, version


def neo4j_alone(store: Neo4jStore, pages: list[tuple[bytes, int]]) -> api.Ingest:
    """The Neo4j side of a fresh ingest of ``pages`` alone (see :func:`api.store_alone`),
    on an emptied store, emptied again after: run before any server follows the store,
    so that none replays these writes meanwhile."""
    log("  the Neo4j side alone: the store's own statements, sent with the driver")
    batches = api.store_batches(pages, utc_now())
    store.clear()
    alone = api.store_alone(store, batches)
    store.clear()
    return alone


def ingest_rows(alone: api.Ingest, client: httpx.Client, pages: list[tuple[bytes, int]],
                size: str) -> list[Row]:
    """Ingest through the API (fresh, then the same pages again) into an empty store,
    beside the Neo4j side alone (:func:`neo4j_alone`) measured in the same run."""
    log("  the same pages through the API")
    fresh = api.push_all(client, pages)
    again = api.push_all(client, pages)
    added = fresh.seconds - alone.seconds
    return [
        Row("ingest into Neo4j through the API (fresh items)", size,
            f"{fresh.rate:,.0f} items/s", "≥ 25,000 items/s", fresh.rate >= 25_000,
            f"{human(fresh.items)} items in {fresh.pushes} NDJSON pushes, "
            f"{fresh.seconds:,.1f} s; {dict(fresh.counts)}; the API adds {added:,.1f} s "
            f"({added / fresh.seconds:.0%}) to the Neo4j side alone"),
        Row("the Neo4j side of that ingest alone", size, f"{alone.rate:,.0f} items/s", "",
            None, f"{alone.seconds:,.1f} s: the same pages' `UNWIND` batches and journal "
            "entries, one transaction a page, sent directly with the driver"),
        Row("unchanged re-push", size, f"{again.rate:,.0f} items/s", "≥ 150,000 items/s",
            again.rate >= 150_000, f"{again.seconds:,.1f} s; {dict(again.counts)}"),
    ]


def ingest_only(args: argparse.Namespace) -> int:
    """``--only ingest``: the ingest rows alone (through the API, the Neo4j side alone,
    the unchanged re-push), in their own section."""
    started, load_before = time.perf_counter(), load()
    n = args.nodes or TIERS[args.tier]
    size = human(n)
    log(f"ingest, tier {args.tier}: generating {size} nodes")
    pages = api.bodies(generate(n, args.seed), PAGE)
    work = Path(tempfile.mkdtemp(prefix="sg-bench-ingest-"))
    with contextlib.ExitStack() as stack:
        uri = args.neo4j_uri or stack.enter_context(
            local_neo4j(ROOT / ".neo4j" / "bench", args.heap, args.pagecache))
        store = Neo4jStore(uri)
        stack.callback(store.close)
        version = server_version(store.driver)
        alone = neo4j_alone(store, pages)
        srv = stack.enter_context(serve(work, uri, name="ingest"))
        client = stack.enter_context(httpx.Client(base_url=srv.url, timeout=1800))
        rows = ingest_rows(alone, client, pages, size)
    for r in rows:
        log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")
    lines = [f"## Ingest at tier {args.tier}: {size} nodes", "",
             f"`python -m benchmarks --only ingest --tier {args.tier}`; "
             f"{time.perf_counter() - started:,.0f} s; load average {load_before} at the "
             f"start, {load()} at the end (the machine may be shared)", "",
             *machine(version), "", *table(rows), ""]
    print("\n".join(lines))
    write_section(args.out, f"ingest {args.tier}", lines)
    return 0


def alert_rows(work: Path, uri: str, ent: Enterprise, size: str,
               args: argparse.Namespace) -> list[Row]:
    """The incident loop's figures (see :mod:`benchmarks.alerts`)."""
    log("alerts in: one alert, a storm, notifications, one by one")
    return alerts.alert_rows(work / "alerts", uri, ent, size, seed=args.seed,
                             reps=args.alert_reps, naive=args.naive_alerts)


def alerts_only(args: argparse.Namespace) -> int:
    """``--only alerts``: the incident loop's figures alone, in their own section."""
    started = time.perf_counter()
    n = args.nodes or TIERS[args.tier]
    size = human(n)
    log(f"alerts, tier {args.tier}: generating {size} nodes")
    ent = generate(n, args.seed)
    work = Path(tempfile.mkdtemp(prefix="sg-bench-alerts-"))
    if args.neo4j_uri:
        rows = alert_rows(work, args.neo4j_uri, ent, size, args)
        driver = neo4j.GraphDatabase.driver(args.neo4j_uri, notifications_min_severity="OFF")
        version = server_version(driver)
        driver.close()
    else:
        with local_neo4j(ROOT / ".neo4j" / "bench", args.heap, args.pagecache) as uri:
            rows = alert_rows(work, uri, ent, size, args)
            driver = neo4j.GraphDatabase.driver(uri, notifications_min_severity="OFF")
            version = server_version(driver)
            driver.close()
    write_alerts(args, rows, size, started, version)
    return 0


def write_alerts(args: argparse.Namespace, rows: list[Row], size: str, started: float,
                 version: str | None) -> None:
    """Print the alert figures and write their section of the page."""
    for r in rows:
        log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")
    lines = alerts.section(rows, args.tier, size, time.perf_counter() - started,
                           lambda found: [*machine(version), "", *table(found)])
    print("\n".join(lines))
    write_section(args.out, f"alerts tier {args.tier}", lines)


def spof_until_ready(client: httpx.Client, limit: float) -> tuple[float | None, str]:
    """Ask for the ranked single points of failure until the table for the present graph
    is there (the server answers 503 with Retry-After while computing it): seconds from
    the first question to the answer, or None past ``limit``."""
    t0 = time.perf_counter()
    waits = 0
    while True:
        r = client.get("/v1/spof", params={"limit": 10}, timeout=limit)
        took = time.perf_counter() - t0
        if r.status_code == 200:
            body = r.json()
            return took, (f"{len(body.get('single_points', []))} ranked, "
                          f"{waits} answers 503 (computing) before it")
        if r.status_code != 503 or took > limit:
            return None, f"{r.status_code}: {r.text[:120]}"
        waits += 1
        time.sleep(min(float(r.headers.get("Retry-After", "1")), 5.0))


def write(out: Path, tier: str, lines: Sequence[str]) -> None:
    """Replace this tier's section of the page (the rest is kept)."""
    write_section(out, f"tier {tier}", lines)


def write_section(out: Path, name: str, lines: Sequence[str]) -> None:
    """Replace the section ``name`` of the page (the rest is kept)."""
    begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    text = out.read_text(encoding="utf-8") if out.exists() else ""
    section = "\n".join([begin, *lines, end])
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    out.write_text(text, encoding="utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--tier", choices=sorted(TIERS), default="S")
    parser.add_argument("--nodes", type=int, help="override the tier's size")
    parser.add_argument("--small", type=int, default=10_000,
                        help="the small size status pushes are compared at")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--budget", type=float, default=2.0,
                        help="seconds of timing per in-process measurement")
    parser.add_argument("--reps", type=int, default=200, help="requests per HTTP figure")
    parser.add_argument("--heap", default="6g", help="Neo4j heap")
    parser.add_argument("--pagecache", default="3g", help="Neo4j page cache")
    parser.add_argument("--cypher-limit", type=float, default=120.0)
    parser.add_argument("--spof-limit", type=float, default=300.0)
    parser.add_argument("--concurrent-rounds", type=int, default=30)
    parser.add_argument("--no-api", action="store_true",
                        help="in-process figures only (no Neo4j, no server)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--only", choices=["cli", "routes", "startup", "alerts", "record",
                                           "inprocess", "ingest", "tier"],
                        help="run only this section (cli: the command line from the shell; "
                             "tier: the tier's own section, then start-up and the record; "
                             "inprocess: the engine in process, on the tier's graph and "
                             "the worst single failure of each shape, no Neo4j; "
                             "routes: the routes of one item and the catalogues at two sizes; "
                             "startup: start-up from a snapshot against the whole read; "
                             "alerts: alerts in over HTTP, at --tier; "
                             "record: the promise record over a month of incidents; "
                             "ingest: ingest through the API beside the Neo4j side alone, "
                             "and the unchanged re-push, at --tier)")
    parser.add_argument("--neo4j-uri",
                        help="the start-up, alert, record and ingest sections' Neo4j: a "
                             "running one, "
                             "emptied (default: the local one the run starts)")
    parser.add_argument("--alert-reps", type=int, default=200,
                        help="one-alert webhooks timed (each fires, then resolves)")
    parser.add_argument("--naive-alerts", type=int, default=500,
                        help="alerts sent one webhook each (the naive way)")
    parser.add_argument("--record-incidents", type=int,
                        help="the record section's incidents (default: the tier's), to time a "
                             "smaller history at the tier's size")
    parser.add_argument("--cli-reps", type=int, default=5,
                        help="runs of each command timed (after a warm-up)")
    args = parser.parse_args(argv)
    if args.only == "startup":
        run_startup(args)
        return 0
    if args.only == "alerts":
        return alerts_only(args)
    if args.only == "ingest":
        return ingest_only(args)
    if args.only == "record":
        run_record(args)
        return 0
    if args.only in (None, "cli"):
        cli_started = time.perf_counter()
        log("the command line from the shell")
        with tempfile.TemporaryDirectory(prefix="sg-bench-cli-") as work:
            cli = cli_rows(Path(work), args.seed, reps=args.cli_reps)
        for r in cli:
            log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")
        cli_lines = cli_section(cli, args.cli_reps, cli_started)
        print("\n".join(cli_lines))
        write_section(args.out, "cli", cli_lines)
    if args.only == "cli":
        return 0
    if args.only == "inprocess":
        return inprocess_only(args)
    if args.only in (None, "routes"):
        routes_started = time.perf_counter()
        log("routes in proportion to their answers")
        with tempfile.TemporaryDirectory(prefix="sg-bench-routes-") as work:
            found = routes_rows(Path(work), args.tier, args.seed)
        for r in found:
            log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")
        routes_lines = routes_section(found, args.tier, routes_started)
        print("\n".join(routes_lines))
        write_section(args.out, f"routes {args.tier}", routes_lines)
    if args.only == "routes":
        return 0
    n = args.nodes or TIERS[args.tier]
    size = human(n)
    started, load_before = time.perf_counter(), load()

    log(f"tier {args.tier}: generating {size} nodes")
    ent = generate(n, args.seed)
    small = generate(args.small, args.seed)
    log("engine in process")
    rows, facts = engine_rows(ent, args.seed, budget=args.budget, with_nx=n <= 200_000,
                              size=size)
    log("the worst single failure on each shape")
    rows += shape_rows(shapes(ent, n, args.seed), args.seed, budget=args.budget)
    log("engine against the naive evaluator")
    rows += naive_rows(small, args.seed, human(small.n), budget=4.0)
    version = None
    alert_figures: list[Row] = []
    if not args.no_api:
        more, version = api_rows(ent, small, facts, args.tier, size, args, alert_figures)
        rows += more
        write_alerts(args, alert_figures, size, started, version)
    for r in rows:
        log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")

    lines = [
        f"## Tier {args.tier}: {size} nodes, {human(ent.m)} edges",
        "",
        f"`make bench TIER={args.tier}` ({' '.join(sys.argv[1:]) or 'defaults'}); "
        f"whole run {time.perf_counter() - started:,.0f} s; load average {load_before} at "
        f"the start, {load()} at the end (the machine may be shared)",
        "",
        *machine(version),
        "",
        *table(rows),
        "",
        shortfall(rows),
        "",
    ]
    print("\n".join(lines))
    write(args.out, args.tier, lines)
    if not args.no_api:
        run_startup(args)
        run_record(args)
    return 0


def shapes(ent: Enterprise, n: int, seed: int) -> dict[str, Enterprise]:
    """Every shape at ``n`` nodes (the benchmark's own graph, ``ent``, as it is)."""
    return {name: ent if name == "enterprise" else make(n, seed)
            for name, make in SHAPES.items()}


def inprocess_only(args: argparse.Namespace) -> int:
    """``--only inprocess``: the engine in process on the tier's graph and the worst
    single failure of every shape, in their own section (no Neo4j, no server)."""
    started, load_before = time.perf_counter(), load()
    n = args.nodes or TIERS[args.tier]
    size = human(n)
    log(f"in process, tier {args.tier}: generating {size} nodes")
    ent = generate(n, args.seed)
    rows, _ = engine_rows(ent, args.seed, budget=args.budget, with_nx=n <= 200_000,
                          size=size)
    log("the worst single failure on each shape")
    rows += shape_rows(shapes(ent, n, args.seed), args.seed, budget=args.budget)
    for r in rows:
        log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")
    lines = [
        f"### The engine in process, tier {args.tier}: {size} nodes, {human(ent.m)} edges",
        "",
        f"`python -m benchmarks --only inprocess --tier {args.tier}`; whole run "
        f"{time.perf_counter() - started:,.0f} s; load average {load_before} at the start, "
        f"{load()} at the end (the machine may be shared)",
        "",
        *machine(None),
        "",
        *table(rows),
        "",
        shortfall(rows),
        "",
    ]
    print("\n".join(lines))
    write_section(args.out, f"inprocess {args.tier}", lines)
    return 0


def run_record(args: argparse.Namespace) -> None:
    """The promise record over a month of incidents, on both stores: its own section."""
    started = time.perf_counter()
    sizes = RECORD_SIZES[args.tier]
    if args.record_incidents:
        sizes = replace(sizes, incidents=args.record_incidents)
    with tempfile.TemporaryDirectory(prefix="sg-bench-record-") as work:
        if args.neo4j_uri:
            rows, version = record_rows(Path(work), args.tier, args.seed, args.neo4j_uri,
                                        sizes)
        else:
            with local_neo4j(ROOT / ".neo4j" / "bench", args.heap, args.pagecache) as uri:
                rows, version = record_rows(Path(work), args.tier, args.seed, uri, sizes)
    for r in rows:
        log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")
    lines = record_section(rows, args.tier, sizes, started, version)
    print("\n".join(lines))
    write_section(args.out, f"record {args.tier}", lines)


def run_startup(args: argparse.Namespace) -> None:
    """Start-up from a snapshot against the whole read: its own section of the page."""
    started = time.perf_counter()
    sizes = STARTUP_SIZES[args.tier]
    work = Path(tempfile.mkdtemp(prefix="sg-bench-startup-"))
    if args.neo4j_uri:
        rows = startup_rows(work, sizes, args.seed, args.neo4j_uri)
    else:
        with local_neo4j(ROOT / ".neo4j" / "bench", args.heap, args.pagecache) as uri:
            rows = startup_rows(work, sizes, args.seed, uri)
    for r in rows:
        log(f"  {r.figure} [{r.size}]: {r.value} ({r.verdict})")
    lines = startup_section(rows, args.tier, sizes, started, table(rows))
    print("\n".join(lines))
    write_section(args.out, f"startup {args.tier}", lines)


if __name__ == "__main__":
    raise SystemExit(main())
