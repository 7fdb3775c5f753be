"""The dependency explorer page in a real browser (headless Chromium) against a real
server process: search, what-if with its explanation, live mode, tables, exports, keys,
and a 2,000-node neighbourhood. Screenshots and timings go to ``test-artifacts/``."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser

from servicegraph.core import ServiceGraph
from servicegraph.examples import example_graph
from servicegraph.store import Neo4jStore

from browser import ARTIFACTS, Watched, chromium, other_origin, page_of
from servers import Server, example_store, serve

CHAIN = ["onboarding", "employee-onboarding", "act-new-employee", "hr-app", "recruiting-feed",
         "feed-job"]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as b:
        yield b


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[Server]:
    """The API and page over the example enterprise, no key configured (loopback only)."""
    with serve(tmp_path, example_store(tmp_path)) as s:
        yield s


def no_errors(page: Watched) -> None:
    assert page.errors == [], page.errors


def wait_state(page: Watched, node_id: str, state: str) -> None:
    page.wait_for("([id, s]) => (sg.states[id] || 'ok') === s",
                  arg=[node_id, state], timeout=30_000)


def test_search_then_what_if_explains_the_broken_promise(browser: Browser,
                                                         server: Server) -> None:
    with page_of(browser, server.url) as page:
        page.ready()
        page.search_and_draw("onboard", "onboarding")
        drawn = page.page.evaluate("sg.map.drawnIds()")
        assert set(CHAIN) <= set(drawn)
        around = httpx.get(f"{server.url}/v1/nodes/onboarding/neighbourhood",
                           params={"depth": 6, "limit": 500}).json()
        assert set(drawn) == {n["id"] for n in around["nodes"]}
        soft = page.page.evaluate(
            "sg.cy.edges('[impact = \"soft\"]').map(e => [e.data('from'), e.data('to')])")
        assert sorted(soft) == sorted([e["from"], e["to"]] for e in around["edges"]
                                      if e.get("impact") == "soft") != []
        # Promises on top, CIs at the bottom.
        y = page.page.evaluate("Object.fromEntries(sg.cy.nodes().map(n => [n.data('ref'), "
                               "n.position('y')]))")
        assert y["onboarding"] < y["employee-onboarding"] < y["act-new-employee"] < y["hr-app"]
        assert y["hr-app"] < y["feed-job"]
        page.shot("map")

        page.click_node("feed-job")
        page.page.wait_for_selector("#panel h2[data-id='feed-job']")
        page.page.click("#fail-down")
        wait_state(page, "onboarding", "down")
        expected = httpx.post(f"{server.url}/v1/impact", json={"down": ["feed-job"]}).json()
        classes = page.page.evaluate(
            "Object.fromEntries(sg.cy.nodes().map(n => [n.data('ref'), n.classes()]))")
        assert "failed" in classes["feed-job"] and "down" in classes["feed-job"]
        for node_id, state in expected["impacted"].items():
            if node_id in classes:
                assert state in classes[node_id], (node_id, state, classes[node_id])
        assert "down" not in classes["act-order-computer"]  # not on the failure's path

        page.click_node("onboarding")
        page.page.wait_for_selector("#panel h2[data-id='onboarding'][data-state='down']")
        chain = page.page.eval_on_selector_all("#panel ol.chain li",
                                               "els => els.map(e => e.dataset.id)")
        assert chain == CHAIN == expected["explanations"]["onboarding"]["chain"]
        assert page.page.inner_text("#panel .state") == "BROKEN"
        assert "employee-onboarding" in page.page.inner_text("#panel p.why")
        providers = page.page.eval_on_selector_all(
            "#panel ul.providers li", "els => els.map(e => e.dataset.provider)")
        assert providers == [p["provider"] for p in expected["providers"] if p["failed"]]
        page.page.click("#fit")
        page.shot("what-if")

        # Nothing selected: the summary lists the broken promise in the customer's words.
        page.page.evaluate("sg.cy.emit('tap')")
        page.page.wait_for_selector("#broken li[data-id='onboarding']")
        assert page.page.eval_on_selector_all("#broken li", "els => els.map(e => e.dataset.id)"
                                              ) == expected["broken_promises"]
        no_errors(page)


def test_shares_and_thresholds_are_shown_as_declared(browser: Browser, server: Server) -> None:
    for node_id, body in (
            ("wan", {"kind": "ci", "name": "WAN links", "silo": "network", "owner": "IT",
                     "redundancy": {"links": {"min_ok": 1, "ok_at": 1}}}),
            ("gate-control", {"kind": "service_system", "name": "Gate control",
                              "owner": "Park operations", "redundancy": {"gates": "50%"}})):
        r = httpx.put(f"{server.url}/v1/nodes/{node_id}", json=body)
        assert r.status_code == 200, r.text
    with page_of(browser, f"{server.url}/#node=wan") as page:
        page.ready()
        label = page.page.evaluate("sg.map.node('wan').data('label')")
        assert "needs 1 of 2 links, ok at 1" in label
        page.click_node("wan-a")
        page.page.click("#fail-down")
        wait_state(page, "wan-a", "down")
        assert page.page.evaluate("sg.states['wan'] || 'ok'") == "ok"  # ok at 1
        page.click_node("wan-b")
        page.page.click("#fail-down")
        wait_state(page, "wan", "down")
        page.click_node("wan")
        page.page.wait_for_selector("#panel ul.headroom li")
        assert page.page.inner_text("#panel ul.headroom li") == \
            "links: 0 of 2 up: ok at 1, needs 1"
        no_errors(page)
    with page_of(browser, f"{server.url}/#node=gate-control") as page:
        page.ready()
        label = page.page.evaluate("sg.map.node('gate-control').data('label')")
        assert "needs 50% of 2 gates" in label
        no_errors(page)


def test_redundancy_headroom_is_shown(browser: Browser, server: Server) -> None:
    with page_of(browser, f"{server.url}/#node=web-tier") as page:
        page.ready()
        page.click_node("web-1")
        page.page.click("#fail-down")
        wait_state(page, "web-tier", "degraded")
        page.click_node("web-tier")
        page.page.wait_for_selector("#panel ul.headroom li")
        assert page.page.inner_text("#panel ul.headroom") == "web: 2 of 3 up, needs 2"
        label = page.page.evaluate("sg.map.node('web-tier').data('label')")
        assert "needs 2 of 3 web" in label
        group = page.page.evaluate("sg.cy.edges('[group = \"web\"]').length")
        assert group == 3
        # Restored, the web tier is ok again.
        page.click_node("web-1")
        page.page.click("#restore")
        wait_state(page, "web-tier", "ok")
        no_errors(page)


def test_live_mode_follows_pushed_status(browser: Browser, server: Server) -> None:
    with page_of(browser, f"{server.url}/#node=onboarding") as page:
        page.ready()
        page.page.click("#mode-live")
        page.wait_for("sg.liveEvents.some(e => e.name === 'snapshot')")
        wait_state(page, "onboarding", "ok")
        r = httpx.post(f"{server.url}/v1/sources/monitoring/status", json={
            "statuses": [{"id": "feed-job", "state": "down", "at": "2026-11-23T08:00:00Z"}]})
        assert r.status_code == 200 and r.json()["broken_promises"] == ["onboarding"]
        # No reload: the event stream brings the change, the map follows.
        page.wait_for("sg.liveEvents.some(e => e.name === 'promise' && "
                                    "e.data.promise === 'onboarding' && e.data.state === 'down')")
        wait_state(page, "onboarding", "down")
        page.wait_for("sg.map.node('feed-job').hasClass('failed')")
        page.page.wait_for_selector("#events li.down")
        assert "New staff are productive on day one: ok → down" in page.page.inner_text("#events")
        page.click_node("onboarding")
        page.page.wait_for_selector("#panel h2[data-id='onboarding'] ~ ol.chain li")
        assert page.page.eval_on_selector_all("#panel ol.chain li",
                                              "els => els.map(e => e.dataset.id)") == CHAIN
        # Any node, not only promises, has its whole chain under the observed states.
        page.click_node("hr-app")
        page.page.wait_for_selector("#panel h2[data-id='hr-app'] ~ ol.chain li")
        assert page.page.eval_on_selector_all("#panel ol.chain li",
                                              "els => els.map(e => e.dataset.id)") == CHAIN[3:]
        page.page.evaluate("sg.cy.emit('tap')")
        page.page.wait_for_selector("#broken li[data-id='onboarding']")
        page.page.click("#fit")
        page.shot("live")

        r = httpx.post(f"{server.url}/v1/sources/monitoring/status", json={
            "statuses": [{"id": "feed-job", "state": "ok", "at": "2026-11-23T09:00:00Z"}]})
        assert r.status_code == 200
        wait_state(page, "onboarding", "ok")
        no_errors(page)


def test_live_mode_marks_planned_work_acknowledgements_and_alerts(browser: Browser,
                                                                  server: Server) -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime.now(UTC)

    def stamp(hours: float) -> str:
        return (now + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")

    with page_of(browser, f"{server.url}/#node=onboarding") as page:
        page.ready()
        # The legend names both marks.
        assert page.page.inner_text("#legend .m.planned") == "planned work (live)"
        assert page.page.inner_text("#legend .m.acked") == "acknowledged (live)"
        page.page.click("#mode-live")
        page.wait_for("sg.liveEvents.some(e => e.name === 'snapshot')")
        r = httpx.post(f"{server.url}/v1/maintenance", json={
            "id": "chg-7", "title": "Replace the feed job", "owner": "IT operations",
            "components": ["feed-job"], "starts_at": stamp(-1), "ends_at": stamp(1)})
        assert r.status_code == 201, r.text
        r = httpx.post(f"{server.url}/v1/sources/am/alerts/alertmanager", json={
            "version": "4", "status": "firing", "alerts": [{
                "status": "firing", "startsAt": stamp(-0.5), "fingerprint": "fp-feed",
                "labels": {"alertname": "FeedJobDown", "servicegraph_id": "feed-job",
                           "severity": "critical"},
                "annotations": {"summary": "the recruiting feed stopped"}}]})
        assert r.status_code == 200 and r.json()["broken_promises"] == ["onboarding"], r.text
        wait_state(page, "onboarding", "down")
        # Broken, and marked planned: on the map and in the summary.
        page.wait_for("sg.map.node('feed-job').hasClass('planned') && "
                      "sg.map.node('onboarding').hasClass('planned')")
        page.page.wait_for_selector("#broken li[data-id='onboarding'] .mark.planned")
        # The failed component's panel: its window and the alerts behind it.
        page.click_node("feed-job")
        page.page.wait_for_selector("#panel ul.windows li[data-window='chg-7']")
        assert "Replace the feed job" in page.page.inner_text("#panel ul.windows")
        alerts = page.page.inner_text("#panel ul.alerts li[data-fingerprint='fp-feed']")
        assert "FeedJobDown" in alerts and "the recruiting feed stopped" in alerts
        # Acknowledged elsewhere (no promise changes state): the live page shows it.
        r = httpx.post(f"{server.url}/v1/acknowledgements", json={
            "node": "feed-job", "by": "alice", "comment": "rolling back"})
        assert r.status_code == 201, r.text
        page.wait_for("sg.map.node('feed-job').hasClass('acked') && "
                      "sg.map.node('onboarding').hasClass('acked')")
        page.page.wait_for_selector("#panel p.ack[data-by='alice']")
        assert "rolling back" in page.page.inner_text("#panel p.ack")
        assert "acknowledged · alice" in page.page.inner_text("#panel h2[data-id='feed-job'] ~ p")
        page.shot("live-marks")
        # Recovered: the marks go with the breakage.
        r = httpx.post(f"{server.url}/v1/sources/am/alerts/alertmanager", json={
            "version": "4", "status": "resolved", "alerts": [{
                "status": "resolved", "startsAt": stamp(-0.5), "endsAt": stamp(0),
                "fingerprint": "fp-feed",
                "labels": {"alertname": "FeedJobDown", "servicegraph_id": "feed-job",
                           "severity": "critical"}}]})
        assert r.status_code == 200, r.text
        wait_state(page, "onboarding", "ok")
        page.wait_for("!sg.map.node('feed-job').hasClass('acked') && "
                      "!sg.map.node('feed-job').hasClass('planned')")
        assert httpx.get(f"{server.url}/v1/acknowledgements").json() == {"acknowledgements": []}
        no_errors(page)  # CSP violations included: the page keeps to its policy


def big_batch(systems: int = 100, cis_per_system: int = 19) -> dict[str, Any]:
    """A promise over 10 acts, 100 systems and 1,900 CIs: 2,012 nodes."""
    nodes: list[dict[str, Any]] = [
        {"id": "big-promise", "kind": "promise", "name": "Big promise"},
        {"id": "big-service", "kind": "business_service", "name": "Big service"}]
    edges: list[dict[str, Any]] = [{"from": "big-promise", "to": "big-service"}]
    for a in range(10):
        nodes.append({"id": f"big-act-{a}", "kind": "service_act", "name": f"Big act {a}"})
        edges.append({"from": "big-service", "to": f"big-act-{a}"})
    for s in range(systems):
        sys_id = f"big-sys-{s:03}"
        nodes.append({"id": sys_id, "kind": "service_system", "name": f"System {s}",
                      "provider": f"Vendor {s % 7}"})
        edges.append({"from": f"big-act-{s % 10}", "to": sys_id})
        for c in range(cis_per_system):
            ci = f"big-ci-{s:03}-{c:02}"
            nodes.append({"id": ci, "kind": "ci", "name": f"Host {s}.{c}"})
            edges.append({"from": sys_id, "to": ci})
    return {"nodes": nodes, "edges": edges}


def test_a_2000_node_neighbourhood_stays_usable(browser: Browser, server: Server) -> None:
    r = httpx.post(f"{server.url}/v1/sources/synthetic/push", json=big_batch(), timeout=120)
    assert r.status_code == 200, r.text
    with page_of(browser, server.url) as page:
        page.page.add_init_script("""
            window.__longTasks = [];
            new PerformanceObserver((list) => list.getEntries().forEach(
                (e) => window.__longTasks.push(e.duration))).observe({type: 'longtask'});
        """)
        page.page.reload()
        page.ready()
        page.page.select_option("#limit", "2000")
        page.search_and_draw("big-promise", "big-promise")
        first = page.page.evaluate("sg.lastDraw")
        assert first["fetched"] == 2000 and first["truncated"] is True
        # Pruned and folded: the tab draws a readable part, the rest one click away.
        assert first["drawn"] < 200 and first["aggregates"] > 0
        assert page.page.is_visible("#show-all")
        page.shot("big-neighbourhood")

        aggregate = page.page.evaluate("sg.cy.nodes('.aggregate')[0].id()")
        before = first["drawn"]
        page.click_element(aggregate)
        page.wait_for("(n) => sg.part.nodes.length > n", arg=before)

        page.page.click("#show-all")
        page.wait_for("sg.lastRedraw && sg.lastRedraw.nodes === 2000",
                                    timeout=120_000)
        everything = page.page.evaluate("sg.lastRedraw")
        assert everything["layout"] == "layered"
        page.shot("big-neighbourhood-all")
        long_tasks = page.page.evaluate("window.__longTasks")
        no_errors(page)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "first-draw.json").write_text(json.dumps({
        "neighbourhood_nodes": first["fetched"],
        "first_draw": {k: first[k] for k in ("drawn", "aggregates", "layout", "fetch_ms",
                                             "first_draw_ms", "with_states_ms")},
        "show_all": everything,
        "longest_task_ms": max(long_tasks, default=0),
        "note": "headless Chromium on the test machine; a record, not a threshold",
    }, indent=2) + "\n", encoding="utf-8")


#: Ids that an element id joined from them would confuse: arrows both ways, the
#: separators the page once used (``->``, ``|``, ``:``), the page's own element names.
ODD_CIS = ["x", "z", "x→y", "x->y", "y->z", "y→z", "e:a->b", "a", "b", "n1", "e0", "g0",
           "agg:a|ci|needs", "q\"'<b>"]
ODD_EDGES = [("x", "y->z"), ("x->y", "z"), ("x→y", "z"), ("x", "y→z"), ("x->y", "y→z"),
             ("x→y", "y->z"), ("a", "b"), ("e:a->b", "a"), ("n1", "e0"), ("e0", "g0"),
             ("g0", "n1"), ("b", "agg:a|ci|needs"), ("z", "q\"'<b>")]
#: A service system whose id holds ``|``, with ten CIs: more than the page shows of one
#: kind around one node, so they fold.
BAR_PARENT = "team|payments"


def odd_batch() -> dict[str, Any]:
    """A system over the odd CIs, and a system with a ``|`` in its id over ten CIs."""
    nodes: list[dict[str, Any]] = [{"id": "odd-system", "kind": "service_system",
                                    "name": "Odd system"}]
    nodes += [{"id": i, "kind": "ci", "name": f"CI {i}"} for i in ODD_CIS]
    edges = [{"from": "odd-system", "to": i} for i in ("x", "x->y", "x→y", "e:a->b", "n1")]
    edges += [{"from": a, "to": b} for a, b in ODD_EDGES]
    nodes.append({"id": BAR_PARENT, "kind": "service_system", "name": "Payments"})
    for n in range(10):
        nodes.append({"id": f"pay|{n}", "kind": "ci", "name": f"Payment host {n}"})
        edges.append({"from": BAR_PARENT, "to": f"pay|{n}"})
    return {"nodes": nodes, "edges": edges}


def drawn_edges(page: Watched) -> list[tuple[str, str]]:
    """The dependencies drawn, as (from, to) of the model's ids, one per drawn edge."""
    pairs = page.page.evaluate("sg.cy.edges().not('.aggregate').map("
                               "e => [e.source().data('ref'), e.target().data('ref')])")
    return sorted((a, b) for a, b in pairs)


