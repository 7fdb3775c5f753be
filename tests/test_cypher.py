"""Unit tests on the Cypher the Neo4j store sends (no server needed)."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

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


def test_the_wheel_ships_every_statement(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
                    "--wheel-dir", str(tmp_path), str(root)], check=True)
    (wheel,) = tmp_path.glob("servicegraph-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".cypher")}
    assert shipped == {f"servicegraph/cypher/{name}.cypher" for name in names()}
    assert "servicegraph/examples/enterprise.yaml" in zipfile.ZipFile(wheel).namelist()
