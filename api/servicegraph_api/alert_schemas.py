"""Request and answer shapes of the alert routes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

ALERTMANAGER_EXAMPLE: dict[str, Any] = {
    "version": "4", "groupKey": "{}:{alertname=\"FeedJobFailing\"}", "truncatedAlerts": 0,
    "status": "firing", "receiver": "servicegraph",
    "groupLabels": {"alertname": "FeedJobFailing"},
    "commonLabels": {"alertname": "FeedJobFailing", "severity": "critical"},
    "commonAnnotations": {}, "externalURL": "http://alertmanager.example:9093",
    "alerts": [{"status": "firing",
                "labels": {"alertname": "FeedJobFailing", "servicegraph_id": "feed-job",
                           "severity": "critical"},
                "annotations": {"summary": "hr-newhire-sync has not run for 2 hours"},
                "startsAt": "2030-01-01T02:13:00Z", "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.example:9090/graph",
                "fingerprint": "5f2c9e0d1b7a4c33"}]}


class AlertmanagerIn(BaseModel):
    """Prometheus Alertmanager's webhook payload, version 4 (Grafana's webhook contact
    point sends the same shape, with fields of its own, which are ignored)."""

    model_config = ConfigDict(extra="allow",
                              json_schema_extra={"examples": [ALERTMANAGER_EXAMPLE]})

    version: str | None = Field(None, description="the payload version: 4")
    status: str | None = Field(None, description="firing or resolved (of the group)")
    alerts: list[Any] = Field(description=(
        "the alerts: `status`, `labels`, `annotations`, `startsAt`, `endsAt`, "
        "`fingerprint` (at most 10,000)"))

    def raw(self) -> dict[str, Any]:
        """The payload as sent."""
        return self.model_dump()


class AlertsPushOut(BaseModel):
    """What an alert delivery did."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source": "alertmanager", "received": 1, "firing": 1, "resolved": 0,
         "unchanged": 0, "stale": 0, "unmatched": 0, "unmatched_alerts": [],
         "changed": ["feed-job"], "broken_promises": ["onboarding"],
         "at_risk_promises": []}]})

    source: str
    received: int = Field(description="alerts in the delivery")
    firing: int = Field(description="alerts that fire now, new or changed")
    resolved: int = Field(description="alerts that ended (resolved, or their endsAt passed)")
    unchanged: int = Field(description="resends of firing alerts: nothing changed")
    stale: int = Field(description="deliveries older than what is held: ignored")
    unmatched: int = Field(description="alerts that name no node (kept and listed)")
    unmatched_alerts: list[str] = Field(description="the first 100 of them, by alertname")
    changed: list[str] = Field(description="nodes whose alert state changed")
    broken_promises: list[str] = Field(description="broken after the delivery")
    at_risk_promises: list[str]


class AlertOut(BaseModel):
    """One alert as kept."""

    source: str
    fingerprint: str
    node: str | None = Field(description="the node it maps to (none: unmatched)")
    state: str = Field(description="the state it gives its node while it fires")
    status: str = Field(description="firing or resolved")
    starts_at: str
    ends_at: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    received_at: str = Field(description="when the delivery that last changed it came")
    given: dict[str, str] = Field({}, description=(
        "what the sender stated outright (the generic format's `node`, `state`, "
        "`severity`)"))