def test_any_ids_draw_every_node_and_dependency(browser: Browser, server: Server) -> None:
    r = httpx.post(f"{server.url}/v1/sources/odd/push", json=odd_batch())
    assert r.status_code == 200, r.text
    around = httpx.get(f"{server.url}/v1/nodes/odd-system/neighbourhood",
                       params={"depth": 6, "limit": 500}).json()
    assert len(around["nodes"]) == 1 + len(ODD_CIS)
    assert len(around["edges"]) == 5 + len(ODD_EDGES)
    with page_of(browser, server.url) as page:
        page.ready()
        page.search_and_draw("odd-system", "odd-system")
        # As many elements as the model has: none lost to a shared element id.
        counts = page.page.evaluate("[sg.cy.nodes().length, sg.cy.edges().length]")
        assert counts == [len(around["nodes"]), len(around["edges"])]
        assert sorted(page.page.evaluate("sg.map.drawnIds()")) == sorted(
            n["id"] for n in around["nodes"])
        assert drawn_edges(page) == sorted((e["from"], e["to"]) for e in around["edges"])
        assert page.page.inner_text("#status").startswith(
            f"{len(around['nodes'])} of {len(around['nodes'])} nodes")
        # Each end of each edge is the node the model says, whatever its id looks like.
        assert page.page.evaluate("sg.map.node('e:a->b').outgoers('node').map(n => n.data('ref'))"
                                  ) == ["a"]
        # Clicking a node with such an id selects that node, and what-if works on it.
        page.click_node("x->y")
        page.page.click("#fail-down")
        wait_state(page, "odd-system", "down")
        expected = httpx.post(f"{server.url}/v1/impact", json={"down": ["x->y"]}).json()
        down = page.page.evaluate("sg.cy.nodes('.down').map(n => n.data('ref'))")
        assert sorted(down) == sorted(i for i, s in expected["impacted"].items() if s == "down")
        assert "x" not in down and "x→y" not in down
        page.page.click("#fit")
        page.shot("odd-ids")
        no_errors(page)


