"""The graph one process holds in memory, and how it keeps up with the store."""

from servicegraph.live.lock import ReadWriteLock
from servicegraph.live.replica import Replica
from servicegraph.live.state import LiveGraph

__all__ = ["LiveGraph", "ReadWriteLock", "Replica"]
