"""Validation problems: every one names the offending item."""

from __future__ import annotations

import reprlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

_SHOW = reprlib.Repr()
_SHOW.maxstring = _SHOW.maxother = 80
_SHOW.maxlevel = 3


def show(value: Any) -> str:
    """A short ``repr`` for messages: bounded in length and nesting, whatever the
    input (a 1 MB id, a list nested 10^5 levels), so an error never echoes a
    whole payload.

    >>> show("web-1"), show("x" * 1000)[:12], show([[[[[1]]]]])
    ("'web-1'", "'xxxxxxxxxxx", '[[[[...]]]]')
    """
    return _SHOW.repr(value)


def short(text: str, limit: int = 80) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis says it was cut).

    >>> short("a -> b"), short("x" * 100, 5)
    ('a -> b', 'xxxx…')
    """
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
        if self.section == "document" and self.item == "document":
            # The document as a whole: its name would only repeat the section.
            return f"document: {self.field}: {self.message}" if self.field else (
                f"document: {self.message}")
        where = self.section if self.index is None else f"{self.section}[{self.index}]"
        return f"{where} ({self.item}): {self.field}: {self.message}"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, as the HTTP API returns it."""
        return asdict(self)


class ValidationError(ValueError):
    """Raised with every problem found; nothing has been written.

    One problem reads as one line; several as a list, one line each.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        if len(self.problems) == 1:
            super().__init__(f"1 problem(s), nothing written: {self.problems[0]}")
            return
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