def test_a_parent_with_a_bar_in_its_id_folds_and_shows_all(browser: Browser,
                                                           server: Server) -> None:
    r = httpx.post(f"{server.url}/v1/sources/odd/push", json=odd_batch())
    assert r.status_code == 200, r.text
    with page_of(browser, server.url) as page:
        page.ready()
        page.search_and_draw("Payments", BAR_PARENT)
        # Four CIs in sight, six folded into one group the user can open.
        assert page.page.inner_text("#status").startswith(
            f"5 of 11 nodes around {BAR_PARENT}; 6 folded into 1 group(s)")
        assert page.page.is_visible("#show-all")
        groups = page.page.evaluate("sg.cy.nodes('.aggregate').map(n => n.id())")
        assert len(groups) == 1
        assert page.page.evaluate("sg.map.drawnIds().length") == 5
        group = groups[0]
        ends = page.page.evaluate("(g) => sg.cy.getElementById(g).connectedEdges()"
                                  ".connectedNodes().not('.aggregate').map(n => n.data('ref'))",
                                  group)
        assert ends == [BAR_PARENT]
        page.click_element(group)
        page.wait_for("sg.map.drawnIds().length === 11")
        assert page.page.evaluate("sg.cy.nodes('.aggregate').length") == 0
        page.page.select_option("#depth", "5")  # drawn afresh: folded again
        page.wait_for("sg.cy.nodes('.aggregate').length === 1")
        assert page.page.is_visible("#show-all")
        page.page.click("#show-all")
        page.wait_for("sg.map.drawnIds().length === 11")
        assert sorted(page.page.evaluate("sg.map.drawnIds()")) == sorted(
            [BAR_PARENT] + [f"pay|{n}" for n in range(10)])
        assert drawn_edges(page) == sorted((BAR_PARENT, f"pay|{n}") for n in range(10))
        no_errors(page)


