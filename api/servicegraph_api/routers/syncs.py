"""Sync sessions: a full sync of one source spread over many requests.

Open a session, push its pages (JSON or NDJSON; each validated whole and
written whole, in its own transaction), then commit it: what the source claims
and no page asserted is retired, in one transaction. A session that is
abandoned or expires retires nothing. Any API process may take any request of
a session: the session lives in the store. The newest full sync of a source
wins: one committed after a session opened supersedes it (409, nothing retired).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from starlette.concurrency import run_in_threadpool

from servicegraph_api.deps import MetricsDep, NdjsonLimit, WriterDep
from servicegraph_api.errors import responses
from servicegraph_api.ingest_schemas import PushIn, PushOut, SyncSessionOut
from servicegraph_api.routers.ingest import (
    NDJSON_BODY,
    AllowEmpty,
    Source,
    count_pushed,
    pushed_by_line,
    read_ndjson,
)
from servicegraph_api.routing import ModelRoute

router = APIRouter(tags=["integrators"], route_class=ModelRoute)

SessionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                description="the session's id, as opening it answered",
                                examples=["3f2a9c1e5b7d4e6f8a0b1c2d3e4f5a6b"])]
SESSION_ERRORS = responses(404, 409, 413)


@router.post("/sources/{source}/syncs", response_model=SyncSessionOut, status_code=201,
             summary="Open a sync session", responses=responses(422))
def open_sync(source: Source, writer: WriterDep,
              ttl_seconds: Annotated[int, Query(ge=10, le=7 * 24 * 3600, examples=[3600],
                                                description="seconds until the session "
                                                            "expires, uncommitted")] = 3600,
              ) -> dict[str, Any]:
    """A full sync of this source over many requests: push its pages to
    `/syncs/{session}/push` (or `push.ndjson`), then `/syncs/{session}/commit`.

    A page may refer to nodes stored already or in the same page: push nodes
    before (or with) the edges that need them, and a node declaring a redundancy
    group with the group's edges.
    """
    return writer.open_sync(source, ttl=timedelta(seconds=ttl_seconds)).to_dict()


@router.get("/sources/{source}/syncs/{session}", response_model=SyncSessionOut,
            summary="A sync session's state", responses=responses(404))
def sync_state(source: Source, session: SessionId, writer: WriterDep) -> dict[str, Any]:
    """Open, committed, abandoned, expired or superseded; its pages and items so far."""
    return writer.sync_session(session, source=source).to_dict()


@router.post("/sources/{source}/syncs/{session}/push", response_model=PushOut,
             summary="Push one page of a sync session", responses=SESSION_ERRORS)
def push_page(source: Source, session: SessionId, body: PushIn, writer: WriterDep,
              metrics: MetricsDep) -> dict[str, Any]:
    """Validated whole and written whole, like a push; its items count as asserted by
    the session. Nothing is retired before the commit."""
    batch = body.batch()
    answer = writer.push(source, batch, session=session)
    count_pushed(metrics, source, len(batch.nodes), len(batch.edges))
    return {**answer, "session": session}


@router.post("/sources/{source}/syncs/{session}/push.ndjson", response_model=PushOut,
             summary="Push one page of a sync session as NDJSON", responses=SESSION_ERRORS,
             openapi_extra=NDJSON_BODY)
async def push_page_ndjson(source: Source, session: SessionId, request: Request,
                           writer: WriterDep, metrics: MetricsDep,
                           limit: NdjsonLimit) -> dict[str, Any]:
    """One `{"node": {...}}` or `{"edge": {...}}` per line; problems by line number."""
    reader, batch, started = await read_ndjson(request)
    answer = await pushed_by_line(reader, lambda: writer.push(source, batch, session=session),
                                  started)
    count_pushed(metrics, source, len(batch.nodes), len(batch.edges))
    return {**answer, "session": session}


@router.post("/sources/{source}/syncs/{session}/commit", response_model=PushOut,
             summary="Commit a sync session", responses=SESSION_ERRORS)
async def commit_sync(source: Source, session: SessionId, writer: WriterDep,
                      allow_empty: AllowEmpty = False) -> dict[str, Any]:
    """Retire, in one transaction, what the source claims and no page asserted.

    A session whose pages asserted nothing is refused unless `allow_empty` says the
    source is now empty. The answer counts like a full sync and names the
    dependencies of other sources left on retired nodes (`dangling`).

    A session no longer open answers 409 naming its `state`, and nothing is retired:
    `superseded` when another full sync of the source (a session's commit or a
    full-sync push) was committed after it opened, `abandoned` when an abandon won,
    `committed`, or `expired`.
    """
    return await run_in_threadpool(writer.commit_sync, source, session,
                                   allow_empty=allow_empty)


@router.delete("/sources/{source}/syncs/{session}", response_model=SyncSessionOut,
               summary="Abandon a sync session", responses=SESSION_ERRORS)
def abandon_sync(source: Source, session: SessionId, writer: WriterDep) -> dict[str, Any]:
    """End the session without retiring anything; its pages stay written. A session
    that is no longer open answers 409 naming its state (`committed` when a commit
    won; `superseded`, `expired` or `abandoned`)."""
    return writer.abandon_sync(source, session).to_dict()
