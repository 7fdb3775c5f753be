"""Spreadsheets and CMDB exports: a nodes file and an edges file in CSV.

The columns are those of the interchange format. A file whose header has ``id`` and
``kind`` holds nodes: ``id, kind, name, owner, provider, visible, silo, description,
source, external_id``, ``properties`` (a JSON object) and ``redundancy`` (``group:rule``
pairs separated by ``;``, a rule being a count or a share, e.g. ``web:2; gates:50%``, or a
JSON object for any rule); any other column becomes a property of the
same name, so a CMDB export keeps its extra fields. A file whose header has ``from``
and ``to`` holds edges: ``from, to, group, impact``. Empty cells are absent values.
Being the interchange format as tables, CSV may carry any kind of node.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from servicegraph.importers.common import Builder, Imported, SourceFile, at_line
from servicegraph.model.errors import ValidationError
from servicegraph.model.fields import EDGE_FIELDS, NODE_FIELDS
from servicegraph.model.interchange import parse_document

NODE_COLUMNS = tuple(f.name for f in NODE_FIELDS)
EDGE_COLUMNS = tuple(f.name for f in EDGE_FIELDS)
_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def _visible(cell: str) -> bool | str:
    word = cell.strip().lower()
    return True if word in _TRUE else False if word in _FALSE else cell


def _redundancy(cell: str) -> dict[str, Any] | str:
    """A redundancy cell: ``group:rule`` pairs separated by ``;`` (a rule is a count or a
    share, ``web:2; gates:50%``), or a JSON object for any rule (``{"links": {"min_ok":
    1, "ok_at": 2}}``); else what is wrong. The rules themselves are checked with the
    graph's.

    >>> _redundancy("web:2; gates:50%")
    {'web': 2, 'gates': '50%'}
    >>> _redundancy('{"links": {"min_ok": 1, "ok_at": 2}}')
    {'links': {'min_ok': 1, 'ok_at': 2}}
    """
    if cell.startswith("{"):
        try:
            given = json.loads(cell)
        except ValueError as exc:
            return f"not JSON: {exc}"
        return given if isinstance(given, dict) else "must be a JSON object"
    groups: dict[str, Any] = {}
    for part in cell.split(";"):
        group, sep, rule = part.strip().rpartition(":")
        rule = rule.strip()
        if not sep or not group.strip() or not (rule.isdigit() or (
                rule.endswith("%") and rule[:-1].isdigit())):
            return (f"expected group:rule pairs (a count or a share, e.g. web:2; gates:50%) "
                    f"or a JSON object, got {cell!r}")
        groups[group.strip()] = int(rule) if rule.isdigit() else rule
    return groups


def _node_row(row: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    """The interchange form of a node row, or a problem (field, message)."""
    doc: dict[str, Any] = {}
    props: dict[str, Any] = {}
    for column, cell in row.items():
        if cell is None or not cell.strip():
            continue
        if column not in NODE_COLUMNS:
            props[column] = cell.strip()
        elif column == "visible":
            doc["visible"] = _visible(cell)
        elif column == "properties":
            try:
                given = json.loads(cell)
            except ValueError as exc:
                return doc, f"properties: not JSON: {exc}"
            if not isinstance(given, dict):
                return doc, "properties: must be a JSON object"
            props = {**given, **props}
        elif column == "redundancy":
            found = _redundancy(cell.strip())
            if isinstance(found, str):
                return doc, f"redundancy: {found}"
            doc["redundancy"] = found
        else:
            doc[column] = cell.strip()
    if props:
        doc["properties"] = props
    return doc, None


def _item(section: str, row: dict[str, Any]) -> str:
    if section == "nodes":
        return repr(row.get("id") or "?")
    return f"{row.get('from') or '?'} -> {row.get('to') or '?'}"


def import_csv(files: Sequence[SourceFile]) -> Imported:
    """Read node and edge CSV files.

    Examples
    --------
    >>> nodes = "id,kind,name,redundancy,rack\\nweb-tier,service_system,Web tier,web:1,\\n" \\
    ...         "web-1,ci,Web 1,,R12\\n"
    >>> edges = "from,to,group\\nweb-tier,web-1,web\\n"
    >>> imp = import_csv([SourceFile("nodes.csv", nodes), SourceFile("edges.csv", edges)])
    >>> imp.graph.nodes[1].properties, imp.node_origins
    ({'rack': 'R12'}, ('nodes.csv line 2', 'nodes.csv line 3'))
    """
    builder = Builder()
    for file in files:
        # newline="" lets the csv module see line ends itself (quoted cells may hold them).
        reader = csv.DictReader(io.StringIO(file.text.lstrip("\ufeff"), newline=""))
        try:
            header = [h.strip() for h in reader.fieldnames or []]
        except csv.Error as exc:
            builder.problem(at_line(file.name, 1), file.name, "header", str(exc))
            continue
        reader.fieldnames = header
        if {"id", "kind"} <= set(header):
            section = "nodes"
        elif {"from", "to"} <= set(header):
            section = "edges"
            unknown = [c for c in header if c not in EDGE_COLUMNS]
            if unknown:
                builder.problem(at_line(file.name, 1), file.name, ", ".join(unknown),
                                f"unknown column(s) for edges (allowed: {', '.join(EDGE_COLUMNS)})")
                continue
        else:
            builder.problem(at_line(file.name, 1), file.name, "header",
                            "a nodes file needs the columns id and kind, an edges file from and to")
            continue
        rows = iter(reader)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                builder.problem(at_line(file.name, reader.line_num), file.name, "", str(exc))
                break
            # The line the row ends on (quoted cells may span lines).
            where = at_line(file.name, reader.line_num)
            if None in row:
                builder.problem(where, _item(section, row), "",
                                "more cells than the header has columns")
                continue
            if section == "nodes":
                doc, bad = _node_row(row)
            else:
                doc, bad = {k: v.strip() for k, v in row.items() if v and v.strip()}, None
            if bad is not None:
                field, _, message = bad.partition(": ")
                builder.problem(where, _item(section, row), field, message)
                continue
            try:
                parsed = parse_document({section: [doc]})
            except ValidationError as exc:
                for p in exc.problems:
                    builder.problem(where, p.item, p.field, p.message)
                continue
            for node in parsed.nodes:
                builder.node(node, where)
            for edge in parsed.edges:
                if not builder.edge(edge.source, edge.target, where, group=edge.group,
                                    impact=edge.impact):
                    builder.problem(where, _item(section, row), "to",
                                    f"already given at {builder.edges[edge.key][1]}"
                                    if edge.key in builder.edges else
                                    "a node cannot depend on itself")
    return builder.result()
