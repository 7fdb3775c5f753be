"""The page's record view in a real browser (headless Chromium) against a real server
with nothing doubled: statuses and a maintenance window pushed over the HTTP API are
recorded as they happen, and the view reads them back through the real routes
(`/v1/record`, `/v1/promises/{id}/record`, `/v1/history`, `/v1/current?at=`), under the
page's content security policy.

One server for the module (uvicorn on loopback, in this process), written once: the
feed job (no provider: its owner IT answers) fails and recovers, then the identity
tenant (Contoso Cloud) fails and recovers under a maintenance window. Each break
breaks the onboarding promise."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser

from servicegraph.store import SqliteStore
from servicegraph_api import create_app

from apikit import example_graph, settings_for
from browser import Watched, chromium, page_of
from servers import free_port

ZONE = "Europe/Berlin"
#: How long each break lasts: long enough to be told apart, short enough to be quick.
BREAK = 0.6


def stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


def push(url: str, component: str, state: str) -> None:
    r = httpx.post(f"{url}/v1/sources/mon/status",
                   json={"statuses": [{"id": component, "state": state}]})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API and page over the example enterprise, served by uvicorn in this process
    on a loopback port, after two breaks of onboarding pushed over HTTP."""
    where = tmp_path_factory.mktemp("page-record-real")
    store = SqliteStore(where / "graph.db")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_app(settings_for(where), graph=example_graph(store)), host="127.0.0.1",
        port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        push(base, "feed-job", "down")
        time.sleep(BREAK)
        push(base, "feed-job", "ok")
        now = datetime.now(UTC)
        r = httpx.post(f"{base}/v1/maintenance", json={
            "id": "mw-1", "title": "tenant upgrade", "owner": "IT operations",
            "components": ["idm-tenant"], "starts_at": stamp(now - timedelta(minutes=1)),
            "ends_at": stamp(now + timedelta(hours=1))})
        assert r.status_code == 201, r.text
        push(base, "idm-tenant", "down")
        time.sleep(BREAK)
        push(base, "idm-tenant", "ok")
        yield base
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        store.close()


def no_errors(page: Watched) -> None:
    assert page.errors == [], page.errors


def open_record(page: Watched) -> str:
    """Open the record tab on its defaults (this month in the browser's zone); the month."""
    page.ready()
    page.page.click("#tabs button[data-tab='record']")
    month: str = page.wait_for("document.querySelector('#record-month').value")
    page.wait_for("(m) => document.querySelector('#tab-record').dataset.ready === m",
                  arg=f"{month} {ZONE}")
    return month


def test_the_month_the_providers_and_the_timeline_are_the_servers(
        browser: Browser, url: str) -> None:
    with page_of(browser, url, timezone_id=ZONE) as page:
        month = open_record(page)
        params = {"from": month, "tz": ZONE}
        one = httpx.get(f"{url}/v1/promises/onboarding/record", params=params).json()
        rec = one["record"]
        assert rec["break_count"] == 2 and rec["planned"]["broken_seconds"] > 0
        assert rec["unplanned"]["broken_seconds"] > 0
        row = page.page.eval_on_selector(
            "#record-promises tr[data-id='onboarding']", "r => ({share: r.dataset.share, "
            "broken: r.dataset.broken, planned: r.dataset.plannedBroken, "
            "text: r.querySelector('td.share').textContent, "
            "breaks: r.querySelector('td.count').textContent})")
        # The broken time is fixed once recovered; the share moves with the period's end
        # ("up to now"), so it is compared to the tenth of a second in a month.
        assert float(row["broken"]) == rec["broken_seconds"]
        assert float(row["planned"]) == rec["planned"]["broken_seconds"]
        assert float(row["share"]) == pytest.approx(rec["share_kept"], abs=1e-6)
        assert row["text"] == f"{rec['share_kept'] * 100:.3f} %"
        assert row["breaks"] == "2"
        # The providers' table: IT (the feed job's owner) and Contoso Cloud, planned.
        providers = httpx.get(f"{url}/v1/record", params={**params, "by": "provider"}).json()
        shown = page.page.eval_on_selector_all(
            "#record-providers tbody tr", "rows => rows.map(r => [r.dataset.provider, "
            "Number(r.dataset.minutes)])")
        assert shown == [[p["provider"], p["broken_minutes"]] for p in providers["providers"]]
        assert {p for p, _ in shown} == {"IT", "Contoso Cloud"}

        # The promise's timeline, drawn from the real `/v1/history`.
        page.page.click("#record-promises button[data-id='onboarding']")
        page.page.wait_for_selector("#record-promise h3[data-id='onboarding']")
        assert "time at risk is not" not in page.page.inner_text("#record-promise")
        bands = sorted(page.page.eval_on_selector_all(
            "#record-timeline rect.band", "rs => rs.map(r => [r.dataset.start, r.dataset.state, "
            "r.dataset.planned === 'true', Number(r.dataset.seconds)])"))
        assert [(s, p) for _, s, p, _ in bands] == [
            ("kept", False), ("broken", False), ("kept", False), ("broken", True), ("kept", False)]
        # The browser's clock has milliseconds, the record microseconds.
        broken = [sec for _, s, _, sec in bands if s == "broken"]
        assert broken == pytest.approx([b["duration_seconds"] for b in rec["breaks"]], abs=0.002)
        assert broken[0] >= BREAK - 0.01 and broken[1] >= BREAK - 0.01
        starts = page.page.eval_on_selector_all("#record-breaks li",
                                                "ls => ls.map(l => l.dataset.start)")
        assert starts == [b["start"] for b in rec["breaks"]]
        causes = page.page.eval_on_selector_all(
            "#record-breaks .cause-link", "bs => bs.map(b => b.dataset.id)")
        assert causes == ["feed-job", "idm-tenant"]
        no_errors(page)


