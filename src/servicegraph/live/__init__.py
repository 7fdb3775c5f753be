"""The graph one process holds in memory, how it keeps up with the store, and the
snapshots it starts from."""

from servicegraph.live.lock import ReadWriteLock
from servicegraph.live.replica import Replica
from servicegraph.live.snapshots import SnapshotDirectory
from servicegraph.live.state import LiveGraph

__all__ = ["LiveGraph", "ReadWriteLock", "Replica", "SnapshotDirectory"]
