"""The stroke route of the launched studio: a drawing's PNG goes in, the same JPEG the Translate button would
show comes out; bad drawings, unknown models and oversized bodies get a status and a message, never a crash."""

from __future__ import annotations

import io
import zlib

import httpx
import pytest
from conftest import edges_drawing
from PIL import Image

from demo.sketchpad import MAX_DRAWING_BYTES, from_data_url, to_data_url
from demo.strokes import translate_url
from pix2pix.images import MAX_SIDE

MODEL = "edges2things"


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def post(studio_url: str, body: bytes, model: str = MODEL) -> httpx.Response:
    return httpx.post(studio_url + translate_url(model), content=body, timeout=60)


def test_a_drawing_comes_back_as_the_buttons_picture(studio_url: str):
    from gradio_client import Client

    answer = post(studio_url, png(edges_drawing()))
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    picture = Image.open(io.BytesIO(answer.content))
    assert (picture.format, picture.size) == ("JPEG", (256, 256))
    button = Client(studio_url, verbose=False).predict(to_data_url(edges_drawing()), api_name=f"/translate_{MODEL}")
    assert picture.tobytes() == from_data_url(button).tobytes()  # one model, one picture, whichever way it went
    assert answer.content != post(studio_url, png(Image.new("RGB", (256, 256), "white"))).content


def huge_png(width: int, height: int) -> bytes:
    """A valid 1-bit PNG of width x height: tiny on the wire, enormous once decoded."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = width.to_bytes(4, "big") + height.to_bytes(4, "big") + bytes([1, 0, 0, 0, 0])
    rows = zlib.compress(b"\0" * (height * (1 + (width + 7) // 8)))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


@pytest.mark.parametrize(("body", "message"), [
    (b"this is a text file, not a picture", "cannot be used"),
    (b"", "cannot be used"),
    (huge_png(1, 2 * MAX_SIDE), "too large"),
])
def test_a_drawing_it_cannot_use_gets_422_and_the_pages_message(studio_url: str, body: bytes, message: str):
    answer = post(studio_url, body)
    assert answer.status_code == 422
    assert message in answer.json()["error"]


def test_an_unknown_model_is_404_naming_the_models_served(studio_url: str):
    answer = post(studio_url, png(edges_drawing()), model="no-such-model")
    assert answer.status_code == 404
    assert MODEL in answer.json()["error"]


def test_a_body_past_the_limit_is_413_without_reading_it_all(studio_url: str):
    answer = post(studio_url, b"\0" * (MAX_DRAWING_BYTES + 1))
    assert answer.status_code == 413
    assert f"{MAX_DRAWING_BYTES:,}" in answer.json()["error"]


def test_behind_gradios_login_the_route_asks_for_it_too(checkpoints_dir, examples_dir):
    from demo.app import build_app, launch

    app = build_app(checkpoints_dir, examples_dir, device="cpu")
    url = launch(app, host="127.0.0.1", prevent_thread_lock=True, quiet=True, auth=("teacher", "chalk"))
    try:
        refused = post(url, png(edges_drawing()))
        assert refused.status_code == 401 and "Sign in" in refused.json()["error"]
        with httpx.Client(base_url=url, timeout=60) as browser:
            assert browser.post("login", data={"username": "teacher", "password": "wrong"}).status_code == 400
            assert browser.post(translate_url(MODEL), content=png(edges_drawing())).status_code == 401
            assert browser.post("login", data={"username": "teacher", "password": "chalk"}).status_code == 200
            answer = browser.post(translate_url(MODEL), content=png(edges_drawing()))
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    finally:
        app.close()
