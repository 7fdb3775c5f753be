"""What one request may ask: replicas and the items an import expands to are bounded
before anything is built, YAML aliases are counted on every YAML way in, and a request
that runs out of memory answers 503 without taking the process down."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from servicegraph.cli import app as cli
from servicegraph.core import ServiceGraph
from servicegraph.importers import SourceFile, parse, run_import
from servicegraph.importers.common import MAX_IMPORT_ITEMS, MAX_REPLICAS
from servicegraph.model.errors import ValidationError
from servicegraph.model.graph import Edge, GraphData, Node
from servicegraph.model.interchange import load_file, loads
from servicegraph.model.kinds import NodeKind
from servicegraph.model.yaml_bounds import MAX_ALIAS_NODES
from servicegraph.store import GraphStore, Neo4jStore, SqliteStore

from apikit import api_client, example_graph
from servers import serve

YAML_TYPE = {"Content-Type": "application/yaml"}

#: The attack's 180-byte Deployment, with the replicas to ask for.
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: web}}
spec:
  replicas: {replicas}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: web:1}}]}}
"""


@pytest.fixture()
def client(store: GraphStore, tmp_path: Path) -> Iterator[TestClient]:
    with api_client(store, tmp_path) as c:
        yield c


def counts(client: TestClient) -> tuple[int, int]:
    """How many nodes and edges the graph holds."""
    nodes = client.get("/v1/nodes", params={"limit": 1}).json()["total"]
    edges = client.get("/v1/edges", params={"limit": 1}).json()["total"]
    return nodes, edges


def the_problem(answer: Any) -> dict[str, Any]:
    """The one problem of a 422."""
    assert answer.status_code == 422, answer.text
    (problem,) = answer.json()["problems"]
    return problem  # type: ignore[no-any-return]


# --- replicas and the items an import expands to ----------------------------------------


@pytest.mark.parametrize("replicas", [MAX_REPLICAS + 1, 1_000_000])
def test_a_tiny_deployment_asking_for_too_many_replicas_is_refused(
        client: TestClient, replicas: int) -> None:
    before = counts(client)
    text = DEPLOYMENT.format(replicas=replicas)
    for dry_run in ("true", "false"):
        answer = client.post(f"/v1/sources/k8s/import/kubernetes?dry_run={dry_run}&name=web.yaml",
                             content=text, headers=YAML_TYPE)
        problem = the_problem(answer)
        assert problem["section"] == "web.yaml document 1 (line 1)"
        assert problem["item"] == "'deployment/web'"
        assert problem["field"] == "spec.replicas"
        assert f"at most {MAX_REPLICAS:,}" in problem["message"]
        assert f"{replicas:,}" in problem["message"]
    assert counts(client) == before
    assert client.get("/v1/nodes/deployment%2Fweb").status_code == 404


def test_replicas_at_the_bound_are_imported(client: TestClient) -> None:
    answer = client.post("/v1/sources/k8s/import/kubernetes?dry_run=true",
                         content=DEPLOYMENT.format(replicas=MAX_REPLICAS), headers=YAML_TYPE)
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"]["nodes"] == MAX_REPLICAS + 1


@pytest.mark.parametrize("service", ["{image: web, scale: 50000}",
                                     "{image: web, deploy: {replicas: 50000}}",
                                     f"{{image: web, scale: '{MAX_REPLICAS + 1}'}}"])
def test_compose_scale_past_the_bound_is_refused(client: TestClient, service: str) -> None:
    before = counts(client)
    text = f"services:\n  db: {{image: postgres}}\n  web: {service}\n"
    answer = client.post("/v1/sources/compose/import/compose?name=compose.yaml", content=text,
                         headers=YAML_TYPE)
    problem = the_problem(answer)
    assert problem["section"] == "compose.yaml line 3"
    assert problem["item"] == "'web'"
    assert problem["field"] == "deploy.replicas"
    assert f"at most {MAX_REPLICAS:,}" in problem["message"]
    assert counts(client) == before


