"""The record's per-key statements seek the (node, layer, at) index for each key rather
than scanning every transition: planned on the real Neo4j, whatever its statistics."""

from __future__ import annotations

from typing import Any

import neo4j
import pytest

from servicegraph.store import Neo4jStore
from servicegraph.store.cypher import statement

#: Statements that look up each key's transitions, with parameters to plan them with.
PER_KEY = {
    "record/latest": {},
    "record/last": {"nodes": None, "layers": None, "at": "2030-01-01T00:00:00.000000Z",
                    "inclusive": True},
}


def _operators(plan: Any) -> list[str]:
    found = [plan["operatorType"].split("@")[0]]
    for child in plan.get("children", []):
        found += _operators(child)
    return found


@pytest.mark.parametrize("name", sorted(PER_KEY))
def test_each_key_is_looked_up_through_the_index(neo4j_store: Neo4jStore,
                                                 neo4j_driver: neo4j.Driver,
                                                 name: str) -> None:
    neo4j_store.ensure_schema()
    with neo4j_driver.session() as session:
        summary = session.run("EXPLAIN " + statement(name), PER_KEY[name]).consume()
    assert summary.plan is not None
    operators = _operators(summary.plan)
    assert "NodeIndexSeek" in operators, operators
    # The only label scan left is the one over the keys themselves.
    assert operators.count("NodeByLabelScan") == 1, operators
