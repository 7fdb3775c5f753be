"""For integrators: pushes per source (JSON or streamed NDJSON), observed status,
provenance, purge, the current impact and a Server-Sent Events stream of
promise changes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from servicegraph.ingest.ndjson import NdjsonReader
from servicegraph.ingest.status import parse_updates
from servicegraph.model.errors import ValidationError
from servicegraph.model.graph import GraphData
from servicegraph_api import examples
from servicegraph_api.answers import JsonAnswer
from servicegraph_api.auth import Scope
from servicegraph_api.deps import (
    AnswerSizeDep,
    FeedDep,
    MetricsDep,
    NdjsonLimit,
    QuestionsDep,
    SettingsDep,
    WriterDep,
    require,
)
from servicegraph_api.errors import responses
from servicegraph_api.history_schemas import RecordedImpactOut
from servicegraph_api.ingest_schemas import (
    DanglingListOut,
    ProgressOut,
    ProvenanceOut,
    PurgeOut,
    PushIn,
    PushOut,
    StatusIn,
    StatusOut,
)
from servicegraph_api.media import YamlBodyRoute
from servicegraph_api.paths import SEGMENT
from servicegraph_api.schemas import ImpactOut, NodeExplanationOut

# Access (read for GET, ingest or admin for writes) is applied by create_app to the
# whole router; purge asks for admin on top.
router = APIRouter(tags=["integrators"], route_class=YamlBodyRoute)

#: The answer of `GET /v1/current`: now, or (with `at`) from the record. It documents the
#: answer; the answer itself is sent as the library built it (see `answers`).
CurrentOut = Annotated[ImpactOut | RecordedImpactOut, Field(union_mode="left_to_right")]
WRITE_ERRORS = responses(404, 413)
READ_ERRORS = responses(404)

Source = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:-]+$",
                             description="the integrator's name, e.g. `discovery`, `cmdb`",
                             examples=["discovery"])]
FullSync = Annotated[bool, Query(description="a complete snapshot: retire what this source "
                                             "pushed before and not now", examples=[False])]
AllowEmpty = Annotated[bool, Query(description="with full_sync: accept a sync with no items "
                                               "(the source is now empty, so everything it "
                                               "pushed before is retired); without it an "
                                               "empty full sync answers 422",
                                   examples=[False])]
DryRun = Annotated[bool, Query(description="answer what would change, write nothing",
                               examples=[True])]


def count_pushed(metrics: Any, source: str, nodes: int, edges: int) -> None:
    """Count pushed items in the metrics."""
    metrics.pushed_items.labels(source=source, kind="node").inc(nodes)
    metrics.pushed_items.labels(source=source, kind="edge").inc(edges)


@router.post("/sources/{source}/push", response_model=PushOut,
             summary="Push a batch of nodes and edges from a source",
             responses=WRITE_ERRORS)
def push(source: Source, body: PushIn, writer: WriterDep, metrics: MetricsDep,
         full_sync: FullSync = False, dry_run: DryRun = False,
         allow_empty: AllowEmpty = False) -> dict[str, Any]:
    """Validated whole, written in one transaction, idempotent by source + external id.

    The answer counts created / updated / unchanged / retired items; a repeated
    push answers `changed: false` and writes nothing. Bad items get a 422 that
    lists each one (section, index, field, message), and nothing is written.
    """
    batch = body.batch()
    answer = writer.push(source, batch, full_sync=full_sync, dry_run=dry_run,
                         allow_empty=allow_empty)
    count_pushed(metrics, source, len(batch.nodes), len(batch.edges))
    return answer


#: The OpenAPI request body of the NDJSON routes.
NDJSON_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "application/x-ndjson": {
        "schema": {"type": "string", "format": "binary"},
        "example": '{"node": {"id": "vm-1", "kind": "ci", "name": "VM 1"}}\n'
                   '{"edge": {"from": "web-tier", "to": "vm-1"}}\n'}}}}


@router.post(
    "/sources/{source}/push.ndjson", response_model=PushOut,
    summary="Stream a big sync as NDJSON", responses=WRITE_ERRORS,
    openapi_extra=NDJSON_BODY)
async def push_ndjson(source: Source, request: Request, writer: WriterDep, metrics: MetricsDep,
                      limit: NdjsonLimit, full_sync: FullSync = False,
                      dry_run: DryRun = False, allow_empty: AllowEmpty = False
                      ) -> dict[str, Any]:
    """One `{"node": {...}}` or `{"edge": {...}}` per line, read as it streams in.

    For syncs of hundreds of thousands of items. The body may be up to the
    server's `max_ndjson_bytes` (413 beyond). Problems are reported by line
    number (section `lines`). The answer carries the counts and the progress.
    """
    reader, started = await read_lines(request)
    answer = await pushed_by_line(reader, lambda: writer.push_read(
        source, reader, full_sync=full_sync, dry_run=dry_run, allow_empty=allow_empty),
        started)
    count_pushed(metrics, source, len(reader.raw_nodes), len(reader.raw_edges))
    return answer


async def read_lines(request: Request) -> tuple[NdjsonReader, float]:
    """Read an NDJSON body's lines as it streams in: the reader, and when reading
    started (the items are read into the model by the push, when it must)."""
    reader = NdjsonReader()
    started = time.perf_counter()
    async for chunk in request.stream():
        reader.feed(chunk)
    return reader, started


async def read_ndjson(request: Request) -> tuple[NdjsonReader, GraphData, float]:
    """Read an NDJSON body as it streams in: the reader (for line numbers), the batch,
    and when reading started."""
    reader = NdjsonReader()
    started = time.perf_counter()
    async for chunk in request.stream():
        reader.feed(chunk)
    return reader, reader.finish(), started


async def pushed_by_line(reader: NdjsonReader, write: Callable[[], dict[str, Any]],
                         started: float) -> dict[str, Any]:
    """Run a push of what ``reader`` read (in a worker thread), restating its problems
    by line number, and add the progress to its answer."""
    parsed = time.perf_counter()

    def run() -> dict[str, Any]:
        try:
            return write()
        except ValidationError as exc:
            raise ValidationError([reader.by_line(p) for p in exc.problems]) from None

    answer = await run_in_threadpool(run)
    answer["progress"] = ProgressOut(
        lines=reader.lines, bytes=reader.bytes, parse_seconds=round(parsed - started, 4),
        write_seconds=round(time.perf_counter() - parsed, 4)).model_dump()
    return answer


@router.post("/sources/{source}/status", response_model=StatusOut,
             summary="Push observed states of components", responses=WRITE_ERRORS)
def push_status(source: Source, body: StatusIn, writer: WriterDep,
                settings: SettingsDep) -> dict[str, Any]:
    """Monitoring says a component is down, degraded or ok again, as of a time.

    The current impact is re-derived at once; older observations than the one
    stored are ignored (counted as stale). Unknown items, and times further ahead of
    the server's clock than `SERVICEGRAPH_STATUS_MAX_SKEW_SECONDS` (default 300), are
    refused whole (422).
    """
    updates = parse_updates(body.raw(), now=datetime.now(UTC),
                            max_skew=timedelta(seconds=settings.status_max_skew_seconds))
    return writer.push_status(source, updates)


@router.get("/current", response_model=CurrentOut,
            summary="The impact of what is observed now, or at a past moment",
            responses={**READ_ERRORS, 200: {"content": {"application/json": {"examples": {
                "now": {"summary": "now", "value": examples.IMPACT_RESPONSE},
                "at": {"summary": "at a past moment (`at`)",
                       "value": examples.RECORDED_IMPACT_RESPONSE}}}}}})
def current(questions: QuestionsDep, size: AnswerSizeDep,
            within: Annotated[list[str] | None, Query(
                examples=[["web-1", "web-tier"]],
                description="only these nodes in the page of `impacted` (repeatable)")
            ] = None,
            at: Annotated[str | None, Query(
                examples=["2026-12-07T02:13:00Z"],
                description="answer what this answered at that moment (ISO 8601 with a "
                            "time zone), from the promise record")] = None
            ) -> JsonAnswer:
    """Broken and at-risk promises under the states integrators pushed, with the why;
    sized like the answer of `POST /v1/impact`.

    With `at`, time travel: the broken and at-risk promises, acts and business services
    of that moment, each with its causes and their providers as the record kept them,
    the planned marks and the components observed failing (the record needs no older
    structure of the graph: the answer's `structure` says so). A moment further ahead
    of the server's clock than `SERVICEGRAPH_STATUS_MAX_SKEW_SECONDS`, or older than
    the record keeps (`SERVICEGRAPH_RECORD_DAYS`), is refused (422 naming it)."""
    if at is not None:
        return JsonAnswer(questions.current_at(at))
    return JsonAnswer(questions.current(**size.of(within=within)))


@router.get("/current/explain/{node_id:" + SEGMENT + "}", response_model=NodeExplanationOut,
            summary="Why one node is in its state now", responses=READ_ERRORS)
def explain_current(node_id: Annotated[str, Path(
        description="the node to explain, percent-encoded (`/` as `%2F`)",
        examples=["web-tier"])], questions: QuestionsDep) -> JsonAnswer:
    """The explanation of one node under the states observed now, with its whole chain
    back to an observed failure (`GET /v1/current` gives whole chains for promises
    only). A node left ok answers state `ok` with no causes; an unknown node 404."""
    return JsonAnswer(questions.explain_current(node_id))


@router.get("/nodes/{node_id:" + SEGMENT + "}/provenance", response_model=ProvenanceOut,
            summary="Who says what about a node", responses=READ_ERRORS)
def provenance(node_id: Annotated[str, Path(description="the node, percent-encoded (`/` as "
                                                        "`%2F`)", examples=["web-1"])],
               questions: QuestionsDep) -> dict[str, Any]:
    """Every source's claim on the node (its key, fields and since when), whether it
    is retired, and the last observed state."""
    return questions.provenance(node_id)


@router.get("/checks/dangling", response_model=DanglingListOut,
            summary="Dependencies on retired nodes")
def dangling(questions: QuestionsDep) -> dict[str, Any]:
    """Every live dependency on a node no source asserts any more: one source retired a
    node (a full sync without it) that another source's dependency still needs. The
    node stays in impact answers, so impact keeps flowing through it, until the
    dependency goes too; this list says which need attention."""
    return {"items": questions.dangling()}


@router.post("/purge", response_model=PurgeOut, summary="Delete retired items",
             responses=WRITE_ERRORS, dependencies=[Depends(require(Scope.ADMIN))])
def purge(writer: WriterDep,
          older_than_days: Annotated[int | None, Query(
              ge=0, le=36500, examples=[30],
              description="only items retired at least this many days ago "
                          "(default: all retired items)")] = None,
          ) -> dict[str, int]:
    """Retired items leave impact answers at once and are purged after the retention
    period by later pushes; this purges them now."""
    older = timedelta(days=older_than_days) if older_than_days is not None else None
    return writer.purge(older_than=older)


@router.get(
    "/events", summary="Follow promise state changes (Server-Sent Events)",
    response_class=StreamingResponse, responses={
        200: {"description": "an event stream: `snapshot` first, then a `promise` event per "
                             "change, with its explanation and its `planned` and "
                             "`acknowledged` marks (as `GET /v1/current` gives them)",
                             "content": {"text/event-stream": {
                                 "schema": {
                                     "type": "object", "required": ["event", "data"],
                                     "properties": {
                                         "event": {"type": "string",
                                                   "enum": ["snapshot", "promise"]},
                                         "data": {"type": "string",
                                                  "contentMediaType": "application/json"}}},
                                 "example": 'event: promise\ndata: {"promise": "onboarding", '
                                            '"previous": "ok", "state": "down", ...}\n\n'}}},
        **READ_ERRORS})
async def events(feed: FeedDep,
                 limit: Annotated[int | None, Query(
                     ge=1, le=100000, examples=[10],
                     description="close after this many promise events (default: never)")
                 ] = None,
                 heartbeat: Annotated[float, Query(
                     ge=0.05, le=300, examples=[15.0],
                     description="seconds between keep-alive comments")] = 15.0,
                 ) -> StreamingResponse:
    """Each change of a promise's state under the observed status, as it happens."""
    sub = feed.subscribe()
    started = await run_in_threadpool(feed.start)
    snapshot = {p: s.word for p, s in started.items()}

    async def stream() -> AsyncIterator[str]:
        sent = 0
        try:
            yield f"event: snapshot\ndata: {json.dumps({'promises': snapshot})}\n\n"
            while limit is None or sent < limit:
                try:
                    event = await asyncio.wait_for(sub.queue.get(), heartbeat)
                except TimeoutError:
                    yield ": keep-alive\n\n"
                    continue
                sent += 1
                yield f"event: promise\ndata: {json.dumps(event.to_dict())}\n\n"
        finally:
            sub.close()

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache"})
