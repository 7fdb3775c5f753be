"""Validation problems: every one names the offending item."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, precise enough to fix it.

    ``section`` and ``index`` locate the item in the submitted document
    (``nodes[3]``); ``item`` names it (an id, or ``a -> b`` for an edge).
    """

    section: str
    index: int | None
    item: str
    field: str
    message: str

    def __str__(self) -> str:
        where = self.section if self.index is None else f"{self.section}[{self.index}]"
        return f"{where} ({self.item}): {self.field}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the HTTP API returns it."""
        return asdict(self)


class ValidationError(ValueError):
    """Raised with every problem found; nothing has been written."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{len(self.problems)} problem(s), nothing written:\n{lines}")


class UnknownNodeError(KeyError):
    """A request named a node id the graph does not have."""

    def __init__(self, ids: Sequence[str]) -> None:
        self.ids = tuple(ids)
        super().__init__(f"unknown node id(s): {', '.join(self.ids)}")

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownEdgeError(UnknownNodeError):
    """A request named a dependency the graph does not have."""

    def __init__(self, keys: Sequence[tuple[str, str]]) -> None:
        self.keys = tuple(keys)
        KeyError.__init__(self, "unknown edge(s): " + ", ".join(f"{a} -> {b}" for a, b in keys))
        self.ids = tuple(f"{a} -> {b}" for a, b in keys)
