"""Alerts in, over HTTP: the incident loop's targets (``python -m benchmarks --only alerts``).

A real ``servicegraph serve`` over Neo4j holds the tier's synthetic enterprise, pushed
through the API, with a webhook subscription to every promise event whose receiver is a
process of its own (``tests/receiver.py``, which records every request). Measured:

- an Alertmanager webhook of one alert, answered (a CI's alert firing, then resolved:
  every delivery changes something);
- a storm of 10,000 alerts in one webhook (10,000 random CIs down), from sending it until
  ``GET /v1/current`` shows it, and its resolution;
- the events the receiver got for the storm, against the promises whose state changed;
- the naive way: the same alerts one webhook each, against one storm of the same alerts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from benchmarks import api
from benchmarks.enterprise import Enterprise
from benchmarks.report import Row, human, load, log
from benchmarks.server import free_port, serve
from benchmarks.timing import Timing, ms, mt
from servicegraph.store import Neo4jStore

ROOT = Path(__file__).resolve().parents[1]
URL = "/v1/sources/alertmanager/alerts/alertmanager"
STORM = 10_000


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _alert(node: str, fingerprint: str, start: datetime, *, ended: datetime | None = None
           ) -> dict[str, Any]:
    return {"status": "resolved" if ended else "firing",
            "labels": {"alertname": "InstanceDown", "servicegraph_id": node,
                       "severity": "critical"},
            "annotations": {"summary": f"{node} does not answer"},
            "startsAt": _stamp(start),
            "endsAt": _stamp(ended) if ended else "0001-01-01T00:00:00Z",
            "fingerprint": fingerprint}


def _webhook(alerts: list[dict[str, Any]]) -> dict[str, Any]:
    return {"version": "4", "groupKey": "{}:{}", "truncatedAlerts": 0, "status": "firing",
            "receiver": "servicegraph", "alerts": alerts}


@contextmanager
def _receiver(work: Path) -> Iterator[tuple[str, Path]]:
    """The test suite's webhook receiver as a process: its URL and the file it writes."""
    port = free_port()
    work.mkdir(parents=True, exist_ok=True)
    out = work / "received.jsonl"
    out.write_text("")
    process = subprocess.Popen([sys.executable, str(ROOT / "tests" / "receiver.py"),
                                str(port), str(out)])
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the receiver did not start") from None
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/", out
    finally:
        process.terminate()
        process.wait(timeout=30)


def _events(path: Path) -> list[dict[str, Any]]:
    """Every event the receiver recorded, once by id (delivery is at least once)."""
    seen: dict[str, dict[str, Any]] = {}
    for line in path.read_text().splitlines():
        body = json.loads(json.loads(line)["body"])
        seen.setdefault(body["id"], body)
    return list(seen.values())


def _ids(path: Path) -> set[str]:
    return {e["id"] for e in _events(path)}


def _wait_events(path: Path, earlier: set[str], expected: int, t0: float,
                 limit: float = 180.0) -> tuple[list[dict[str, Any]], float]:
    """The events received since ``earlier`` once there are ``expected`` of them (then
    three quiet seconds more, to see any beyond), and the seconds from ``t0`` until the
    ``expected``-th arrived."""
    took = float("nan")
    while time.perf_counter() - t0 < limit:
        new = [e for e in _events(path) if e["id"] not in earlier]
        if len(new) >= expected:
            took = time.perf_counter() - t0
            break
        time.sleep(0.05)
    time.sleep(3.0)
    return [e for e in _events(path) if e["id"] not in earlier], took


def _promise_states(client: httpx.Client) -> dict[str, str]:
    body = client.get("/v1/current", params={"limit": 10_000, "explain": "false"}).json()
    return {**dict.fromkeys(body["at_risk_promises"], "at_risk"),
            **dict.fromkeys(body["broken_promises"], "broken")}


def _send(client: httpx.Client, alerts: list[dict[str, Any]]) -> dict[str, Any]:
    r = client.post(URL, json=_webhook(alerts))
    if r.status_code != 200:
        raise api.Failed(f"an alert webhook answered {r.status_code}: {r.text[:500]}")
    answer: dict[str, Any] = r.json()
    return answer


def _until_current(client: httpx.Client, t0: float, broken: int) -> float:
    """Seconds from ``t0`` until ``GET /v1/current`` counts ``broken`` broken promises."""
    while True:
        body = client.get("/v1/current", params={"limit": 1, "explain": "false"}).json()
        if body["counts"]["broken_promises"] == broken:
            return time.perf_counter() - t0
        if time.perf_counter() - t0 > 120:
            raise api.Failed("GET /v1/current did not show the storm within 120 s")
        time.sleep(0.005)


def _changed(before: dict[str, str], after: dict[str, str]) -> int:
    return sum(before.get(p) != after.get(p) for p in set(before) | set(after))