def test_many_workloads_within_the_replica_bound_still_meet_the_import_bound() -> None:
    # Each workload asks for the most replicas it may; together they ask for more items
    # than one import may describe. Refused before a single replica is built.
    workloads = MAX_IMPORT_ITEMS // (1 + 2 * MAX_REPLICAS) + 1  # a node, replicas, edges
    text = "\n---\n".join(
        DEPLOYMENT.format(replicas=MAX_REPLICAS).replace("name: web}", f"name: web-{i}}}")
        for i in range(workloads))
    with pytest.raises(ValidationError) as caught:
        parse("kubernetes", [SourceFile("fleet.yaml", text)])
    (problem,) = caught.value.problems
    assert problem.section.startswith(f"fleet.yaml document {workloads} ")
    assert problem.item == f"'deployment/web-{workloads - 1}'"
    assert f"more than {MAX_IMPORT_ITEMS:,} nodes and dependencies" in problem.message

    compose = "services:\n" + "".join(f"  s{i}: {{scale: {MAX_REPLICAS}}}\n"
                                      for i in range(workloads))
    with pytest.raises(ValidationError) as caught:
        parse("compose", [SourceFile("compose.yaml", compose)])
    (problem,) = caught.value.problems
    assert problem.item == f"'s{workloads - 1}'"
    assert f"more than {MAX_IMPORT_ITEMS:,} nodes and dependencies" in problem.message


def test_the_command_line_refuses_the_replicas_too(tmp_path: Path) -> None:
    manifest = tmp_path / "web.yaml"
    manifest.write_text(DEPLOYMENT.format(replicas=100_000))
    db = str(tmp_path / "cli.db")
    out = CliRunner().invoke(cli, ["import", "kubernetes", str(manifest), "--source", "k8s",
                                   "--store", db])
    assert out.exit_code == 2, out.output
    assert "spec.replicas: at most 1,000 replicas per workload" in out.output
    assert "got 100,000" in out.output
    listed = CliRunner().invoke(cli, ["nodes", "--store", db])
    assert listed.exit_code == 0 and "deployment/web" not in listed.output


# --- YAML aliases ------------------------------------------------------------------------


