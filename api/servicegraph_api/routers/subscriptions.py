"""Webhook subscriptions: promise events pushed to receivers, signed, at least once and
in order per subscription (scope ``admin``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from servicegraph.notify import NewSubscription, Subscriptions, UnknownSubscription
from servicegraph_api.errors import responses
from servicegraph_api.routing import ModelRoute

router = APIRouter(tags=["subscriptions"], route_class=ModelRoute)

SubscriptionId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                                     description="the subscription's id, as creating it "
                                                 "answered",
                                     examples=["9c1e5b7d4e6f8a0b1c2d3e4f5a6b3f2a"])]
EventId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$",
                              description="the event's id", examples=[
                                  "1b4e28ba-2fa1-51d2-883f-0016d3cca427"])]
Names = list[Annotated[str, Field(min_length=1, max_length=512)]]
_DATA: dict[str, Any] = {
    "promise": "onboarding", "name": "New staff are productive on day one", "owner": "HR",
    "business_services": ["employee-onboarding"], "kind": "broken", "previous": "ok",
    "state": "down", "version": 2, "at": "2026-11-23T08:00:00.412000Z",
    "explanation": {"state": "down", "rule": "hard", "given": None, "causes": [
        {"dependency": "employee-onboarding", "state": "down", "rule": "hard", "group": None,
         "headroom": None}], "via": "employee-onboarding", "chain": [
        "onboarding", "employee-onboarding", "act-new-employee", "hr-app", "recruiting-feed",
        "feed-job"]},
    "providers": [{"provider": "IT", "failed": ["feed-job"], "failed_omitted": 0,
                   "affected": [], "affected_omitted": 0}], "alerts": {},
    "alerts_omitted": 0}
SUBSCRIPTION: dict[str, Any] = {
    "id": "9c1e5b7d4e6f8a0b1c2d3e4f5a6b3f2a", "url": "https://hooks.example.org/sg",
    "format": "native", "filter": {"promises": ["onboarding"]},
    "created_at": "2026-11-23T08:00:00.000000Z", "sequence": 0}
DEAD: dict[str, Any] = {
    "subscription": SUBSCRIPTION["id"], "sequence": 1,
    "event_id": "1b4e28ba-2fa1-51d2-883f-0016d3cca427", "kind": "broken",
    "at": "2026-11-23T08:00:00.412000Z", "state": "dead", "attempts": 8,
    "next_at": "2026-11-23T08:09:00.000000Z", "error": "the receiver answered 503",
    "data": _DATA}


def _example(value: Any) -> dict[int | str, dict[str, Any]]:
    return {200: {"content": {"application/json": {"example": value}}}}


Kind = Literal["broken", "at_risk", "recovered", "planned", "acknowledged", "new_cause"]


class FilterIn(BaseModel):
    """Which events a subscription receives; an empty or missing list admits any."""

    model_config = ConfigDict(extra="forbid")

    promises: Names = Field(default_factory=list, max_length=10000,
                            description="promise ids")
    business_services: Names = Field(default_factory=list, max_length=10000, description=(
        "business service ids: events of promises that depend on one of them"))
    owners: Names = Field(default_factory=list, max_length=10000,
                          description="owners of the promise")
    providers: Names = Field(default_factory=list, max_length=10000, description=(
        "providers who must act (named on broken and at-risk events)"))
    kinds: list[Kind] = Field(default_factory=list, max_length=6, description=(
        "kinds of event (default: every kind): `broken`, `at_risk`, `recovered`; "
        "`planned` (a breakage only planned work causes, told instead of `broken` or "
        "`at_risk`), `acknowledged` (a broken promise came to count as acknowledged), "
        "`new_cause` (a failed component newly behind a promise still broken)"))


class SubscriptionIn(BaseModel):
    """A new subscription."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "url": "https://hooks.example.org/sg", "filter": {"promises": ["onboarding"]},
        "format": "native"}]})

    url: str = Field(min_length=1, max_length=2048, examples=["https://hooks.example.org/sg"],
                     description="where events are POSTed: http or https, on a host inside "
                                 "the allowed networks (the server's setting)")
    filter: FilterIn = Field(default_factory=FilterIn)
    secret: str | None = Field(default=None, min_length=16, max_length=256, description=(
        "the HMAC key of the signatures; generated (and shown once) when not given"))
    format: Literal["native", "cloudevents"] = Field(default="native", description=(
        "`native` JSON, or CloudEvents 1.0 in structured mode "
        "(`application/cloudevents+json`)"))


