"""The shapes declared once (``servicegraph.model.fields``), and everything that must
agree with them: the model page, the stores' schemas, the API's models, the CSV columns."""

from __future__ import annotations

from pathlib import Path

from servicegraph.importers import csvfiles
from servicegraph.model import fields
from servicegraph.model.graph import Claim, Edge, GraphData, Node, Observation
from servicegraph.model.kinds import Impact, NodeKind, State
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore
from servicegraph.store.base import Change, ChangeInfo
from servicegraph_api.schemas import EdgeIn, EdgeOut, NodeIn, NodeOut

ROOT = Path(__file__).resolve().parents[1]


def every_field() -> GraphData:
    """A graph whose nodes and edge set every field."""
    claim = Claim("cmdb", "K-1", "2030-01-01T00:00:00.000000Z", {"kind": "ci"})
    web = Node("web", NodeKind.SERVICE_SYSTEM, "Web", owner="IT", provider="Northwind",
               visible=True, silo="compute", description="the web tier", source="cmdb",
               external_id="K-0", properties={"tier": 1}, redundancy={"pool": 1},
               claims=(claim,), retired_at="2030-01-02T00:00:00.000000Z",
               observed=Observation(State.DOWN, "2030-01-01T00:00:00.000000Z", "mon"))
    ci = Node("ci-1", NodeKind.CI, "CI 1")
    return GraphData.of([web, ci], [Edge("web", "ci-1", "pool", Impact.HARD, (claim,),
                                         "2030-01-02T00:00:00.000000Z")])


def test_the_model_page_shows_the_declared_fields() -> None:
    page = (ROOT / "docs" / "model.md").read_text(encoding="utf-8")
    for table, header in ((fields.NODE_FIELDS, "node field"), (fields.EDGE_FIELDS, "edge field")):
        lines = fields.docs_table(table)
        lines[0] = lines[0].replace("| field |", f"| {header} |", 1)
        assert "\n".join(lines) in page, f"docs/model.md's {header} table drifted"


def test_the_api_models_hold_the_declared_fields() -> None:
    assert set(NodeIn.model_fields) == fields.NODE_NAMES
    assert set(NodeOut.model_fields) >= fields.NODE_NAMES
    aliases = {f.alias or name for name, f in EdgeIn.model_fields.items()}
    assert aliases == fields.EDGE_NAMES
    assert {f.alias or name for name, f in EdgeOut.model_fields.items()} >= fields.EDGE_NAMES


def test_the_csv_columns_are_the_declared_fields() -> None:
    assert set(csvfiles.NODE_COLUMNS) == fields.NODE_NAMES
    assert set(csvfiles.EDGE_COLUMNS) == fields.EDGE_NAMES


def test_the_interchange_form_speaks_only_declared_fields() -> None:
    graph = every_field()
    assert set(graph.nodes[0].to_dict()) == fields.NODE_NAMES
    assert set(graph.edges[0].to_dict()) == fields.EDGE_NAMES - {"impact"}


def test_the_sqlite_tables_are_the_declared_columns(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db")
    try:
        db = store._db  # the schema itself is what is checked
        nodes = [r["name"] for r in db.execute("PRAGMA table_info(nodes)")]
        edges = [r["name"] for r in db.execute("PRAGMA table_info(edges)")]
    finally:
        store.close()
    assert nodes == [*fields.NODE_COLUMNS, *fields.OBSERVED_COLUMNS]
    assert edges == list(fields.EDGE_COLUMNS)


def test_every_field_round_trips_and_neo4j_holds_only_declared_properties(
        store: GraphStore) -> None:
    graph = every_field()
    store.apply(Change(graph.nodes, graph.edges, observe=(("web", graph.nodes[0].observed),)),
                ChangeInfo("2030-01-01T00:00:00.000000Z", "load"))
    back = {n.id: n for n in store.read().nodes}
    assert back["web"] == graph.nodes[0]
    assert store.read().edges == graph.edges
    if isinstance(store, Neo4jStore):
        with store.driver.session(database=store.database) as session:
            keys = {k for r in session.run("MATCH (n:Node) RETURN keys(n) AS k")
                    for k in r["k"]}
            rel = {k for r in session.run("MATCH ()-[r:DEPENDS_ON]->() RETURN keys(r) AS k")
                   for k in r["k"]}
        assert keys <= {*fields.NODE_COLUMNS, *fields.OBSERVED_COLUMNS}
        assert rel <= set(fields.EDGE_COLUMNS) - {"source", "target"}
