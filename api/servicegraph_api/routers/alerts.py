"""Alerts from monitoring: Alertmanager's (and Grafana's) webhook in, and the alerts a
source sent, matched or not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from servicegraph.ingest.alerts import read_alertmanager
from servicegraph_api.alert_schemas import AlertmanagerIn, AlertPageOut, AlertsPushOut
from servicegraph_api.deps import QuestionsDep, SettingsDep, WriterDep
from servicegraph_api.errors import responses
from servicegraph_api.routers.ingest import Source

router = APIRouter(tags=["integrators"])


@router.post("/sources/{source}/alerts/alertmanager", response_model=AlertsPushOut,
             summary="Alertmanager's (or Grafana's) webhook", responses=responses(413))
def alertmanager(source: Source, body: AlertmanagerIn, writer: WriterDep,
                 settings: SettingsDep) -> dict[str, Any]:
    """Point an Alertmanager `webhook_config` (or a Grafana webhook contact point) here.

    Each alert is kept by its fingerprint and mapped to a node by its labels:
    `servicegraph_id`, then `service`, then `instance` (with and without its port),
    each as a node id, then as an external id this source pushed. `severity` maps to
    the state: `critical` (and `error`, `page`, `high`, …) is down, `warning` (and the
    like) degraded, `info` nothing; none or another is degraded. A node's observed
    state is the worst of its firing alerts and its latest status. Resolved alerts, and
    alerts whose `endsAt` passed, end. A resend of a firing alert changes nothing
    (`unchanged`); a delivery older than what is held is ignored (`stale`). Alerts that
    match no node are kept and listed (`GET …/alerts/unmatched`). A storm is one
    transaction and one propagation. A malformed payload, another version, or a
    fingerprint held with other labels is refused whole (422, naming the alert).
    """
    deliveries = read_alertmanager(
        body.raw(), now=datetime.now(UTC),
        max_skew=timedelta(seconds=settings.status_max_skew_seconds))
    return writer.push_alerts(source, deliveries)


Limit = Annotated[int, Query(ge=1, le=10000, examples=[100], description="page size")]
Offset = Annotated[int, Query(ge=0, examples=[0], description="alerts to skip")]


@router.get("/sources/{source}/alerts", response_model=AlertPageOut,
            summary="The alerts a source sent", responses=responses(404))
def list_alerts(source: Source, questions: QuestionsDep,
                firing: Annotated[bool | None, Query(
                    examples=[True], description="only firing (true) or ended (false) ones")
                ] = None,
                limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    """The alerts `source` sent, firing and ended, by fingerprint, paged."""
    found, total = questions.alerts(source, firing=firing, limit=limit, offset=offset)
    return {"alerts": [a.to_dict() for a in found], "total": total}


@router.get("/sources/{source}/alerts/unmatched", response_model=AlertPageOut,
            summary="A source's alerts that name no node", responses=responses(404))
def unmatched_alerts(source: Source, questions: QuestionsDep, limit: Limit = 100,
                     offset: Offset = 0) -> dict[str, Any]:
    """Alerts that matched no node: they are kept, so that the labels can be fixed (or
    the node pushed) and the alert sent again."""
    found, total = questions.alerts(source, unmatched=True, limit=limit, offset=offset)
    return {"alerts": [a.to_dict() for a in found], "total": total}
