"""Every route in proportion to its answer: the routes of one item, a neighbourhood, a
node's provenance and the catalogues, over HTTP, at two sizes of one embedded store.

Each size is the synthetic enterprise written into an embedded (SQLite) store and
served by a real ``servicegraph serve`` process; a client in this process times each
route after warm-ups. Beside it, in the same run and over the same store, the naive
way each route replaced: a whole-graph build. For the routes of one item, the whole
graph read from the store (``store.read()``) to learn whether the item exists; for a
catalogue, the whole live graph built as model objects and the catalogue computed on
it. The routes of one item should stay flat from the small size to the large; a
catalogue grows with what it lists, the naive way with the whole graph.
"""

from __future__ import annotations

import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import httpx

from benchmarks.cli import load_store
from benchmarks.enterprise import Enterprise, generate
from benchmarks.report import Row, human, log
from benchmarks.server import serve
from benchmarks.timing import Timing, bench, ms

#: The sizes of each tier: the growth from the first to the second shows.
SIZES = {"S": (10_000, 100_000), "M": (100_000, 1_000_000)}
#: A route of one item is flat when its median grows at most this much between sizes.
FLAT = 2.0
#: Each route of one item is timed this many times (after warm-ups).
REPS = 60
#: A catalogue (its answer grows with the graph) is timed this many times.
CATALOGUE_REPS = 5


def _quote(node_id: str) -> str:
    return urllib.parse.quote(node_id, safe="")


def _timed(call: Callable[[int], httpx.Response], expect: int, reps: int,
           warm: int = 3) -> Timing:
    """``call(i)`` for i in 0..reps+warm, each timed from send to full answer; every
    answer must have the status ``expect``."""
    samples = []
    for i in range(reps + warm):
        t0 = time.perf_counter()
        r = call(i)
        took = time.perf_counter() - t0
        if r.status_code != expect:
            raise RuntimeError(f"{r.request.method} {r.request.url} answered "
                               f"{r.status_code}, not {expect}: {r.text[:300]}")
        if i >= warm:
            samples.append(took)
    return Timing(tuple(samples))


#: Opens a client of a server over the embedded store at a path (the work folder given).
Connect = Callable[[Path, Path], AbstractContextManager[httpx.Client]]


@contextmanager
def served(db: Path, work: Path) -> Iterator[httpx.Client]:
    """A client of a real ``servicegraph serve`` process over ``db``."""
    with serve(work, str(db), name=f"routes-{db.stem}") as srv, httpx.Client(
            base_url=srv.url, timeout=600) as client:
        yield client


def _one_size(ent: Enterprise, db: Path, work: Path, reps: int, catalogue_reps: int,
              connect: Connect) -> tuple[dict[str, Timing], dict[str, float], dict[str, int]]:
    """The routes' timings over a server on ``db``, the naive ways' (median seconds),
    and the size of each catalogue's answer in bytes."""
    # Nodes of the same standing at both sizes: the last of their blocks are in their own
    # stacks, not the hubs (the first of a block), whose neighbourhoods grow with it.
    ci = ent.ids[ent.blocks["platform"][1] - 3]
    system = ent.ids[ent.blocks["system"][1] - 7]
    found: dict[str, Timing] = {}
    sizes: dict[str, int] = {}
    with connect(db, work) as c:
        r = c.get(f"/v1/nodes/{_quote(ci)}")  # the server reads its graph now
        if r.status_code != 200:
            raise RuntimeError(f"the server answered {r.status_code}: {r.text[:300]}")
        node = f"/v1/nodes/{_quote(ci)}"
        found["GET /v1/nodes/{id}"] = _timed(lambda i: c.get(node), 200, reps)

        def new(i: int) -> str:
            return f"/v1/nodes/route-bench-{ent.n}-{i}"

        body = {"kind": "ci", "name": "Route bench"}
        found["PUT /v1/nodes/{id} (created)"] = _timed(lambda i: c.put(new(i), json=body),
                                                       201, reps)
        found["PUT /v1/nodes/{id} (replaced)"] = _timed(
            lambda i: c.put(new(i), json={**body, "name": f"Route bench {i}"}), 200, reps)
        found["PUT /v1/edges (created)"] = _timed(
            lambda i: c.put("/v1/edges", json={"from": f"route-bench-{ent.n}-{i}", "to": ci}),
            201, reps)
        found["DELETE /v1/edges"] = _timed(
            lambda i: c.delete("/v1/edges", params={"from": f"route-bench-{ent.n}-{i}",
                                                    "to": ci}), 204, reps)
        found["DELETE /v1/nodes/{id}"] = _timed(lambda i: c.delete(new(i)), 204, reps)
        around = f"/v1/nodes/{_quote(system)}/neighbourhood"
        for depth in (1, 2):
            found[f"GET /v1/nodes/{{id}}/neighbourhood (depth {depth})"] = _timed(
                lambda i, d=depth: c.get(around, params={"depth": d}), 200, reps)  # type: ignore[misc]
        for depth in (1, 2):
            got = c.get(around, params={"depth": depth}).json()
            sizes[f"depth {depth}"] = len(got["nodes"]) + len(got["edges"])
        found["GET /v1/nodes/{id}/provenance"] = _timed(
            lambda i: c.get(f"{node}/provenance"), 200, reps)
        for which in ("promises", "service-acts", "service-systems"):
            path = f"/v1/catalogue/{which}"
            found[f"GET /v1/catalogue/{which}"] = _timed(lambda i, p=path: c.get(p), 200,  # type: ignore[misc]
                                                         catalogue_reps, warm=1)
            sizes[which] = len(c.get(path).content)
    return found, _naive(db, ci), sizes


