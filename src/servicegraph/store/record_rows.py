"""How both stores keep the promise record's transitions: the columns they search on,
the columns the record's figures read (state, planned mark, the causes' providers), and
the whole transition as JSON text beside them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

import numpy as np
import orjson

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
    >>> row["state"], row["version"], transition_from(row) == Transition(
    ...     "2030-01-01T00:00:00.000000Z", "a", "promise", State.DOWN, version=3)
    ('down', 3, True)
    """
    return {"at": t.at, "node": t.node, "layer": t.layer, "state": t.state.word,
            "planned": t.planned, "version": t.version,
            "figures": figures_text(t),
            # orjson: a storm's thousands of rows are encoded inside its transaction.
            "payload": orjson.dumps(t.to_dict(), option=orjson.OPT_SORT_KEYS).decode()}


def transition_from(row: Mapping[str, Any]) -> Transition:
    """Inverse of :func:`transition_row`; raises :class:`StoreError` on a damaged row."""
    try:
        return Transition.from_dict(json.loads(row["payload"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"a transition of the record cannot be read: {exc}") from None


#: Between the fields of a transition's packed figures (no id, time or JSON text holds a
#: control character).
SEP = "\x1f"
#: The fields of the packed figures, the store's number last.
FIELDS = 7


def figures_text(t: Transition) -> str:
    """What the record's figures read of a transition, packed in one text (one column
    or property read instead of six): node, layer, time, state (a digit), planned (a
    digit), the causes' providers (JSON); the store adds its number when it has one.

    >>> from servicegraph.model.kinds import State
    >>> figures_text(Transition("2030-01-01T00:00:00.000000Z", "a", "promise", State.DOWN,
    ...                         True)).split(SEP)
    ['a', 'promise', '2030-01-01T00:00:00.000000Z', '2', '1', '[]']
    """
    providers = json.dumps(list(t.providers), separators=(",", ":"))
    return SEP.join((t.node, t.layer, t.at, str(int(t.state)), "1" if t.planned else "0",
                     providers))


def columns_packed(text: str | None) -> Columns:
    """The record's columns from packed figures (:func:`figures_text`, then the store's
    number), every row's joined by :data:`SEP` into ``text``: split all at once, each
    column a stride of the fields.

    >>> from servicegraph.model.kinds import State
    >>> t = Transition("2030-01-01T00:00:00.000000Z", "a", "promise", State.DOWN)
    >>> cols = columns_packed(figures_text(t) + SEP + "7")
    >>> cols.node, cols.state, cols.planned, cols.providers, cols.order
    (['a'], [2], [False], ['[]'], [7])
    """
    if not text:
        return Columns(order=[])
    fields = text.split(SEP)
    if len(fields) % FIELDS:
        raise StoreError("a transition of the record cannot be read: its figures are damaged")
    try:
        digits = np.frombuffer("".join(fields[3::FIELDS]).encode("ascii"), np.uint8) - 48
        marks = np.frombuffer("".join(fields[4::FIELDS]).encode("ascii"), np.uint8) - 48
        # The providers stay JSON text: the figures read those of the rows they share.
        return Columns(fields[0::FIELDS], fields[1::FIELDS], fields[2::FIELDS],
                       digits.tolist(), (marks == 1).tolist(), list(fields[5::FIELDS]),
                       None, list(map(int, fields[6::FIELDS])))
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise StoreError(f"a transition of the record cannot be read: {exc}") from None


def columns_whole(rows: Iterable[tuple[int, str]]) -> Columns:
    """The record's columns, causes included, from whole transitions (number and
    payload): for a transition written before the figures had a column of their own."""
    found = [(seq, transition_from({"payload": payload})) for seq, payload in rows]
    cols = Columns.of(t for _, t in found)
    cols.order = [seq for seq, _ in found]
    return cols


def columns_caused(rows: Iterable[tuple[str | None, int, str | None]]) -> Columns:
    """The record's columns with the causes, from each row's packed figures (with its
    number), its number, and its payload where it is down (only a break's rows have
    causes to list) or where it has no figures (written before them): read whole."""
    packed: list[str] = []
    payloads: list[str | None] = []
    older: list[tuple[int, str]] = []
    for figures, seq, payload in rows:
        if figures is None:
            if payload is None:
                raise StoreError("a transition of the record cannot be read: it is empty")
            older.append((seq, payload))
        else:
            packed.append(figures)
            payloads.append(payload)
    cols = columns_packed(SEP.join(packed))
    try:
        cols.providers = [tuple(json.loads(p)) if isinstance(p, str) else p
                          for p in cols.providers]
    except ValueError as exc:
        raise StoreError(f"a transition of the record cannot be read: {exc}") from None
    cols.causes = [() if text is None else transition_from({"payload": text}).causes
                   for text in payloads]
    if older:
        cols.extend(columns_whole(older))
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
