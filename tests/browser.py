"""Headless Chromium for the page tests, driven by Playwright, and where artefacts go.

Debian's ``chromium`` is used (``make test`` installs it when missing);
Playwright's own browser download is not. A missing browser fails the tests:
it is never a reason to skip them.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import Error as PlaywrightError

ROOT = Path(__file__).resolve().parents[1]
#: Screenshots and timings of the page tests (gitignored).
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("SERVICEGRAPH_CHROMIUM", "/usr/bin/chromium"))
#: Headless, and quiet: without the background-networking flags Chromium keeps
#: trying to reach its update and sync services.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: Run in every page before its own scripts: a content security policy violation becomes
#: a console error, which :class:`Watched` collects, so every test insists on none.
REPORT_CSP = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
    `CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"} ` +
    `in ${e.sourceFile || e.documentURI}:${e.lineNumber}`));
"""


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium, closed on exit."""
    if not CHROMIUM.exists():
        raise RuntimeError(f"no browser at {CHROMIUM}: install Debian's chromium "
                           "(`apt-get install -y chromium`; `make test` does it)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


class Watched:
    """A page whose script errors are collected, so a test can insist on none."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("console", lambda msg: self.errors.append(f"console: {msg.text}")
                if msg.type == "error" else None)

    def wait_for(self, expression: str, arg: Any = None, *, timeout: float = 30_000) -> Any:
        """Wait until ``expression`` (a script expression, or a function of ``arg``) is
        truthy in the page; its value.

        Polled from here with ``evaluate``: Playwright's ``wait_for_function`` runs its
        predicate through ``eval`` inside the page, which the page's content security
        policy refuses, as it should.

        Parameters
        ----------
        expression : str
            What to evaluate, as for ``Page.evaluate``.
        arg : Any
            The argument of a function expression.
        timeout : float
            Milliseconds to wait before failing.
        """
        deadline = time.monotonic() + timeout / 1000
        while True:
            try:
                value = self.page.evaluate(expression, arg)
            except PlaywrightError as exc:
                if "context was destroyed" not in str(exc):
                    raise
                value = None  # the page is navigating: ask the new one
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"not true within {timeout / 1000:g} s: {expression}")
            self.page.wait_for_timeout(50)

    def shot(self, name: str) -> Path:
        """Save a screenshot of the page as a test artefact."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def ready(self) -> None:
        """Wait until the page has drawn its first map."""
        self.wait_for("window.sg && window.sg.ready === true", timeout=30_000)

    def _click(self, find: str, arg: str) -> None:
        """Click, on the canvas as a user would, the element the script ``find`` picks
        (``find(arg)`` returns a Cytoscape collection)."""
        at: dict[str, Any] = self.page.evaluate(
            f"""(arg) => {{
                const n = ({find})(arg);
                if (n.empty()) return null;
                sg.cy.center(n);
                const p = n.renderedPosition();
                const box = document.getElementById('cy').getBoundingClientRect();
                return {{x: box.left + p.x, y: box.top + p.y}};
            }}""", arg)
        assert at is not None, f"{arg} is not drawn"
        self.page.mouse.click(at["x"], at["y"])

    def click_node(self, node_id: str, *, panel: bool = True) -> None:
        """Click the node of the model's id ``node_id`` where it is drawn; with ``panel``,
        wait until the side panel shows that node."""
        self._click("(id) => sg.map.node(id)", node_id)
        if panel:
            self.page.wait_for_selector(f"#panel h2[data-id='{node_id}']")

    def click_element(self, element_id: str) -> None:
        """Click the drawn element ``element_id`` (Cytoscape's id, e.g. a folded group's)."""
        self._click("(id) => sg.cy.getElementById(id)", element_id)

    def search_and_draw(self, text: str, node_id: str) -> None:
        """Type in the search box, pick ``node_id`` from the results, wait for its map."""
        self.page.fill("#search", text)
        self.page.click(f"#search-results button[data-id='{node_id}']")
        self.wait_for("(id) => sg.lastDraw && sg.lastDraw.center === id", arg=node_id,
                                    timeout=60_000)


@contextmanager
def page_of(browser: Browser, url: str, **context: Any) -> Iterator[Watched]:
    """A fresh browser context (own sessionStorage) on ``url``."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 950}, **context)
    ctx.add_init_script(REPORT_CSP)
    try:
        page = ctx.new_page()
        watched = Watched(page)
        page.goto(url)
        yield watched
    finally:
        ctx.close()


@contextmanager
def other_origin(html: str) -> Iterator[str]:
    """A second web site on loopback (another port, so another origin) answering every
    GET with ``html``; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: the test says what matters

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
