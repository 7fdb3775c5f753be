"""Request and response examples for the OpenAPI document.

They are real answers of the bundled example enterprise (``servicegraph demo``),
trimmed where a list is long; the API tests load the same example.
"""

from __future__ import annotations

from typing import Any

IMPACT_REQUEST: dict[str, Any] = {"down": ["feed-job"], "degraded": []}

_FEED_CHAIN = ["onboarding", "employee-onboarding", "act-new-employee", "hr-app",
               "recruiting-feed", "feed-job"]


def _explained(node: str, cause: str | None) -> dict[str, Any]:
    # Bulk answers give the whole chain for promises only; other nodes give `via`.
    chain = _FEED_CHAIN[_FEED_CHAIN.index(node):] if node == "onboarding" else None
    if cause is None:
        return {"state": "down", "rule": "failed", "given": "down", "causes": [],
                "via": None, "chain": chain}
    return {"state": "down", "rule": "hard", "given": None,
            "causes": [{"dependency": cause, "state": "down", "rule": "hard", "group": None,
                        "headroom": None}], "via": cause, "chain": chain}


IMPACT_RESPONSE: dict[str, Any] = {
    "counts": {"impacted": 6, "down": 6, "degraded": 0, "broken_promises": 1,
               "at_risk_promises": 0, "service_acts": 1, "business_services": 1,
               "providers": 3},
    "impacted": {"act-new-employee": "down", "employee-onboarding": "down",
                 "feed-job": "down", "hr-app": "down", "onboarding": "down",
                 "recruiting-feed": "down"},
    "broken_promises": ["onboarding"],
    "at_risk_promises": [],
    "service_acts": {"act-new-employee": "down"},
    "business_services": {"employee-onboarding": "down"},
    "providers": [
        {"provider": "IT", "failed": ["feed-job"], "affected": []},
        {"provider": "Contoso Cloud", "failed": [], "affected": ["hr-app"]},
        {"provider": "HR", "failed": [], "affected": ["recruiting-feed"]},
    ],
    "page": {"total": 6, "limit": 1000, "offset": 0, "kind": None},
    "explanations": {
        node: _explained(node, cause) for node, cause in (
            ("act-new-employee", "hr-app"), ("employee-onboarding", "act-new-employee"),
            ("feed-job", None), ("hr-app", "recruiting-feed"),
            ("onboarding", "employee-onboarding"), ("recruiting-feed", "feed-job"))
    },
}

EXPLAIN_RESPONSE: dict[str, Any] = {
    "node": "web-tier", "state": "degraded", "rule": "group", "given": None,
    "causes": [{"dependency": "web-1", "state": "down", "rule": "group", "group": "web",
                "headroom": "2 of 3 up, needs 2"}],
    "via": "web-1", "chain": ["web-tier", "web-1"],
}

CHANGES_REQUEST: dict[str, Any] = {"changes": [
    {"id": "patch-web-1", "components": ["web-1"], "start": "2030-01-01T20:00:00Z",
     "end": "2030-01-01T22:00:00Z", "state": "down"},
    {"id": "patch-web-2", "components": ["web-2"], "start": "2030-01-01T21:00:00Z",
     "end": "2030-01-01T23:00:00Z", "state": "down"},
]}

_WEB_DEGRADED: dict[str, Any] = {
                 "act-buy-ticket": "degraded", "act-check-delivery": "degraded",
                 "act-place-order": "degraded", "fun-day": "degraded",
                 "online-ordering": "degraded", "order-anytime": "degraded",
                 "park-visit": "degraded", "ticket-shop": "degraded",
                 "web-tier": "degraded", "webshop": "degraded"}

CHANGES_RESPONSE: dict[str, Any] = {
    "changes": {
        f"patch-web-{i}": {
            "window": {"start": f"2030-01-01T{19 + i}:00:00+00:00",
                       "end": f"2030-01-01T{21 + i}:00:00+00:00"},
            "components": [f"web-{i}"], "state": "down", "broken_promises": [],
            "at_risk_promises": ["fun-day", "order-anytime"],
            "impacted": {**_WEB_DEGRADED, f"web-{i}": "down"},
        } for i in (1, 2)
    },
    "conflicts": [{
        "changes": ["patch-web-1", "patch-web-2"],
        "start": "2030-01-01T21:00:00+00:00", "end": "2030-01-01T22:00:00+00:00",
        "worse": {"act-buy-ticket": "down", "act-check-delivery": "down",
                  "act-place-order": "down", "online-ordering": "down",
                  "order-anytime": "down", "ticket-shop": "down", "web-tier": "down",
                  "webshop": "down"},
        "broken_promises": ["order-anytime"], "at_risk_promises": [],
    }],
}

