"""Generic alert deliveries read whole: servicegraph's own JSON alert format, for Zabbix
webhooks, scripts and anything that is not Alertmanager.

::

    {"alerts": [{"key": "zbx-48213", "node": "db-1", "severity": "high",
                 "status": "firing", "starts_at": "2030-01-01T02:13:00Z",
                 "summary": "db-1 is unreachable"}]}

``key`` is the alert's fingerprint; ``node`` names the node outright, or ``labels`` are
read by the source's mapping; ``severity`` is read by the mapping's severity table, or
``state`` (``down``, ``degraded``, ``ok``) is stated outright. Reading is pure: a payload
in, the deliveries out, or a :class:`~servicegraph.model.errors.ValidationError` listing
every problem (``alerts[3] ('zbx-48213'): starts_at: required``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from servicegraph.ingest.alerts import (
    MAX_LABEL_TEXT,
    Delivery,
    alert_list,
    alert_time,
    text_map,
)
from servicegraph.ingest.status import MAX_SKEW
from servicegraph.model.alerts import Status
from servicegraph.model.bounds import text_problem
from servicegraph.model.errors import Problem, ValidationError, show
from servicegraph.model.times import iso

#: The fields of one generic alert.
FIELDS = frozenset({"key", "node", "labels", "severity", "state", "status", "starts_at",
                    "ends_at", "summary"})
STATES = ("down", "degraded", "ok")


def _word(raw: Any, field: str, where: tuple[int, str], problems: list[Problem]) -> str | None:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_LABEL_TEXT:
        problems.append(Problem("alerts", where[0], where[1], field,
                                f"text of 1 to {MAX_LABEL_TEXT} characters"))
        return None
    return raw


def read_generic(payload: Any, *, now: datetime | None = None,
                 max_skew: timedelta = MAX_SKEW) -> list[Delivery]:
    """The deliveries of a generic alert payload (see the module docstring).

    A firing alert needs ``starts_at``; a resolved one ends at ``ends_at`` (now, when
    not given); a firing alert whose ``ends_at`` passed has ended. An alert needs a
    ``node`` or ``labels`` (or both: the node wins), and gives ``severity`` or
    ``state``, not both (neither: the severity label, read by the mapping).

    >>> now = datetime(2030, 1, 1, 12, tzinfo=UTC)
    >>> (d,) = read_generic({"alerts": [{"key": "k1", "node": "db-1", "state": "down",
    ...                                  "starts_at": "2030-01-01T11:00:00Z"}]}, now=now)
    >>> d.fingerprint, d.status.value, dict(d.given)
    ('k1', 'firing', {'node': 'db-1', 'state': 'down'})
    >>> read_generic({"alerts": [{"key": "k1", "starts_at": "2030-01-01T11:00:00Z"}]},
    ...              now=now)
    Traceback (most recent call last):
    ...
    servicegraph.model.errors.ValidationError: 1 problem(s), nothing written: \
alerts[0] ('k1'): node: a node id or labels are required
    """
    now = now or datetime.now(UTC)
    if not isinstance(payload, Mapping):
        raise ValidationError([Problem("document", None, "document", "",
                                       "a generic alert payload is a JSON object")])
    unknown = sorted(str(k) for k in set(payload) - {"alerts"})
    if unknown:
        raise ValidationError([Problem("document", None, "document", k,
                                       "unknown field: a payload has only alerts")
                               for k in unknown])
    alerts = alert_list(payload, "send them in several")
    problems: list[Problem] = []
    out: list[Delivery] = []
    seen: dict[str, tuple[int, Mapping[str, str], Mapping[str, str]]] = {}
    for i, item in enumerate(alerts):
        if not isinstance(item, Mapping):
            problems.append(Problem("alerts", i, "?", "", "an alert is a JSON object"))
            continue
        before = len(problems)
        key = item.get("key")
        where = (i, show(key) if isinstance(key, str) else "?")
        for name in sorted(str(k) for k in set(item) - FIELDS):
            problems.append(Problem("alerts", i, where[1], name,
                                    "unknown field: " + ", ".join(sorted(FIELDS))))
        wrong = text_problem(key, "identifier")
        if wrong:
            problems.append(Problem("alerts", i, where[1], "key", wrong))
        labels = text_map(item.get("labels"), "labels", where, problems)
        given: dict[str, str] = {}
        node = item.get("node")
        if node is not None:
            wrong = text_problem(node, "identifier")
            if wrong:
                problems.append(Problem("alerts", i, where[1], "node", wrong))
            else:
                given["node"] = node
        elif not labels and "labels" not in item:
            problems.append(Problem("alerts", i, where[1], "node",
                                    "a node id or labels are required"))
        severity = _word(item.get("severity"), "severity", where, problems)
        state = item.get("state")
        if state is not None and state not in STATES:
            problems.append(Problem("alerts", i, where[1], "state",
                                    f"unknown state {show(state)}: down, degraded or ok"))
        elif state is not None and severity is not None:
            problems.append(Problem("alerts", i, where[1], "state",
                                    "give a severity or a state, not both"))
        elif state is not None:
            given["state"] = state
        elif severity is not None:
            given["severity"] = severity
        status_word = item.get("status", "firing")
        if status_word not in ("firing", "resolved"):
            problems.append(Problem("alerts", i, where[1], "status",
                                    f"unknown status {show(status_word)}: firing or resolved"))
        resolved = status_word == "resolved"
        starts_at = alert_time(item.get("starts_at"), "starts_at", where, now, max_skew,
                               problems, optional=resolved)
        ends_at = alert_time(item.get("ends_at"), "ends_at", where, now, max_skew, problems,
                             optional=True)
        summary = _word(item.get("summary"), "summary", where, problems)
        if not wrong and isinstance(key, str) and key in seen and \
                (seen[key][1], seen[key][2]) != (labels, given):
            problems.append(Problem(
                "alerts", i, where[1], "key",
                f"key {show(key)} is also alerts[{seen[key][0]}], with another node, "
                "labels, severity or state: a key names one alert"))
        if len(problems) > before or not isinstance(key, str):
            continue
        seen[key] = (i, labels, given)
        status = Status(status_word) if status_word in ("firing", "resolved") else Status.FIRING
        if status is Status.FIRING and ends_at is not None and ends_at <= iso(now):
            status = Status.RESOLVED  # its time ran out: it ended then
        if status is Status.RESOLVED and ends_at is None:
            ends_at = iso(now)
        start = starts_at or ends_at
        assert start is not None
        out.append(Delivery(key, status, start, ends_at, labels,
                            {"summary": summary} if summary else {}, given))
    if problems:
        raise ValidationError(problems)
    return out
