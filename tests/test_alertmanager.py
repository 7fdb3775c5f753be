"""A real Prometheus Alertmanager (Debian's ``prometheus-alertmanager``, which ``make
test`` installs) sends its webhook to a real ``servicegraph serve``: the promise breaks,
stays broken through Alertmanager's resends, mends when the alert resolves, and breaks
again when it fires anew. Everything listens on loopback.

A missing Alertmanager fails these tests: it is never a reason to skip them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from servers import Server, example_store, free_port, serve, stop

ALERTMANAGER = os.environ.get("SERVICEGRAPH_ALERTMANAGER",
                              shutil.which("prometheus-alertmanager") or
                              "/usr/bin/prometheus-alertmanager")
#: How long any one step may take before the test fails (a guard, not a measurement).
BOUND = 60.0

CONFIG = """
route:
  receiver: servicegraph
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 2s
receivers:
  - name: servicegraph
    webhook_configs:
      - url: {url}
        send_resolved: true
        max_alerts: 0
"""


@contextmanager
def alertmanager(tmp_path: Path, webhook: str) -> Iterator[str]:
    """A running Alertmanager whose one receiver is ``webhook``; its API URL."""
    if not Path(ALERTMANAGER).exists():
        raise RuntimeError(f"no Alertmanager at {ALERTMANAGER}: install Debian's "
                           "prometheus-alertmanager (`make test` does it)")
    config = tmp_path / "alertmanager.yml"
    config.write_text(CONFIG.format(url=webhook), encoding="utf-8")
    port = free_port()
    log = tmp_path / "alertmanager.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'am'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _ready(url), f"Alertmanager to start:\n{log.read_text()}")
        yield url
    finally:
        stop(process)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def until(check: Callable[[], bool], what: str) -> None:
    """Wait for ``check`` to hold, failing with ``what`` past :data:`BOUND`."""
    deadline = time.monotonic() + BOUND
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {BOUND:g} s for {what}")
        time.sleep(0.2)


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def send(am: str, *, starts: datetime, ends: datetime | None = None) -> None:
    """Tell Alertmanager (through its own API) that the feed job fails, or ended."""
    alert: dict[str, Any] = {
        "labels": {"alertname": "FeedJobFailing", "servicegraph_id": "feed-job",
                   "severity": "critical"},
        "annotations": {"summary": "hr-newhire-sync has not run"},
        "startsAt": stamp(starts)}
    if ends is not None:
        alert["endsAt"] = stamp(ends)
    r = httpx.post(f"{am}/api/v2/alerts", json=[alert], timeout=10)
    assert r.status_code == 200, r.text


def deliveries(server: Server) -> int:
    """Webhook deliveries the server answered 200."""
    lines = [json.loads(line) for line in server.output().splitlines()
             if line.startswith("{")]
    return sum(1 for r in lines if r.get("route") == "/v1/sources/{source}/alerts/alertmanager"
               and r.get("status") == 200)


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    with serve(tmp_path, example_store(tmp_path)) as s:
        yield s


def broken(server: Server) -> list[str]:
    found: list[str] = httpx.get(f"{server.url}/v1/current", timeout=10).json()[
        "broken_promises"]
    return found


def test_alertmanager_breaks_and_mends_the_promise(tmp_path: Path, server: Server) -> None:
    hook = f"{server.url}/v1/sources/am/alerts/alertmanager"
    with alertmanager(tmp_path, hook) as am:
        started = datetime.now(UTC) - timedelta(seconds=5)
        send(am, starts=started)
        until(lambda: broken(server) == ["onboarding"], "the promise to break")
        behind = httpx.get(f"{server.url}/v1/current").json()["alerts"]["feed-job"]
        assert [a["alertname"] for a in behind] == ["FeedJobFailing"]
        # Alertmanager sends the firing alert again (repeat_interval): nothing changes.
        version = httpx.get(f"{server.url}/readyz").json()["version"]
        sent = deliveries(server)
        until(lambda: deliveries(server) >= sent + 2, "Alertmanager to send it again")
        assert broken(server) == ["onboarding"]
        assert httpx.get(f"{server.url}/readyz").json()["version"] == version
        # It resolves: the promise mends.
        send(am, starts=started, ends=datetime.now(UTC) - timedelta(seconds=1))
        until(lambda: broken(server) == [], "the promise to mend")
        listed = httpx.get(f"{server.url}/v1/sources/am/alerts").json()
        assert listed["total"] == 1 and listed["alerts"][0]["status"] == "resolved"
        # It fires anew: broken again.
        send(am, starts=datetime.now(UTC))
        until(lambda: broken(server) == ["onboarding"], "the promise to break again")
    errors = [line for line in server.output().splitlines() if '"status": 5' in line]
    assert errors == []
