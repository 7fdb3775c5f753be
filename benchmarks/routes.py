"""Every route in proportion to its answer: the routes of one item, a neighbourhood, a
node's provenance and the catalogues, over HTTP, at two sizes of one embedded store.

Each size is the synthetic enterprise written into an embedded (SQLite) store and
served by a real ``servicegraph serve`` process, both at once; a client in this
process times each route after warm-ups, its requests to the two sizes taking turns,
so that other work on a shared machine weighs on both sizes alike. Beside it, in the
same run and over the same store, the naive way each route replaced: a whole-graph
build. For the routes of one item, the whole graph read from the store
(``store.read()``) to learn whether the item exists; for a catalogue, the whole live
graph built as model objects and the catalogue computed on it. The routes of one item
should stay flat from the small size to the large; a catalogue grows with what it
lists, the naive way with the whole graph.
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


Call = Callable[[httpx.Client, "Size", int], httpx.Response]


class Size:
    """One size: its enterprise, its store and the nodes the routes ask about."""

    def __init__(self, ent: Enterprise, db: Path) -> None:
        self.ent, self.db = ent, db
        # Nodes of the same standing at both sizes: the last of their blocks are in their
        # own stacks, not the hubs (the first of a block), whose neighbourhoods grow with it.
        self.ci = ent.ids[ent.blocks["platform"][1] - 3]
        self.node = f"/v1/nodes/{_quote(self.ci)}"
        system = ent.ids[ent.blocks["system"][1] - 7]
        self.around = f"/v1/nodes/{_quote(system)}/neighbourhood"

    def new(self, i: int) -> str:
        """A node the write routes create, change and delete."""
        return f"route-bench-{self.ent.n}-{i}"


def _timed(clients: Sequence[httpx.Client], sizes: Sequence[Size], call: Call, expect: int,
           reps: int, warm: int = 3) -> list[Timing]:
    """``call`` ``reps`` times per size (after ``warm`` warm-ups), the sizes taking turns
    request by request, so that other work on the machine weighs on both alike; each
    timed from send to full answer, each answer of the status ``expect``."""
    samples: list[list[float]] = [[] for _ in clients]
    for i in range(reps + warm):
        for k, (c, size) in enumerate(zip(clients, sizes, strict=True)):
            t0 = time.perf_counter()
            r = call(c, size, i)
            took = time.perf_counter() - t0
            if r.status_code != expect:
                raise RuntimeError(f"{r.request.method} {r.request.url} answered "
                                   f"{r.status_code}, not {expect}: {r.text[:300]}")
            if i >= warm:
                samples[k].append(took)
    return [Timing(tuple(s)) for s in samples]


#: The routes of one item: (name, the call, the status it answers).
ONE_ITEM: tuple[tuple[str, Call, int], ...] = (
    ("GET /v1/nodes/{id}", lambda c, s, i: c.get(s.node), 200),
    ("PUT /v1/nodes/{id} (created)",
     lambda c, s, i: c.put(f"/v1/nodes/{s.new(i)}", json={"kind": "ci", "name": "Bench"}), 201),
    ("PUT /v1/nodes/{id} (replaced)",
     lambda c, s, i: c.put(f"/v1/nodes/{s.new(i)}", json={"kind": "ci", "name": f"B {i}"}),
     200),
    ("PUT /v1/edges (created)",
     lambda c, s, i: c.put("/v1/edges", json={"from": s.new(i), "to": s.ci}), 201),
    ("DELETE /v1/edges",
     lambda c, s, i: c.delete("/v1/edges", params={"from": s.new(i), "to": s.ci}), 204),
    ("DELETE /v1/nodes/{id}", lambda c, s, i: c.delete(f"/v1/nodes/{s.new(i)}"), 204),
    ("GET /v1/nodes/{id}/neighbourhood (depth 1)",
     lambda c, s, i: c.get(s.around, params={"depth": 1}), 200),
    ("GET /v1/nodes/{id}/neighbourhood (depth 2)",
     lambda c, s, i: c.get(s.around, params={"depth": 2}), 200),
    ("GET /v1/nodes/{id}/provenance", lambda c, s, i: c.get(f"{s.node}/provenance"), 200),
)
CATALOGUE_NAMES = ("promises", "service-acts", "service-systems")


#: Opens a client of a server over the embedded store at a path (the work folder given).
Connect = Callable[[Path, Path], AbstractContextManager[httpx.Client]]


@contextmanager
def served(db: Path, work: Path) -> Iterator[httpx.Client]:
    """A client of a real ``servicegraph serve`` process over ``db``."""
    with serve(work, str(db), name=f"routes-{db.stem}") as srv, httpx.Client(
            base_url=srv.url, timeout=600) as client:
        yield client


def _both_sizes(sizes: Sequence[Size], work: Path, reps: int, catalogue_reps: int,
                connect: Connect) -> tuple[dict[str, list[Timing]], list[dict[str, int]]]:
    """The routes' timings at each size (servers over both stores at once), and the size
    of some answers (catalogues in bytes, neighbourhoods in nodes and edges)."""
    found: dict[str, list[Timing]] = {}
    answers: list[dict[str, int]] = [{} for _ in sizes]
    with connect(sizes[0].db, work) as c0, connect(sizes[1].db, work) as c1:
        clients = (c0, c1)
        for c, size in zip(clients, sizes, strict=True):
            r = c.get(size.node)  # the server reads its graph now
            if r.status_code != 200:
                raise RuntimeError(f"the server answered {r.status_code}: {r.text[:300]}")
        for route, call, expect in ONE_ITEM:
            found[route] = _timed(clients, sizes, call, expect, reps)
        for which in CATALOGUE_NAMES:
            path = f"/v1/catalogue/{which}"
            found[f"GET /v1/catalogue/{which}"] = _timed(
                clients, sizes, lambda c, s, i, p=path: c.get(p), 200,  # type: ignore[misc]
                catalogue_reps, warm=1)
        for c, size, into in zip(clients, sizes, answers, strict=True):
            for which in CATALOGUE_NAMES:
                into[which] = len(c.get(f"/v1/catalogue/{which}").content)
            for depth in (1, 2):
                got = c.get(size.around, params={"depth": depth}).json()
                into[f"depth {depth}"] = len(got["nodes"]) + len(got["edges"])
    return found, answers


#: Above this many nodes a naive way is timed once (each takes minutes at 1M nodes).
NAIVE_ONCE_ABOVE = 500_000


def _naive(db: Path, ci: str, n: int) -> dict[str, float]:
    """The whole-graph builds the routes replaced, over the same store (median seconds)."""
    from servicegraph.core import ServiceGraph
    from servicegraph.runtime.questions import CATALOGUES
    from servicegraph.store import SqliteStore

    store = SqliteStore(str(db))
    graph = ServiceGraph(store)
    reps = 1 if n > NAIVE_ONCE_ABOVE else 3
    try:
        out: dict[str, float] = {}
        read = bench(lambda _: ci in store.read().node_map(), [None], budget=0.0,
                     min_reps=reps, max_reps=reps, warm=False)
        out["read"] = read.median
        with graph.questions.reading() as live:
            for which, make in CATALOGUES.items():
                took = bench(lambda _, m=make: m(live.graph().live()), [None],  # type: ignore[misc]
                             budget=0.0, min_reps=reps, max_reps=reps, warm=False)
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
    sizes_: list[Size] = []
    for n in (small, large):
        log(f"routes at {human(n)} nodes: writing the embedded store")
        ent = generate(n, seed)
        db = work / f"routes-{n}.db"
        db.unlink(missing_ok=True)
        load_store(ent, db, seed)
        sizes_.append(Size(ent, db))
    log("routes: timing at both sizes, in turns")
    timings, answers = _both_sizes(sizes_, work, reps, catalogue_reps, connect)
    log("routes: the naive ways")
    naive = [_naive(size.db, size.ci, size.ent.n) for size in sizes_]
    label = f"{human(small)} / {human(large)}"
    rows: list[Row] = []
    for route, (a, b) in timings.items():
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
    from benchmarks.report import load, machine, shortfall, table

    small, large = sizes or SIZES[tier]
    return [
        f"## Routes in proportion to their answers (tier {tier})",
        "",
        f"`python -m benchmarks --tier {tier} --only routes` (also run by `make bench`); "
        f"a `servicegraph serve` process over an embedded store of {human(small)} and "
        f"one of {human(large)} nodes, both at once, each route timed over HTTP from this "
        "process, requests to the two sizes taking turns (median, "
        f"{REPS} requests after warm-ups for a route of one item, {CATALOGUE_REPS} for a "
        "catalogue); the naive way measured in the same run over the same store. "
        f"Whole run {time.perf_counter() - started:,.0f} s; load average {load()} at "
        "the end (the machine may be shared).",
        "",
        *machine(None),
        "",
        *table(rows),
        "",
        shortfall(rows),
        "",
    ]


__all__ = ["SIZES", "routes_rows", "section"]
