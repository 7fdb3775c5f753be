"""A page of another origin, and a name rebound to loopback, against a real server with
no key configured, in real Chromium: neither may write, and the rebound name may not
read. Every party listens on loopback; a resolver rule stands in for the attacker's DNS.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, sync_playwright

from browser import ARGS, CHROMIUM, other_origin
from servers import Server, example_store, serve

REBOUND = "rebind.attacker.test"

#: The attack page: the writes the review made from another origin, all at once. Each
#: is a "simple" request (no preflight), which a browser sends cross-origin.
ATTACK = """<!doctype html><meta charset="utf-8"><title>cat pictures</title><script>
const api = "API";
const opts = (body, type) => ({method: "POST", mode: "no-cors", body,
                               headers: type ? {"Content-Type": type} : {}});
window.done = Promise.allSettled([
  fetch(api + "/v1/sources/-/import/csv", opts(
    "id,kind,name,owner\\nonboarding,promise,HACKED,attacker\\n", "text/plain")),
  fetch(api + "/v1/sources/victim/import/jaeger?full_sync=true&allow_empty=true",
        opts("[]", "text/plain")),
  fetch(api + "/v1/sources/x/syncs", {method: "POST", mode: "no-cors"}),
  fetch(api + "/v1/sources/mon/status", opts(
    '{"statuses": [{"id": "web-1", "state": "down"}]}', "text/plain")),
]).then(() => true);
</script>"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Launched here rather than through browser.chromium(): the resolver rule is the
    # attacker's DNS, answering loopback for its own name. Chromium's private network
    # checks are off: they would stop the routed attacker page (which Chromium takes for
    # a public one) before the server could, and not every browser has them; what is
    # tested is the server's own refusal.
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            *ARGS, f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1",
            "--disable-features=BlockInsecurePrivateNetworkRequests,"
            "PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,"
            "LocalNetworkAccessChecks"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    """The example enterprise served with no key, plus an item of source ``victim``."""
    with serve(tmp_path, example_store(tmp_path)) as s:
        r = httpx.post(f"{s.url}/v1/sources/victim/push",
                       json={"nodes": [{"id": "v-1", "kind": "ci", "name": "Victim CI"}]})
        assert r.status_code == 200, r.text
        yield s


def test_a_page_of_another_origin_cannot_write(browser: Browser, server: Server) -> None:
    with other_origin(ATTACK.replace("API", server.url)) as origin:
        page = browser.new_page()
        try:
            page.goto(f"{origin}/")
            assert page.evaluate("window.done") is True
        finally:
            page.close()
    onboarding = httpx.get(f"{server.url}/v1/nodes/onboarding").json()
    assert onboarding["name"] == "New staff are productive on day one"
    assert onboarding["owner"] == "HR"
    victim = httpx.get(f"{server.url}/v1/nodes/v-1").json()
    assert victim.get("retired_at") is None
    current = httpx.get(f"{server.url}/v1/current").json()
    assert current["counts"]["impacted"] == 0
    refused = [line for line in server.output().splitlines()
               if '"status": 403' in line and '"method": "POST"' in line]
    assert len(refused) == 4, server.output()[-3000:]


def test_the_servers_own_page_still_writes_and_asks(browser: Browser, server: Server) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{server.url}/")
        status = page.evaluate("""async () => {
            const push = await fetch('/v1/sources/mon/status', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({statuses: [{id: 'web-1', state: 'down'}]})});
            const ask = await fetch('/v1/impact', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({down: ['web-2']})});
            return [push.status, ask.status];
        }""")
    finally:
        page.close()
    assert status == [200, 200]
    assert "web-1" in httpx.get(f"{server.url}/v1/current").json()["impacted"]


def test_a_name_rebound_to_loopback_can_neither_read_nor_write(browser: Browser,
                                                               server: Server) -> None:
    page = browser.new_page()
    try:
        # Before the rebinding the attacker's own server gave the page (the route stands
        # in for it); its scripts then ask "their" origin, which now resolves to loopback.
        home = f"http://{REBOUND}:{server.port}/"
        page.route(home, lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>hi</title>"))
        page.goto(home)
        found = page.evaluate("""async () => {
            const read = await fetch('/v1/export/json');
            const write = await fetch('/v1/sources/mon/status', {method: 'POST',
                headers: {'Content-Type': 'application/json'},
                body: JSON.stringify({statuses: [{id: 'web-1', state: 'down'},
                                                 {id: 'web-2', state: 'down'}]})});
            return [read.status, await read.text(), write.status];
        }""")
        page.unroute(home)
        # Asked for directly, the rebound name gets the refusal too.
        answer = page.goto(home)
        assert answer is not None and answer.status == 421
        # Loopback names still work, in the same browser.
        assert page.goto(f"http://localhost:{server.port}/").status == 200  # type: ignore[union-attr]
    finally:
        page.close()
    read_status, read_body, write_status = found
    assert read_status == 421 and "onboarding" not in read_body and REBOUND in read_body
    assert write_status == 421
    current = httpx.get(f"{server.url}/v1/current").json()
    assert "order-anytime" not in current["broken_promises"]


def test_allowed_hosts_admit_a_name(tmp_path: Path) -> None:
    store = str(tmp_path / "g.db")
    with serve(tmp_path, store, env={"SERVICEGRAPH_ALLOWED_HOSTS": '["sg.internal"]'}) as s:
        named = httpx.get(f"{s.url}/v1/nodes", headers={"Host": f"sg.internal:{s.port}"})
        other = httpx.get(f"{s.url}/v1/nodes", headers={"Host": f"{REBOUND}:{s.port}"})
    assert named.status_code == 200
    assert other.status_code == 421 and REBOUND in other.json()["detail"]
