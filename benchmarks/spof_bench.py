"""Single points of failure on synthetic enterprises: time and memory, checked against the engine.

Run from the repository root::

    python benchmarks/spof_bench.py [--nodes 100000 1000000] [--workers 2] [--check 300]

For each size it builds the seeded synthetic enterprise of ``impact_bench.py``
straight from arrays, then:

1. takes a frozen copy of the index (as a server does) and computes every
   promise's single points of failure on it at once (``SpofTable.compute``), after
   a warm-up on a small graph so that compiling the kernels is not counted, and
   reports the wall-clock and CPU time and the memory (resident set before, the
   peak during, sampled, and the size of what the table keeps);
2. answers from the table: the ranking's first page (10 and 1000 entries), and
   the single points of one promise (a page of 100) for a few promises;
3. checks the table against the engine on ``--check`` random components: the
   promises each breaks alone must be exactly the ones the engine leaves down
   when it alone is down.

Nothing here is a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import threading
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from impact_bench import generate

from servicegraph.impact import propagate
from servicegraph.impact.spof_table import SpofTable, compile_kernels
from servicegraph.model import NodeKind, State


def rss_mib() -> float:
    """The resident set of this process now, in MiB."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


class PeakRss:
    """The largest resident set while the block runs, sampled every 20 ms, in MiB."""

    def __enter__(self) -> PeakRss:
        self.peak = rss_mib()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib())

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mib())


def kept_mib(table: SpofTable) -> float:
    """What the table keeps beside the index, in MiB."""
    seen: dict[int, np.ndarray] = {}
    todo: list[object] = [table]
    while todo:  # the arrays the table holds, in its attributes, tuples and helpers
        item = todo.pop()
        if isinstance(item, np.ndarray):
            seen.setdefault(id(item), item)
        elif isinstance(item, tuple | list):
            todo += item
        elif hasattr(item, "__dict__") and item is not table.index:
            todo += list(vars(item).values())
    return sum(a.nbytes for a in seen.values()) / 2**20


def timed(call, *args, **kwargs):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    out = call(*args, **kwargs)
    return out, time.perf_counter() - wall, time.process_time() - cpu


def run(n: int, workers: int, check: int) -> None:
    enterprise = generate(n)
    index = enterprise.index()
    gc.collect()
    before = rss_mib()
    print(f"\n## {n:,} nodes, {index.edge_count:,} edges, {index.group_count:,} groups, "
          f"{len(index.of_kind(NodeKind.PROMISE)):,} promises")
    print(f"resident with the index: {before:,.0f} MiB")
    frozen, snap, _ = timed(index.snapshot)
    copied = rss_mib()
    with PeakRss() as peak:
        table, wall, cpu = timed(SpofTable.compute, frozen, workers=workers)
    print(f"frozen copy of the index (what a server computes on): {snap:.1f} s, "
          f"+{copied - before:,.0f} MiB")
    print(f"compute ({workers} worker(s)): {wall:.1f} s wall, {cpu:.1f} s CPU; peak "
          f"+{peak.peak - copied:,.0f} MiB over the copy; the table keeps "
          f"{kept_mib(table):,.0f} MiB beside its index; {table.components:,} components "
          f"break a promise")

    for limit in (10, 1000):
        (page, total), wall, _ = timed(table.ranking, limit=limit)
        print(f"ranking, first {limit}: {wall * 1000:.0f} ms (of {total:,}); "
              f"top: {page[0].component} breaks {len(page[0].breaks):,}, "
              f"puts {len(page[0].at_risk):,} at risk")
    rng = np.random.default_rng(3)
    promises = index.of_kind(NodeKind.PROMISE)
    for p in rng.choice(promises, 3, replace=False).tolist():
        (page, total), wall, _ = timed(table.of_promise, index.ids[p], limit=100)
        print(f"promise {index.ids[p]}: {total:,} single points, page of {len(page)} "
              f"in {wall * 1000:.0f} ms")

    kinds = index.kind_codes
    lower = np.flatnonzero(kinds >= 3)  # service systems and CIs
    sample = rng.choice(lower, min(check, len(lower)), replace=False)
    promise = np.zeros(index.node_count, dtype=bool)
    promise[promises] = True
    wrong = 0
    t0 = time.perf_counter()
    for c in sample.tolist():
        p = propagate(index, {c: int(State.DOWN)})
        down = p.nodes[(p.states == int(State.DOWN)) & promise[p.nodes]]
        expected = sorted(index.ids[v] for v in down.tolist())
        got = table.points(np.array([c], dtype=np.int64))[0]
        wrong += list(got.breaks) != expected
    print(f"checked against the engine: {len(sample)} components, {wrong} differ "
          f"({time.perf_counter() - t0:.1f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--check", type=int, default=300)
    args = parser.parse_args()
    compile_kernels()
    for n in args.nodes:
        run(n, args.workers, args.check)


if __name__ == "__main__":
    main()
