"""The running service graph of one process: its writes, its questions, its promise feed.

- :class:`Writer`: the one way to write (each write planned and written in one store
  transaction, then applied to the live graph);
- :class:`Questions`: every question, answered from the live graph or a frozen copy,
  for the HTTP API and the command line alike;
- :class:`PromiseFeed`: the changes of promise states, derived on a thread of its own;
- :class:`Background`: following the store when no question comes.

:class:`~servicegraph.core.ServiceGraph` wires them together over one store.
"""

from servicegraph.runtime.background import Background
from servicegraph.runtime.feed import PromiseChange, PromiseFeed, Subscription
from servicegraph.runtime.questions import (
    ASKED_AT,
    CATALOGUES,
    Freshness,
    Questions,
    SpofPage,
    SpofPending,
)
from servicegraph.runtime.writes import LoadSummary, Writer

__all__ = [
    "ASKED_AT",
    "CATALOGUES",
    "Background",
    "Freshness",
    "LoadSummary",
    "PromiseChange",
    "PromiseFeed",
    "Questions",
    "SpofPage",
    "SpofPending",
    "Subscription",
    "Writer",
]
