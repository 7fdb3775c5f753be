"""Writes from a named source: pushes of interchange files, observed states, and
imports from the formats people already have."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from servicegraph.cli import render
from servicegraph.cli.backend import connect, fail
from servicegraph.cli.files import read_text
from servicegraph.cli.options import ApiKeyOpt, Format, FormatOpt, ServerOpt, StoreOpt, emit
from servicegraph.formats import ImportKind

app = typer.Typer()

SourceArg = Annotated[str, typer.Argument(
    help="the source's name, e.g. discovery or cmdb: items are keyed by source")]
FullSyncOpt = Annotated[bool, typer.Option(
    "--full-sync", help="a complete snapshot: retire what this source pushed before and "
                        "not now")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="say what would change, write "
                                                           "nothing")]
AllowEmptyOpt = Annotated[bool, typer.Option(
    "--allow-empty", help="with --full-sync: accept a sync with no items (the source is "
                          "now empty)")]


@app.command()
def push(
    source: SourceArg,
    file: Annotated[Path, typer.Argument(help="interchange file, .yaml/.yml or .json",
                                         exists=True, dir_okay=False)],
    full_sync: FullSyncOpt = False, dry_run: DryRunOpt = False,
    allow_empty: AllowEmptyOpt = False, fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Push FILE as a batch from SOURCE: validated whole, idempotent, keyed by source."""
    import json

    import yaml

    from servicegraph.model import yaml_bounds

    text = read_text(file)
    try:
        # Aliases bounded, as on every YAML way in.
        doc = json.loads(text) if file.suffix.lower() == ".json" else yaml_bounds.load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise fail(f"{file}: not valid {'JSON' if file.suffix == '.json' else 'YAML'}: {exc}"
                   ) from None
    if not isinstance(doc, dict):
        raise fail(f"{file}: must be a mapping with 'nodes' and 'edges'")
    with connect(store, server, api_key) as backend:
        try:
            answer = backend.push(source, doc, full_sync, dry_run, allow_empty)
        except ValueError as exc:  # the problems, named for this file
            raise fail(f"{file}: {exc}") from None
        emit(fmt, answer, render.write(answer, f"pushed {file}"))


@app.command()
def status(
    source: SourceArg,
    states: Annotated[list[str], typer.Argument(
        help="ID=STATE, STATE one of down, degraded, ok")],
    at: Annotated[str | None, typer.Option(
        help="when it was observed, ISO 8601 with a UTC offset (default: now)")] = None,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Report observed states from SOURCE (monitoring); prints the promises broken now."""
    moment = at or datetime.now(UTC).isoformat()
    statuses = []
    for item in states:
        node, sep, state = item.rpartition("=")
        if not sep or not node or state.strip().lower() not in ("down", "degraded", "ok"):
            raise fail(f"{item!r}: write ID=STATE with STATE down, degraded or ok")
        statuses.append({"id": node, "state": state.strip().lower(), "at": moment})
    with connect(store, server, api_key) as backend:
        answer = backend.status(source, statuses)
        emit(fmt, answer,
             f"{answer['applied']} state(s) applied, {answer['stale']} older than known "
             f"(ignored)\nbroken promises now: {', '.join(answer['broken_promises']) or 'none'}"
             f"\npromises at risk now: {', '.join(answer['at_risk_promises']) or 'none'}")


@app.command("import")
def import_(
    kind: Annotated[ImportKind, typer.Argument(help=(
        "backstage (catalog-info.yaml), kubernetes (manifests), compose (Compose files and "
        ".env), jaeger (/api/dependencies JSON), otel (service-graph metrics, Prometheus "
        "text), csv (a nodes and an edges file)"))],
    files: Annotated[list[Path], typer.Argument(
        help="the files, read together; a directory is read recursively for the files "
             "of KIND (Backstage Locations within it are followed)", exists=True)],
    source: Annotated[str, typer.Option("--source", "-s", help=(
        "the source's name: the import is a push from it (a later --full-sync import "
        "retires what it no longer lists)"))],
    full_sync: FullSyncOpt = False, dry_run: DryRunOpt = False,
    allow_empty: AllowEmptyOpt = False, fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Import service systems and CIs from what you already have, as a push from SOURCE.

    Promises, business services and acts are attached on top, from a file of your own
    (servicegraph load or push). Bad input names the file, line or document, and item;
    nothing is written then.
    """
    from servicegraph.importers.directories import TooManyFiles, expand

    try:
        paths, skipped = expand(kind.value, files, read_text)
    except TooManyFiles as exc:
        raise fail(str(exc)) from None
    if not paths:
        raise fail(f"no {kind.value} files in {', '.join(map(str, files))}")
    for note in skipped:
        typer.echo(note, err=True)
    texts = [(str(f), read_text(f)) for f in paths]
    with connect(store, server, api_key) as backend:
        answer = backend.import_files(source, kind.value, texts, full_sync, dry_run,
                                      allow_empty)
        imported = answer.get("imported", {})
        text = render.write(answer, f"imported {imported.get('nodes', 0)} node(s) and "
                                    f"{imported.get('edges', 0)} dependencies")
        text += render.left_out(imported.get("notes", []))
        text += render.unseen(imported)
        emit(fmt, answer, text)
