"""Running the HTTP API, its keys, and a local Neo4j. The HTTP layer is imported only
by these commands."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from servicegraph.cli.backend import fail
from servicegraph.cli.options import StoreOpt

if TYPE_CHECKING:
    from servicegraph_api.auth import KeyFile

app = typer.Typer()
neo4j_app = typer.Typer(help="A local Neo4j Community server, fetched from Maven Central.",
                        no_args_is_help=True)
keys_app = typer.Typer(help="API keys of the HTTP service, with scopes (stored hashed).",
                       no_args_is_help=True)

KeysFileOpt = Annotated[Path | None, typer.Option(
    "--keys-file", envvar="SERVICEGRAPH_API_KEYS_FILE",
    help="the API keys file (default ./servicegraph-keys.json)")]


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
    from servicegraph.settings import Settings
    from servicegraph_api.auth import KeyFileError
    from servicegraph_api.serve import run

    given = {"host": host, "port": port, "store": store, "api_keys_file": keys_file}
    try:
        run(Settings().model_copy(update={k: v for k, v in given.items() if v is not None}))
    except KeyFileError as exc:
        raise fail(f"{exc}: fix or remove it (`servicegraph keys add` writes a new one)",
                    1) from None


def _keys(keys_file: Path | None) -> KeyFile:
    from servicegraph.settings import Settings
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
        raise fail(str(exc)) from None
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
        raise fail(str(exc)) from None
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
        raise fail(str(exc)) from None
    if not revoked:
        raise fail(f"no key named {name!r}", 1)
    typer.echo(f"revoked {name!r}")


@neo4j_app.command("start")
def neo4j_start(port: Annotated[int | None, typer.Option(help="Bolt port (default: free)")] = None,
                heap: Annotated[str, typer.Option(help="JVM heap, e.g. 2g")] = "2g") -> None:
    """Fetch (once) and start the local Neo4j; prints its Bolt URI."""
    from servicegraph import neo4j_local

    try:
        typer.echo(neo4j_local.start(neo4j_local.default_instance(), port=port, heap=heap))
    except neo4j_local.Neo4jLocalError as exc:
        raise fail(str(exc), 1) from None


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
