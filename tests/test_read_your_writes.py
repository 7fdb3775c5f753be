"""Read-your-writes without a store round trip per question, on each store.

The processes of one server announce the versions they commit on a shared board, and
a question asks the store only when the board names a newer version than its process
holds; a client may also send the version of its write back
(``X-ServiceGraph-Min-Version``), and is then answered from a graph that includes it,
whichever process or server wrote it.
"""

from __future__ import annotations

import struct
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from servicegraph import ServiceGraph
from servicegraph.live.board import BoardRejected, VersionBoard
from servicegraph.model import GraphData, Node, NodeKind
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore
from servicegraph_api import create_app
from servicegraph_api.freshness import MIN_VERSION_HEADER

from apikit import example_graph, local_client, settings_for
from servers import serve

VERSION = "x-servicegraph-version"


def target_of(store: GraphStore) -> str:
    """How another process names the same store."""
    if isinstance(store, SqliteStore):
        return store.path
    assert isinstance(store, Neo4jStore)
    return store.uri


def counted(store: GraphStore) -> Counter[str]:
    """Count every call of the store's own methods from now on (the store itself,
    its methods wrapped on the instance: no stand-in)."""
    calls: Counter[str] = Counter()

    def wrap(name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            calls[name] += 1
            return method(*args, **kwargs)
        return call

    for name in dir(type(store)):
        if name.startswith("_"):
            continue
        method = getattr(store, name)
        if callable(method):
            setattr(store, name, wrap(name, method))
    return calls


def vm(name: str) -> GraphData:
    return GraphData.of([Node(name, NodeKind.CI, name.upper())])


# --- in process: the board and the token ---------------------------------------------------


@pytest.fixture()
def two(store: GraphStore, tmp_path: Path) -> Iterator[tuple[ServiceGraph, ServiceGraph,
                                                            TestClient, Counter[str]]]:
    """Two processes' graphs on one store sharing a board (the second one writing), and
    a client of the first whose store calls are counted."""
    board_file = tmp_path / "versions"
    example_graph(store)
    reader = ServiceGraph(store)
    reader.replica.announce_on(VersionBoard(board_file, store.description))
    writer = ServiceGraph(store)
    writer.replica.announce_on(VersionBoard(board_file, store.description))
    writer.refresh()
    app = create_app(settings_for(tmp_path), graph=reader)
    with local_client(app) as client:
        assert client.get("/v1/catalogue/promises").status_code == 200  # reads the graph
        yield reader, writer, client, counted(store)


def ask(client: TestClient) -> list[httpx.Response]:
    """A few questions of different routes, each answered 200."""
    answers = [client.post("/v1/impact", json={"down": ["feed-job"]}),
               client.get("/v1/catalogue/promises"),
               client.get("/v1/nodes/feed-job"),
               client.get("/v1/nodes", params={"q": "web"})]
    for answer in answers:
        assert answer.status_code == 200, answer.text
    return answers


def test_questions_ask_the_store_only_when_a_newer_version_was_announced(
        two: tuple[ServiceGraph, ServiceGraph, TestClient, Counter[str]]) -> None:
    reader, writer, client, calls = two
    for _ in range(5):
        ask(client)
    assert calls == Counter(), f"questions asked the store with nothing new: {calls}"

    writer.writes.push("disc", vm("announced-vm"))
    written = writer.version
    calls.clear()  # the writer's own calls (it shares the store object)
    answer = client.get("/v1/nodes/announced-vm")
    assert answer.status_code == 200, answer.text
    assert int(answer.headers[VERSION]) == written
    # Told there was something newer, the reader read the journal once, and no version
    # first, nor the whole graph.
    assert calls["journal"] == 1 and not {"version", "load", "read"} & set(calls), calls

    calls.clear()
    for _ in range(5):
        ask(client)
    assert calls == Counter()

    # Without the board every question asks the store again (what the board saves).
    reader.replica.announce_on(None)
    ask(client)
    assert calls["version"] >= 4, calls


def test_a_board_of_another_store_is_refused(tmp_path: Path) -> None:
    board = VersionBoard(tmp_path / "versions", "sqlite:one.db")
    board.announce(7)
    board.announce(3)  # lower: changes nothing
    assert VersionBoard(tmp_path / "versions", "sqlite:one.db").read() == 7
    with pytest.raises(BoardRejected, match="another store"):
        VersionBoard(tmp_path / "versions", "sqlite:two.db")
    (tmp_path / "junk").write_bytes(b"not a board at all, but long enough" * 4)
    with pytest.raises(BoardRejected, match="not a version board"):
        VersionBoard(tmp_path / "junk", "sqlite:one.db")


@given(st.lists(st.integers(min_value=0, max_value=2**63 - 1), max_size=20))
@settings(max_examples=50, deadline=None)
def test_a_board_holds_the_highest_version_announced(versions: list[int]) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "versions"
        one, two = VersionBoard(path, "s"), VersionBoard(path, "s")
        for n, version in enumerate(versions):
            (one, two)[n % 2].announce(version)  # two processes' announcements
        assert one.read() == two.read() == max(versions, default=0)
        one.close()
        two.close()


def test_a_half_written_board_makes_readers_ask_until_mended(tmp_path: Path) -> None:
    board = VersionBoard(tmp_path / "versions", "s")
    board.announce(9)
    with (tmp_path / "versions").open("r+b") as raw:  # a writer died halfway through
        raw.seek(24)
        raw.write(struct.pack("<Q", 12))
    assert board.read() > 12  # ahead of every version: readers ask the store
    board.announce(10)
    assert board.read() == 10


@pytest.fixture()
def trusting(store: GraphStore, tmp_path: Path) -> Iterator[tuple[ServiceGraph, TestClient]]:
    """A client of a process without a board that trusts its last look at the store for
    an hour: only a token makes it look again."""
    example_graph(store)
    reader = ServiceGraph(store, check_interval=3600)
    app = create_app(settings_for(tmp_path, min_version_wait=0.3), graph=reader)
    with local_client(app) as client:
        assert client.get("/v1/nodes/feed-job").status_code == 200
        yield ServiceGraph(store), client


def test_the_token_catches_up_to_a_write_made_elsewhere(
        trusting: tuple[ServiceGraph, TestClient]) -> None:
    writer, client = trusting
    writer.writes.push("disc", vm("elsewhere-vm"))
    token = writer.version
    # Without the token this process answers from what it last saw.
    assert client.get("/v1/nodes/elsewhere-vm").status_code == 404
    answer = client.get("/v1/nodes/elsewhere-vm", headers={MIN_VERSION_HEADER: str(token)})
    assert answer.status_code == 200, answer.text
    assert int(answer.headers[VERSION]) >= token
    impact = client.post("/v1/impact", json={"down": ["elsewhere-vm"]},
                         headers={MIN_VERSION_HEADER: str(token)})
    assert impact.status_code == 200, impact.text


def test_a_write_answer_names_the_version_it_wrote(
        trusting: tuple[ServiceGraph, TestClient]) -> None:
    writer, client = trusting
    wrote = client.post("/v1/sources/disc/push",
                        json={"nodes": [{"id": "own-vm", "kind": "ci", "name": "O"}]})
    assert wrote.status_code == 200, wrote.text
    assert int(wrote.headers[VERSION]) == wrote.json()["version"] == writer.refresh().version


def test_a_token_out_of_reach_or_malformed_is_refused_naming_it(
        trusting: tuple[ServiceGraph, TestClient]) -> None:
    writer, client = trusting
    ahead = writer.refresh().version + 1000
    answer = client.get("/v1/nodes/feed-job", headers={MIN_VERSION_HEADER: str(ahead)})
    assert answer.status_code == 412, answer.text
    assert MIN_VERSION_HEADER in answer.json()["detail"]
    assert str(ahead) in answer.json()["detail"]
    assert answer.headers["retry-after"] == "1"
    # Nothing half-written: a write with such a token is refused before it plans.
    refused = client.post("/v1/sources/disc/push", headers={MIN_VERSION_HEADER: str(ahead)},
                          json={"nodes": [{"id": "never-vm", "kind": "ci", "name": "N"}]})
    assert refused.status_code == 412, refused.text
    assert not writer.questions.has_node("never-vm")
    for bad in ("soon", "-1", "1.5"):
        answer = client.get("/v1/nodes/feed-job", headers={MIN_VERSION_HEADER: bad})
        assert answer.status_code == 422, (bad, answer.text)
        assert answer.json()["detail"][0]["loc"] == ["header", MIN_VERSION_HEADER]


def test_the_token_is_documented_on_the_graph_routes(
        trusting: tuple[ServiceGraph, TestClient]) -> None:
    _, client = trusting
    spec = client.get("/openapi.json").json()
    for path, method in (("/v1/impact", "post"), ("/v1/nodes/{node_id}", "get"),
                         ("/v1/sources/{source}/push", "post")):
        operation = spec["paths"][path][method]
        names = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert MIN_VERSION_HEADER in names, (path, names)
        assert "412" in operation["responses"], path


# --- real processes ------------------------------------------------------------------------


def test_every_answer_after_a_write_shows_it_whichever_worker_or_server_answers(
        store: GraphStore, tmp_path: Path) -> None:
    """``serve --workers 2``: a write through one connection, then questions on fresh
    connections (either worker) all show it; a second server (as on another machine,
    with its own board) shows it to a client that sends the token."""
    example_graph(store)
    # No background look at the store for a minute: only the board (or the token) can
    # tell a process about a write.
    env = {"SERVICEGRAPH_FOLLOW_INTERVAL": "60"}
    with serve(tmp_path, target_of(store), args=["--workers", "2"], env=env,
               name="workers") as server, \
            serve(tmp_path, target_of(store), env=env, name="elsewhere") as other:
        for r in range(3):
            name = f"ryw-vm-{r}"
            with httpx.Client(base_url=server.url, timeout=30) as client:
                wrote = client.post("/v1/sources/disc/push", json={
                    "nodes": [{"id": name, "kind": "ci", "name": name.upper()}]})
            assert wrote.status_code == 200, wrote.text
            token = int(wrote.headers[VERSION])
            assert token == wrote.json()["version"]  # the version it wrote: the token
            for _ in range(10):  # each on a fresh connection: either worker takes it
                seen = httpx.get(f"{server.url}/v1/nodes/{name}", timeout=30)
                assert seen.status_code == 200, (r, seen.text, server.output()[-2000:])
                assert int(seen.headers[VERSION]) >= token
                impact = httpx.post(f"{server.url}/v1/impact", json={"down": [name]},
                                    timeout=30)
                assert impact.status_code == 200, impact.text
            for _ in range(3):
                seen = httpx.get(f"{other.url}/v1/nodes/{name}", timeout=30,
                                 headers={MIN_VERSION_HEADER: str(token)})
                assert seen.status_code == 200, (r, seen.text, other.output()[-2000:])
                assert int(seen.headers[VERSION]) >= token
