"""``/metrics`` of a server with several worker processes: totals across the workers,
counters that never go back, and a bounded number of per-source series."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import httpx

from servicegraph_api import create_app
from servicegraph_api.metrics import OTHER_SOURCE

from apikit import local_client, settings_for
from servers import serve

#: A guard only: how long the counts may take to include the last request.
BOUND = 30.0

SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)$")


def samples(text: str) -> dict[str, float]:
    """Every sample of an exposition, keyed by its name and labels as written."""
    out: dict[str, float] = {}
    for line in text.splitlines():
        found = SAMPLE.match(line)
        if found and not line.startswith("#"):
            out[found[1] + (found[2] or "")] = float(found[3])
    return out


def total(found: dict[str, float], name: str, **labels: str) -> float:
    """The sum of the samples of ``name`` whose labels include ``labels``."""
    return sum(value for key, value in found.items()
               if (key == name or key.startswith(name + "{"))
               and all(f'{k}="{v}"' in key for k, v in labels.items()))


def scrape(url: str) -> dict[str, float]:
    """One scrape, on a connection of its own (so any worker may take it)."""
    r = httpx.get(f"{url}/metrics", timeout=10, headers={"Connection": "close"})
    assert r.status_code == 200, r.text
    return samples(r.text)


def test_counters_add_up_across_workers_and_never_decrease(tmp_path: Path) -> None:
    requests = 60
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    with serve(tmp_path, str(tmp_path / "g.db"), args=["--workers", "2"],
               env={"TMPDIR": str(scratch)}) as server:
        # While it runs, the workers share one fresh, private metrics directory.
        (shared,) = scratch.glob("servicegraph-metrics-*")
        assert shared.stat().st_mode & 0o077 == 0
        for _ in range(requests):
            # A connection each: the kernel hands them to either worker.
            r = httpx.get(f"{server.url}/v1/nodes", timeout=10, headers={"Connection": "close"})
            assert r.status_code == 200
        # (Not /healthz: starting the server asked that too.) The last request is
        # counted once its worker is done with it: wait for that (no timing assumed);
        # one worker's share alone never reaches the total.
        deadline = time.monotonic() + BOUND
        first = scrape(server.url)
        while (total(first, "servicegraph_http_requests_total", route="/v1/nodes") < requests
               and time.monotonic() < deadline):
            time.sleep(0.1)
            first = scrape(server.url)
        seen = [first] + [scrape(server.url) for _ in range(8)]
        for found in seen:
            assert total(found, "servicegraph_http_requests_total",
                         route="/v1/nodes") == requests, found
            assert total(found, "servicegraph_http_request_duration_seconds_count",
                         route="/v1/nodes") == requests
        # Every counter (histograms' counts, sums and buckets included) only grows.
        for before, after in itertools.pairwise(seen):
            for key, value in before.items():
                if key.startswith("servicegraph_broken_promises"):
                    continue  # a gauge
                assert key in after, key
                assert after[key] >= value, (key, value, after[key])
        scrapes = [total(found, "servicegraph_http_requests_total", route="/metrics")
                   for found in seen]
        assert scrapes == sorted(scrapes) and scrapes[-1] >= len(seen) - 1
        assert "servicegraph_broken_promises 0.0" in httpx.get(
            f"{server.url}/metrics", timeout=10).text
    # Cleaned when the server ends.
    assert not list(scratch.glob("servicegraph-metrics-*"))


def test_per_source_series_are_bounded_across_workers(tmp_path: Path) -> None:
    sources = 12
    with serve(tmp_path, str(tmp_path / "g.db"), args=["--workers", "2"],
               env={"SERVICEGRAPH_METRICS_MAX_SOURCES": "5"}) as server:
        for i in range(sources):
            r = httpx.post(f"{server.url}/v1/sources/src-{i}/push", timeout=30,
                           headers={"Connection": "close"},
                           json={"nodes": [{"id": f"n-{i}", "kind": "ci", "name": "N"}]})
            assert r.status_code == 200, r.text
        found = scrape(server.url)
    pushed = {key: value for key, value in found.items()
              if key.startswith("servicegraph_pushed_items_total{")}
    labels = {re.search(r'source="([^"]*)"', key)[1] for key in pushed}  # type: ignore[index]
    # Five sources named, whichever worker saw them first; the rest under one value.
    assert len(labels - {OTHER_SOURCE}) == 5 and OTHER_SOURCE in labels, labels
    assert total(found, "servicegraph_pushed_items_total", kind="node") == sources
    assert total(found, "servicegraph_pushed_items_total", kind="node",
                 source=OTHER_SOURCE) == sources - 5


def test_per_source_series_are_bounded_in_one_process(tmp_path: Path) -> None:
    app = create_app(settings_for(tmp_path, store=str(tmp_path / "g.db"),
                                  metrics_max_sources=3))
    with local_client(app) as client:
        sizes = []
        for i in range(40):
            r = client.post(f"/v1/sources/s{i}/push", json={"nodes": []})
            assert r.status_code == 200, r.text
            sizes.append(len(client.get("/metrics").content))
        # The named sources come back under their names; others never add a series.
        client.post("/v1/sources/s0/push",
                    json={"nodes": [{"id": "a", "kind": "ci", "name": "A"}]})
        client.post("/v1/sources/s39/push",
                    json={"nodes": [{"id": "b", "kind": "ci", "name": "B"}]})
        found = samples(client.get("/metrics").text)
    labels = {re.search(r'source="([^"]*)"', key)[1]  # type: ignore[index]
              for key in found if key.startswith("servicegraph_pushed_items_total{")}
    assert labels == {"s0", "s1", "s2", OTHER_SOURCE}
    assert total(found, "servicegraph_pushed_items_total", source="s0", kind="node") == 1
    assert total(found, "servicegraph_pushed_items_total", source=OTHER_SOURCE,
                 kind="node") == 1
    # After the fourth source, the exposition grows only by the request counts' digits.
    assert sizes[-1] - sizes[4] < 200, (sizes[4], sizes[-1])
