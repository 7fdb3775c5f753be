"""How both stores keep the promise record's transitions: the columns they search on,
the columns the record's figures read (state, planned mark, the causes' providers), and
the whole transition as JSON text beside them."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from servicegraph.model.kinds import NodeKind
from servicegraph.model.record import OBSERVED, Columns, Transition
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
    >>> row["state"], row["version"], row["providers"], transition_from(row) == Transition(
    ...     "2030-01-01T00:00:00.000000Z", "a", "promise", State.DOWN, version=3)
    ('down', 3, '[]', True)
    """
    return {"at": t.at, "node": t.node, "layer": t.layer, "state": t.state.word,
            "planned": t.planned, "version": t.version,
            "providers": json.dumps(list(t.providers), separators=(",", ":")),
            "payload": json.dumps(t.to_dict(), sort_keys=True)}


def transition_from(row: Mapping[str, Any]) -> Transition:
    """Inverse of :func:`transition_row`; raises :class:`StoreError` on a damaged row."""
    try:
        return Transition.from_dict(json.loads(row["payload"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"a transition of the record cannot be read: {exc}") from None


_STATES = {"ok": 0, "degraded": 1, "down": 2}


def columns_from(node: Sequence[str], layer: Sequence[str], at: Sequence[str],
                 state: Sequence[str], planned: Sequence[Any], providers: Sequence[str | None],
                 payload: Sequence[str | None], seq: Sequence[int], *, causes: bool
                 ) -> Columns:
    """The record's columns from the stored ones, ``seq`` their order. A row's
    ``payload`` is read only where it is needed: for its causes (``causes``), or for
    its providers on a row written before they had a column of their own (``providers``
    ``None``).

    >>> cols = columns_from(["p"], ["promise"], ["2030-01-01T00:00:00.000000Z"], ["down"],
    ...                     [1], ['["N"]'], [None], [7], causes=False)
    >>> cols.state, cols.planned, cols.providers, cols.order, cols.causes
    ([2], [True], [('N',)], [7], None)
    """
    try:
        known: dict[str, tuple[str, ...]] = {
            text: tuple(json.loads(text)) for text in set(providers) if text is not None}
        whole: dict[int, Transition] = {
            i: transition_from({"payload": text}) for i, text in enumerate(payload)
            if text is not None and (causes or providers[i] is None)}
        cols = Columns(list(node), list(layer), list(at), [_STATES[s] for s in state],
                       [bool(p) for p in planned],
                       [known[text] if text is not None else whole[i].providers
                        for i, text in enumerate(providers)],
                       [whole[i].causes for i in range(len(payload))] if causes else None,
                       list(seq))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"a transition of the record cannot be read: {exc}") from None
    return cols


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
