"""A local Neo4j for the benchmark, sized for the tier, and the Cypher traversal.

The server is the project's own local Neo4j (fetched from Maven Central), in a
home of its own under ``.neo4j/`` so the tests' instance is left alone, with a
heap and a page cache large enough to hold tier M.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import neo4j

from servicegraph import neo4j_local


@contextmanager
def local_neo4j(home: Path, heap: str, pagecache: str) -> Iterator[str]:
    """A running local Neo4j (its Bolt URI), stopped on exit."""
    inst = neo4j_local.LocalNeo4j(home=home)
    rendered = neo4j_local.render_conf

    def conf(inst: neo4j_local.LocalNeo4j, port: int) -> str:
        # The project's configuration carries a page cache sized for tests; the
        # benchmark's store (over a GiB at tier M) needs one that holds it.
        text = rendered(inst, port)
        lines = [ln for ln in text.splitlines() if "pagecache.size" not in ln]
        return "\n".join([*lines, f"server.memory.pagecache.size={pagecache}"]) + "\n"

    neo4j_local.render_conf = conf
    try:
        neo4j_local.stop(inst)  # a server left running by an interrupted run
        uri = neo4j_local.start(inst, heap=heap, timeout=300)
    finally:
        neo4j_local.render_conf = rendered
    try:
        yield uri
    finally:
        neo4j_local.stop(inst)


def server_version(driver: neo4j.Driver) -> str:
    with driver.session() as s:
        rec = s.run("CALL dbms.components() YIELD versions RETURN versions[0] AS v").single()
    return str(rec["v"]) if rec else "?"


#: Everything that depends on a node, directly or not: a variable-length traversal.
TRAVERSAL = ("MATCH (f:Node {id: $id})<-[:DEPENDS_ON*]-(n:Node) "
             "RETURN count(DISTINCT n) AS reach")


def cypher_reach(driver: neo4j.Driver, node_id: str, limit: float) -> tuple[float, int | None]:
    """Seconds the traversal took and the reach it counted (``None``: it hit ``limit``
    seconds and Neo4j stopped it)."""
    query = neo4j.Query(TRAVERSAL, timeout=limit)
    t0 = time.perf_counter()
    try:
        with driver.session() as s:
            rec: Any = s.run(query, id=node_id).single()
    except (neo4j.exceptions.ClientError, neo4j.exceptions.TransientError) as exc:
        if "Timeout" in str(getattr(exc, "code", "")) or "timeout" in str(exc).lower():
            return time.perf_counter() - t0, None
        raise
    return time.perf_counter() - t0, int(rec["reach"]) + 1  # the failed node itself