class SubscriptionOut(BaseModel):
    """A subscription; its secret only in the answer that created it."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {**SUBSCRIPTION, "secret": "m1ZqV0p3bXk2c2VjcmV0LXNob3duLW9uY2U"}]})

    id: str
    url: str
    format: str
    filter: dict[str, list[str]]
    created_at: str
    sequence: int = Field(default=0, description=(
        "the number of the last event put in its outbox (events are numbered from 1)"))
    secret: str | None = Field(default=None, description="only when just created")


class DeadLetterOut(BaseModel):
    """An event whose last attempt failed."""

    model_config = ConfigDict(json_schema_extra={"examples": [DEAD]})

    subscription: str
    sequence: int
    event_id: str
    kind: str
    at: str
    state: str
    attempts: int
    next_at: str
    error: str | None
    data: dict[str, Any]


def _subscriptions(request: Request) -> Subscriptions:
    found: Subscriptions = request.app.state.subscriptions
    return found


def _missing(exc: UnknownSubscription) -> HTTPException:
    return HTTPException(404, str(exc))


@router.post("/subscriptions", response_model=SubscriptionOut, status_code=201,
             summary="Subscribe a receiver to promise events", responses=responses(413, 422))
async def create(body: SubscriptionIn, request: Request) -> dict[str, Any]:
    """Events (a promise broken, at risk, recovered, broken by planned work,
    acknowledged, or with a new cause) are POSTed to `url`, signed with
    `X-ServiceGraph-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, at least
    once, in order per subscription (`sequence`); a failed delivery is retried with
    back-off, then kept as a dead letter. A URL outside the allowed networks is refused
    (422)."""
    asked = NewSubscription(body.url, body.filter.model_dump(exclude_defaults=True),
                            body.secret, body.format)
    return await run_in_threadpool(_subscriptions(request).create, asked)


@router.get("/subscriptions", response_model=list[SubscriptionOut],
            summary="Every subscription", responses=_example([SUBSCRIPTION]))
async def listing(request: Request) -> list[dict[str, Any]]:
    """Oldest first, without their secrets."""
    return await run_in_threadpool(_subscriptions(request).all)


@router.get("/subscriptions/{subscription}", response_model=SubscriptionOut,
            summary="One subscription", responses=responses(404))
async def one(subscription: SubscriptionId, request: Request) -> dict[str, Any]:
    """Without its secret."""
    try:
        return await run_in_threadpool(_subscriptions(request).get, subscription)
    except UnknownSubscription as exc:
        raise _missing(exc) from None


@router.delete("/subscriptions/{subscription}", status_code=204,
               summary="Remove a subscription", responses=responses(404))
async def remove(subscription: SubscriptionId, request: Request) -> Response:
    """Its undelivered events are dropped with it."""
    try:
        await run_in_threadpool(_subscriptions(request).remove, subscription)
    except UnknownSubscription as exc:
        raise _missing(exc) from None
    return Response(status_code=204)


@router.get("/subscriptions/{subscription}/dead", response_model=list[DeadLetterOut],
            summary="A subscription's dead letters",
            responses={**responses(404), **_example([DEAD])})
async def dead(subscription: SubscriptionId, request: Request) -> list[dict[str, Any]]:
    """Events whose every attempt failed, in order, with the last error."""
    try:
        return await run_in_threadpool(_subscriptions(request).dead, subscription)
    except UnknownSubscription as exc:
        raise _missing(exc) from None


@router.post("/subscriptions/{subscription}/dead/{event}/redeliver", status_code=202,
             summary="Deliver a dead letter again", responses=responses(404))
async def redeliver(subscription: SubscriptionId, event: EventId,
                    request: Request) -> Response:
    """Queued again with fresh attempts; being the earliest, it is sent before the
    subscription's later events."""
    try:
        await run_in_threadpool(_subscriptions(request).redeliver, subscription, event)
    except UnknownSubscription as exc:
        raise _missing(exc) from None
    return Response(status_code=202)