def test_matrix_cells_of_ids_with_bars_stay_apart(browser: Browser, server: Server) -> None:
    """Silo ``a|b`` under service ``c`` and silo ``a`` under service ``b|c``: two cells."""
    batch = {"nodes": [
        {"id": "c", "kind": "business_service", "name": "C"},
        {"id": "b|c", "kind": "business_service", "name": "B or C"},
        {"id": "sys-1", "kind": "service_system", "name": "System 1"},
        {"id": "sys-2", "kind": "service_system", "name": "System 2"},
        {"id": "ci-1", "kind": "ci", "name": "CI 1", "silo": "a|b"},
        {"id": "ci-2", "kind": "ci", "name": "CI 2", "silo": "a"}],
        "edges": [{"from": "c", "to": "sys-1"}, {"from": "sys-1", "to": "ci-1"},
                  {"from": "b|c", "to": "sys-2"}, {"from": "sys-2", "to": "ci-2"}]}
    r = httpx.post(f"{server.url}/v1/sources/bars/push", json=batch)
    assert r.status_code == 200, r.text
    with page_of(browser, server.url) as page:
        page.ready()
        page.page.click("#tabs button[data-tab='matrix']")
        page.page.wait_for_selector("#tab-matrix button[data-id='b|c']")
        cells = page.page.evaluate("""() => {
            const table = document.querySelector('#tab-matrix table');
            const services = [...table.querySelectorAll('thead th')].map(th => th.textContent);
            const out = {};
            for (const tr of table.querySelectorAll('tbody tr')) {
                const tds = [...tr.querySelectorAll('td')];
                tds.slice(1).forEach((td, i) => {
                    const where = tds[0].textContent + ' / ' + services[i + 1];
                    if (td.textContent) out[where] = td.textContent;
                });
            }
            return out;
        }""")
        assert cells["a|b / c"] == "ci-1" and cells["a / b|c"] == "ci-2", cells
        no_errors(page)


