"""The naive way to answer a status push: read the whole graph from the store and
build the index again, then propagate. What the live replica spares every push."""

from __future__ import annotations

import time

from servicegraph.impact import analyse
from servicegraph.live import LiveGraph
from servicegraph.model import State
from servicegraph.store import GraphStore


def reread(store: GraphStore, failed: str) -> tuple[float, int]:
    """Seconds to read the graph, rebuild the index and answer ``failed`` down; and
    how many nodes were read."""
    t0 = time.perf_counter()
    snapshot = store.load()
    live = LiveGraph.build(snapshot.version, snapshot.nodes, snapshot.edges)
    analyse(live.index, {failed: State.DOWN}).answer(limit=1000, explain=False)
    return time.perf_counter() - t0, live.node_count
