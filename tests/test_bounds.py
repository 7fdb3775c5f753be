"""What the model accepts is bounded: text, ids, free properties; anything else is refused
with a problem naming the item, before it can reach a store."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from servicegraph.model import (
    Edge,
    GraphData,
    Node,
    NodeKind,
    ValidationError,
    find_problems,
    loads,
    parse_document,
)
from servicegraph.model.bounds import (
    MAX_ID_LENGTH,
    MAX_PROPERTIES_BYTES,
    MAX_PROPERTIES_DEPTH,
    properties_problem,
)


def nested(depth: int) -> dict[str, Any]:
    """``properties`` nested ``depth`` levels deep (the mapping itself is level 1)."""
    doc: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        doc = {"a": doc}
    return doc


def problems_of(node: dict[str, Any]) -> list[str]:
    try:
        parse_document({"nodes": [{"id": "n", "kind": "ci", "name": "N", **node}]})
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize(("node", "expected"), [
    ({"properties": {"x": math.nan}}, "nodes[0] ('n'): properties.x: numbers must be finite"),
    ({"properties": {"x": [1, math.inf]}}, "nodes[0] ('n'): properties.x[1]: numbers must be"),
    ({"properties": {"x": -math.inf}}, "properties.x: numbers must be finite"),
    ({"properties": nested(MAX_PROPERTIES_DEPTH + 1)},
     f"nested deeper than {MAX_PROPERTIES_DEPTH} levels"),
    ({"properties": {"x": "y" * MAX_PROPERTIES_BYTES}},
     f"properties: larger than {MAX_PROPERTIES_BYTES} bytes as JSON"),
    ({"properties": {"x": "\ud800"}}, "properties.x: not valid Unicode text"),
    ({"id": "x" * (MAX_ID_LENGTH + 1)}, f"id: longer than {MAX_ID_LENGTH} characters"),
    ({"id": "a\x00b"}, "id: must be text not blank, without control characters"),
    ({"id": " \t"}, "id: must be text not blank"),
    ({"name": "x" * 1025}, "name: longer than 1024 characters"),
    ({"owner": "IT\nops"}, "owner: must be text without control characters"),
    ({"owner": "IT\n"}, "owner: must be text without control characters"),
    ({"external_id": "y" * 10_000}, "external_id: longer than 512 characters"),
    ({"description": "a\x07b"}, "description: must be text without control characters other"),
    ({"redundancy": {"g" * 600: 1}}, "redundancy: group name 'ggg"),
])
def test_out_of_bounds_node_is_refused_naming_it(node: dict[str, Any], expected: str) -> None:
    found = problems_of(node)
    assert any(expected in p for p in found), found


def test_within_bounds_is_accepted() -> None:
    assert problems_of({"properties": nested(MAX_PROPERTIES_DEPTH), "id": "x" * MAX_ID_LENGTH,
                        "description": "two\nlines\tand a tab",
                        "owner": "Ünïcödé 🙂"}) == []


def test_edge_ends_and_groups_are_bounded() -> None:
    long_id = "e" * (MAX_ID_LENGTH + 1)
    with pytest.raises(ValidationError) as err:
        parse_document({"edges": [{"from": long_id, "to": "b"},
                                  {"from": "a", "to": "b", "group": "g\x1b"}]})
    fields = [(p.index, p.field) for p in err.value.problems]
    assert fields == [(0, "from"), (1, "group")]
    assert len(err.value.problems[0].item) < 100  # the item is named, not echoed whole


def test_batches_built_in_code_are_bounded_too() -> None:
    batch = GraphData.of([Node("a", NodeKind.CI, "A", properties={"x": math.nan}),
                          Node("b" * 600, NodeKind.CI, "B")], [Edge("a", "c\x00")])
    found = [str(p) for p in find_problems(batch)]
    assert found[0].startswith("nodes[0] ('a'): properties.x: numbers must be finite")
    assert found[1].startswith("nodes[1] ('bbbb") and "longer than 512" in found[1]
    assert found[2].startswith("edges[0] (a -> c\x00): to: must be text")


def test_shared_structure_stops_at_the_size_bound() -> None:
    # YAML aliases share one object many times; the walk must stop at the bound.
    leaf: list[Any] = ["x" * 100] * 100
    for _ in range(10):
        leaf = [leaf] * 10
    assert properties_problem({"bomb": leaf}) == (
        "", f"larger than {MAX_PROPERTIES_BYTES} bytes as JSON")


@pytest.mark.parametrize("text", [
    "[" * 100_000 + "]" * 100_000,
    "nodes: " + "[" * 100_000 + "]" * 100_000,
    "nodes:\n" + "".join(" " * i + "- \n" for i in range(5000)),
])
def test_deeply_nested_documents_are_problems_not_crashes(text: str) -> None:
    with pytest.raises(ValidationError) as err:
        loads(text)
    assert len(err.value.problems) == 1
    assert "\n" not in str(err.value)


def test_unknown_values_are_shown_briefly() -> None:
    deep: Any = []
    for _ in range(50_000):
        deep = [deep]
    found = problems_of({"kind": deep})
    assert found and len(found[0]) < 300


def run_load(tmp_path: Path, name: str, content: bytes) -> subprocess.CompletedProcess[str]:
    path = tmp_path / name
    path.write_bytes(content)
    return subprocess.run([sys.executable, "-m", "servicegraph.cli", "load", str(path),
                           "--store", str(tmp_path / "g.db")], capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(("name", "content"), [
    ("deep.json", b"[" * 100_000 + b"]" * 100_000),
    ("deep.yaml", b"nodes: " + b"[" * 100_000 + b"]" * 100_000),
    ("latin1.yaml", "nodes: [{id: caf\xe9, kind: ci}]".encode("latin-1")),
    ("nan.json", json.dumps({"nodes": [{"id": "a", "kind": "ci",
                                        "properties": {"x": math.nan}}]}).encode()),
])
def test_load_of_a_bad_file_is_one_line_naming_the_file(tmp_path: Path, name: str,
                                                        content: bytes) -> None:
    done = run_load(tmp_path, name, content)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and name in lines[0] and "nothing written" in lines[0], lines


def test_every_problem_of_an_item_is_reported_at_once() -> None:
    found = problems_of({"kind": "gadget", "name": "n" * 2000, "properties": {"x": math.nan}})
    assert [p.split(": ")[1] for p in found] == ["kind", "name", "properties.x"], found
