"""Loading files by hand and the bundled example."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from servicegraph.cli.backend import connect, fail
from servicegraph.cli.options import Format, FormatOpt, StoreOpt

app = typer.Typer()

#: The component the demo fails when none is named: the data feed that keeps the
#: HR application supplied: the application runs fine, but the data it needs does not
#: arrive.
DEMO_FAILURE = "feed-job"


@app.command()
def load(
    file: Annotated[Path, typer.Argument(help="interchange file, .yaml/.yml or .json",
                                         exists=True, dir_okay=False)],
    store: StoreOpt = None,
    replace: Annotated[bool, typer.Option(
        help="make the file the whole graph instead of upserting onto it")] = False,
) -> None:
    """Validate FILE whole, then write it in one transaction (nothing on any error)."""
    from servicegraph.cli.backend import Local
    from servicegraph.cli.files import read_bytes
    from servicegraph.model.errors import ValidationError
    from servicegraph.model.interchange import loads

    data = read_bytes(file)
    with connect(store, None, None) as backend:
        assert isinstance(backend, Local)
        try:
            graph = loads(data, fmt="json" if file.suffix.lower() == ".json" else "yaml")
            summary = backend.graph.writes.load(graph, replace=replace)
        except (ValidationError, UnicodeDecodeError) as exc:
            raise fail(f"{file}: {exc}") from None
        where = backend.graph.store.description
    typer.echo(f"loaded {summary.nodes} node(s) and {summary.edges} edge(s) from {file}; "
               f"the graph now holds {summary.total_nodes} node(s) and "
               f"{summary.total_edges} edge(s) in {where}")


@app.command()
def demo(
    fail_ids: Annotated[list[str] | None, typer.Option(
        "--fail", help=f"component(s) to fail (default {DEMO_FAILURE})")] = None,
    store: StoreOpt = None,
    fmt: FormatOpt = Format.TEXT,
) -> None:
    """Load (upsert) the example enterprise and print the impact of a failing component."""
    from servicegraph.cli.backend import Local
    from servicegraph.examples import example_graph
    from servicegraph.impact import analyse, scenario
    from servicegraph.model.errors import ValidationError
    from servicegraph.report import render

    with connect(store, None, None) as backend:
        assert isinstance(backend, Local)
        try:
            summary = backend.graph.writes.load(example_graph())
        except ValidationError as exc:
            raise fail(f"{exc} (the store holds data the example conflicts with? use another "
                       "--store)") from None
        result = analyse(backend.graph.questions.index(), scenario(fail_ids or [DEMO_FAILURE]))
        where = backend.graph.store.description
        text = render(result)
    if fmt is Format.JSON:
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    typer.echo(f"Example enterprise loaded into {where}: "
               f"{summary.total_nodes} nodes, {summary.total_edges} dependencies.\n")
    typer.echo(text)
