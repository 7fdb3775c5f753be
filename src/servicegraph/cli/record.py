"""The promise record on the command line: ``servicegraph record [PROMISE]``."""

from __future__ import annotations

from typing import Annotated

import typer

from servicegraph.cli.backend import connect, fail
from servicegraph.cli.options import ApiKeyOpt, ServerOpt, StoreOpt
from servicegraph.model.record import By, RecordFormat

app = typer.Typer()



@app.command()
def record(
    promise: Annotated[str | None, typer.Argument(
        help="a promise (or business service, or service act) id; without it, every "
             "promise's record, listed --by")] = None,
    start: Annotated[str | None, typer.Option(
        "--from", help="start: a month (2026-03), a day (2026-03-01) or an ISO 8601 time; "
                       "default: the start of this month (or of the month of --to)")] = None,
    end: Annotated[str | None, typer.Option(
        "--to", help="end, excluded, written as --from; default: the end of the month "
                     "--from falls in")] = None,
    tz: Annotated[str, typer.Option(
        "--tz", help="the IANA time zone of the calendar and the business hours")] = "UTC",
    hours: Annotated[str | None, typer.Option(
        "--hours", help="business hours, local in --tz; only time inside them counts: "
                        "e.g. 'mon-fri 08:00-18:00' (entries joined by ';')")] = None,
    by: Annotated[By | None, typer.Option(
        "--by", help="without PROMISE: promise (the default), provider, owner or "
                     "business_service")] = None,
    fmt: Annotated[RecordFormat, typer.Option(
        "--format", "-f", help="markdown (a report), json, csv or html (a report)")
    ] = RecordFormat.MARKDOWN,
    store: StoreOpt = None, server: ServerOpt = None, api_key: ApiKeyOpt = None,
) -> None:
    """Was the promise kept: time kept, at risk and broken, its breaks and their causes,
    time to recover, and the providers' part, over a calendar period.

    Time after now is not counted. With --hours only business hours count.
    """
    from servicegraph.record import render

    if promise is not None and by is not None:
        raise fail("--by lists every promise's record: give it without PROMISE")
    with connect(store, server, api_key) as backend:
        doc = backend.record(promise, start, end, tz, hours, (by or By.PROMISE).value)
    typer.echo(render(doc, fmt.value).rstrip("\n"))