def test_the_page_keeps_to_its_content_security_policy(browser: Browser,
                                                       server: Server) -> None:
    with page_of(browser, f"{server.url}/#node=web-tier", accept_downloads=True) as page:
        first = page.page.reload()
        assert first is not None and first.url == f"{server.url}/"
        policy = first.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        page.ready()
        # Map, what-if, tables, a picture export: all within the policy.
        page.click_node("web-1")
        page.page.click("#fail-down")
        wait_state(page, "web-tier", "degraded")
        for tab in ("promises", "matrix", "spof"):
            page.page.click(f"#tabs button[data-tab='{tab}']")
            page.page.wait_for_selector(f"#tab-{tab} table")
        for fmt in ("png", "svg"):
            with page.page.expect_download():
                page.page.click("#tabs button[data-tab='map']")
                page.page.click(f"[data-export='{fmt}']")
        no_errors(page)
        # And the policy is enforced: an injected inline script does not run.
        with page.page.expect_console_message(lambda m: "CSP violation" in m.text) as seen:
            ran = page.page.evaluate("""() => {
                const s = document.createElement('script');
                s.textContent = 'window.__injected = true';
                document.head.append(s);
                return window.__injected === true;
            }""")
        assert ran is False
        assert "script-src" in seen.value.text


def test_another_site_cannot_frame_the_explorer(browser: Browser, server: Server) -> None:
    html = (f'<!doctype html><title>elsewhere</title><iframe id="f" src="{server.url}/" '
            'width="800" height="600"></iframe>')
    with other_origin(html) as elsewhere, page_of(browser, "about:blank") as page:
        with page.page.expect_console_message(lambda m: "frame-ancestors" in m.text):
            page.page.goto(elsewhere)  # waits for the frame too
        # Chromium refuses the frame: the explorer's document never loads in it.
        assert page.page.frame_locator("#f").locator("#cy").count() == 0
        inner = [f.url for f in page.page.frames if f != page.page.main_frame]
        assert len(inner) == 1 and not inner[0].startswith(server.url), inner


