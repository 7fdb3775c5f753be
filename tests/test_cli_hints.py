"""What the command line says where it used to confuse: retired nodes are marked and
named as retired, unknown ids come with the ids they likely meant, the single points of
failure say what their list holds, and an import names every item it left out. On the
embedded store and against a running server alike."""

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

#: A source that asserts two CIs, then (full sync) only one: the other is retired.
FIRST = ("nodes:\n  - {id: vm-1, kind: ci, name: VM 1}\n  - {id: vm-2, kind: ci, name: VM 2}\n"
         "  - {id: product-page, kind: service_system, name: Product page}\n"
         "edges:\n  - {from: product-page, to: vm-1}\n")
THEN = ("nodes:\n  - {id: vm-1, kind: ci, name: VM 1}\n"
        "  - {id: product-page, kind: service_system, name: Product page}\n"
        "edges:\n  - {from: product-page, to: vm-1}\n")


def ask(args: list[str], *where: str) -> tuple[int, str]:
    """Exit code, and stdout (or, on failure, everything printed)."""
    out = runner.invoke(app, [*args, *where])
    return out.exit_code, out.stdout if out.exit_code == 0 else out.output


def retire_vm2(tmp: Path, *where: str) -> None:
    for i, text in enumerate((FIRST, THEN)):
        batch = tmp / f"batch{i}.yaml"
        batch.write_text(text)
        code, out = ask(["push", "discovery", str(batch), "--full-sync"], *where)
        assert code == 0, out


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    where = tmp_path_factory.mktemp("hints")
    db = str(where / "g.db")
    retire_vm2(where, "--store", db)
    return ["--store", db]


@pytest.fixture(scope="module")
def remote(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    where = tmp_path_factory.mktemp("hints-served")
    db = str(where / "g.db")
    with serve(where, db) as running:
        server: Server = running
        retire_vm2(where, "--server", server.url)
        yield ["--server", server.url]


@pytest.fixture(params=["local", "remote"])
def where(request: pytest.FixtureRequest) -> list[str]:
    return request.getfixturevalue(request.param)  # type: ignore[no-any-return]


def test_nodes_marks_the_retired_ones(where: list[str]) -> None:
    code, out = ask(["nodes"], *where)
    assert code == 0, out
    lines = {line.split("\t")[0]: line.split("\t") for line in out.splitlines()}
    assert lines["vm-1"] == ["vm-1", "ci", "VM 1"]
    assert lines["vm-2"][:3] == ["vm-2", "ci", "VM 2"]
    assert lines["vm-2"][3].startswith("retired 20")
    code, out = ask(["nodes", "--format", "json"], *where)
    listed = {n["id"]: n for n in json.loads(out)}
    assert listed["vm-2"]["retired_at"].startswith("20") and "retired_at" not in listed["vm-1"]


def test_impact_of_a_retired_node_says_it_is_retired(where: list[str]) -> None:
    code, out = ask(["impact", "vm-2"], *where)
    assert code == 2
    assert "vm-2 is retired (since 20" in out and "takes no part in impact" in out
    assert "unknown node id" not in out


def test_unknown_and_retired_ids_told_apart_in_one_answer(where: list[str]) -> None:
    code, out = ask(["impact", "vm-2", "no-such-thing"], *where)
    assert code == 2
    assert "unknown node id(s): no-such-thing" in out
    assert "vm-2 is retired" in out


def test_an_unknown_id_comes_with_the_ids_it_likely_meant(local: list[str]) -> None:
    code, out = ask(["impact", "product"], *local)
    assert code == 2
    assert "unknown node id(s): product (did you mean product-page?)" in out
    code, out = ask(["impact", "vm1", "--degrade", "zzz"], *local)
    assert "vm1 (did you mean vm-1?)" in out and "zzz (see" in out  # none close to zzz
    code, out = ask(["root-cause", "vm-3"], *local)
    assert code == 2 and "vm-3 (did you mean vm-1?)" in out, out


def test_an_unknown_id_against_a_server_is_named(remote: list[str]) -> None:
    code, out = ask(["impact", "no-such-thing"], *remote)
    assert code == 2 and "unknown node id(s): no-such-thing" in out, out
    assert "Traceback" not in out


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("spof") / "g.db")
    assert runner.invoke(app, ["demo", "--store", db]).exit_code == 0
    return db


def test_spof_says_how_a_promise_list_differs_from_the_ranking(example: str) -> None:
    code, ranking = ask(["spof", "--format", "json"], "--store", example)
    assert code == 0, ranking
    code, promise = ask(["spof", "onboarding", "--format", "json"], "--store", example)
    ranked, of_promise = json.loads(ranking), json.loads(promise)
    assert "service systems and CIs" in ranked["scope"]
    assert "spof PROMISE" in ranked["scope"]
    assert "service acts and business services included" in of_promise["scope"]
    # What the scopes say is what the lists hold.
    assert {p["kind"] for p in ranked["single_points"]} <= {"service_system", "ci"}
    assert {"service_act", "business_service"} <= {
        p["kind"] for p in of_promise["single_points"]}
    code, text = ask(["spof", "onboarding"], "--store", example)
    assert text.splitlines()[1].strip() == f"({of_promise['scope']})"
    code, text = ask(["spof"], "--store", example)
    assert text.splitlines()[1].strip() == f"({ranked['scope']})"


def test_import_text_names_every_item_left_out(tmp_path: Path) -> None:
    db = str(tmp_path / "i.db")
    files = [str(p) for p in sorted((DATA / "backstage").rglob("*.yaml"))]
    code, out = ask(["import", "backstage", *files, "--source", "catalog", "--format", "json"],
                    "--store", db, "--dry-run")
    assert code == 0, out
    notes = json.loads(out)["imported"]["notes"]
    assert len(notes) > 1
    code, out = ask(["import", "backstage", *files, "--source", "catalog"], "--store", db)
    assert code == 0, out
    assert f"{len(notes)} note(s):" in out
    assert all(f"  {note}" in out.splitlines() for note in notes)
    assert "e.g." not in out


def test_many_unknown_ids_are_all_named(where: list[str]) -> None:
    ghosts = [f"ghost-{i}" for i in range(40)]
    code, out = ask(["impact", "vm-2", *ghosts], *where)
    assert code == 2, out
    assert all(g in out for g in ghosts) and "vm-2 is retired" in out
    assert "Traceback" not in out
