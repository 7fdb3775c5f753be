"""The promise record: what recording adds to a status push, time travel and the timeline
over a synthetic incident history, and the record's growth.

Run from the repository root::

    python benchmarks/record_recording.py [--store PATH_OR_BOLT_URI] [--pushes 200]
                                      [--incidents 500] [--asks 100]

On the bundled example enterprise (in a fresh embedded store by default, or the store
given, which is cleared first):

1. status pushes toggling a component, with the recorder and with the recorder left
   out (its transitions not computed or written), the median of each and the cost
   recording adds;
2. ``--incidents`` incidents, each one to three components down then ok again (every
   component that can fail, drawn with a fixed seed), then ``--asks`` time-travel
   questions at random moments of that history and as many timelines of one promise,
   their median and 95th percentile;
3. the transitions kept, per incident.

Nothing here is a test: the figures depend on the machine.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.ingest.status import StatusUpdate
from servicegraph.model.kinds import NodeKind, State
from servicegraph.model.times import utc_now
from servicegraph.runtime.recorder import Noted
from servicegraph.store import open_store
from servicegraph.store.base import GraphStore, RecordStore


def _now() -> datetime:
    return datetime.now(UTC)


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"p50 {statistics.median(ordered) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def pushes(store: GraphStore, count: int, *, recording: bool) -> list[float]:
    """Seconds per status push, toggling one component."""
    store.clear()
    sg = ServiceGraph(store)
    sg.writes.load(example_graph())
    if not recording:
        sg.writes.record = lambda: None  # type: ignore[method-assign]
        sg.writes.recorder.due = lambda view, live, now: Noted()  # type: ignore[method-assign]
        sg.writes.recorder.own = (  # type: ignore[method-assign]
            lambda view, live, change, at, prior: prior)
    took = []
    for i in range(count):
        started = time.perf_counter()
        sg.writes.push_status("bench", [StatusUpdate(State.DOWN if i % 2 == 0 else State.OK,
                                                     _now(), id="automation-host")])
        took.append(time.perf_counter() - started)
    return took


def history(store: GraphStore, incidents: int, asks: int, seed: int) -> None:
    """An incident history, then time travel and timelines over it."""
    store.clear()
    sg = ServiceGraph(store)
    sg.writes.load(example_graph())
    components = sorted(n.id for n in example_graph().nodes
                        if n.kind in (NodeKind.CI, NodeKind.SERVICE_SYSTEM))
    rng = random.Random(seed)
    moments = []
    started = time.perf_counter()
    for _ in range(incidents):
        failed = rng.sample(components, rng.randint(1, 3))
        sg.writes.push_status("bench", [StatusUpdate(State.DOWN, _now(), id=c) for c in failed])
        moments.append(utc_now())
        sg.writes.push_status("bench", [StatusUpdate(State.OK, _now(), id=c) for c in failed])
    took = time.perf_counter() - started
    record: RecordStore = store  # type: ignore[assignment]
    size = record.record_size()
    print(f"history: {incidents} incidents written in {took:.1f} s; {size} transitions kept "
          f"({size / incidents:.1f} per incident)")
    travel, timeline = [], []
    for _ in range(asks):
        at = rng.choice(moments)
        t0 = time.perf_counter()
        sg.questions.current_at(at)
        travel.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        sg.questions.history(nodes=["onboarding"], start=moments[0], limit=1000)
        timeline.append(time.perf_counter() - t0)
    print(f"GET /v1/current?at= (in process): {_ms(travel)}")
    print(f"GET /v1/history?node= (in process): {_ms(timeline)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", help="a store to clear and use (default: a fresh "
                                        "embedded one)")
    parser.add_argument("--pushes", type=int, default=200)
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--asks", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    target = args.store or str(Path(tempfile.mkdtemp()) / "record.db")
    store = open_store(target)
    try:
        without = pushes(store, args.pushes, recording=False)
        with_record = pushes(store, args.pushes, recording=True)
        added = statistics.median(with_record) / statistics.median(without) - 1
        print(f"status push without the record: {_ms(without)}")
        print(f"status push with the record:    {_ms(with_record)} "
              f"({added * 100:+.0f} % at the median)")
        history(store, args.incidents, args.asks, args.seed)
    finally:
        store.close()


if __name__ == "__main__":
    sys.exit(main())