def test_tables_link_into_the_map(browser: Browser, server: Server) -> None:
    promises = httpx.get(f"{server.url}/v1/catalogue/promises").json()["items"]
    with page_of(browser, server.url) as page:
        page.ready()
        page.page.click("#tabs button[data-tab='promises']")
        page.page.wait_for_selector("#tab-promises tbody tr")
        assert page.page.locator("#tab-promises tbody tr").count() == len(promises)
        page.page.click("#tab-promises button[data-id='fun-day']")
        page.wait_for("sg.lastDraw.center === 'fun-day'")
        assert page.page.is_visible("#cy")

        page.page.click("#tabs button[data-tab='matrix']")
        page.page.wait_for_selector("#tab-matrix button[data-id='feed-job']")
        page.page.click("#tabs button[data-tab='acts']")
        page.page.wait_for_selector("#tab-acts button[data-id='act-new-employee']")
        page.page.click("#tabs button[data-tab='systems']")
        page.page.wait_for_selector("#tab-systems button[data-id='hr-app']")

        page.page.click("#tabs button[data-tab='spof']")
        page.page.wait_for_selector("#tab-spof tbody tr")
        page.page.select_option("#spof-promise", "onboarding")
        page.page.wait_for_selector("#tab-spof button[data-id='feed-job']")

        page.page.click("#tabs button[data-tab='changes']")
        page.page.click("#change-assess")
        page.page.wait_for_selector("#change-result table")
        assert "patch-web-1 + patch-web-2" in page.page.inner_text("#change-result")
        page.shot("planned-changes")
        no_errors(page)