def _naive(db: Path, ci: str) -> dict[str, float]:
    """The whole-graph builds the routes replaced, over the same store (median seconds)."""
    from servicegraph.core import ServiceGraph
    from servicegraph.runtime.questions import CATALOGUES
    from servicegraph.store import SqliteStore

    store = SqliteStore(str(db))
    graph = ServiceGraph(store)
    try:
        out: dict[str, float] = {}
        read = bench(lambda _: ci in store.read().node_map(), [None], budget=0.0,
                     min_reps=3, max_reps=3)
        out["read"] = read.median
        with graph.questions.reading() as live:
            for which, make in CATALOGUES.items():
                took = bench(lambda _, m=make: m(live.graph().live()), [None],  # type: ignore[misc]
                             budget=0.0, min_reps=3, max_reps=3)
                out[which] = took.median
                took = bench(lambda _, m=make: m(live.links()), [None],  # type: ignore[misc]
                             budget=0.0, min_reps=3, max_reps=3)
                out[f"live {which}"] = took.median
        return out
    finally:
        graph.close()


def routes_rows(work: Path, tier: str, seed: int, *, reps: int = REPS,
                catalogue_reps: int = CATALOGUE_REPS, sizes: Sequence[int] | None = None,
                connect: Connect = served) -> list[Row]:
    """The section's rows: each route at the tier's two sizes, against the naive way
    (``connect``: how the server is reached, a real process by default)."""
    small, large = sizes or SIZES[tier]
    timings: list[dict[str, Timing]] = []
    naive: list[dict[str, float]] = []
    answers: list[dict[str, int]] = []
    for n in (small, large):
        log(f"routes at {human(n)} nodes: writing the embedded store")
        ent = generate(n, seed)
        db = work / f"routes-{n}.db"
        db.unlink(missing_ok=True)
        load_store(ent, db, seed)
        log(f"routes at {human(n)} nodes: timing")
        t, nv, a = _one_size(ent, db, work, reps, catalogue_reps, connect)
        timings.append(t)
        naive.append(nv)
        answers.append(a)
    label = f"{human(small)} / {human(large)}"
    rows: list[Row] = []
    for route in timings[0]:
        a, b = timings[0][route], timings[1][route]
        growth = b.median / a.median
        which = route.removeprefix("GET /v1/catalogue/") if "catalogue" in route else None
        if which is None:
            way = [nv["read"] for nv in naive]
            depth = next((d for d in ("depth 1", "depth 2") if d in route), None)
            items = ("" if depth is None else
                     f"{answers[0][depth]} / {answers[1][depth]} nodes and edges; ")
            rows.append(Row(
                f"`{route}`", label, f"{ms(a.median)} / {ms(b.median)}",
                f"≤ {FLAT:g}x from {human(small)} to {human(large)}", growth <= FLAT,
                f"{items}{growth:.1f}x; p95 {ms(a.p95)} / {ms(b.p95)} ({a.reps}); naive way "
                f"(the whole graph read from the store): {ms(way[0])} / {ms(way[1])}, "
                f"{way[1] / b.median:,.0f}x slower at {human(large)}"))
        else:
            way = [nv[which] for nv in naive]
            own = [nv[f"live {which}"] for nv in naive]
            size = [ans[which] for ans in answers]
            rows.append(Row(
                f"`{route}`", label, f"{ms(a.median)} / {ms(b.median)}", "", None,
                f"{growth:.1f}x, the answer {size[1] / size[0]:.1f}x "
                f"({size[0] / 1e3:,.0f} / {size[1] / 1e3:,.0f} kB); in process, read from "
                f"the live graph {ms(own[0])} / {ms(own[1])}, the naive way (the whole "
                f"live graph built as model objects, then the catalogue) "
                f"{ms(way[0])} / {ms(way[1])}"))
    return rows


def section(rows: Sequence[Row], tier: str, started: float,
            sizes: Sequence[int] | None = None) -> list[str]:
    """The page's section for the routes."""
    from benchmarks.report import load, machine, table

    small, large = sizes or SIZES[tier]
    return [
        f"## Routes in proportion to their answers (tier {tier})",
        "",
        f"`python -m benchmarks --tier {tier} --only routes` (also run by `make bench`); "
        f"a `servicegraph serve` process over an embedded store of {human(small)} and of "
        f"{human(large)} nodes, each route timed over HTTP from this process (median, "
        f"{REPS} requests after warm-ups for a route of one item, {CATALOGUE_REPS} for a "
        "catalogue); the naive way measured in the same run over the same store. "
        f"Whole run {time.perf_counter() - started:,.0f} s; load average {load()} at "
        "the end (the machine may be shared).",
        "",
        *machine(None),
        "",
        *table(rows),
        "",
        f"{sum(r.met is False for r in rows)} of {sum(r.met is not None for r in rows)} "
        "targets not met.",
        "",
    ]


__all__ = ["SIZES", "routes_rows", "section"]