def alert_rows(work: Path, uri: str, ent: Enterprise, size: str, *, seed: int,
               reps: int, naive: int) -> list[Row]:
    """The figures above, on ``ent`` served from the Neo4j at ``uri`` (emptied first)."""
    store = Neo4jStore(uri)
    store.clear()
    store.close()
    rows: list[Row] = []
    cis = np.flatnonzero(ent.kinds == 4)
    picked = np.random.default_rng(seed + 15).choice(cis, reps + STORM + naive, replace=False)
    ids = [ent.ids[int(c)] for c in picked]
    one_ids, storm_ids, naive_ids = ids[:reps], ids[reps:reps + STORM], ids[reps + STORM:]
    env = {"SERVICEGRAPH_SUBSCRIPTION_ALLOWED_NETWORKS": '["127.0.0.0/8"]'}
    with _receiver(work) as (hook, received), serve(work, uri, name="alerts", env=env) as srv, \
            httpx.Client(base_url=srv.url, timeout=600) as client:
        log(f"alerts: pushing {human(ent.n)} nodes through the API")
        api.push_all(client, api.bodies(ent, 18_000))
        for old in client.get("/v1/subscriptions").json():
            client.delete(f"/v1/subscriptions/{old['id']}")  # a former run's, on this store
        r = client.post("/v1/subscriptions", json={"url": hook, "filter": {}})
        if r.status_code != 201:
            raise api.Failed(f"the subscription answered {r.status_code}: {r.text[:500]}")

        # --- one alert per webhook: fire, then resolve --------------------------------------
        start = api.now_minus(3600)
        samples: list[float] = []
        for i in range(2 * reps + 10):
            node = one_ids[(i // 2) % len(one_ids)]
            fp = f"one-{i // 2}"
            alert = _alert(node, fp, start) if i % 2 == 0 else \
                _alert(node, fp, start, ended=api.now_minus(60))
            t0 = time.perf_counter()
            _send(client, [alert])
            if i >= 10:
                samples.append(time.perf_counter() - t0)
        one = Timing(tuple(samples))
        rows.append(Row("an Alertmanager webhook of 1 alert, answered", size, mt(one),
                        "p50 ≤ 20 ms", one.median <= 0.020,
                        f"p95 {ms(one.p95)}; a CI's alert firing, then resolved: each "
                        "delivery writes, propagates and answers the broken promises"))
        time.sleep(5.0)  # the last events of the one-alert deliveries

        # --- the storm ----------------------------------------------------------------------
        before = _promise_states(client)
        earlier = _ids(received)
        storm = [_alert(n, f"storm-{n}", start) for n in storm_ids]
        t0 = time.perf_counter()
        answer = _send(client, storm)
        answered = time.perf_counter() - t0
        took = _until_current(client, t0, len(answer["broken_promises"]))
        after = _promise_states(client)
        changed = _changed(before, after)
        rows.append(Row(f"a storm of {human(STORM)} alerts in one webhook, until "
                        "`GET /v1/current` reflects it", size, ms(took), "≤ 1 s",
                        took <= 1.0,
                        f"answered in {ms(answered)}; {human(answer['firing'])} firing, "
                        f"{human(len(answer['changed']))} nodes changed, "
                        f"{human(len(answer['broken_promises']))} promises broken"))
        storm_events, all_in = _wait_events(received, earlier, changed, t0)
        told = {e["data"]["promise"] for e in storm_events}
        rows.append(Row("notifications during the storm", size,
                        f"{human(len(storm_events))} events",
                        "one per promise that changed",
                        len(storm_events) == changed and len(told) == changed,
                        f"{human(changed)} promises changed state, "
                        f"{human(len(told))} told; {human(STORM)} alerts; counted at a "
                        "real receiver, once by id; "
                        + (f"the last received {ms(all_in)} after the storm was sent"
                           if all_in == all_in else "not all received within 180 s")))
        earlier = _ids(received)
        before = after
        ended = api.now_minus(30)
        t0 = time.perf_counter()
        done = _send(client, [_alert(n, f"storm-{n}", start, ended=ended) for n in storm_ids])
        took_resolve = _until_current(client, t0, len(done["broken_promises"]))
        _wait_events(received, earlier, _changed(before, _promise_states(client)), t0)
        rows.append(Row(f"the storm resolved, {human(STORM)} alerts in one webhook", size,
                        ms(took_resolve), "", None,
                        f"until `GET /v1/current` shows {human(len(done['broken_promises']))} "
                        "broken promises"))

        # --- the naive way: one webhook per alert, against one storm of the same alerts -----
        earlier = _ids(received)
        before = _promise_states(client)
        t0 = time.perf_counter()
        for n in naive_ids:
            _send(client, [_alert(n, f"naive-{n}", start)])
        one_by_one = time.perf_counter() - t0
        after = _promise_states(client)
        changed_naive = _changed(before, after)
        naive_events, _ = _wait_events(received, earlier, changed_naive, t0)
        ended = api.now_minus(20)
        _send(client, [_alert(n, f"naive-{n}", start, ended=ended) for n in naive_ids])
        t0 = time.perf_counter()
        _send(client, [_alert(n, f"batch-{n}", start) for n in naive_ids])
        batched = time.perf_counter() - t0
        rows.append(Row(f"{human(naive)} alerts, one webhook each (the naive way) vs one "
                        "webhook", size, f"{ms(one_by_one)} vs {ms(batched)}", "", None,
                        f"one by one {one_by_one / batched:,.0f}x slower; "
                        f"{human(len(naive_events))} events one by one for "
                        f"{human(changed_naive)} promises changed in the end"))
    return rows


def section(rows: list[Row], tier: str, size: str, seconds: float, lines_of: Any) -> list[str]:
    """The page's section of the alert figures."""
    return [f"## Alerts in, tier {tier}: {size} nodes",
            "",
            f"`python -m benchmarks --only alerts --tier {tier}`; whole run {seconds:,.0f} s "
            "(graph pushed through the API included); one server process, Neo4j, the "
            f"receiver and the client on the same machine; load average {load()} at the "
            "end (the machine may be shared)",
            "",
            *lines_of(rows), ""]
