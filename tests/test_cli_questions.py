"""Every question and write of the command line, on the embedded store and against a
running server process: the same JSON either way."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicegraph.cli import app

from servers import Server, serve

runner = CliRunner()
DATA = Path(__file__).parent / "data"

CHANGES = """
- {id: c1, components: [web-1], start: "2030-01-01T22:00:00Z",
   end: "2030-01-01T23:00:00Z"}
- {id: c2, components: web-2, start: "2030-01-01T22:30:00+00:00", end: "2030-01-02T00:00:00+00:00"}
"""

QUESTIONS = [
    ["impact", "web-1", "web-2", "--degrade", "gate-1"],
    ["impact", "--degrade", "gate-1"],
    ["impact", "--down", "feed-job"],
    ["spof", "onboarding"],
    ["spof", "--limit", "3"],
    ["root-cause", "web-tier", "gate-control=degraded"],
    ["catalogue", "promises"], ["catalogue", "systems", "--visible"], ["catalogue", "acts"],
    ["matrix"], ["matrix", "--columns", "promise"],
    ["nodes", "--kind", "promise"],
]


@pytest.fixture(scope="module")
def local_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("cli") / "g.db")
    assert runner.invoke(app, ["demo", "--store", db]).exit_code == 0
    return db


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    where = tmp_path_factory.mktemp("served")
    db = str(where / "g.db")
    assert runner.invoke(app, ["demo", "--store", db]).exit_code == 0
    with serve(where, db) as running:
        yield running


def ask(args: list[str], *where: str) -> tuple[int, str]:
    """Exit code, and stdout (or, on failure, everything printed)."""
    out = runner.invoke(app, [*args, *where])
    return out.exit_code, out.stdout if out.exit_code == 0 else out.output


@pytest.mark.parametrize("question", QUESTIONS, ids=" ".join)
def test_same_answer_from_the_store_and_from_a_server(question: list[str], local_db: str,
                                                      server: Server) -> None:
    code, local = ask([*question, "--format", "json"], "--store", local_db)
    assert code == 0, local
    code, remote = ask([*question, "--format", "json"], "--server", server.url)
    assert code == 0, remote
    assert json.loads(local) == json.loads(remote)
    code, text = ask(question, "--server", server.url)
    assert code == 0 and text.strip(), text


def test_impact_answers(local_db: str) -> None:
    code, out = ask(["impact", "--degrade", "gate-1"], "--store", local_db)
    assert code == 0, out
    assert "PROMISES AT RISK (1)" in out and "fun-day" in out
    assert out.index("PROMISES AT RISK") < out.index("SERVICE ACTS AFFECTED")
    code, out = ask(["impact", "web-1", "web-2", "--format", "json"], "--store", local_db)
    assert json.loads(out)["broken_promises"] == ["order-anytime"]
    code, out = ask(["impact"], "--store", local_db)
    assert code == 2 and "name at least one component" in out


def test_question_answers(local_db: str, tmp_path: Path) -> None:
    code, out = ask(["spof", "onboarding", "--format", "json"], "--store", local_db)
    assert "feed-job" in [p["component"] for p in json.loads(out)["single_points"]]
    code, out = ask(["root-cause", "web-tier", "--format", "json"], "--store", local_db)
    best = json.loads(out)["candidates"][0]
    assert best["explains_all"] and best["component"] == "web-tier"
    plan = tmp_path / "changes.yaml"
    plan.write_text(CHANGES)
    code, out = ask(["changes", "assess", str(plan), "--format", "json"], "--store", local_db)
    assert code == 0, out
    (conflict,) = json.loads(out)["conflicts"]
    assert conflict["changes"] == ["c1", "c2"] and "order-anytime" in conflict["broken_promises"]
    code, out = ask(["changes", "assess", str(plan)], "--store", local_db)
    assert "CONFLICTS (1)" in out
    code, out = ask(["export", "--format", "mermaid"], "--store", local_db)
    assert out.startswith("flowchart")
    code, out = ask(["export", "--format", "graphml"], "--store", local_db)
    assert "<graphml" in out


def test_changes_file_problems_are_named(local_db: str, tmp_path: Path) -> None:
    plan = tmp_path / "bad.yaml"
    plan.write_text("- {id: c1, components: [web-1], start: tomorrow, end: "
                    "'2030-01-01T23:00:00+00:00'}\n")
    code, out = ask(["changes", "assess", str(plan)], "--store", local_db)
    assert code == 2
    assert f"{plan} changes[0] (c1): start: not an ISO 8601 time: 'tomorrow'" in out


def test_push_status_and_import_against_a_server(server: Server, tmp_path: Path) -> None:
    batch = tmp_path / "batch.yaml"
    batch.write_text("nodes:\n  - {id: web-4, kind: ci, name: srv-web-04}\n"
                     "edges:\n  - {from: web-tier, to: web-4, group: web}\n")
    code, out = ask(["push", "discovery", str(batch)], "--server", server.url)
    assert code == 0 and "nodes 1 created" in out, out
    code, out = ask(["push", "discovery", str(batch)], "--server", server.url)
    assert "(nothing changed)" in out
    code, out = ask(["status", "monitoring", "feed-job=down"], "--server", server.url)
    assert code == 0 and "broken promises now: onboarding" in out, out
    code, out = ask(["status", "monitoring", "feed-job=ok"], "--server", server.url)
    assert "broken promises now: none" in out
    manifests = DATA / "microservices-demo" / "kubernetes-manifests.yaml"
    code, out = ask(["import", "kubernetes", str(manifests), "--source", "k8s", "--format",
                     "json"], "--server", server.url)
    assert code == 0, out
    answer = json.loads(out)
    assert answer["imported"]["nodes"] == 36 and answer["nodes"]["created"] == 36
    code, out = ask(["impact", "deployment/cartservice/replica-1", "--format", "json"],
                    "--server", server.url)
    assert json.loads(out)["impacted"]["service/cartservice"] == "down"


def test_import_on_the_embedded_store_names_bad_lines(tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    nodes, edges = tmp_path / "nodes.csv", tmp_path / "edges.csv"
    nodes.write_text("id,kind,name,rack\nweb,service_system,Web,\nweb-1,ci,Web 1,R12\n")
    edges.write_text("from,to\nweb,web-1\nweb,web-9\n")
    code, out = ask(["import", "csv", str(nodes), str(edges), "--source", "cmdb"],
                    "--store", db)
    assert code == 2
    assert f"{edges} line 3 (web -> web-9): to: no node with id 'web-9'" in out
    edges.write_text("from,to\nweb,web-1\n")
    code, out = ask(["import", "csv", str(nodes), str(edges), "--source", "cmdb"],
                    "--store", db)
    assert code == 0 and "nodes 2 created" in out, out
    code, out = ask(["nodes", "--format", "json"], "--store", db)
    assert {n["id"]: n.get("properties") for n in json.loads(out)}["web-1"] == {"rack": "R12"}


def test_server_errors_are_one_message_not_a_traceback(server: Server) -> None:
    code, out = ask(["impact", "no-such-thing"], "--server", server.url)
    assert code == 2 and "no-such-thing" in out and "Traceback" not in out
    code, out = ask(["spof"], "--server", "http://127.0.0.1:9")
    assert code == 1 and "cannot reach the server at http://127.0.0.1:9" in out
    code, out = ask(["spof", "web-tier"], "--server", server.url)
    assert code == 2 and "not a promise" in out


def test_the_command_line_on_neo4j(neo4j_store: object, neo4j_uri: str, local_db: str,
                                   tmp_path: Path) -> None:
    assert runner.invoke(app, ["demo", "--store", neo4j_uri]).exit_code == 0
    for question in (["impact", "web-1", "web-2", "--degrade", "gate-1"],
                     ["spof", "onboarding"], ["root-cause", "web-tier"], ["matrix"]):
        code, on_neo4j = ask([*question, "--format", "json"], "--store", neo4j_uri)
        assert code == 0, on_neo4j
        # The same answer; only the version it reflects differs between the stores.
        same, other = (json.loads(text) for text in (on_neo4j, ask(
            [*question, "--format", "json"], "--store", local_db)[1]))
        for answer in (same, other):
            answer.pop("as_of", None)
        assert same == other
    manifests = DATA / "microservices-demo" / "kubernetes-manifests.yaml"
    code, out = ask(["import", "kubernetes", str(manifests), "--source", "k8s"],
                    "--store", neo4j_uri)
    assert code == 0 and "nodes 36 created" in out, out
    code, out = ask(["import", "kubernetes", str(manifests), "--source", "k8s"],
                    "--store", neo4j_uri)
    assert "(nothing changed)" in out
