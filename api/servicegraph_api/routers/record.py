"""The promise record: was each promise kept over a period, and whose part failed.

One promise's record (with its breaks) and every promise's at once (by promise, or
rolled up by provider, owner or business service), over a calendar period in the
caller's time zone, optionally within business hours; as JSON, CSV, or a Markdown or
HTML report (``format``, or the ``Accept`` header).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response

from servicegraph.model.record import By, RecordFormat
from servicegraph.record import MEDIA, render
from servicegraph.runtime import record as the_record
from servicegraph_api.deps import QuestionsDep, TransitionsDep
from servicegraph_api.errors import responses
from servicegraph_api.paths import SEGMENT
from servicegraph_api.record_schemas import PromiseRecordOut, RecordOut
from servicegraph_api.routing import ModelRoute
from servicegraph_api.schemas import ErrorOut

router = APIRouter(tags=["record"], route_class=ModelRoute)



From = Annotated[str | None, Query(alias="from", examples=["2026-03"], description=(
    "start of the period: a month (`2026-03`), a day (`2026-03-01`), both from local "
    "midnight in `tz`, or an ISO 8601 time (with an offset, or local in `tz`); default: "
    "the start of the month `to` falls in, or of this month"))]
To = Annotated[str | None, Query(alias="to", examples=["2026-04"], description=(
    "end of the period, excluded, written as `from`; default: the end of the month "
    "`from` falls in. Time after now is not counted"))]
Tz = Annotated[str, Query(examples=["Europe/Berlin"], description=(
    "the IANA time zone of the calendar (months, days, midnights) and of the business "
    "hours"))]
Hours = Annotated[str | None, Query(examples=["mon-fri 08:00-18:00"], description=(
    "business hours: only time inside them counts, for every figure. Entries `DAYS "
    "HH:MM-HH:MM[,HH:MM-HH:MM]` joined by `;`, days as `mon`..`sun`, ranges (`mon-fri`) "
    "or lists (`mon,wed`); local time in `tz`"))]
Fmt = Annotated[RecordFormat | None, Query(alias="format", examples=["json"], description=(
    "json, csv, markdown or html (a report to send); default: from `Accept`, else json"))]
Accept = Annotated[str | None, Header(include_in_schema=False)]

_ACCEPTED = {"text/csv": RecordFormat.CSV, "text/markdown": RecordFormat.MARKDOWN,
             "text/html": RecordFormat.HTML, "application/json": RecordFormat.JSON}


def chosen(fmt: RecordFormat | None, accept: str | None) -> RecordFormat:
    """The format asked for: ``format``, else the first media type of ``Accept`` that
    is one of the record's, else JSON.

    >>> chosen(None, "text/html,application/xhtml+xml;q=0.9").value
    'html'
    >>> chosen(RecordFormat.CSV, "text/html").value, chosen(None, None).value
    ('csv', 'json')
    """
    if fmt is not None:
        return fmt
    for part in (accept or "").split(","):
        found = _ACCEPTED.get(part.split(";")[0].strip().lower())
        if found is not None:
            return found
    return RecordFormat.JSON


def _answer(doc: dict[str, Any], fmt: RecordFormat) -> Any:
    if fmt is RecordFormat.JSON:
        return doc
    return Response(render(doc, fmt.value), media_type=MEDIA[fmt.value])


def _content(example: str) -> dict[int | str, dict[str, Any]]:
    media = {MEDIA[f]: {"schema": {"type": "string"}, "example": example}
             for f in ("csv", "markdown", "html")}
    return {200: {"description": "The record, in the format asked for.", "content": media}}


_REPORT_EXAMPLE = ("# Promise record, 2026-03-01 00:00:00 +01:00 to 2026-04-01 00:00:00 "
                   "+02:00 (Europe/Berlin)\n")
_BAD: dict[int | str, dict[str, Any]] = {422: {"model": ErrorOut, "description": (
    "A parameter is wrong (`detail` names it: `from`, `to`, `tz`, `hours`), or the "
    "node has no record (not a promise, business service or service act).")}}


@router.get(
    "/promises/{promise_id:" + SEGMENT + "}/record", response_model=PromiseRecordOut,
    summary="The record of a promise",
    description="Was the promise kept over the period: time kept, at risk and broken, the "
                "share kept, every break (when, how long, its causes and their providers, "
                "planned or not), mean and longest time to recover, planned and unplanned "
                "apart, and against the promise's own target (`properties.target.kept`) "
                "the budget left; with the providers' part in the breaks. Business "
                "services and service acts have a record too. 404 for an unknown id.",
    responses={**_content(_REPORT_EXAMPLE), **responses(404), **_BAD},
)
def promise_record(
    promise_id: Annotated[str, Path(description="a promise id, percent-encoded (`/` as `%2F`)",
                                    examples=["onboarding"])],
    questions: QuestionsDep,
    transitions: TransitionsDep,
    start: From = None,
    end: To = None,
    tz: Tz = "UTC",
    hours: Hours = None,
    fmt: Fmt = None,
    accept: Accept = None,
) -> Any:
    doc = the_record.promise_record(questions, transitions, promise_id, start=start,
                                    end=end, tz=tz, hours=hours)
    return _answer(doc, chosen(fmt, accept))


@router.get(
    "/record", response_model=RecordOut, summary="The record of every promise",
    description="The record of every promise, business service and service act over the "
                "period (`by=promise`, without their breaks), or the promises rolled up: "
                "per provider the broken time its components caused (a break with causes "
                "of several providers is shared equally among them), its breaks and "
                "promises (`by=provider`); per owner or per business service the sums of "
                "their promises' figures.",
    responses={**_content(_REPORT_EXAMPLE), **_BAD},
)
def every_record(
    questions: QuestionsDep,
    transitions: TransitionsDep,
    start: From = None,
    end: To = None,
    tz: Tz = "UTC",
    hours: Hours = None,
    by: Annotated[By, Query(examples=["provider"], description=(
        "promise (every node's record), provider, owner or business_service"))] = By.PROMISE,
    fmt: Fmt = None,
    accept: Accept = None,
) -> Any:
    doc = the_record.records(questions, transitions, by=by.value, start=start, end=end,
                             tz=tz, hours=hours)
    return _answer(doc, chosen(fmt, accept))


__all__ = ["RecordFormat", "chosen", "router"]
