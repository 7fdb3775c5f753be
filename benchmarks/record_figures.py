"""The promise record's figures on a synthetic month: time of the pure computation.

Run from the repository root::

    python benchmarks/record_figures.py [--promises 10000] [--incidents 10000] [--seed 1]

A seeded month (30 days) of incidents: each breaks a few promises (1 to 20) for 1 to
240 minutes, or puts them at risk first, with causes of one to three providers among
50, some under planned maintenance. Then it times, from the transitions in memory:

1. the record of every promise at once (:func:`servicegraph.record.record`) and its
   JSON document by promise and by provider;
2. one promise's record for the month (the median and worst of 200 promises), with
   the transitions of that promise only, as the store hands them over.

The store's part (reading the transitions) is not in these figures. Nothing here is a
test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import defaultdict

from servicegraph.model.kinds import State
from servicegraph.model.record import Cause, Transition
from servicegraph.model.times import iso
from servicegraph.record import Period, document, period, promise_document, record, zone
from servicegraph.record.clock import SECOND, moment

MINUTE = 60 * SECOND


def history(promises: int, incidents: int, seed: int) -> tuple[list[Transition], Period]:
    """Transitions of a month of incidents, and the month."""
    rng = random.Random(seed)
    span = period("2026-03-01", "2026-03-31", zone("Europe/Berlin"))
    spells: dict[str, list[tuple[int, int, State, bool, tuple[Cause, ...]]]] = defaultdict(list)
    for _ in range(incidents):
        start = rng.randrange(span.start, span.end)
        length = rng.randint(1, 240) * MINUTE
        planned = rng.random() < 0.1
        causes = tuple(Cause(f"ci-{rng.randrange(100_000)}", State.DOWN,
                             provider=f"provider-{rng.randrange(50)}", planned=planned)
                       for _ in range(rng.randint(1, 3)))
        state = State.DOWN if rng.random() < 0.8 else State.DEGRADED
        for p in rng.sample(range(promises), rng.randint(1, 20)):
            spells[f"promise-{p}"].append((start, start + length, state, planned, causes))
    out = []
    for node, found in spells.items():
        # Overlapping spells of one promise: the later start wins until its end.
        for start, end, state, planned, causes in sorted(found):
            out.append(Transition(iso(moment(start)), node, "promise", state, planned, causes))
            out.append(Transition(iso(moment(end)), node, "promise", State.OK))
    out.sort(key=lambda t: t.at)
    return out, span


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--promises", type=int, default=10_000)
    parser.add_argument("--incidents", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    transitions, span = history(args.promises, args.incidents, args.seed)
    nodes = {f"promise-{i}": "promise" for i in range(args.promises)}
    print(f"{len(transitions):,} transitions of {args.promises:,} promises, "
          f"{args.incidents:,} incidents")
    began, cpu = time.perf_counter(), time.process_time()
    rec = record(transitions, span, nodes=nodes)
    computed, computed_cpu = time.perf_counter(), time.process_time()
    document(rec, "promise")
    document(rec, "provider")
    written, written_cpu = time.perf_counter(), time.process_time()
    # Processor time too: other work on a shared machine inflates only the wall clock.
    print(f"every promise's record: {computed - began:.3f} s (CPU {computed_cpu - cpu:.3f} s), "
          f"its documents {written - computed:.3f} s (CPU {written_cpu - computed_cpu:.3f} s); "
          f"{sum(len(p.breaks) for p in rec.nodes):,} breaks")
    by_node: dict[str, list[Transition]] = defaultdict(list)
    for t in transitions:
        by_node[t.node].append(t)
    times = []
    for node in random.Random(args.seed).sample(sorted(by_node), min(200, len(by_node))):
        began = time.perf_counter()
        one = record(by_node[node], span, nodes={node: "promise"})
        promise_document(one, node)
        times.append(time.perf_counter() - began)
    print(f"one promise's record for the month: p50 {statistics.median(times) * 1000:.2f} ms, "
          f"worst {max(times) * 1000:.2f} ms ({len(times)} promises)")


if __name__ == "__main__":
    main()
