"""Alert deliveries read whole: Prometheus Alertmanager's webhook (version 4), which
Grafana's webhook contact point also speaks, naming every bad item.

Reading is pure: a payload in, the deliveries out (labels, annotations, status, times,
fingerprint), or a :class:`~servicegraph.model.errors.ValidationError` listing every
problem (``alerts[3] ('HighLatency'): startsAt: not an ISO-8601 time``). Which node an
alert is about is decided later, against the live graph.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as _field
from datetime import UTC, datetime, timedelta
from typing import Any

from servicegraph.ingest.status import MAX_SKEW, observed_moment
from servicegraph.model.alerts import Status, fingerprint_of
from servicegraph.model.bounds import text_problem
from servicegraph.model.errors import Problem, ValidationError, show
from servicegraph.model.times import iso

#: The most alerts one delivery may carry: Alertmanager groups alerts, and a storm of
#: ten thousand is one delivery, written in one transaction.
MAX_ALERTS = 10_000
#: Bounds of one alert's label and annotation sets.
MAX_LABELS = 64
MAX_LABEL_TEXT = 4096


@dataclass(frozen=True)
class Delivery:
    """One alert as a delivery states it."""

    fingerprint: str
    status: Status
    starts_at: str
    ends_at: str | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    #: What the sender stated outright (``node``, ``state``, ``severity``), beside labels.
    given: Mapping[str, str] = _field(default_factory=dict)

    @property
    def name(self) -> str:
        """How problems name it: its ``alertname``, else its fingerprint."""
        return self.labels.get("alertname") or self.fingerprint


def alert_list(payload: Mapping[str, Any], advice: str) -> list[Any]:
    """The ``alerts`` list of a delivery, refused whole when it is not a list or holds
    more than :data:`MAX_ALERTS` (``advice`` says how to send fewer)."""
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise ValidationError([Problem("document", None, "document", "alerts",
                                       "a list of alerts is required")])
    if len(alerts) > MAX_ALERTS:
        raise ValidationError([Problem(
            "document", None, "document", "alerts",
            f"{len(alerts):,} alerts in one delivery: at most {MAX_ALERTS:,}; {advice}")])
    return alerts


def text_map(raw: Any, field: str, where: tuple[int, str],
              problems: list[Problem]) -> dict[str, str]:
    i, name = where
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        problems.append(Problem("alerts", i, name, field, "must be a mapping of text to text"))
        return {}
    if len(raw) > MAX_LABELS:
        problems.append(Problem("alerts", i, name, field,
                                f"{len(raw)} entries: at most {MAX_LABELS}"))
        return {}
    out: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(Problem("alerts", i, name, f"{field}.{show(key)}",
                                    "keys and values must be text"))
            continue
        if len(key) > MAX_LABEL_TEXT or len(value) > MAX_LABEL_TEXT:
            problems.append(Problem("alerts", i, name, f"{field}.{show(key)}",
                                    f"longer than {MAX_LABEL_TEXT} characters"))
            continue
        out[key] = value
    return out


def alert_time(raw: Any, field: str, where: tuple[int, str], now: datetime, max_skew: timedelta,
          problems: list[Problem], *, optional: bool) -> str | None:
    i, name = where
    if raw is None or raw == "":
        if optional:
            return None
        problems.append(Problem("alerts", i, name, field, "required"))
        return None
    if isinstance(raw, str) and raw.startswith("0001-01-01"):
        return None  # Go's zero time: Alertmanager's "not set"
    moment = observed_moment(raw, now, max_skew if not optional else timedelta.max)
    if isinstance(moment, str):
        problems.append(Problem("alerts", i, name, field, moment))
        return None
    return iso(moment)


def read_alertmanager(payload: Any, *, now: datetime | None = None,
                      max_skew: timedelta = MAX_SKEW) -> list[Delivery]:
    """The deliveries of an Alertmanager (or Grafana) webhook payload, version 4.

    ``endsAt`` in the past ends an alert even when its status says firing; Go's zero
    time means "not set". ``startsAt`` further ahead of ``now`` than ``max_skew`` is
    refused, as a status time is. A fingerprint is computed from the labels when the
    sender gives none.

    >>> now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    >>> found = read_alertmanager({"version": "4", "status": "firing", "alerts": [
    ...     {"status": "firing", "labels": {"alertname": "Down", "service": "web-1"},
    ...      "startsAt": "2030-01-01T11:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
    ...      "fingerprint": "abc"}]}, now=now)
    >>> found[0].status.value, found[0].ends_at, found[0].labels["service"]
    ('firing', None, 'web-1')
    >>> read_alertmanager({"version": "3", "alerts": []}, now=now)
    Traceback (most recent call last):
    ...
    servicegraph.model.errors.ValidationError: 1 problem(s), nothing written: \
document: version: version '3' is not read: send Alertmanager's webhook version 4
    """
    now = now or datetime.now(UTC)
    if not isinstance(payload, Mapping):
        raise ValidationError([Problem("document", None, "document", "",
                                       "an Alertmanager webhook payload is a JSON object")])
    version = payload.get("version")
    if version is not None and str(version) != "4":
        raise ValidationError([Problem(
            "document", None, "document", "version",
            f"version {show(version)} is not read: send Alertmanager's webhook version 4")])
    alerts = alert_list(payload, "lower Alertmanager's max_alerts, or group alerts more "
                                 "finely")
    problems: list[Problem] = []
    out: list[Delivery] = []
    seen: dict[str, tuple[int, Mapping[str, str]]] = {}
    for i, item in enumerate(alerts):
        if not isinstance(item, Mapping):
            problems.append(Problem("alerts", i, "?", "", "an alert is a JSON object"))
            continue
        before = len(problems)
        labels = text_map(item.get("labels"), "labels", (i, "?"), problems)
        where = (i, show(labels.get("alertname") or item.get("fingerprint") or "?"))
        annotations = text_map(item.get("annotations"), "annotations", where, problems)
        status_word = item.get("status", "firing")
        if status_word not in ("firing", "resolved"):
            problems.append(Problem("alerts", i, where[1], "status",
                                    f"unknown status {show(status_word)}: firing or resolved"))
        starts_at = alert_time(item.get("startsAt"), "startsAt", where, now, max_skew, problems,
                          optional=False)
        ends_at = alert_time(item.get("endsAt"), "endsAt", where, now, max_skew, problems,
                        optional=True)
        fingerprint = item.get("fingerprint") or fingerprint_of(labels)
        wrong = text_problem(fingerprint, "identifier")
        if wrong:
            problems.append(Problem("alerts", i, where[1], "fingerprint", wrong))
        elif fingerprint in seen and seen[fingerprint][1] != labels:
            problems.append(Problem(
                "alerts", i, where[1], "fingerprint",
                f"fingerprint {show(fingerprint)} is also alerts[{seen[fingerprint][0]}], "
                "with other labels: a fingerprint names one label set"))
        if len(problems) > before or starts_at is None:
            continue
        seen[fingerprint] = (i, labels)
        status = Status(status_word)
        if status is Status.FIRING and ends_at is not None and ends_at <= iso(now):
            status = Status.RESOLVED  # its time ran out: it ended then
        if status is Status.RESOLVED and ends_at is None:
            ends_at = iso(now)
        out.append(Delivery(fingerprint, status, starts_at, ends_at, labels, annotations))
    if problems:
        raise ValidationError(problems)
    return out
