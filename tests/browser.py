"""Headless Chromium for the page tests, driven by Playwright, and where artefacts go.

Debian's ``chromium`` is used (``make test`` installs it when missing);
Playwright's own browser download is not. A missing browser fails the tests:
it is never a reason to skip them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
#: Screenshots and timings of the page tests (gitignored).
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path(os.environ.get("SERVICEGRAPH_CHROMIUM", "/usr/bin/chromium"))
#: Headless, and quiet: without the background-networking flags Chromium keeps
#: trying to reach its update and sync services.
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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

    def shot(self, name: str) -> Path:
        """Save a screenshot of the page as a test artefact."""
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path))
        return path

    def ready(self) -> None:
        """Wait until the page has drawn its first map."""
        self.page.wait_for_function("window.sg && window.sg.ready === true", timeout=30_000)

    def click_node(self, node_id: str, *, panel: bool = True) -> None:
        """Click a node of the map where it is drawn (the canvas, as a user would); with
        ``panel``, wait until the side panel shows that node."""
        at: dict[str, Any] = self.page.evaluate(
            """(id) => {
                const n = sg.cy.getElementById(id);
                if (n.empty()) return null;
                sg.cy.center(n);
                const p = n.renderedPosition();
                const box = document.getElementById('cy').getBoundingClientRect();
                return {x: box.left + p.x, y: box.top + p.y};
            }""", node_id)
        assert at is not None, f"{node_id} is not drawn"
        self.page.mouse.click(at["x"], at["y"])
        if panel:
            self.page.wait_for_selector(f"#panel h2[data-id='{node_id}']")

    def search_and_draw(self, text: str, node_id: str) -> None:
        """Type in the search box, pick ``node_id`` from the results, wait for its map."""
        self.page.fill("#search", text)
        self.page.click(f"#search-results button[data-id='{node_id}']")
        self.page.wait_for_function("(id) => sg.lastDraw && sg.lastDraw.center === id", arg=node_id,
                                    timeout=60_000)


@contextmanager
def page_of(browser: Browser, url: str, **context: Any) -> Iterator[Watched]:
    """A fresh browser context (own sessionStorage) on ``url``."""
    ctx = browser.new_context(viewport={"width": 1500, "height": 950}, **context)
    try:
        page = ctx.new_page()
        watched = Watched(page)
        page.goto(url)
        yield watched
    finally:
        ctx.close()