def test_a_cause_opens_the_map_then_and_the_slider_travels(browser: Browser, url: str) -> None:
    with page_of(browser, url, timezone_id=ZONE) as page:
        asked: list[str] = []
        page.page.on("request", lambda r: asked.append(r.url) if "/v1/current?at=" in r.url
                     else None)
        month = open_record(page)
        one = httpx.get(f"{url}/v1/promises/onboarding/record",
                        params={"from": month, "tz": ZONE}).json()
        start = one["record"]["breaks"][0]["start"]
        page.page.click("#record-promises button[data-id='onboarding']")
        page.page.click("#record-breaks li:nth-child(1) .cause-link[data-id='feed-job']")
        page.wait_for("(at) => sg.travelAt === at && sg.mode === 'live' && "
                      "sg.lastDraw && sg.lastDraw.center === 'feed-job'", arg=start)
        # The promise down, the feed job failed: the real answer at the break's start.
        page.wait_for("sg.states.onboarding === 'down'")
        page.wait_for("sg.map.node('feed-job').hasClass('failed')")
        page.page.wait_for_selector("#panel h2[data-id='feed-job'][data-state='down']")
        assert "from the record" in page.page.inner_text("#status")
        assert any(httpx.URL(u).params.get("at") == start for u in asked)
        now = httpx.get(f"{url}/v1/current").json()
        assert now["broken_promises"] == []  # so the map above is not the map now
        assert page.page.is_visible("#travel")

        # The slider sits on the break's start: a step back is before it (kept), and
        # the step forward again is during it (broken).
        step = int(page.page.input_value("#travel-at"))

        def slide(to: int) -> str:
            at: str = page.page.evaluate("""(to) => {
                const s = document.querySelector('#travel-at');
                s.value = String(to);
                s.dispatchEvent(new Event('input'));
                return new Date(Number(s.dataset.from) + to * 60000).toISOString();
            }""", to)
            return at

        before = slide(step - 1)
        page.wait_for("(at) => sg.travelAt === at && sg.answer && sg.answer.at && "
                      "(sg.states.onboarding || 'ok') === 'ok'", arg=before)
        assert not page.page.evaluate("sg.map.node('feed-job').hasClass('failed')")
        during = slide(step)
        moment = datetime.fromisoformat
        assert moment(start) <= moment(during) < moment(one["record"]["breaks"][0]["end"])
        page.wait_for("(at) => sg.travelAt === at && sg.states.onboarding === 'down' && "
                      "sg.map.node('feed-job').hasClass('failed')", arg=during)
        # Painted from the server's answer for that very moment.
        assert page.page.evaluate("Date.parse(sg.answer.at)") == page.page.evaluate(
            "(at) => Date.parse(at)", during)
        assert any(httpx.URL(u).params.get("at") == during for u in asked)
        # "Now" comes back: nothing is failing now.
        page.page.click("#travel-now")
        page.wait_for("sg.travelAt === null && (sg.states.onboarding || 'ok') === 'ok' && "
                      "!sg.map.node('feed-job').hasClass('failed')")
        assert page.page.inner_text("#travel-label") == "now"
        no_errors(page)


def test_a_browser_clock_ahead_of_the_server_still_travels(browser: Browser, url: str) -> None:
    """A browser whose clock runs an hour ahead: the server refuses its "a minute ago"
    as the future (422 naming `at`), so the page knows the server travels; the slider's
    last minutes are the server's future, and the map falls back to now, saying so."""
    with page_of(browser, url, timezone_id=ZONE) as page:
        page.ready()
        ahead = datetime.now(UTC) + timedelta(hours=1)
        page.page.clock.install(time=ahead)
        refused: list[int] = []
        page.page.on("response", lambda r: refused.append(r.status)
                     if "/v1/current?at=" in r.url else None)
        page.page.click("#mode-live")
        page.wait_for("!document.querySelector('#travel').hidden")
        assert 422 in refused
        # A minute before the browser's now: an hour ahead of the server's.
        page.page.evaluate("""() => {
            const s = document.querySelector('#travel-at');
            s.value = String(Number(s.max) - 1);
            s.dispatchEvent(new Event('input'));
        }""")
        page.wait_for("document.querySelector('#status').textContent.includes("
                      "'has not reached')")
        assert page.page.evaluate("sg.travelAt") is None
        assert page.page.inner_text("#travel-label") == "now"
        assert refused.count(422) == 2
        # Chromium logs each refused request; nothing else may be logged.
        logged = [e for e in page.errors if "the server responded with a status of 422" in e]
        assert len(logged) == 2, page.errors
        page.errors[:] = [e for e in page.errors if e not in logged]
        no_errors(page)
