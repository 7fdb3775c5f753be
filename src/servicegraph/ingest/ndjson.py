"""Big syncs as NDJSON: one ``{"node": {...}}`` or ``{"edge": {...}}`` a line.

The reader is fed the body chunk by chunk as it arrives, so a sync of hundreds
of thousands of items never needs the whole body in memory as text; problems
are reported by line number.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any

import orjson

from servicegraph.model.errors import Problem, ValidationError, short
from servicegraph.model.graph import GraphData
from servicegraph.model.interchange import parse_document

#: Every byte to ``0`` if it is a digit, else to a space; then a run of digits that
#: may be an integer orjson would not keep exact is found as a plain substring (ten
#: times quicker than a regular expression over a big body).
_DIGITS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_LONG_NUMBER = b"0" * 19


def _long_number(data: bytes) -> bool:
    """Whether ``data`` holds a run of 19 digits or more."""
    return _LONG_NUMBER in data.translate(_DIGITS)
#: What a line that could not be read decodes to (``None`` is JSON's null).
_UNREAD = object()


class NdjsonReader:
    """Incremental NDJSON parser for pushes.

    >>> r = NdjsonReader()
    >>> r.feed(b'{"node": {"id": "a", "kind": "ci", "name": "A"}}\\n{"node": {"id"')
    >>> r.feed(b': "b", "kind": "ci", "name": "B"}}\\n')
    >>> [n.id for n in r.finish().nodes], r.lines
    (['a', 'b'], 2)
    """

    def __init__(self) -> None:
        self._rest = b""
        self.lines = 0
        self.bytes = 0
        self._nodes: list[Any] = []
        self._edges: list[Any] = []
        self._node_lines: list[int] = []
        self._edge_lines: list[int] = []
        self._problems: list[Problem] = []
        self._exact = False

    @property
    def clean(self) -> bool:
        """Whether every line read so far is a node or an edge (no problem yet)."""
        return not self._problems and not self._rest.strip()

    @property
    def raw_nodes(self) -> list[Any]:
        """The nodes as decoded from their lines, not checked yet."""
        return self._nodes

    @property
    def raw_edges(self) -> list[Any]:
        """The edges as decoded from their lines, not checked yet."""
        return self._edges

    def feed(self, chunk: bytes) -> None:
        """Take the next part of the body."""
        self.bytes += len(chunk)
        data = self._rest + chunk
        *complete, self._rest = data.split(b"\n")
        self._exact = _long_number(data)
        for line in complete:
            self._line(line)

    def _line(self, raw: bytes) -> None:
        self.lines += 1
        if not raw.strip():
            return
        item: Any = _UNREAD
        if not self._exact:
            # Refused: read again below, the json module's verdict is the one given.
            with contextlib.suppress(orjson.JSONDecodeError):
                item = orjson.loads(raw)
        if item is _UNREAD:
            item = self._exactly(raw)
            if item is _UNREAD:
                return
        self._take(item)

    def _exactly(self, raw: bytes) -> Any:
        """``raw`` read by the json module; ``_UNREAD`` when it is not JSON, noted as a
        problem in the json module's words."""
        try:
            return json.loads(raw)
        except RecursionError:
            # The decoder recurses: a line nested some thousand levels deep exhausts
            # the stack; it is bad input like any other.
            self._problems.append(Problem("lines", self.lines, "?", "",
                                          "not JSON: nested too deeply to read"))
        except ValueError as exc:
            self._problems.append(Problem("lines", self.lines, "?", "",
                                          f"not JSON: {short(str(exc), 200)}"))
        return _UNREAD

    def _take(self, item: Any) -> None:
        if isinstance(item, dict) and len(item) == 1 and "node" in item:
            self._nodes.append(item["node"])
            self._node_lines.append(self.lines)
        elif isinstance(item, dict) and len(item) == 1 and "edge" in item:
            self._edges.append(item["edge"])
            self._edge_lines.append(self.lines)
        else:
            self._problems.append(Problem("lines", self.lines, "?", "",
                                          'each line is {"node": {...}} or {"edge": {...}}'))

    def end(self) -> None:
        """Read the last line when the body did not end with a line break (once)."""
        if self._rest.strip():
            self._exact = _long_number(self._rest)
            self._line(self._rest)
        self._rest = b""

    def finish(self) -> GraphData:
        """The whole batch, or :class:`ValidationError` naming lines and fields."""
        self.end()
        problems = list(self._problems)
        try:
            graph = parse_document({"nodes": self._nodes, "edges": self._edges})
        except ValidationError as exc:
            problems += [self.by_line(p) for p in exc.problems]
            graph = GraphData()
        if problems:
            raise ValidationError(sorted(problems, key=lambda p: p.index or 0))
        return graph

    def by_line(self, problem: Problem) -> Problem:
        """A problem about ``nodes[i]`` / ``edges[i]`` restated by its line number."""
        lines = {"nodes": self._node_lines, "edges": self._edge_lines}.get(problem.section)
        if lines is None or problem.index is None:
            return problem
        return Problem("lines", lines[problem.index], problem.item, problem.field,
                       f"{problem.section[:-1]}: {problem.message}")
