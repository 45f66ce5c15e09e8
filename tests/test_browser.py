"""A real Chromium draws on the studio's canvas and sees the picture change, offline.

Screenshots go to test-artifacts/ so a person can check that the page looks like a drawing studio.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
from conftest import LABEL_PALETTE
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from bench.bench_browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    draw_stroke,
    open_studio,
    output_source,
    shown_picture,
    wait_for_new_output,
)
from demo.picture import picture_url
from demo.sketchpad import from_data_url
from pix2pix.canvas import PENCIL_WIDEST, WIDEST
from pix2pix.checkpoint import ModelInfo

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
UPDATE_TIMEOUT_MS = 40_000  # generous: a busy 2-core CI machine


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
    open_studio(page, studio_url, UPDATE_TIMEOUT_MS)
    yield page
    page.close()
    assert outside == [], f"the page fetched from the network: {outside[:5]}"


def _is_remote(url: str) -> bool:
    parsed = urlparse(url)
    return parsed.scheme in ("http", "https", "ws", "wss") and parsed.hostname not in ("127.0.0.1", "localhost")


SETTLED_MS = 400  # live drawing may send a stroke mid-way and at its end: the picture is final once it stops changing


def output_changes_after(page: Page, action) -> None:
    """Run `action`, wait until the visible output shows a different picture, then until it stays the same."""
    before = output_source(page)
    action()
    wait_for_new_output(page, before, UPDATE_TIMEOUT_MS)
    shown = output_source(page)
    while True:
        page.wait_for_timeout(SETTLED_MS)
        if (now := output_source(page)) == shown:
            return
        shown = now


def canvas_colors(page: Page) -> dict[tuple[int, int, int], int]:
    """How many pixels of each colour the visible drawing canvas holds."""
    counts = page.locator(".canvas canvas:visible").first.evaluate("""canvas => {
        const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
        const counts = {};
        for (let i = 0; i < pixels.length; i += 4) {
            const key = `${pixels[i]},${pixels[i + 1]},${pixels[i + 2]}`;
            counts[key] = (counts[key] || 0) + 1;
        }
        return counts;
    }""")
    return {tuple(int(v) for v in key.split(",")): count for key, count in counts.items()}


def tool(page: Page, name: str):
    return page.locator(".canvas:visible").first.get_by_role("button", name=name, exact=True)


WHITE, BLACK = (255, 255, 255), (0, 0, 0)


def wait_for_ink(page: Page) -> None:
    """Wait until the visible canvas holds black ink: a drawing sent by the server is shown once its PNG has decoded."""
    page.wait_for_function(
        """() => { const c = [...document.querySelectorAll('.canvas canvas')].find(c => c.offsetParent);
                   return c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v === 0); }""",
        timeout=UPDATE_TIMEOUT_MS,
    )


def test_pencil_stroke_updates_the_picture(page: Page):
    page.screenshot(path=ARTIFACTS / "studio-edges-start.png", full_page=True)
    assert canvas_colors(page) == {WHITE: 256 * 256}
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    output_changes_after(page, lambda: draw_stroke(page))
    assert output_source(page).startswith("blob:")  # the stroke route's answer, swapped in by the canvas's script
    assert [url for url in requests if "/studio/translate/edges2things" in url], "the stroke did not take the stroke route"
    assert not [url for url in requests if "/file=" in url], "the picture was fetched as a file"
    page.screenshot(path=ARTIFACTS / "studio-edges-stroke.png", full_page=True)
    colors = canvas_colors(page)
    assert set(colors) == {WHITE, BLACK} and colors[BLACK] > 100  # a pencil line, snapped to ink on paper


def test_undo_redo_and_clear_each_repaint(page: Page):
    output_changes_after(page, lambda: draw_stroke(page))
    drawn = canvas_colors(page)
    output_changes_after(page, lambda: tool(page, "Undo").click())
    assert canvas_colors(page) == {WHITE: 256 * 256}
    output_changes_after(page, lambda: tool(page, "Redo").click())
    assert canvas_colors(page) == drawn
    output_changes_after(page, lambda: tool(page, "Clear").click())
    assert canvas_colors(page) == {WHITE: 256 * 256}
    output_changes_after(page, lambda: tool(page, "Undo").click())  # clearing can be undone: no drawing is lost
    assert canvas_colors(page) == drawn
    output_changes_after(page, lambda: page.keyboard.press("Control+z"))  # the canvas took focus when drawn on
    assert canvas_colors(page) == {WHITE: 256 * 256}


def test_the_pencil_stops_at_its_widest_and_the_eraser_goes_wider(page: Page):
    size = page.locator(".canvas:visible").first.get_by_label("Brush size")
    assert (size.get_attribute("max"), size.input_value()) == (str(PENCIL_WIDEST), str(ModelInfo().pencil_width))
    tool(page, "Eraser").click()
    size.fill("30")
    assert (size.get_attribute("max"), size.input_value()) == (str(WIDEST), "30")
    tool(page, "Pencil").click()  # back to the pencil: the slider comes down to the pencil's widest
    assert (size.get_attribute("max"), size.input_value()) == (str(PENCIL_WIDEST), str(PENCIL_WIDEST))


def test_example_lands_on_the_canvas(page: Page):
    output_changes_after(page, lambda: page.locator(".examples:visible button").nth(1).click())
    wait_for_ink(page)  # the example's outline
    assert canvas_colors(page)[BLACK] > 100
    output_changes_after(page, lambda: tool(page, "Undo").click())  # loading an example can be undone
    assert canvas_colors(page) == {WHITE: 256 * 256}


def test_photo_becomes_an_editable_drawing_and_a_bad_file_a_message(page: Page, tmp_path: Path):
    photo = Image.new("RGB", (640, 480), (30, 120, 200))
    photo.paste((250, 210, 30), (200, 120, 440, 360))
    photo.save(tmp_path / "photo.jpg")
    upload = page.locator("input[type=file]:not([disabled])").first  # the visible tab's "Start from a photo"
    output_changes_after(page, lambda: upload.set_input_files(tmp_path / "photo.jpg"))
    wait_for_ink(page)  # the extracted edges
    edges = canvas_colors(page)
    assert set(edges) == {WHITE, BLACK}

    (tmp_path / "notes.png").write_bytes(b"this is a text file, not a picture\n")
    upload.set_input_files(tmp_path / "notes.png")
    page.get_by_text("That image cannot be used: notes.png is not an image").first.wait_for(timeout=UPDATE_TIMEOUT_MS)
    page.wait_for_timeout(1000)  # the message fades in: let the screenshot show it
    page.screenshot(path=ARTIFACTS / "studio-bad-upload.png")
    assert canvas_colors(page) == edges  # the drawing is kept


def test_painting_a_class_updates_the_picture(page: Page):
    page.get_by_role("tab", name="labels2things").click()
    blue = tool(page, "blue")
    blue.click()
    assert blue.get_attribute("aria-pressed") == "true"
    output_changes_after(page, lambda: draw_stroke(page))
    page.screenshot(path=ARTIFACTS / "studio-labels-paint.png", full_page=True)
    colors = canvas_colors(page)
    assert colors[(30, 90, 230)] > 500  # a broad blue stroke on the background class
    assert set(colors) <= {tuple(color) for color in LABEL_PALETTE["colors"]}  # only the model's classes, no blends


def drag(page: Page, start: tuple[float, float], end: tuple[float, float]) -> None:
    """Mouse down at `start`, move to `end` (fractions of the visible canvas), mouse up."""
    box = page.locator(".canvas canvas:visible").first.bounding_box()
    to_page = lambda x, y: (box["x"] + box["width"] * x, box["y"] + box["height"] * y)  # noqa: E731
    page.mouse.move(*to_page(*start))
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(*to_page(start[0] + (end[0] - start[0]) * step / 5, start[1] + (end[1] - start[1]) * step / 5))
    page.mouse.up()


def test_facade_tools_box_fill_and_exact_undo(page: Page):
    page.get_by_role("tab", name="walls").click()
    background, facade, window = ((0, 0, 222), (0, 48, 255), (0, 128, 255))
    assert canvas_colors(page) == {background: 256 * 256}  # a new facades canvas is all background
    page.locator(".canvas canvas:visible").first.click(position={"x": 1, "y": 1})  # focus, as a person would
    page.keyboard.press("1")  # number keys pick classes: 1 = facade
    assert tool(page, "facade").get_attribute("aria-pressed") == "true"
    tool(page, "Fill").click()
    output_changes_after(page, lambda: page.locator(".canvas canvas:visible").first.click(position={"x": 200, "y": 200}))
    assert canvas_colors(page) == {facade: 256 * 256}  # the bucket filled the whole background region
    filled = canvas_colors(page)
    tool(page, "window").click()
    tool(page, "Box").click()
    output_changes_after(page, lambda: drag(page, (0.2, 0.2), (0.4, 0.5)))
    page.screenshot(path=ARTIFACTS / "studio-facades-box.png", full_page=True)
    colors = canvas_colors(page)
    assert set(colors) == {facade, window}  # only palette colours, no blended edges
    assert 0.04 * 256 * 256 < colors[window] < 0.08 * 256 * 256  # a 20% x 30% box
    output_changes_after(page, lambda: page.keyboard.press("Control+z"))
    assert canvas_colors(page) == filled  # undo restores the exact previous canvas
    output_changes_after(page, lambda: page.keyboard.press("Control+Shift+Z"))
    assert canvas_colors(page) == colors


def test_live_drawing_follows_the_pen_and_ends_on_the_final_drawing(page: Page, checkpoints_dir: Path):
    """The fixture models are fast, so the pencil is live: a slow stroke gets pictures while it is drawn, a quick
    burst at most two (each request to the stroke route is one translation), and the last picture shown is the
    final drawing's."""
    from pix2pix.translate import Translator

    translated: list[str] = []
    page.on("request", lambda request: translated.append(request.url) if "/studio/translate/" in request.url else None)
    assert page.locator(".canvas:visible input[type=checkbox]").first.is_checked()  # live by default for a fast model
    box = page.locator(".canvas canvas:visible").first.bounding_box()
    x, y = box["x"] + box["width"] * 0.2, box["y"] + box["height"] * 0.3
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 25):  # about 1.2 s of drawing
        page.mouse.move(x + step * box["width"] * 0.025, y + step * box["height"] * 0.01)
        page.wait_for_timeout(50)
    during = len(translated)
    page.mouse.up()
    assert during >= 3, f"only {during} pictures while drawing"

    page.wait_for_timeout(1500)
    translated.clear()
    before = output_source(page)
    page.locator(".canvas canvas:visible").first.evaluate("""canvas => {  // a burst: a whole stroke within a millisecond
        const box = canvas.getBoundingClientRect();
        const at = (type, k) => canvas.dispatchEvent(new PointerEvent(type, {
            bubbles: true, button: 0, pointerId: 7, clientX: box.left + 20 + 8 * k, clientY: box.top + 150 + 3 * k }));
        at("pointerdown", 0);
        for (let k = 1; k <= 10; k++) at("pointermove", k);
        at("pointerup", 10);
    }""")
    wait_for_new_output(page, before, UPDATE_TIMEOUT_MS)
    page.wait_for_timeout(1500)  # anything still queued would land now
    assert 1 <= len(translated) <= 2
    final = page.locator(".canvas canvas:visible").first.evaluate("canvas => canvas.toDataURL('image/png')")
    shown = shown_picture(page)
    expected = Translator(checkpoints_dir / "edges2things.safetensors", "cpu").translate(from_data_url(final))
    expected = np.asarray(from_data_url(picture_url(expected)), np.float32)  # as the page gets it: JPEG
    assert np.abs(shown - expected).mean() < 2.0, "the last picture is not the final drawing's"