class AlertPageOut(BaseModel):
    """A page of a source's alerts."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "alerts": [{"source": "alertmanager", "fingerprint": "5f2c9e0d1b7a4c33",
                    "node": None, "state": "down", "status": "firing",
                    "starts_at": "2030-01-01T02:13:00.000000Z", "ends_at": None,
                    "labels": {"alertname": "DiskFull", "host": "db-9"},
                    "annotations": {}, "received_at": "2030-01-01T02:13:05.000000Z"}],
        "total": 1}]})

    alerts: list[AlertOut]
    total: int = Field(description="alerts that match, over all pages")


class AlertBriefOut(BaseModel):
    """A firing alert behind a failed component."""

    source: str
    fingerprint: str
    alertname: str | None
    state: str
    starts_at: str
    summary: str | None


GENERIC_EXAMPLE: dict[str, Any] = {"alerts": [
    {"key": "zbx-48213", "node": "feed-job", "severity": "high", "status": "firing",
     "starts_at": "2030-01-01T02:13:00Z", "summary": "hr-newhire-sync has not run"},
    {"key": "disk-db-9", "labels": {"host": "db-9.example.org"}, "state": "degraded",
     "status": "firing", "starts_at": "2030-01-01T02:14:00Z"}]}


class GenericAlertsIn(BaseModel):
    """servicegraph's generic alert format, for Zabbix webhooks, scripts and any sender
    that is not Alertmanager."""

    model_config = ConfigDict(extra="allow",
                              json_schema_extra={"examples": [GENERIC_EXAMPLE]})

    alerts: list[Any] = Field(description=(
        "the alerts (at most 10,000), each with `key` (its fingerprint), `node` (a node "
        "id) or `labels` (read by the source's mapping), `severity` (read by the "
        "mapping's severity table) or `state` (`down`, `degraded`, `ok`), `status` "
        "(`firing`, the default, or `resolved`), `starts_at` (required while firing), "
        "`ends_at` and `summary`"))

    def raw(self) -> dict[str, Any]:
        """The payload as sent."""
        return self.model_dump()


MAPPING_EXAMPLE: dict[str, Any] = {
    "rules": [
        {"label": "alertname", "to": "table", "table": {"HrFeedStale": "feed-job"}},
        {"label": "servicegraph_id", "to": "id"},
        {"label": "job", "to": "external_id", "source": "k8s"},
        {"label": "instance", "to": "properties.hostname", "strip_port": True},
        {"label": "host", "to": "name", "regex": "^([^.]+)"}],
    "severity": {"label": "priority", "states": {"p1": "down", "p2": "degraded"},
                 "default": "degraded"}}


class AlertMappingIn(BaseModel):
    """How a source's alerts name their node, and what their severity means."""

    model_config = ConfigDict(extra="allow",
                              json_schema_extra={"examples": [MAPPING_EXAMPLE]})

    rules: list[Any] = Field(description=(
        "tried in order; the first that names a node wins. Each reads `label` (cut by "
        "`regex`'s first group, then `strip_port`) and looks it up `to`: `id` (a node "
        "id), `external_id` (of `source`, default this source), `name`, "
        "`properties.<path>` (a live node's property), or `table` (label value → node "
        "id in `table`)"))
    severity: dict[str, Any] | None = Field(None, description=(
        "`label` holding the severity (default `severity`), `states` (severity → `down`, "
        "`degraded` or `ok`, over the built-in reading) and `default` (the state of a "
        "severity known to neither, or none; default `degraded`)"))

    def raw(self) -> dict[str, Any]:
        """The mapping as sent."""
        return self.model_dump(exclude_none=True)


class AlertMappingOut(BaseModel):
    """A source's alert mapping as stored (version 0: none set, the default)."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"source": "alertmanager", "version": 3, "updated_at": "2030-01-01T02:20:00.000000Z",
         "updated_by": "ops-feed", **MAPPING_EXAMPLE}]})

    source: str
    version: int = Field(description="bumped by each change; 0: the default mapping")
    updated_at: str | None = Field(description="when this version was set")
    updated_by: str | None = Field(description="the API key (or user) that set it")
    rules: list[dict[str, Any]]
    severity: dict[str, Any]


class AlertMappingSetOut(AlertMappingOut):
    """The mapping as stored, and what it did to the source's firing alerts."""

    rematched: int = Field(description="firing alerts that matched no node and now do")
    remapped: int = Field(description="firing alerts whose node or state changed otherwise")
    unmatched: int = Field(description="firing alerts that still match no node")
    changed: list[str] = Field(description="nodes whose alert state changed")
    graph_version: int = Field(description="the graph's version after it")
    broken_promises: list[str]
    at_risk_promises: list[str]
