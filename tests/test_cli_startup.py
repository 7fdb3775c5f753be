"""The command line starts light: a question on a small embedded store loads neither the
Neo4j driver nor numba. Each command runs as a real process, and ``python -X
importtime`` lists every module it imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from servicegraph.cli import app

runner = CliRunner()

#: Asked of the example enterprise (54 nodes), as a person would from the shell.
QUESTIONS = [
    ["nodes"],
    ["impact", "feed-job"],
    ["impact", "web-1", "web-2", "--degrade", "gate-1", "--format", "json"],
    ["spof"],
    ["spof", "onboarding"],
    ["root-cause", "web-tier", "gate-control=degraded"],
    ["export"],
    ["export", "--format", "json"],
]


@pytest.fixture(scope="module")
def small_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("startup") / "g.db")
    assert runner.invoke(app, ["demo", "--store", db]).exit_code == 0
    return db


def imports(args: list[str]) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    """Run ``servicegraph ARGS`` in a fresh interpreter: the finished process, and the
    top-level packages it imported."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "servicegraph.cli",
                           *args], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).parent)
    names = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
             if line.startswith("import time:") and line.count("|") == 2}
    names.discard("imported package")  # the header line
    return done, {n.split(".")[0] for n in names}


@pytest.mark.parametrize("question", QUESTIONS, ids=" ".join)
def test_a_question_on_the_embedded_store_loads_neither_neo4j_nor_numba(
        question: list[str], small_db: str) -> None:
    done, loaded = imports([*question, "--store", small_db])
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip()
    assert {"servicegraph", "sqlite3"} <= loaded  # the probe sees what a command loads
    assert "neo4j" not in loaded
    assert "numba" not in loaded


def test_help_loads_no_numpy() -> None:
    done, loaded = imports(["--help"])
    assert done.returncode == 0 and "impact" in done.stdout
    assert not {"numpy", "neo4j", "numba", "networkx", "httpx"} & loaded


@pytest.mark.neo4j
def test_the_same_probe_sees_the_driver_when_the_store_is_neo4j(neo4j_store: object,
                                                               neo4j_uri: str) -> None:
    # The probe above would see the driver if a command loaded it: here it must.
    assert runner.invoke(app, ["demo", "--store", neo4j_uri]).exit_code == 0
    done, loaded = imports(["nodes", "--kind", "promise", "--store", neo4j_uri])
    assert done.returncode == 0, done.stderr[-2000:]
    assert "onboarding" in done.stdout
    assert "neo4j" in loaded


def test_the_benchmark_times_every_command(tmp_path: Path) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.cli import cli_rows

    rows = cli_rows(tmp_path, seed=7, reps=1, sizes=(100,))
    assert [r.figure for r in rows] == [
        "`servicegraph --help`", *(f"`servicegraph {c}` on the embedded store"
                                   for c in ("nodes", "impact", "spof", "root-cause",
                                             "export"))]
    assert all(r.value and r.met is not None for r in rows)
    # spof is timed against itself computing every time (its table kept between
    # commands); the others against the eager imports.
    assert all(r.note.startswith("eager way: ") for r in rows[1:] if "spof" not in r.figure)
    assert "computed by every command" in rows[3].note


def test_a_command_puts_the_process_bound_back(small_db: str) -> None:
    from servicegraph.impact import jit

    assert jit.interpreting() == 0
    out = runner.invoke(app, ["impact", "feed-job", "--store", small_db])
    assert out.exit_code == 0 and "BROKEN PROMISES (1)" in out.output
    out = runner.invoke(app, ["impact", "ghost", "--store", small_db])
    assert out.exit_code == 2
    out = runner.invoke(app, ["nodes", "--store", str(Path(small_db).parent)])  # not a file
    assert out.exit_code != 0
    # A server or a test in the same process goes on with compiled kernels.
    assert jit.interpreting() == 0
