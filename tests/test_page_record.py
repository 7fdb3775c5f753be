"""The page's record view in a real browser (headless Chromium): the month table of the
promises, the provider table, a promise's timeline and its breaks' links into the map,
under the page's content security policy.

The server runs in this process (uvicorn on loopback, one per module) so that the
record's transitions can be handed in at the Questions boundary, as the record's API
tests do (a double of ``Questions.record_transitions``; the store is real)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Route

from servicegraph.model.kinds import State
from servicegraph.model.record import Cause, Transition
from servicegraph.runtime import Questions
from servicegraph.store import SqliteStore
from servicegraph_api import create_app
from test_record_api import recorded

from apikit import example_graph, settings_for
from browser import Watched, chromium, page_of
from servers import free_port

ZONE = "Europe/Berlin"
MONTH = {"from": "2026-03", "tz": ZONE}
#: A month of the example's promises (times UTC): onboarding broken by the feed job,
#: at risk, then broken by planned identity work and by two providers at once.
MARCH = [
    Transition("2026-02-27T08:00:00.000000Z", "onboarding", "promise", State.OK),
    Transition("2026-03-02T08:13:00.000000Z", "onboarding", "promise", State.DOWN,
               causes=(Cause("feed-job", State.DOWN, provider="IT"),)),
    Transition("2026-03-02T08:55:00.000000Z", "onboarding", "promise", State.OK),
    Transition("2026-03-14T21:00:00.000000Z", "onboarding", "promise", State.DOWN, planned=True,
               causes=(Cause("identity", State.DOWN, provider="Contoso Cloud", planned=True,
                             window="mw-1"),)),
    Transition("2026-03-14T22:30:00.000000Z", "onboarding", "promise", State.OK),
    Transition("2026-03-24T13:05:00.000000Z", "onboarding", "promise", State.DEGRADED,
               causes=(Cause("wan-a", State.DOWN, provider="Northwind Hosting"),)),
    Transition("2026-03-24T13:20:00.000000Z", "onboarding", "promise", State.DOWN,
               causes=(Cause("wan-a", State.DOWN, provider="Northwind Hosting"),
                       Cause("hr-app", State.DOWN, provider="Contoso Cloud"))),
    Transition("2026-03-24T13:50:00.000000Z", "onboarding", "promise", State.OK),
    Transition("2026-03-03T12:00:00.000000Z", "order-anytime", "promise", State.DOWN,
               causes=(Cause("web-1", State.DOWN, provider="Northwind Hosting"),)),
    Transition("2026-03-03T13:00:00.000000Z", "order-anytime", "promise", State.DEGRADED,
               causes=(Cause("web-1", State.DOWN, provider="Northwind Hosting"),)),
    Transition("2026-03-03T14:00:00.000000Z", "order-anytime", "promise", State.OK),
    Transition("2026-03-03T12:00:00.000000Z", "web-1", "observed", State.DOWN),
    Transition("2026-03-03T13:00:00.000000Z", "web-1", "observed", State.OK),
    Transition("2026-03-02T08:13:00.000000Z", "feed-job", "observed", State.DOWN,
               causes=(Cause("feed-job", State.DOWN, provider="IT"),)),
    Transition("2026-03-02T08:55:00.000000Z", "feed-job", "observed", State.OK),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API and page over the example enterprise with March's transitions, served
    by uvicorn in this process on a loopback port."""
    where = tmp_path_factory.mktemp("page-record")
    store = SqliteStore(where / "graph.db")
    patch = pytest.MonkeyPatch()
    patch.setattr(Questions, "record_transitions", recorded(MARCH), raising=False)
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
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)
        patch.undo()
        store.close()


def no_errors(page: Watched) -> None:
    assert page.errors == [], page.errors


def open_record(page: Watched) -> None:
    page.ready()
    page.page.click("#tabs button[data-tab='record']")
    page.page.fill("#record-month", "2026-03")
    page.page.click("#record-show")
    page.wait_for("document.querySelector('#tab-record').dataset.ready === '2026-03 " + ZONE + "'")


