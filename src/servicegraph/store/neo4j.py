"""The Neo4j store of record, over the official driver.

One driver per process, managed transactions (the driver retries transient
errors by re-running the transaction function, so every function here is
idempotent), ``UNWIND`` batches, the database always named.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import neo4j

from servicegraph.model.graph import Edge, GraphData
from servicegraph.model.kinds import NodeKind
from servicegraph.store.base import Change
from servicegraph.store.cypher import statement
from servicegraph.store.rows import edge_from_row, edge_row, node_from_row, node_row

#: Rows per UNWIND: large enough to amortise round trips, small enough to keep
#: each statement's memory modest. All batches of a change share one transaction.
BATCH = 5000


def _chunks(rows: Sequence[Any], size: int = BATCH) -> Iterator[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def node_params(change: Change) -> list[dict[str, Any]]:
    """The ``$rows`` of ``nodes/upsert``: the label is chosen from the kind enum here."""
    rows = []
    for node in change.upsert_nodes:
        props = node_row(node)
        del props["id"]
        rows.append({"id": node.id, "label": NodeKind(node.kind).label, "props": props})
    return rows


def edge_params(edge: Edge) -> dict[str, Any]:
    """One row of ``edges/upsert``'s ``$rows``."""
    props = edge_row(edge)
    return {"source": props.pop("source"), "target": props.pop("target"), "props": props}


class Neo4jStore:
    """The graph in Neo4j: ``(:Node:<KindLabel>)-[:DEPENDS_ON]->(:Node)``."""

    def __init__(self, uri: str, *, auth: tuple[str, str] | None = None,
                 database: str = "neo4j", driver: neo4j.Driver | None = None) -> None:
        self.uri = uri
        self.database = database
        self.description = f"neo4j:{uri}/{database}"
        self._own_driver = driver is None
        # Notifications (e.g. "relationship type does not exist" on an empty graph)
        # would be logged as warnings on every query: servicegraph's queries are fixed.
        self.driver = driver or neo4j.GraphDatabase.driver(
            uri, auth=auth, notifications_min_severity="OFF")
        self._schema_ready = False
        # Neo4j may come up after us: then the schema is made on first successful use.
        with contextlib.suppress(neo4j.exceptions.ServiceUnavailable):
            self.ensure_schema()

    def ensure_schema(self) -> None:
        """Create the constraints (idempotent: ``IF NOT EXISTS``), once per store."""
        if not self._schema_ready:
            self._run_once(statement("schema/node_id_unique"))
            self._schema_ready = True

    def _run_once(self, query: str) -> None:
        # An auto-commit run, not execute_query: the driver would retry a dead server
        # for 30 s, and readiness and start-up must answer at once.
        with self.driver.session(database=self.database) as session:
            session.run(query).consume()

    def ping(self) -> None:
        """Raise unless Neo4j answers a trivial query now."""
        self.ensure_schema()
        self._run_once(statement("graph/ping"))

    def read(self) -> GraphData:
        """The whole graph, read in one transaction for a consistent snapshot."""
        self.ensure_schema()
        def work(tx: neo4j.ManagedTransaction) -> GraphData:
            nodes = [node_from_row(r["row"]) for r in tx.run(statement("nodes/read"))]
            edges = [edge_from_row(r["row"]) for r in tx.run(statement("edges/read"))]
            return GraphData(tuple(nodes), tuple(edges))

        with self.driver.session(database=self.database) as session:
            return session.execute_read(work)

    def apply(self, change: Change) -> None:
        """Write one change in one transaction, in ``UNWIND`` batches."""
        self.ensure_schema()
        node_rows = node_params(change)
        edge_rows = [edge_params(e) for e in change.upsert_edges]
        delete_edges = [{"source": s, "target": t} for s, t in change.delete_edges]
        delete_nodes = list(change.delete_nodes)

        def work(tx: neo4j.ManagedTransaction) -> None:
            if change.replace:
                tx.run(statement("graph/clear")).consume()
            for rows in _chunks(delete_edges):
                tx.run(statement("edges/delete"), rows=rows).consume()
            for ids in _chunks(delete_nodes):
                tx.run(statement("nodes/delete"), ids=ids).consume()
            for rows in _chunks(node_rows):
                tx.run(statement("nodes/upsert"), rows=rows).consume()
            for rows in _chunks(edge_rows):
                written = tx.run(statement("edges/upsert"), rows=rows).single(strict=True)
                if written["written"] != len(rows):
                    # A missing end would silently drop an edge: refuse the whole change.
                    raise RuntimeError("an edge refers to a node that is not in the store")
            tx.run(statement("graph/bump_version")).consume()

        with self.driver.session(database=self.database) as session:
            session.execute_write(work)

    def version(self) -> int:
        """The write counter: changes whenever any process writes the graph."""
        records, _, _ = self.driver.execute_query(
            statement("graph/version"), database_=self.database,
            routing_=neo4j.RoutingControl.READ)
        return int(records[0]["version"])

    def clear(self) -> None:
        """Remove the whole service graph."""
        self.apply(Change(replace=True))

    def close(self) -> None:
        """Close the driver if this store opened it."""
        if self._own_driver:
            self.driver.close()
