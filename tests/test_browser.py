"""A real Chromium draws on the studio's canvas and sees the picture change, offline.

Screenshots go to test-artifacts/ so a person can check that the page looks like a drawing studio.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from bench.bench_browser import CHROMIUM, CHROMIUM_ARGS, OUTPUT_IMAGE, draw_stroke, output_source, wait_for_new_output

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
UPDATE_TIMEOUT_MS = 40_000  # software WebGL on a busy 2-core CPU reads the canvas back slowly


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, studio_url: str) -> Iterator[Page]:
    """The studio in a fresh page; afterwards, check that it fetched nothing from outside this machine."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if _is_remote(request.url) else None)
    page.goto(studio_url)
    page.locator(OUTPUT_IMAGE).first.wait_for(timeout=UPDATE_TIMEOUT_MS)
    yield page
    page.close()
    assert outside == [], f"the page fetched from the network: {outside[:5]}"


def _is_remote(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in ("127.0.0.1", "localhost")


def output_changes_after(page: Page, action) -> None:
    """Run `action` and wait until the visible output image shows a different file."""
    before = output_source(page)
    action()
    wait_for_new_output(page, before, UPDATE_TIMEOUT_MS)


def test_pencil_stroke_updates_the_picture(page: Page):
    page.screenshot(path=ARTIFACTS / "studio-edges-start.png", full_page=True)
    output_changes_after(page, lambda: draw_stroke(page))
    page.screenshot(path=ARTIFACTS / "studio-edges-stroke.png", full_page=True)


def test_painting_a_class_updates_the_picture(page: Page):
    page.get_by_role("tab", name="labels2things").click()
    canvas = page.locator(".canvas:visible").first
    canvas.get_by_role("button", name="Color").click()
    blue = canvas.locator(".swatch button.color").nth(4)  # palette order: background, yellow, brown, red, blue
    blue.click()
    assert "30, 90, 230" in canvas.get_by_role("button", name="Color").get_attribute("style")
    output_changes_after(page, lambda: draw_stroke(page))
    page.screenshot(path=ARTIFACTS / "studio-labels-paint.png", full_page=True)
