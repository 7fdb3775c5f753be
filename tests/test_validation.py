"""Validation: each rule rejects the whole batch and names the offending item."""

from __future__ import annotations

from typing import Any

import pytest

from servicegraph.model import ValidationError, find_problems, loads, parse_document, validate

BASE: list[dict[str, Any]] = [
    {"id": "p", "kind": "promise", "name": "P"},
    {"id": "s", "kind": "service_system", "name": "S", "redundancy": {"g": 1}},
    {"id": "c1", "kind": "ci", "name": "C1"},
    {"id": "c2", "kind": "ci", "name": "C2"},
]
GROUP = [{"from": "s", "to": "c1", "group": "g"}, {"from": "s", "to": "c2", "group": "g"}]


def problems(nodes: list[dict[str, Any]], edges: list[dict[str, Any]]) -> list[str]:
    try:
        batch = parse_document({"nodes": nodes, "edges": edges})
    except ValidationError as exc:
        return [str(p) for p in exc.problems]
    return [str(p) for p in find_problems(batch)]


def test_the_base_graph_is_valid() -> None:
    assert problems(BASE, GROUP) == []


@pytest.mark.parametrize(("nodes", "edges", "expected"), [
    ([*BASE, {"id": "x", "kind": "server", "name": "X"}], GROUP,
     "nodes[4] ('x'): kind: unknown kind 'server'"),
    (BASE, [*GROUP, {"from": "p", "to": "c1"}],
     "edges[2] (p -> c1): to: a promise may not depend on a ci"),
    (BASE, [*GROUP, {"from": "c1", "to": "s"}],
     "edges[2] (c1 -> s): to: a ci may not depend on a service_system"),
    (BASE, [*GROUP, {"from": "s", "to": "ghost"}],
     "edges[2] (s -> ghost): to: no node with id 'ghost'"),
    ([*BASE, {"id": "c1", "kind": "ci", "name": "again"}], GROUP,
     "nodes[4] ('c1'): id: duplicate id in batch"),
    (BASE, [*GROUP, {"from": "s", "to": "c1", "group": "g"}],
     "edges[2] (s -> c1): to: duplicate edge in batch"),
    (BASE, [*GROUP, {"from": "p", "to": "s", "group": "h"}],
     "edges[2] (p -> s): group: group 'h' has no min_ok"),
    ([BASE[0], {**BASE[1], "redundancy": {"g": 3}}, *BASE[2:]], GROUP,
     "nodes[1] ('s'): redundancy.g: min_ok 3 out of range 1..2"),
    ([BASE[0], {**BASE[1], "redundancy": {"g": 0}}, *BASE[2:]], GROUP,
     "nodes[1] ('s'): redundancy.g: min_ok 0 out of range 1..2"),
    (BASE, [GROUP[0], {"from": "s", "to": "c2", "group": "g", "impact": "soft"}],
     "edges[1] (s -> c2): group: a soft dependency cannot be in a redundancy group"),
    (BASE, [*GROUP, {"from": "p", "to": "s", "impact": "sometimes"}],
     "edges[2] (p -> s): impact: unknown impact 'sometimes'"),
    ([*BASE, {"kind": "ci", "name": "nameless"}], GROUP, "nodes[4] (?): id: required"),
])
def test_each_rule_names_the_item(nodes: list[dict[str, Any]], edges: list[dict[str, Any]],
                                  expected: str) -> None:
    found = problems(nodes, edges)
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_are_reported_at_once() -> None:
    found = problems([*BASE, {"id": "x", "kind": "nope", "name": "X"}],
                     [*GROUP, {"from": "s", "to": "ghost"}])
    # Shape errors stop before graph rules (the graph cannot be built), so both
    # phases are checked separately: the shape phase lists the bad kind.
    assert len(found) == 1 and "unknown kind" in found[0]
    found = problems(BASE, [*GROUP, {"from": "s", "to": "ghost"}, {"from": "p", "to": "c1"}])
    assert len(found) == 2


def test_batch_is_checked_against_the_existing_graph() -> None:
    existing = parse_document({"nodes": BASE, "edges": GROUP})
    more = parse_document({"nodes": [], "edges": [{"from": "p", "to": "s"}]})
    assert len(validate(more, existing).edges) == 3
    bad = parse_document({"nodes": [{"id": "s", "kind": "service_system", "name": "S",
                                      "redundancy": {"g": 5}}], "edges": []})
    with pytest.raises(ValidationError, match=r"min_ok 5 out of range 1\.\.2"):
        validate(bad, existing)


def test_not_a_document() -> None:
    with pytest.raises(ValidationError, match="not valid"):
        loads("nodes: [", fmt="yaml")
    with pytest.raises(ValidationError, match="must be a mapping"):
        loads("[1, 2]")


def test_a_kind_change_is_checked_against_stored_edges() -> None:
    existing = parse_document({"nodes": BASE, "edges": GROUP})
    rekind = parse_document({"nodes": [{"id": "c1", "kind": "promise", "name": "C1"}]})
    with pytest.raises(ValidationError, match=r"nodes\[0\] \('c1'\): kind: as a promise it "
                                              r"breaks the stored dependency s -> c1"):
        validate(rekind, existing)
