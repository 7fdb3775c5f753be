"""How both stores keep the promise record's transitions: the columns they search on,
and the whole transition as JSON text beside them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from servicegraph.model.kinds import NodeKind
from servicegraph.model.record import OBSERVED, Transition
from servicegraph.model.times import iso, parse_iso
from servicegraph.store.base import StoreError

#: Every layer of the record: the customer-facing kinds and the observed states.
RECORD_LAYERS = (NodeKind.PROMISE.value, NodeKind.BUSINESS_SERVICE.value,
                 NodeKind.SERVICE_ACT.value, OBSERVED)

#: The record is trimmed at most this often (each trim looks at every row older than
#: the cutoff that is still kept: the last one of each node).
TRIM_EVERY = timedelta(hours=1)


def transition_row(t: Transition) -> dict[str, Any]:
    """The stored form of a transition (scalars only, for both stores).

    >>> from servicegraph.model.kinds import State
    >>> row = transition_row(Transition("2030-01-01T00:00:00.000000Z", "a", "promise",
    ...                                 State.DOWN, version=3))
    >>> row["state"], row["version"], transition_from(row) == Transition(
    ...     "2030-01-01T00:00:00.000000Z", "a", "promise", State.DOWN, version=3)
    ('down', 3, True)
    """
    return {"at": t.at, "node": t.node, "layer": t.layer, "state": t.state.word,
            "planned": t.planned, "version": t.version,
            "payload": json.dumps(t.to_dict(), sort_keys=True)}


def transition_from(row: Mapping[str, Any]) -> Transition:
    """Inverse of :func:`transition_row`; raises :class:`StoreError` on a damaged row."""
    try:
        return Transition.from_dict(json.loads(row["payload"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"a transition of the record cannot be read: {exc}") from None


def record_cutoff(at: str, days: float) -> str | None:
    """The time before which transitions written at ``at`` may be trimmed.

    >>> record_cutoff("2030-01-08T00:00:00Z", 7)
    '2030-01-01T00:00:00.000000Z'
    """
    try:
        return iso(parse_iso(at) - timedelta(days=days))
    except ValueError:
        return None


def trim_due(cutoff: str, last: str | None) -> bool:
    """Whether the record should be trimmed at ``cutoff``, last trimmed at ``last``.

    >>> trim_due("2030-01-01T02:00:00Z", "2030-01-01T00:30:00Z"), trim_due("x", None)
    (True, True)
    """
    if last is None:
        return True
    try:
        return parse_iso(cutoff) - parse_iso(last) >= TRIM_EVERY
    except ValueError:
        return True
