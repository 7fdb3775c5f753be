"""The questions: impact, single points of failure, root cause, planned changes,
catalogues, the silo matrix, exports and the node list. Each asks the store, or a
running server with ``--server``, and prints text or ``--format json``."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from servicegraph.cli import render
from servicegraph.cli.backend import connect, fail
from servicegraph.cli.options import ApiKeyOpt, Format, FormatOpt, ServerOpt, StoreOpt, emit
from servicegraph.formats import ExportFormat

app = typer.Typer()
changes_app = typer.Typer(help="Planned changes, judged before they happen.",
                          no_args_is_help=True)

LimitOpt = Annotated[int, typer.Option(min=1, max=10000, help=(
    "the most entries in each list of the answer (the counts give the totals)"))]


@app.command()
def impact(
    ids: Annotated[list[str] | None, typer.Argument(
        help="ids of components that fail (down), as with --down")] = None,
    down: Annotated[list[str] | None, typer.Option(
        "--down", help="id of a component that fails (repeatable)")] = None,
    degrade: Annotated[list[str] | None, typer.Option(
        "--degrade", "-d", help="id of a component that only degrades (repeatable)")] = None,
    limit: LimitOpt = 1000,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """What breaks if these fail: promises, acts, business services, providers, and why."""
    from servicegraph.report import render_answer

    failed = [*(ids or []), *(down or [])]
    if not failed and not degrade:
        raise fail("name at least one component: IDS, --down ID or --degrade ID")
    given = [(n, "down") for n in dict.fromkeys(failed)]
    given += [(n, "degraded") for n in dict.fromkeys(degrade or []) if n not in failed]
    with connect(store, server, api_key) as backend:
        answer = backend.impact(failed, degrade or [], limit)
        text = render_answer(answer, given, backend.describe) if fmt is Format.TEXT else ""
        emit(fmt, answer, text)


@app.command()
def current(
    at: Annotated[str | None, typer.Option(
        "--at", help="a past moment (ISO 8601 with a time zone, e.g. "
                     "2026-12-07T02:13:00Z): what the answer was then, from the promise "
                     "record")] = None,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """The impact of what is observed now, or with --at what it was at that moment:
    broken and at-risk promises, acts, business services, providers, and why."""
    with connect(store, server, api_key) as backend:
        answer = backend.current(at)
        emit(fmt, answer, render.current(answer))


@app.command()
def spof(
    promise: Annotated[str | None, typer.Argument(
        help="a promise id; without it, components ranked across every promise")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="keep the first N")] = None,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Single points of failure: components whose failure alone breaks a promise.

    With PROMISE, every node of any kind that breaks it alone (service acts and business
    services included); without, service systems and CIs ranked across every promise.
    The answer says which (``scope``).
    """
    with connect(store, server, api_key) as backend:
        answer = backend.spof(promise, limit)
        answer["scope"] = render.spof_scope(promise)
        emit(fmt, answer, render.spof(answer))


def observed_states(items: list[str]) -> dict[str, str]:
    """``ID`` or ``ID=STATE`` (down, degraded, ok) -> {id: state}; ``ID`` alone is down."""
    out: dict[str, str] = {}
    for item in items:
        node, _, state = item.rpartition("=") if "=" in item else (item, "", "down")
        state = state.strip().lower()
        if not node or state not in ("down", "degraded", "ok"):
            raise fail(f"{item!r}: write ID or ID=STATE with STATE down, degraded or ok")
        out[node] = state
    return out


