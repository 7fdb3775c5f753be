"""How both stores write journal entries, and read them back.

An entry is one record per version: when, what kind of change, from which
source, and the change in row form as JSON text. A change of more than
``inline_max`` items is recorded without its rows, as a *reload* entry:
keeping a million-row load twice would double the store, and a process that
meets such an entry reads the graph again, which a change that size costs
anyway.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from servicegraph.model.times import iso, parse_iso
from servicegraph.store.base import Change, ChangeInfo, JournalEntry, StoreError
from servicegraph.store.rows import change_rows

#: Changes of more items than this are journaled as reload entries.
INLINE_MAX = 20_000


def entry_for(change: Change, info: ChangeInfo, version: int,
              inline_max: int = INLINE_MAX) -> JournalEntry:
    """The journal entry of ``change`` at ``version``.

    >>> entry_for(Change(), ChangeInfo("2030-01-01T00:00:00Z", "push"), 7).rows["replace"]
    False
    """
    if change.size > inline_max:
        return JournalEntry(version, info, {}, reload=True)
    rows = change_rows(change.upsert_nodes, change.upsert_edges, change.delete_edges,
                       change.delete_nodes, change.observe, change.replace, change.alerts,
                       change.windows, change.acks, change.mappings)
    return JournalEntry(version, info, rows)


def to_record(entry: JournalEntry) -> dict[str, Any]:
    """The stored form of an entry (scalars only, for both stores)."""
    return {"version": entry.version, "at": entry.info.at, "kind": entry.info.kind,
            "source": entry.info.source, "reload": entry.reload,
            "payload": None if entry.reload else json.dumps(entry.rows)}


def from_record(record: Mapping[str, Any]) -> JournalEntry:
    """Inverse of :func:`to_record`; raises :class:`StoreError` on a damaged record."""
    try:
        info = ChangeInfo(str(record["at"]), str(record["kind"]), record.get("source"))
        if record.get("reload"):
            return JournalEntry(int(record["version"]), info, {}, reload=True)
        rows = json.loads(record["payload"])
    except (KeyError, TypeError, ValueError) as exc:
        raise StoreError(f"journal entry {record.get('version')!r} cannot be read: "
                         f"{exc}") from None
    return JournalEntry(int(record["version"]), info, rows)


def retention_cutoff(at: str, days: float) -> str | None:
    """The time before which entries written before ``at`` are dropped.

    >>> retention_cutoff("2030-01-08T00:00:00Z", 7)
    '2030-01-01T00:00:00.000000Z'
    """
    try:
        moment = parse_iso(at)
    except ValueError:
        return None
    return iso(moment - timedelta(days=days))
