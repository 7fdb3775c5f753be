"""Alerts from monitoring: Alertmanager's (and Grafana's) webhook and the generic format
in, each source's mapping from labels to nodes, and the alerts a source sent, matched or
not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query

from servicegraph.ingest.alerts import read_alertmanager
from servicegraph.ingest.generic_alerts import read_generic
from servicegraph.model.alert_mapping import AlertMapping
from servicegraph_api.alert_schemas import (
    AlertmanagerIn,
    AlertMappingIn,
    AlertMappingOut,
    AlertMappingSetOut,
    AlertPageOut,
    AlertsPushOut,
    GenericAlertsIn,
)
from servicegraph_api.deps import CallerDep, QuestionsDep, SettingsDep, WriterDep
from servicegraph_api.errors import responses
from servicegraph_api.routers.ingest import Source

router = APIRouter(tags=["integrators"])


@router.post("/sources/{source}/alerts/alertmanager", response_model=AlertsPushOut,
             summary="Alertmanager's (or Grafana's) webhook", responses=responses(413))
def alertmanager(source: Source, body: AlertmanagerIn, writer: WriterDep,
                 settings: SettingsDep) -> dict[str, Any]:
    """Point an Alertmanager `webhook_config` (or a Grafana webhook contact point) here.

    Each alert is kept by its fingerprint and mapped to a node by its labels, under
    the source's mapping (`PUT …/alerts/mapping`); without one: `servicegraph_id`,
    then `service`, then `instance` (with and without its port), each as a node id,
    then as an external id this source pushed. `severity` maps to the state:
    `critical` (and `error`, `page`, `high`, …) is down, `warning` (and the like)
    degraded, `info` nothing; none or another is degraded. A node's observed
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


@router.post("/sources/{source}/alerts", response_model=AlertsPushOut,
             summary="Alerts in the generic format (Zabbix, scripts, …)",
             responses=responses(413))
def generic(source: Source, body: GenericAlertsIn, writer: WriterDep,
            settings: SettingsDep) -> dict[str, Any]:
    """For any sender that is not Alertmanager: a Zabbix webhook media type, a script.

    Each alert has a `key` (its fingerprint: what a later resend or resolution names),
    a `node` id or `labels` (read by the source's mapping), a `severity` (read by the
    mapping's severity table) or a `state` (`down`, `degraded`, `ok`), a `status`
    (`firing` or `resolved`), `starts_at` (required while firing), `ends_at` and a
    `summary`. The lifecycle is the Alertmanager route's: a resend changes nothing
    (`unchanged`), an older delivery is ignored (`stale`), an alert that names no node
    (or a node that is not in the graph) is kept and listed as unmatched, and the
    delivery is one transaction. At most 10,000 alerts; anything malformed is refused
    whole (422, naming the alert and the field).
    """
    deliveries = read_generic(body.raw(), now=datetime.now(UTC),
                              max_skew=timedelta(seconds=settings.status_max_skew_seconds))
    return writer.push_alerts(source, deliveries)


@router.get("/sources/{source}/alerts/mapping", response_model=AlertMappingOut,
            summary="A source's alert mapping", responses=responses())
def get_mapping(source: Source, questions: QuestionsDep) -> dict[str, Any]:
    """How `source`'s alerts name their node and what their severities mean, with its
    version and who set it when; version 0 is the default, used until one is set."""
    return questions.alert_mapping(source).to_dict()


@router.put("/sources/{source}/alerts/mapping", response_model=AlertMappingSetOut,
            summary="Set a source's alert mapping", responses=responses(413))
def set_mapping(source: Source, body: AlertMappingIn, writer: WriterDep,
                caller: CallerDep) -> dict[str, Any]:
    """Replace `source`'s mapping whole (scope `ingest`, as its pushes: whoever feeds a
    source says how its labels read). Rules are tried in order; the first that names
    a node wins. The mapping is validated whole: a bad rule is a 422 naming it
    (`rules[2]`), and nothing is set. Each change is the next version, kept with who
    and when, and seen by every server on the store. Every firing alert of the source
    is then mapped again in the same transaction: the answer counts those that matched
    no node and now do (`rematched`), and the impact after it."""
    mapping = AlertMapping.parse(source, body.raw())
    return writer.set_mapping(mapping, by=caller.name)


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
