"""The ``servicegraph`` command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_text
from servicegraph.model.errors import UnknownNodeError, ValidationError
from servicegraph.model.interchange import dumps, load_file, loads
from servicegraph.report import render
from servicegraph.settings import Settings
from servicegraph.store import open_store

if TYPE_CHECKING:
    from servicegraph_api.auth import KeyFile

app = typer.Typer(help="servicegraph: which promises break, for whom, why, and who must act.",
                  no_args_is_help=True, add_completion=False)
neo4j_app = typer.Typer(help="A local Neo4j Community server, fetched from Maven Central.",
                        no_args_is_help=True)
app.add_typer(neo4j_app, name="neo4j")
keys_app = typer.Typer(help="API keys of the HTTP service, with scopes (stored hashed).",
                       no_args_is_help=True)
app.add_typer(keys_app, name="keys")

StoreOpt = Annotated[str | None, typer.Option(
    "--store", envvar="SERVICEGRAPH_STORE",
    help="bolt://host:port or neo4j://... for Neo4j; a file path for the embedded store "
         "(default ./servicegraph.db).")]
FormatOpt = Annotated[str, typer.Option("--format", "-f", help="text or json")]
KeysFileOpt = Annotated[Path | None, typer.Option(
    "--keys-file", envvar="SERVICEGRAPH_API_KEYS_FILE",
    help="the API keys file (default ./servicegraph-keys.json)")]

#: The component the demo fails when none is named: the data feed that keeps the
#: HR application supplied: the application runs fine, but the data it needs does not
#: arrive.
DEMO_FAILURE = "feed-job"


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
    """Load (upsert) the bundled example enterprise and print the impact of a failing
    component."""
    sg = _open(store)
    try:
        sg.load(loads(example_text()))
        result = sg.impact(fail or [DEMO_FAILURE])
        stored = sg.graph()
    except (UnknownNodeError, ValidationError) as exc:
        raise _fail(f"{exc} (the store holds data the example conflicts with? use another "
                    f"--store)" if isinstance(exc, ValidationError) else str(exc)) from None
    finally:
        sg.close()
    if fmt == "json":
        typer.echo(json.dumps(result.to_dict(), indent=2))
        return
    typer.echo(f"Example enterprise loaded into {sg.store.description}: "
               f"{len(stored.nodes)} nodes, {len(stored.edges)} dependencies.\n")
    typer.echo(render(result))


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(
        help="address to listen on (default 127.0.0.1; loopback only while no API key "
             "exists)")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port (default 8000)")] = None,
    store: StoreOpt = None,
    keys_file: KeysFileOpt = None,
) -> None:
    """Run the HTTP API (docs at /docs) over the store."""
    from servicegraph_api.auth import KeyFileError
    from servicegraph_api.serve import run

    given = {"host": host, "port": port, "store": store, "api_keys_file": keys_file}
    try:
        run(Settings().model_copy(update={k: v for k, v in given.items() if v is not None}))
    except KeyFileError as exc:
        raise _fail(f"{exc}: fix or remove it (`servicegraph keys add` writes a new one)",
                    1) from None


def _keys(keys_file: Path | None) -> KeyFile:
    from servicegraph_api.auth import KeyFile

    return KeyFile(keys_file or Settings().api_keys_file)


@keys_app.command("add")
def keys_add(
    name: Annotated[str, typer.Argument(help="a name for the key, e.g. the integrator")],
    scope: Annotated[list[str], typer.Option(
        "--scope", "-s", help="read, ingest or admin (repeatable)")],
    keys_file: KeysFileOpt = None,
) -> None:
    """Create a key and print it: it is shown this once and stored only hashed."""
    from servicegraph_api.auth import KeyFileError, Scope

    try:
        scopes = [Scope(s.strip().lower()) for s in scope]
        token = _keys(keys_file).add(name, scopes)
    except ValueError as exc:  # KeyFileError, or an unknown scope
        if not isinstance(exc, KeyFileError):
            exc = KeyFileError(f"unknown scope in {scope}: use read, ingest or admin")
        raise _fail(str(exc)) from None
    typer.echo(token)
    typer.secho(f"key {name!r} ({', '.join(s.value for s in scopes)}) created; it is not "
                "stored and will not be shown again.", err=True, fg=typer.colors.YELLOW)


@keys_app.command("list")
def keys_list(keys_file: KeysFileOpt = None) -> None:
    """List the keys: names, scopes and creation times (never the hashes)."""
    from servicegraph_api.auth import KeyFileError

    try:
        keys = _keys(keys_file).keys()
    except KeyFileError as exc:
        raise _fail(str(exc)) from None
    for key in keys:
        typer.echo(f"{key.name}\t{','.join(s.value for s in key.scopes)}\t{key.created}")


@keys_app.command("revoke")
def keys_revoke(name: Annotated[str, typer.Argument(help="the key's name")],
                keys_file: KeysFileOpt = None) -> None:
    """Delete a key; requests using it are refused from then on."""
    from servicegraph_api.auth import KeyFileError

    try:
        revoked = _keys(keys_file).revoke(name)
    except KeyFileError as exc:
        raise _fail(str(exc)) from None
    if not revoked:
        raise _fail(f"no key named {name!r}", 1)
    typer.echo(f"revoked {name!r}")


@neo4j_app.command("start")
def neo4j_start(port: Annotated[int | None, typer.Option(help="Bolt port (default: free)")] = None,
                heap: Annotated[str, typer.Option(help="JVM heap, e.g. 2g")] = "2g") -> None:
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