def test_month_and_provider_tables_give_the_api_figures(browser: Browser, url: str) -> None:
    every = httpx.get(f"{url}/v1/record", params=MONTH).json()
    providers = httpx.get(f"{url}/v1/record", params={**MONTH, "by": "provider"}).json()
    # The browser's own time zone is the view's default.
    with page_of(browser, url, timezone_id=ZONE) as page:
        open_record(page)
        assert page.page.input_value("#record-tz") == ZONE
        rows = page.page.eval_on_selector_all(
            "#record-promises tbody tr", "rows => rows.map(r => [r.dataset.id, r.dataset.share, "
            "r.querySelector('td.share').textContent])")
        expected = [n for n in every["nodes"] if n["layer"] == "promise"]
        assert [r[0] for r in rows] == [n["id"] for n in expected]
        assert {"onboarding", "order-anytime", "fun-day"} <= {r[0] for r in rows}
        for (_, share, text), n in zip(rows, expected, strict=True):
            assert float(share) == n["share_kept"]
            assert text == f"{n['share_kept'] * 100:.3f} %"
        onboarding = next(n for n in expected if n["id"] == "onboarding")
        assert onboarding["break_count"] == 3 and onboarding["share_kept"] < 1
        shown = page.page.eval_on_selector_all(
            "#record-providers tbody tr", "rows => rows.map(r => [r.dataset.provider, "
            "Number(r.querySelector('td.minutes').textContent)])")
        assert shown == [[p["provider"], round(p["broken_minutes"], 2)]
                         for p in providers["providers"]]
        # The providers' minutes add up to the promises' broken minutes.
        broken = sum(n["broken_seconds"] for n in expected) / 60
        assert sum(m for _, m in shown) == pytest.approx(broken, abs=0.01)
        assert dict(shown) == {"Contoso Cloud": 105.0, "IT": 42.0, "Northwind Hosting": 75.0}
        no_errors(page)


def as_a_server_without_the_record(route: Route) -> None:
    """`GET /v1/current?at=` answered as a server that keeps no record does: `at` is
    not one of its parameters, so it answers the impact now."""
    parts = urlsplit(route.request.url)
    query = {k: v for k, v in parse_qs(parts.query).items() if k != "at"}
    now = route.fetch(url=f"{parts.scheme}://{parts.netloc}{parts.path}?"
                          f"{urlencode(query, doseq=True)}")
    route.fulfill(response=now)


def test_a_promise_timeline_and_a_cause_link_into_the_map(browser: Browser, url: str) -> None:
    one = httpx.get(f"{url}/v1/promises/onboarding/record", params=MONTH).json()
    with page_of(browser, url, timezone_id=ZONE) as page:
        page.ready()
        page.page.route(lambda u: "/v1/current?" in u and "at=" in u,
                        as_a_server_without_the_record)
        open_record(page)
        page.page.click("#record-promises button[data-id='onboarding']")
        page.page.wait_for_selector("#record-promise h3[data-id='onboarding']")
        bands = page.page.eval_on_selector_all(
            "#record-timeline rect.band", "rs => rs.map(r => [r.dataset.state, "
            "r.dataset.planned === 'true', Number(r.dataset.seconds)])")
        total = {s: sum(sec for st, _, sec in bands if st == s)
                 for s in ("kept", "at-risk", "broken")}
        rec = one["record"]
        assert total["broken"] == rec["broken_seconds"] == (42 + 90 + 30) * 60
        assert sum(total.values()) == one["period"]["counted_seconds"]
        assert [sec for st, planned, sec in bands if planned] == [rec["planned"]["broken_seconds"]]
        # Without a timeline on this server, the at-risk quarter hour is not drawn: said so.
        assert total["at-risk"] == 0 < rec["at_risk_seconds"]
        assert "time at risk is not" in page.page.inner_text("#record-promise")
        breaks = page.page.eval_on_selector_all("#record-breaks li",
                                                "ls => ls.map(l => l.dataset.start)")
        assert breaks == [b["start"] for b in rec["breaks"]]
        causes = page.page.eval_on_selector_all("#record-breaks li:nth-child(3) .cause-link",
                                                "bs => bs.map(b => b.dataset.id)")
        assert causes == ["hr-app", "wan-a"]
        page.shot("record")
        page.page.click("#record-breaks li:nth-child(1) .cause-link[data-id='feed-job']")
        page.wait_for("sg.lastDraw && sg.lastDraw.center === 'feed-job'")
        assert page.page.evaluate("document.querySelector('#tab-map').hidden") is False
        page.page.wait_for_selector("#panel h2[data-id='feed-job']")
        assert page.page.evaluate("sg.selected") == "feed-job"
        # No time travel here: the map now, and the page says so; live mode has no slider.
        assert page.page.evaluate("sg.travelAt") is None
        page.wait_for("document.querySelector('#status').textContent.includes('map now')")
        page.page.click("#mode-live")
        page.wait_for("sg.liveEvents.some(e => e.name === 'snapshot')")
        assert page.page.is_hidden("#travel")
        no_errors(page)
