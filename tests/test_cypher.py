"""Unit tests on the Cypher the Neo4j store sends (no server needed)."""

from __future__ import annotations

import re

from servicegraph.model import Node, NodeKind
from servicegraph.store import Change
from servicegraph.store.cypher import names, statement
from servicegraph.store.neo4j import node_params


def test_every_statement_used_by_the_store_exists() -> None:
    assert {"schema/node_id_unique", "nodes/upsert", "nodes/delete", "nodes/read",
            "edges/upsert", "edges/delete", "edges/read", "graph/clear"} <= set(names())


def test_statements_are_parameterised_not_formatted() -> None:
    for name in names():
        text = statement(name)
        # No Python format fields or string concatenation hooks in any statement.
        assert not re.search(r"\{[a-z_]+\}", text), name
        assert "%s" not in text and "$(" not in text.replace("$(row.label)", ""), name


def test_upsert_removes_exactly_the_kind_labels_of_the_enum() -> None:
    text = statement("nodes/upsert")
    removed = re.search(r"REMOVE n:([\w:]+)", text)
    assert removed is not None
    assert set(removed.group(1).split(":")) == {k.label for k in NodeKind}


def test_labels_come_from_the_enum_not_from_the_input() -> None:
    node = Node("x", NodeKind.SERVICE_SYSTEM, "Name with `backticks` and :Labels")
    (row,) = node_params(Change(upsert_nodes=(node,)))
    assert row["label"] == "ServiceSystem"
    assert row["props"]["name"] == "Name with `backticks` and :Labels"
    assert "id" not in row["props"]