def alias_bomb(levels: int = 9, width: int = 10) -> str:
    """YAML text of a few hundred bytes whose last anchor, ``*top``, stands for
    ``width ** levels`` values: each level is a list of ``width`` aliases of the one
    before."""
    lines = [f"bomb0: &a0 [{', '.join(['x'] * width)}]"]
    for level in range(1, levels):
        lines.append(f"bomb{level}: &a{level} [{', '.join([f'*a{level - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


def kubernetes_bomb() -> str:
    """The review's shape: a ``kind: List`` whose items, containers and env are aliases
    of each other, nested."""
    env = "[" + ", ".join(f"{{name: V{i}, value: 'svc-{i}:80'}}" for i in range(50)) + "]"
    return ("apiVersion: v1\nkind: List\n"
            f"env: &env {env}\n"
            "containers: &containers [" + ", ".join(["{name: c, image: i, env: *env}"] * 50)
            + "]\n"
            "deployment: &d {kind: Deployment, metadata: {name: web}, spec: {replicas: 1, "
            "template: {spec: {containers: *containers}}}}\n"
            "items: [" + ", ".join(["*d"] * 50) + "]\n")


def assert_names_the_alias_bound(message: str) -> None:
    assert "aliases" in message and f"{MAX_ALIAS_NODES:,}" in message, message


def test_the_kubernetes_alias_bomb_is_refused_by_every_way_in() -> None:
    with pytest.raises(ValidationError) as caught:
        parse("kubernetes", [SourceFile("list.yaml", kubernetes_bomb())])
    (problem,) = caught.value.problems
    assert problem.section.startswith("list.yaml document 1 (line ")
    assert_names_the_alias_bound(problem.message)


#: A document each YAML importer reads without a problem, naming ``{name}``.
BENIGN = {"backstage": "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
                       "metadata: {{name: {name}}}\n",
          "kubernetes": "kind: Service\nmetadata: {{name: {name}}}\n",
          "compose": "services: {{{name}: {{image: {name}}}}}\n"}


@pytest.mark.parametrize("kind", sorted(BENIGN))
def test_every_yaml_importer_refuses_the_alias_bomb(kind: str) -> None:
    # The bomb is the second document of the second file: the problem says so.
    second = BENIGN[kind].format(name="b") + "---\n" + BENIGN[kind].format(name="c") \
        + alias_bomb()
    with pytest.raises(ValidationError) as caught:
        parse(kind, [SourceFile("first.yaml", BENIGN[kind].format(name="a")),
                     SourceFile("second.yaml", second)])
    (problem,) = caught.value.problems
    assert problem.section.startswith("second.yaml document 2 (line ")
    assert_names_the_alias_bound(problem.message)


def test_the_bound_holds_for_a_request_not_only_a_document() -> None:
    # Each document stays within the bound; together they pass it.
    per_document = alias_bomb(levels=2, width=int(MAX_ALIAS_NODES ** 0.5))
    with pytest.raises(ValidationError) as caught:
        parse("kubernetes", [SourceFile(f"f{i}.yaml", per_document) for i in range(3)])
    assert_names_the_alias_bound(caught.value.problems[0].message)


def test_aliases_within_the_bound_are_read() -> None:
    text = ("x-defaults: &defaults {image: web, environment: [DB=db:5432]}\n"
            "services:\n  web: *defaults\n  api: {<<: *defaults, image: api}\n"
            "  db: {image: postgres}\n")
    imp = parse("compose", [SourceFile("compose.yaml", text)])
    assert {e.key for e in imp.graph.edges if e.group is None} == {("web", "db"), ("api", "db")}


def test_a_recursive_alias_is_refused() -> None:
    with pytest.raises(ValidationError) as caught:
        loads("nodes: &n [{id: a, kind: ci, properties: {self: *n}}]\n", fmt="yaml")
    (problem,) = caught.value.problems
    assert problem.section == "document" and "line 1" in problem.message
    assert "inside" in problem.message


def test_the_alias_bomb_is_refused_by_push_and_load(client: TestClient, store: GraphStore,
                                                      tmp_path: Path) -> None:
    text = "nodes: []\n" + alias_bomb()
    before = counts(client)
    answer = client.post("/v1/sources/cmdb/push", content=text, headers=YAML_TYPE)
    problem = the_problem(answer)
    assert problem["section"] == "document"
    assert_names_the_alias_bound(problem["message"])
    imported = client.post("/v1/sources/k8s/import/kubernetes?name=bomb.yaml",
                           content="kind: List\nitems: []\n" + alias_bomb(), headers=YAML_TYPE)
    assert_names_the_alias_bound(the_problem(imported)["message"])
    assert counts(client) == before

    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    with pytest.raises(ValidationError) as caught:
        load_file(path)
    assert_names_the_alias_bound(caught.value.problems[0].message)
    out = CliRunner().invoke(cli, ["load", str(path), "--store", str(tmp_path / "cli.db")])
    assert out.exit_code == 2, out.output
    assert "aliases" in out.output


# --- outside the write lock -------------------------------------------------------------


def test_a_batch_wrong_on_its_face_never_takes_the_write_lock(
        store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = ServiceGraph(store)
    transactions: list[object] = []
    transact = store.transact

    def counted(*args: Any, **kwargs: Any) -> Any:
        transactions.append(args)
        return transact(*args, **kwargs)

    monkeypatch.setattr(store, "transact", counted)
    twice = GraphData.of([Node("a", NodeKind.CI, "A"), Node("b", NodeKind.CI, "B")],
                         [Edge("a", "b"), Edge("a", "b")])
    with pytest.raises(ValidationError) as caught:
        graph.writes.push("cmdb", twice)
    assert [str(p) for p in caught.value.problems] == [
        "edges[1] (a -> b): to: duplicate edge in batch (one dependency per pair)"]
    # An importer builds its items in code: their bounds are checked before the push.
    catalogue = ("apiVersion: backstage.io/v1alpha1\nkind: Component\n"
                 f"metadata: {{name: a, title: {'x' * 2000}}}\n")
    with pytest.raises(ValidationError) as caught:
        run_import(graph.writes, "backstage", "backstage",
                   [SourceFile("catalog-info.yaml", catalogue)], dry_run=True)
    (problem,) = caught.value.problems
    assert problem.section == "catalog-info.yaml document 1 (line 1)"
    assert (problem.field, problem.message) == ("name", "longer than 1024 characters (2000)")
    assert transactions == []
    assert store.read() == GraphData()


# --- out of memory -----------------------------------------------------------------------


def test_running_out_of_memory_is_a_503_and_the_app_goes_on(
        client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def exhausted(*_: Any, **__: Any) -> Any:
        raise MemoryError

    app: Any = client.app
    writer = app.state.graph.writes
    monkeypatch.setattr(writer, "push", exhausted)
    before = counts(client)
    answer = client.post("/v1/sources/cmdb/push",
                         json={"nodes": [{"id": "a", "kind": "ci", "name": "A"}]})
    assert answer.status_code == 503, answer.text
    detail = answer.json()["detail"]
    assert "too large to process" in detail and "nothing was written" in detail
    monkeypatch.setattr(app.state.graph.questions, "node_page", exhausted)
    assert client.get("/v1/nodes").status_code == 503
    monkeypatch.undo()
    assert counts(client) == before
    assert client.get("/v1/nodes/web-1").status_code == 200


# --- a real server ------------------------------------------------------------------------


def where(store: GraphStore) -> str:
    """The ``SERVICEGRAPH_STORE`` of a store."""
    if isinstance(store, SqliteStore):
        return store.path
    assert isinstance(store, Neo4jStore)
    return store.uri


def test_a_running_server_refuses_the_review_s_requests_and_goes_on(
        store: GraphStore, tmp_path: Path) -> None:
    example_graph(store)
    env = {"SERVICEGRAPH_NEO4J_USER": os.environ.get("NEO4J_USER", "neo4j")}
    if os.environ.get("NEO4J_PASSWORD"):
        env["SERVICEGRAPH_NEO4J_PASSWORD"] = os.environ["NEO4J_PASSWORD"]
    with serve(tmp_path, where(store), env=env) as server, \
            httpx.Client(base_url=server.url, timeout=60) as client:
        before = client.get("/v1/nodes", params={"limit": 1}).json()["total"]
        requests = [
            ("/v1/sources/k8s/import/kubernetes?dry_run=true",
             DEPLOYMENT.format(replicas=1_000_000), "spec.replicas"),
            ("/v1/sources/compose/import/compose", "services: {web: {scale: 50000}}\n",
             "deploy.replicas"),
            ("/v1/sources/k8s/import/kubernetes", kubernetes_bomb(), ""),
            ("/v1/sources/cmdb/push", "nodes: []\n" + alias_bomb(), ""),
        ]
        for path, body, field in requests:
            problem = the_problem(client.post(path, content=body, headers=YAML_TYPE))
            assert problem["field"] == field, problem
        assert client.get("/healthz").status_code == 200
        assert client.get("/v1/nodes", params={"limit": 1}).json()["total"] == before


def test_the_command_lines_own_yaml_readers_bound_aliases(tmp_path: Path) -> None:
    """``servicegraph push FILE`` and ``changes assess FILE`` read YAML themselves."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(alias_bomb(), encoding="utf-8")
    db = str(tmp_path / "g.db")
    for args in (["push", "cmdb", str(bomb), "--store", db],
                 ["changes", "assess", str(bomb), "--store", db]):
        out = CliRunner().invoke(cli, args)
        assert out.exit_code != 0, (args, out.output)
        assert "alias" in out.output, (args, out.output)
