"""Shared fixtures: a real Neo4j for the session, and every store to test against.

Neo4j is started once per session (fetched from Maven Central the first time)
unless ``NEO4J_URI`` points at a running one. It is never skipped: when it
cannot start, the Neo4j tests error, and CI goes red.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import neo4j
import pytest
from fastapi.testclient import TestClient

from servicegraph.store import GraphStore, Neo4jStore, SqliteStore

ROOT = Path(__file__).resolve().parents[1]


def _uses_neo4j(item: pytest.Item) -> bool:
    """Whether a test talks to the session's Neo4j: marked so (the store fixture's
    Neo4j half), or asking for a Neo4j fixture, directly or through another."""
    names = getattr(item, "fixturenames", ())
    return (item.get_closest_marker("neo4j") is not None
            or any(name.startswith("neo4j_") for name in names))


#: Modules of slow tests that need no Neo4j, run in the Neo4j tests' process to even
#: out the two halves of ``make test``.
WITH_THE_NEO4J_HALF = frozenset({"test_page_browser.py", "test_cli_bad_server.py",
                                 "test_cli_startup.py"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark ``neo4j`` every test that talks to the session's Neo4j, and ``first_half``
    those and the tests run beside them.

    ``make test`` runs the ``first_half`` and the others in two processes side by
    side. Community Neo4j has one database, and the Neo4j tests clear it, so none of
    them may land in the other half: a test asking for a Neo4j fixture is marked even
    when its author forgot to.
    """
    for item in items:
        if _uses_neo4j(item):
            item.add_marker(pytest.mark.neo4j)
            item.add_marker(pytest.mark.first_half)
        elif item.path.name in WITH_THE_NEO4J_HALF:
            item.add_marker(pytest.mark.first_half)


@pytest.fixture(scope="session", autouse=True)
def _cli_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Commands run by the tests (in process or not) keep what they cache in a folder of
    the session's, never in the user's own cache."""
    os.environ["SERVICEGRAPH_CLI_CACHE_DIR"] = str(tmp_path_factory.mktemp("cli-cache"))


@pytest.fixture(scope="session")
def neo4j_uri() -> Iterator[str]:
    """The Bolt URI of a real Neo4j for this session."""
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield uri
        return
    from servicegraph import neo4j_local

    inst = neo4j_local.default_instance()
    was_running = bool(neo4j_local.status(inst)["running"])
    uri = neo4j_local.start(inst)
    yield uri
    if not was_running:
        neo4j_local.stop(inst)


@pytest.fixture(scope="session")
def neo4j_driver(neo4j_uri: str) -> Iterator[neo4j.Driver]:
    """One driver for the session, as in production: one per process."""
    user, password = os.environ.get("NEO4J_USER"), os.environ.get("NEO4J_PASSWORD")
    driver = neo4j.GraphDatabase.driver(neo4j_uri, auth=(user, password) if password else None)
    driver.verify_connectivity()
    yield driver
    driver.close()


@pytest.fixture()
def neo4j_store(neo4j_uri: str, neo4j_driver: neo4j.Driver) -> Iterator[Neo4jStore]:
    """A Neo4j store, emptied before the test (Community has no CREATE DATABASE)."""
    store = Neo4jStore(neo4j_uri, driver=neo4j_driver)
    store.clear()
    yield store
    store.close()


@pytest.fixture()
def sqlite_store(tmp_path: Path) -> Iterator[SqliteStore]:
    """An embedded store in a fresh file."""
    store = SqliteStore(tmp_path / "graph.db")
    yield store
    store.close()


@pytest.fixture(params=["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest) -> GraphStore:
    """Each store in turn: the conformance suite runs unchanged against both (the Neo4j
    half is marked ``neo4j``, so ``-m "not neo4j"`` leaves it out)."""
    if request.param == "neo4j":
        return request.getfixturevalue("neo4j_store")  # type: ignore[no-any-return]
    return request.getfixturevalue("sqlite_store")  # type: ignore[no-any-return]


@pytest.fixture()
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    """A client of an app serving the example enterprise from each store in turn (a
    test file may define its own ``client`` when it needs another app)."""
    from apikit import api_client

    with api_client(store, tmp_path) as c:
        yield c