@app.command("root-cause")
def root_cause(
    observed: Annotated[list[str], typer.Argument(
        help="what is seen failing: ID (down) or ID=STATE (down, degraded, ok)")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="candidates to show")] = 10,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Which single component, failing alone, would explain what is seen."""
    states = observed_states(observed)
    with connect(store, server, api_key) as backend:
        answer = backend.root_cause(states, limit)
        emit(fmt, answer, render.root_cause(answer, states))


def read_changes(path: Path) -> list[dict[str, Any]]:
    """Planned changes from a YAML or JSON file: a list, or ``{changes: [...]}``; each
    with ``id``, ``components`` (a list, or one id), ``start``, ``end`` (ISO 8601 with
    a UTC offset) and optionally ``state`` (down, the default, or degraded)."""
    from datetime import datetime

    import yaml

    from servicegraph.cli.files import read_text
    from servicegraph.model import yaml_bounds

    text = read_text(path)
    try:
        doc = yaml_bounds.load(text)  # aliases bounded, as on every YAML way in
    except (yaml.YAMLError, ValueError) as exc:
        raise fail(f"{path}: cannot read it: {exc}") from None
    items = doc.get("changes") if isinstance(doc, dict) else doc
    if not isinstance(items, list) or not items:
        raise fail(f"{path}: expected a list of planned changes (or a mapping with 'changes')")
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    for i, item in enumerate(items):
        where = f"{path} changes[{i}]"
        if not isinstance(item, dict):
            problems.append(f"{where}: a change must be a mapping")
            continue
        label = f"{where} ({item.get('id', '?')})"
        components = item.get("components")
        components = [components] if isinstance(components, str) else components
        change: dict[str, Any] = {"id": item.get("id"), "components": components,
                                  "state": str(item.get("state", "down"))}
        if not isinstance(change["id"], str) or not change["id"]:
            problems.append(f"{label}: id: required, a non-empty string")
        if not isinstance(components, list) or not components or not all(
                isinstance(c, str) and c for c in components):
            problems.append(f"{label}: components: required, a list of node ids")
        if change["state"] not in ("down", "degraded"):
            problems.append(f"{label}: state: down or degraded, not {change['state']!r}")
        for key in ("start", "end"):
            value = item.get(key)
            try:
                moment = value if isinstance(value, datetime) else datetime.fromisoformat(
                    str(value))
            except ValueError:
                problems.append(f"{label}: {key}: not an ISO 8601 time: {value!r}")
                continue
            if moment.tzinfo is None:
                problems.append(f"{label}: {key}: give a UTC offset, e.g. 2030-01-01T22:00Z")
            change[key] = moment.isoformat()
        out.append(change)
    if problems:
        raise fail(f"{len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return out


@changes_app.command("assess")
def changes_assess(
    file: Annotated[Path, typer.Argument(help="YAML or JSON list of planned changes",
                                         exists=True, dir_okay=False)],
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Each change's impact alone, and the overlapping changes that do worse together.

    A change is {id, components, start, end, state}: the components go down (or
    degrade) from start to end.
    """
    planned = read_changes(file)
    with connect(store, server, api_key) as backend:
        answer = backend.assess(planned)
        emit(fmt, answer, render.changes(answer))


class Catalogue(StrEnum):
    """The three catalogues."""

    PROMISES = "promises"
    SYSTEMS = "systems"
    ACTS = "acts"


@app.command()
def catalogue(
    which: Annotated[Catalogue, typer.Argument(help="promises, systems or acts")],
    visible: Annotated[bool | None, typer.Option(
        "--visible/--hidden", help="systems only: those the customer sees, or the others")
    ] = None,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """The promise, service system or service act catalogue."""
    with connect(store, server, api_key) as backend:
        answer = backend.catalogue(which.value, visible)
        emit(fmt, answer, render.catalogue(which.value, answer))


class Columns(StrEnum):
    """What the matrix's columns are."""

    BUSINESS_SERVICE = "business_service"
    PROMISE = "promise"
    SERVICE_ACT = "service_act"
    SERVICE_SYSTEM = "service_system"


@app.command()
def matrix(
    columns: Annotated[Columns, typer.Option(help="the kind of node for the columns")
                       ] = Columns.BUSINESS_SERVICE,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """The silo x service matrix: which technology silos each service needs."""
    with connect(store, server, api_key) as backend:
        answer = backend.matrix(columns.value)
        emit(fmt, answer, render.matrix(answer))


@app.command()
def export(
    fmt: Annotated[ExportFormat, typer.Option("--format", "-f", help=(
        "graphml (yEd, Gephi), dot (Graphviz), mermaid, cytoscape (Cytoscape.js), or the "
        "interchange format as json or yaml"))] = ExportFormat.YAML,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Print the live graph (retired items left out) for other tools."""
    with connect(store, server, api_key) as backend:
        text = backend.export(fmt.value)
        typer.echo(text.rstrip("\n"))


@app.command()
def nodes(
    kind: Annotated[str | None, typer.Option(help="only this kind")] = None,
    fmt: FormatOpt = Format.TEXT,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """List the nodes: id, kind and name, and ``retired SINCE`` for those retired.

    A retired node stays in the store (until purged) but takes no part in impact.
    """
    with connect(store, server, api_key) as backend:
        found = backend.nodes(kind)
        emit(fmt, found, "\n".join(render.node_line(n) for n in found))
