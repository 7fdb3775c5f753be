"""The ``servicegraph`` command line."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated

import typer

from servicegraph.core import ServiceGraph
from servicegraph.model.errors import UnknownNodeError, ValidationError
from servicegraph.model.interchange import dumps, load_file, loads
from servicegraph.report import render
from servicegraph.settings import Settings
from servicegraph.store import open_store

app = typer.Typer(help="servicegraph: which promises break, for whom, why, and who must act.",
                  no_args_is_help=True, add_completion=False)
neo4j_app = typer.Typer(help="A local Neo4j Community server, fetched from Maven Central.",
                        no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")

StoreOpt = Annotated[str | None, typer.Option(
    "--store", envvar="SERVICEGRAPH_STORE",
    help="bolt://host:port or neo4j://... for Neo4j; a file path for the embedded store "
         "(default ./servicegraph.db).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="text or json")]

#: The component the demo fails when none is named: the data feed that keeps the
#: HR application supplied (seed 002: "the application might be running 100 % ok
#: but some other system might not be providing the necessary data").
DEMO_FAILURE = "feed-job"


def example_text() -> str:
    """The bundled example enterprise, as interchange YAML."""
    return (resources.files("servicegraph") / "examples" / "enterprise.yaml").read_text(
        encoding="utf-8")


def _open(store: str | None) -> ServiceGraph:
    return ServiceGraph(open_store(store, Settings()))


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


@app.command()
def load(
    file: Annotated[Path, typer.Argument(help="interchange file, .yaml/.yml or .json",
                                         exists=True, dir_okay=False)],
    store: StoreOpt = None,
    replace: Annotated[bool, typer.Option(
        help="make the file the whole graph instead of upserting onto it")] = False,
) -> None:
    """Validate FILE whole, then write it in one transaction (nothing on any error)."""
    sg = _open(store)
    try:
        summary = sg.load(load_file(file), replace=replace)
    except ValidationError as exc:
        raise _fail(f"{file}: {exc}") from None
    finally:
        sg.close()
    typer.echo(f"loaded {summary.nodes} node(s) and {summary.edges} edge(s) from {file}; "
               f"the graph now holds {summary.total_nodes} node(s) and "
               f"{summary.total_edges} edge(s) in {sg.store.description}")


@app.command()
def impact(
    ids: Annotated[list[str], typer.Argument(help="ids of the components that fail (down)")],
    degrade: Annotated[list[str] | None, typer.Option(
        "--degrade", "-d", help="ids of components that only degrade (repeatable)")] = None,
    fmt: FormatOpt = "text",
    store: StoreOpt = None,
) -> None:
    """What breaks if IDS fail: promises, acts, business services, providers, and why."""
    if fmt not in ("text", "json"):
        raise _fail(f"unknown format {fmt!r}: use text or json")
    sg = _open(store)
    try:
        result = sg.impact(ids, degrade or [])
    except UnknownNodeError as exc:
        raise _fail(f"{exc} (see `servicegraph nodes` for the ids in the store)") from None
    finally:
        sg.close()
    typer.echo(json.dumps(result.to_dict(), indent=2) if fmt == "json" else render(result))


@app.command()
def nodes(store: StoreOpt = None,
          kind: Annotated[str | None, typer.Option(help="only this kind")] = None) -> None:
    """List the node ids in the store, with kind and name."""
    sg = _open(store)
    try:
        for n in sg.graph().nodes:
            if kind is None or n.kind.value == kind:
                typer.echo(f"{n.id}\t{n.kind.value}\t{n.name}")
    finally:
        sg.close()


@app.command()
def export(store: StoreOpt = None, fmt: FormatOpt = "yaml") -> None:
    """Print the stored graph in the interchange format (yaml or json)."""
    sg = _open(store)
    try:
        typer.echo(dumps(sg.graph(), fmt=fmt))
    finally:
        sg.close()


@app.command()
def demo(
    fail: Annotated[list[str] | None, typer.Option(
        "--fail", help=f"component(s) to fail (default {DEMO_FAILURE})")] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = "text",
) -> None:
    """Load the bundled example enterprise and print the impact of a failing component."""
    sg = _open(store)
    try:
        sg.load(loads(example_text()), replace=True)
        result = sg.impact(fail or [DEMO_FAILURE])
    except UnknownNodeError as exc:
        raise _fail(str(exc)) from None
    finally:
        sg.close()
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    typer.echo(f"Example enterprise loaded into {sg.store.description}: "
               f"{len(sg.graph().nodes)} nodes, {len(sg.graph().edges)} dependencies.\n")
    typer.echo(render(result))


@neo4j_app.command("start")
def neo4j_start(port: Annotated[int | None, typer.Option(help="Bolt port (default: free)")] = None,
                heap: Annotated[str, typer.Option(help="JVM heap, e.g. 1g")] = "1g") -> None:
    """Fetch (once) and start the local Neo4j; prints its Bolt URI."""
    from servicegraph import neo4j_local

    try:
        typer.echo(neo4j_local.start(neo4j_local.default_instance(), port=port, heap=heap))
    except neo4j_local.Neo4jLocalError as exc:
        raise _fail(str(exc), 1) from None


@neo4j_app.command("stop")
def neo4j_stop() -> None:
    """Stop the local Neo4j cleanly."""
    from servicegraph import neo4j_local

    stopped = neo4j_local.stop(neo4j_local.default_instance())
    typer.echo("stopped" if stopped else "not running")


@neo4j_app.command("status")
def neo4j_status() -> None:
    """Say whether the local Neo4j runs, and where."""
    from servicegraph import neo4j_local

    typer.echo(json.dumps(neo4j_local.status(neo4j_local.default_instance()), indent=2))


def main() -> None:
    """Entry point of the ``servicegraph`` script."""
    app(prog_name="servicegraph")


if __name__ == "__main__":  # pragma: no cover
    main()
