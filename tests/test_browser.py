"""A real Chromium draws on the studio's canvas and sees the picture change, offline.

Screenshots go to test-artifacts/ so a person can check that the page looks like a drawing studio.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
UPDATE_TIMEOUT_MS = 40_000  # software WebGL on a busy 2-core CPU reads the canvas back slowly


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, studio_url: str) -> Iterator[Page]:
    """The studio in a fresh page; afterwards, check that it fetched nothing from outside this machine."""
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    outside: list[str] = []
    page.on("request", lambda request: outside.append(request.url) if _is_remote(request.url) else None)
    page.goto(studio_url)
    page.locator(".output img").first.wait_for(timeout=UPDATE_TIMEOUT_MS)
    yield page
    page.close()
    assert outside == [], f"the page fetched from the network: {outside[:5]}"


def _is_remote(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in ("127.0.0.1", "localhost")


def draw_stroke(page: Page) -> None:
    """Mouse down, a diagonal drag across the middle of the visible canvas, mouse up."""
    box = page.locator(".canvas canvas:visible").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.35, box["y"] + box["height"] * 0.35
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 5):  # few moves: software WebGL redraws the canvas on each one
        page.mouse.move(x + step * box["width"] * 0.08, y + step * box["height"] * 0.05)
    page.mouse.up()


def output_changes_after(page: Page, action) -> None:
    """Run `action` and wait until the visible output image shows a different file."""
    output = page.locator(".output img:visible").first
    before = output.get_attribute("src")
    action()
    page.wait_for_function(
        "([selector, before]) => [...document.querySelectorAll(selector)].some(i => i.offsetParent && i.src !== before)",
        arg=[".output img", before], timeout=UPDATE_TIMEOUT_MS,
    )


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
