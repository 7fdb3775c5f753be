"""The incident loop from the command line: alerts (sent as Alertmanager's webhook, and
listed) and maintenance windows (registered, listed, cancelled)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from servicegraph.cli.backend import connect, fail
from servicegraph.cli.files import read_text
from servicegraph.cli.options import ApiKeyOpt, Format, FormatOpt, ServerOpt, StoreOpt, emit

alerts_app = typer.Typer(help="Alerts from monitoring: deliver them, list them.",
                         no_args_is_help=True)
maintenance_app = typer.Typer(help="Maintenance windows: planned work, marked planned in "
                                   "the current impact while it lasts.", no_args_is_help=True)

SourceArg = Annotated[str, typer.Argument(help="the alerting source's name, e.g. alertmanager")]


@alerts_app.command("send")
def send(source: SourceArg,
         file: Annotated[Path, typer.Argument(help="an Alertmanager webhook payload (JSON)")],
         fmt: FormatOpt = Format.TEXT,
         store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Deliver FILE's alerts from SOURCE, as Alertmanager's webhook would."""
    try:
        payload = json.loads(read_text(file))
    except ValueError as exc:
        raise fail(f"{file}: not valid JSON: {exc}") from None
    with connect(store, server, api_key) as backend:
        try:
            answer = backend.send_alerts(source, payload)
        except ValueError as exc:  # the problems, named for this file
            raise fail(f"{file}: {exc}") from None
        emit(fmt, answer,
             f"{answer['received']} alert(s): {answer['firing']} firing, "
             f"{answer['resolved']} resolved, {answer['unchanged']} unchanged, "
             f"{answer['stale']} stale, {answer.get('unmatched', 0)} matching no node\n"
             f"broken promises now: {', '.join(answer['broken_promises']) or 'none'}")


@alerts_app.command("list")
def list_alerts(source: SourceArg,
                unmatched: Annotated[bool, typer.Option(
                    "--unmatched", help="only the alerts that match no node")] = False,
                fmt: FormatOpt = Format.TEXT,
                store: StoreOpt = None, server: ServerOpt = None,
                api_key: ApiKeyOpt = None) -> None:
    """The alerts SOURCE sent (firing and ended), or those that match no node."""
    with connect(store, server, api_key) as backend:
        answer = backend.alerts(source, unmatched)
    lines = [f"{a['status']:8} {a['state']:8} {a['node'] or '(no node)':24} "
             f"{a['labels'].get('alertname', a['fingerprint'])}" for a in answer["alerts"]]
    emit(fmt, answer, "\n".join(lines) or "no alerts")


def _window_line(w: dict[str, Any]) -> str:
    return (f"{w['id']:16} {w['phase']:9} {w['starts_at']} .. {w['ends_at']}  {w['title']}"
            f"  ({', '.join(w['components'])})")


@maintenance_app.command("add")
def add(window_id: Annotated[str, typer.Argument(help="the window's (or change's) id")],
        title: Annotated[str, typer.Option(help="what the work is")],
        component: Annotated[list[str], typer.Option(help="a node the work touches "
                                                          "(repeat for several)")],
        start: Annotated[str, typer.Option(help="ISO 8601 with a UTC offset")],
        end: Annotated[str, typer.Option(help="ISO 8601 with a UTC offset, after start")],
        owner: Annotated[str | None, typer.Option(help="who does the work")] = None,
        fmt: FormatOpt = Format.TEXT,
        store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Register (or replace) a maintenance window; prints what the work would break."""
    window = {"id": window_id, "title": title, "components": component, "starts_at": start,
              "ends_at": end, "owner": owner}
    with connect(store, server, api_key) as backend:
        try:
            answer = backend.register_window(window)
        except ValueError as exc:
            raise fail(str(exc)) from None
    change = answer["assessment"]["changes"].get(window_id, {})
    emit(fmt, answer,
         f"{_window_line(answer['window'])}\n"
         f"would break: {', '.join(change.get('broken_promises', [])) or 'nothing'}; "
         f"at risk: {', '.join(change.get('at_risk_promises', [])) or 'nothing'}")


@maintenance_app.command("list")
def list_windows(phase: Annotated[str | None, typer.Option(
                     help="upcoming, active, ended or cancelled")] = None,
                 fmt: FormatOpt = Format.TEXT,
                 store: StoreOpt = None, server: ServerOpt = None,
                 api_key: ApiKeyOpt = None) -> None:
    """The maintenance windows, by start, with their phase now."""
    if phase not in (None, "upcoming", "active", "ended", "cancelled"):
        raise fail(f"--phase {phase!r}: use upcoming, active, ended or cancelled")
    with connect(store, server, api_key) as backend:
        answer = backend.windows(phase)
    emit(fmt, answer, "\n".join(_window_line(w) for w in answer["windows"]) or "no windows")


@maintenance_app.command("cancel")
def cancel(window_id: Annotated[str, typer.Argument(help="the window's id")],
           fmt: FormatOpt = Format.TEXT,
           store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None) -> None:
    """Cancel a maintenance window: its components' failures are unplanned from now."""
    with connect(store, server, api_key) as backend:
        answer = backend.cancel_window(window_id)
    if answer is None:
        raise fail(f"no maintenance window {window_id!r}", 1)
    emit(fmt, answer, _window_line(answer))