def test_exports_of_the_drawn_view(browser: Browser, server: Server, tmp_path: Path) -> None:
    with page_of(browser, f"{server.url}/#node=web-tier", accept_downloads=True) as page:
        page.ready()
        drawn = page.page.evaluate("sg.map.drawnIds()")
        got: dict[str, bytes] = {}
        for fmt in ("png", "svg", "graphml", "dot", "mermaid"):
            with page.page.expect_download() as info:
                page.page.click(f"[data-export='{fmt}']")
            path = tmp_path / f"view.{fmt}"
            info.value.save_as(path)
            got[fmt] = path.read_bytes()
        assert got["png"].startswith(b"\x89PNG")
        svg = ET.fromstring(got["svg"])
        ids = {g.get("data-id") for g in svg.iter("{http://www.w3.org/2000/svg}g")}
        assert ids == set(drawn)
        for fmt in ("graphml", "dot", "mermaid"):
            api = httpx.post(f"{server.url}/v1/views/export/{fmt}", json={"ids": drawn})
            assert got[fmt] == api.content
        assert b"web-tier" in got["dot"] and b"feed-job" not in got["dot"]

        with page.page.expect_download() as info:
            page.page.click("[data-whole='dot']")
        info.value.save_as(tmp_path / "whole.dot")
        assert (tmp_path / "whole.dot").read_bytes() == httpx.get(
            f"{server.url}/v1/export/dot").content
        no_errors(page)


