"""Single points of failure kept in a file, for processes that live one question long.

A server keeps its table in memory for as long as the graph's structure holds
(:mod:`~servicegraph.impact.spof_cache`); a command of the command line is a new
process each time, and would compute the table again on every call. It keeps the
table in a file instead: what the computation found (the arrays of
:class:`~servicegraph.impact.spof_breakage.Breakage`), beside a digest of the
structure it was computed on. A later process whose frozen index has the same
digest (the same nodes at the same positions, the same dependencies and rules)
answers from the file; any other graph (a dependency changed, or the same graph
read in another order), a file of another format or one that cannot be read is
computed again, and the file replaced. Observed states are not part of the
structure: a status leaves the file valid.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from servicegraph.impact.index import GraphIndex
from servicegraph.impact.spof_breakage import Breakage
from servicegraph.impact.spof_table import SpofTable

log = logging.getLogger("servicegraph.spof")

#: The file's format: a file of another is computed again.
FORMAT = 2
_FIELDS = ("counts", "imp_start", "imp_node", "back_start", "back_node")
#: The graphs a table's questions walk, kept too: computing them again is most of a load.
_WALKS = ("old", "new", "level", "promise", "imp_start", "imp_node", "back_start",
          "back_node", "every_start", "every_node")


def structure_digest(index: GraphIndex) -> str:
    """A digest of what single points of failure depend on: the nodes (ids and kinds,
    by position), the active dependencies (ends, soft or hard, group) and the groups'
    resolved rules."""
    a = index.arrays()
    m, g = index.edge_numbers, a.g
    h = hashlib.blake2b(digest_size=32)
    h.update(f"{FORMAT} {a.n} {m} {g}\n".encode())
    h.update("\0".join(index.ids[:a.n]).encode("utf-8", "surrogatepass"))
    parts = (index.kind_codes, a.e_src[:m], a.e_dst[:m], a.e_soft[:m], a.e_grp[:m],
             a.e_active[:m], a.g_size[:g], a.g_min[:g], a.g_ok[:g])
    for part in parts:
        h.update(np.ascontiguousarray(part).tobytes())
    return h.hexdigest()


class SpofFile:
    """The table of one graph, kept at ``path`` (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, index: GraphIndex) -> tuple[SpofTable, datetime] | None:
        """The table kept for ``index`` (a frozen copy) and when it was computed, or
        ``None`` when the file is missing, unreadable or of another graph."""
        try:
            with np.load(self.path, allow_pickle=False) as held:
                if int(held["format"]) != FORMAT or str(held["digest"]) != \
                        structure_digest(index):
                    return None
                found = Breakage(*(held[f] for f in _FIELDS))
                risk = (Breakage(*(held[f"risk_{f}"] for f in _FIELDS))
                        if bool(held["has_risk"]) else None)
                walks = {name: held[f"walk_{name}"] for name in _WALKS}
                at = datetime.fromisoformat(str(held["computed_at"]))
                table = SpofTable(index, found, risk, walks=walks)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a torn or foreign file: computed again, and replaced
            log.info("single points of failure kept in %s not read: %s", self.path, exc)
            return None
        return table, at

    def save(self, index: GraphIndex, table: SpofTable, at: datetime | None = None) -> None:
        """Keep ``table`` of ``index`` (written whole or not at all: a reader never sees
        half a file). A file that cannot be written is only logged."""
        arrays = {f: getattr(table.found, f) for f in _FIELDS}
        if table.risk is not None:
            arrays.update({f"risk_{f}": getattr(table.risk, f) for f in _FIELDS})
        arrays.update({f"walk_{name}": a for name, a in table.walks().items()})
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=self.path.name, dir=self.path.parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    np.savez(out, format=FORMAT, digest=structure_digest(index),
                             has_risk=table.risk is not None,
                             computed_at=(at or datetime.now(UTC)).isoformat(), **arrays)
                os.replace(name, self.path)
            except BaseException:
                Path(name).unlink(missing_ok=True)
                raise
        except OSError as exc:
            log.warning("single points of failure not kept in %s: %s", self.path, exc)


__all__ = ["FORMAT", "SpofFile", "structure_digest"]