_SPOF_POINTS: list[dict[str, Any]] = [
    {"component": "itsm-tenant", "kind": "ci", "breaks": ["little-lost-time", "onboarding"],
     "at_risk": []},
    {"component": "network", "kind": "service_system", "breaks": ["onboarding", "order-anytime"],
     "at_risk": ["fun-day", "little-lost-time"]},
]

SPOF_RESPONSE: dict[str, Any] = {
    "promise": "onboarding", "version": 12, "computed_at": "2030-01-01T08:00:00.000000Z",
    "current": True, "page": {"total": 19, "limit": 2, "offset": 0},
    "single_points": _SPOF_POINTS}

SPOF_RANKING_RESPONSE: dict[str, Any] = {
    "version": 12, "computed_at": "2030-01-01T08:00:00.000000Z", "current": True,
    "page": {"total": 26, "limit": 2, "offset": 0}, "single_points": _SPOF_POINTS}

SPOF_PENDING: dict[str, Any] = {
    "detail": "the single points of failure are being computed; ask again in 3 s",
    "retry_after": 3}

ROOT_CAUSE_REQUEST: dict[str, Any] = {
    "observed": {"act-new-employee": "down", "hr-app": "down", "recruiting-feed": "down",
                 "recruiting-app": "ok"},
    "limit": 3}

ROOT_CAUSE_RESPONSE: dict[str, Any] = {"candidates": [
    {"component": "recruiting-feed", "kind": "service_system", "state": "down",
     "explains": ["act-new-employee", "hr-app", "recruiting-feed"], "unexplained": [],
     "extra": 2, "evidence": "down", "explains_all": True,
     "chains": {"act-new-employee": ["act-new-employee", "hr-app", "recruiting-feed"],
                "hr-app": ["hr-app", "recruiting-feed"],
                "recruiting-feed": ["recruiting-feed"]}},
    {"component": "feed-job", "kind": "ci", "state": "down",
     "explains": ["act-new-employee", "hr-app", "recruiting-feed"], "unexplained": [],
     "extra": 3, "evidence": None, "explains_all": True,
     "chains": {"act-new-employee": ["act-new-employee", "hr-app", "recruiting-feed",
                                     "feed-job"],
                "hr-app": ["hr-app", "recruiting-feed", "feed-job"],
                "recruiting-feed": ["recruiting-feed", "feed-job"]}},
    {"component": "hr-app", "kind": "service_system", "state": "down",
     "explains": ["act-new-employee", "hr-app"], "unexplained": ["recruiting-feed"],
     "extra": 2, "evidence": "down", "explains_all": False,
     "chains": {"act-new-employee": ["act-new-employee", "hr-app"], "hr-app": ["hr-app"]}},
]}

PROMISES_RESPONSE: dict[str, Any] = {"items": [
    {"id": "onboarding", "name": "New staff are productive on day one", "owner": "HR",
     "description": None, "properties": {"target_days": 1},
     "kept_through": ["employee-onboarding"]},
]}

SERVICE_SYSTEMS_RESPONSE: dict[str, Any] = {"items": [
    {"id": "automation", "name": "Automation platform", "visible": False, "provider": None,
     "owner": "IT", "description": None,
     "performs": ["act-new-employee", "act-order-application"],
     "depends_on": ["automation-host", "identity"]},
]}

SERVICE_ACTS_RESPONSE: dict[str, Any] = {"items": [
    {"id": "act-buy-ticket", "name": "Buy a ticket online", "description": None,
     "performed_by": ["ticket-shop"], "serves": ["park-visit"]},
]}

MATRIX_RESPONSE: dict[str, Any] = {
    "silos": ["compute", "identity", "integration", "network", "park-systems", "saas",
              "storage"],
    "services": ["employee-onboarding", "online-ordering", "park-visit", "workplace"],
    "cells": [
        {"silo": "compute", "service": "employee-onboarding", "cis": ["automation-host"]},
        {"silo": "compute", "service": "online-ordering", "cis": ["web-1", "web-2", "web-3"]},
    ],
}

