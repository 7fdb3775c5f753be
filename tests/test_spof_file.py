"""The command line keeps single points of failure between commands.

Each command is a new process: it answers from the file the previous command
kept while the graph's structure is the same (statuses included), and computes
again, with the right answer, when a dependency changed or the file is torn.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings

from servicegraph.cli.backend import Local, spof_file
from servicegraph.core import ServiceGraph
from servicegraph.examples import example_text
from servicegraph.impact.index import GraphIndex
from servicegraph.impact.spof_file import SpofFile, structure_digest
from servicegraph.impact.spof_table import SpofTable
from servicegraph.model import Edge, GraphData, NodeKind, loads
from servicegraph.settings import Settings
from servicegraph.store import GraphStore, SqliteStore

from graphs import graphs


@pytest.fixture()
def target(store: GraphStore, neo4j_uri_or_none: str | None, tmp_path: Path,
           monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The example in each store, named as a command names it."""
    monkeypatch.chdir(tmp_path)  # no .env of the working folder
    monkeypatch.setenv("SERVICEGRAPH_CLI_CACHE_DIR", str(tmp_path / "cache"))
    ServiceGraph(store).writes.load(loads(example_text()), replace=True)
    yield store.path if isinstance(store, SqliteStore) else str(neo4j_uri_or_none)


@pytest.fixture()
def neo4j_uri_or_none(request: pytest.FixtureRequest, store: GraphStore) -> str | None:
    if isinstance(store, SqliteStore):
        return None
    return request.getfixturevalue("neo4j_uri")  # type: ignore[no-any-return]


class Computed:
    """Counts the tables computed (and can forbid computing)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        self.allowed = True
        real = SpofTable.compute.__func__  # type: ignore[attr-defined]

        def compute(cls: type[SpofTable], index: GraphIndex, **kw: Any) -> SpofTable:
            assert self.allowed, "single points of failure computed again"
            self.count += 1
            return real(cls, index, **kw)  # type: ignore[no-any-return]

        monkeypatch.setattr(SpofTable, "compute", classmethod(compute))


def ask(target: str, promise: str | None = None) -> dict[str, Any]:
    """One command's answer: a new backend, as a new process has."""
    backend = Local(target)
    try:
        return backend.spof(promise, None)
    finally:
        backend.close()


def fresh(store: GraphStore, promise: str | None = None) -> dict[str, Any]:
    """The answer computed now, with nothing kept."""
    q = ServiceGraph(store).questions
    page = (q.spof_ranking(limit=10_000, wait=60) if promise is None else
            q.promise_spof(promise, limit=10_000, wait=60))
    return {k: v for k, v in page.body.items() if k in ("promise", "single_points")}


def test_a_command_answers_from_the_kept_table_while_the_structure_holds(
        target: str, store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    computed = Computed(monkeypatch)
    first = ask(target)
    assert computed.count == 1 and first["single_points"]
    assert spof_file(Settings(), target).exists()
    computed.allowed = False
    assert ask(target) == first
    assert ask(target, "onboarding") == fresh_without(computed, store, "onboarding")
    # A status changes no dependency: the kept table still holds.
    backend = Local(target)
    try:
        backend.status("monitoring", [{"id": "web-1", "state": "down"}])
    finally:
        backend.close()
    assert ask(target) == first


def fresh_without(computed: Computed, store: GraphStore, promise: str) -> dict[str, Any]:
    computed.allowed = True
    try:
        return fresh(store, promise)
    finally:
        computed.allowed = False


def test_a_changed_dependency_or_a_torn_file_computes_again(
        target: str, store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    computed = Computed(monkeypatch)
    before = ask(target)
    # web-tier no longer needs the load balancer: lb breaks less than before.
    ServiceGraph(store).writes.remove(edge_keys=[("web-tier", "lb")])
    after = ask(target)
    assert computed.count == 2 and after != before
    assert after == fresh(store)
    path = spof_file(Settings(), target)
    path.write_bytes(path.read_bytes()[:100])  # torn
    assert ask(target) == after and computed.count >= 3
    path.write_bytes(b"not a table")
    assert ask(target) == after


def test_the_digest_is_of_the_structure(tmp_path: Path) -> None:
    g = loads(example_text())
    index = GraphIndex.from_graph(g)
    same = GraphIndex.from_graph(loads(example_text()))
    assert structure_digest(index) == structure_digest(same)
    more = GraphIndex.from_graph(g.merged_with(GraphData.of((), [Edge("web-1", "lb")])))
    assert structure_digest(more) != structure_digest(index)
    kept = SpofFile(tmp_path / "t.npz")
    table = SpofTable.compute(index)
    kept.save(index, table)
    assert kept.load(more) is None
    loaded = kept.load(same)
    assert loaded is not None
    assert loaded[0].ranking() == table.ranking()
    assert loaded[0].of_promise("onboarding") == table.of_promise("onboarding")


@settings(max_examples=40, deadline=None)
@given(graphs(max_nodes=12))
def test_a_kept_table_answers_as_the_computed_one(g: GraphData) -> None:
    """On random graphs (cycles, groups of every rule, soft edges): the table read back
    gives every answer the computed one gives."""
    import tempfile

    index = GraphIndex.from_graph(g)
    table = SpofTable.compute(index, workers=1)
    with tempfile.TemporaryDirectory() as folder:
        kept = SpofFile(Path(folder) / "t.npz")
        kept.save(index, table)
        loaded = kept.load(GraphIndex.from_graph(g))
    assert loaded is not None
    again = loaded[0]
    assert again.ranking() == table.ranking()
    assert again.ranking((NodeKind.CI,), limit=2, offset=1) == table.ranking(
        (NodeKind.CI,), limit=2, offset=1)
    for n in g.nodes:
        if n.kind is NodeKind.PROMISE:
            assert again.of_promise(n.id) == table.of_promise(n.id)