def test_the_page_asks_for_a_key_and_keeps_it_for_the_session(browser: Browser,
                                                               tmp_path: Path) -> None:
    store = example_store(tmp_path)
    made = subprocess.run([sys.executable, "-m", "servicegraph.cli", "keys", "add", "viewer",
                           "--scope", "read", "--keys-file", str(tmp_path / "keys.json")],
                          check=True, capture_output=True, text=True)
    key = made.stdout.splitlines()[0].strip()
    with serve(tmp_path, store) as s:
        assert httpx.get(f"{s.url}/v1/nodes").status_code == 401
        assert httpx.get(f"{s.url}/").status_code == 200
        with page_of(browser, s.url) as page:
            page.page.wait_for_selector("#key-dialog[open]")
            page.shot("key-prompt")
            page.page.fill("#key-input", "sg_wrong")
            page.page.click("#key-save")
            page.wait_for(
                "document.getElementById('key-error').textContent.includes('refused')")
            page.page.fill("#key-input", key)
            page.page.click("#key-save")
            page.ready()
            assert page.page.evaluate("sessionStorage.getItem('servicegraph.apiKey')") == key
            page.search_and_draw("feed", "feed-job")
            # The event stream is read with the key too (an EventSource could not send it).
            page.page.click("#mode-live")
            page.wait_for("sg.liveEvents.some(e => e.name === 'snapshot')")
            page.page.reload()  # same tab: the key is kept, no prompt
            page.ready()
            assert not page.page.is_visible("#key-dialog")
            # The 401s before the key was given are the only console errors.
            assert all("401" in e for e in page.errors), page.errors


@pytest.mark.neo4j
def test_the_page_over_neo4j(browser: Browser, neo4j_store: Neo4jStore, neo4j_uri: str,
                             tmp_path: Path) -> None:
    ServiceGraph(neo4j_store).writes.load(example_graph(), replace=True)
    with serve(tmp_path, neo4j_uri) as s, page_of(browser, s.url) as page:
        page.ready()
        page.search_and_draw("onboarding", "onboarding")
        page.click_node("feed-job")
        page.page.click("#fail-down")
        wait_state(page, "onboarding", "down")
        page.click_node("onboarding")
        page.page.wait_for_selector("#panel h2[data-id='onboarding'] ~ ol.chain li")
        assert page.page.eval_on_selector_all("#panel ol.chain li",
                                              "els => els.map(e => e.dataset.id)") == CHAIN
        no_errors(page)