NODE: dict[str, Any] = {"id": "web-tier", "kind": "service_system", "name": "Web tier",
                        "owner": "IT", "visible": False, "redundancy": {"web": 2}}

NODE_PUSH_ITEM: dict[str, Any] = {"id": "web-4", "kind": "ci", "name": "srv-web-04",
                                   "silo": "compute", "external_id": "vm-104",
                                   "properties": {"os": "Debian 12", "cores": 4}}

NODE_PUT_REQUEST: dict[str, Any] = {"kind": "ci", "name": "Web server 4",
                                    "provider": "Northwind Hosting", "silo": "compute",
                                    "properties": {"os": "linux"}}

NODE_PAGE_RESPONSE: dict[str, Any] = {"items": [NODE], "total": 54, "limit": 1, "offset": 0}

EDGE: dict[str, Any] = {"from": "web-tier", "to": "web-1", "group": "web"}

EDGE_PUT_REQUEST: dict[str, Any] = {"from": "hr-app", "to": "email", "impact": "soft"}

EDGES_RESPONSE: dict[str, Any] = {"items": [EDGE], "total": 1, "limit": 1000, "offset": 0}

NEIGHBOURHOOD_RESPONSE: dict[str, Any] = {
    "center": "web-tier", "truncated": False,
    "nodes": [NODE,
              {"id": "lb", "kind": "ci", "name": "Load balancer", "provider": "Northwind Hosting",
               "silo": "network"},
              {"id": "web-1", "kind": "ci", "name": "Web server 1",
               "provider": "Northwind Hosting", "silo": "compute"}],
    "edges": [EDGE, {"from": "web-tier", "to": "lb"}],
}

VALIDATION_ERROR: dict[str, Any] = {
    "detail": "1 problem(s), nothing written: edges[0] (onboarding -> feed-job): to: "
              "a promise may not depend on a ci (allowed: business_service, service_act, "
              "service_system)",
    "problems": [{"section": "edges", "index": 0, "item": "onboarding -> feed-job",
                  "field": "to", "message": "a promise may not depend on a ci (allowed: "
                  "business_service, service_act, service_system)"}],
}

_CAUSE: dict[str, Any] = {"component": "automation-host", "state": "down",
                          "provider": "Northwind Hosting", "owner": None, "planned": False,
                          "window": None}

TRANSITION: dict[str, Any] = {
    "at": "2026-12-07T02:13:15.738103Z", "node": "onboarding", "layer": "promise",
    "state": "down", "planned": False, "causes": [_CAUSE], "version": 2,
    "acknowledged_by": None, "inputs": {}}

HISTORY_RESPONSE: dict[str, Any] = {
    "transitions": [TRANSITION, {**TRANSITION, "at": "2026-12-07T02:41:02.120554Z",
                                 "state": "ok", "causes": [], "version": 3}],
    "page": {"total": 2, "limit": 100, "offset": 0}}

_EXPLAINED: dict[str, Any] = {"state": "down", "since": "2026-12-07T02:13:15.738103Z",
                              "version": 2, "planned": False, "causes": [_CAUSE]}

RECORDED_IMPACT_RESPONSE: dict[str, Any] = {
    "at": "2026-12-07T02:30:00.000000Z",
    "structure": {"used": "record",
                  "detail": "rebuilt from the promise record: each transition keeps the "
                            "failed components behind it with their providers and owners "
                            "as they stood, so no structure of the graph at that moment is "
                            "needed, and the graph as it is now is not used"},
    "counts": {"promises_broken": 1, "promises_at_risk": 0, "service_acts": 1,
               "business_services": 1, "observed": 1, "providers": 1},
    "broken_promises": ["onboarding"], "at_risk_promises": [],
    "service_acts": {"act-new-employee": "down"},
    "business_services": {"employee-onboarding": "down"},
    "explanations": {"act-new-employee": _EXPLAINED, "employee-onboarding": _EXPLAINED,
                     "onboarding": _EXPLAINED},
    "providers": [{"provider": "Northwind Hosting", "failed": ["automation-host"]}],
    "planned": {"promises": [], "components": {}},
    "observed": {"automation-host": {
        "state": "down", "since": "2026-12-07T02:13:15.738103Z", "planned": False,
        "inputs": {"status": {"source": "monitoring", "state": "down"}}}},
    "record": {"reaches": 3},
}
