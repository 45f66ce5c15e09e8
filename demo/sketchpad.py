"""The drawing canvas: a gr.HTML component around a plain 2-D canvas (demo/sketchpad.js).

Its value is the drawing as a PNG data URL. Gradio's ImageEditor composites its layers through
WebGL and uploads each one as a file before every request; this canvas sends one small PNG with
the request itself, which is what lets the picture follow each stroke in well under a second.
"""

from __future__ import annotations

import base64
import binascii
import io
from pathlib import Path
from typing import Any

import gradio as gr
from PIL import Image

from pix2pix.canvas import WIDEST
from pix2pix.images import ImageError, open_image

HERE = Path(__file__).resolve().parent
MAX_DRAWING_BYTES = 6_000_000  # a 256x256 drawing is a few kB; far more is not a drawing from this page
MAX_DATA_URL_CHARS = MAX_DRAWING_BYTES * 4 // 3 + 64  # the same drawing in base64, with its header

TEMPLATE = (
    '<div class="sketchpad" tabindex="0"><canvas class="sketch" aria-label="Drawing canvas"></canvas>'
    '<div class="sketch-tools"></div><p class="sketch-message" role="alert" hidden></p></div>'
)
CSS = (HERE / "sketchpad.css").read_text()
SCRIPT = (HERE / "sketchpad.js").read_text()


def sketchpad(value: str | None = None, *, tool: str, size: int, background: str, colors: list[str], names: list[str],
              brush_size: int, widest: int, translate_url: str, picture_id: str, live: bool = False,
              **options: Any) -> gr.HTML:
    """A canvas of `size` pixels on `background`, drawn with the `colors` (named `names`) at widths from 1 to
    `widest` (starting at `brush_size`) and an eraser as wide as Canvas's WIDEST;
    `tool` is the model's Canvas.tool: pencil, brushes (adds box and bucket fill) or photo (no drawing).
    After each change the drawing goes to `translate_url` (the stroke route, relative to the page) and the
    picture it answers is shown in the picture view whose elem_id is `picture_id`; `live` starts with the
    picture following the pen while it moves (a toggle on the page).

    A gr.HTML, not a subclass of it: gradio writes a .pyi stub beside every component subclass's
    source file when the class is defined, and the app must not write into its own folder."""
    return gr.HTML(
        value=value, html_template=TEMPLATE, css_template=CSS, js_on_load=SCRIPT,
        tool=tool, size=size, background=background, live=live, colors=colors, names=names, brush_size=brush_size,
        widest=widest, eraser_widest=WIDEST, translate_url=translate_url, picture_id=picture_id, **options,
    )


def to_data_url(image: Image.Image, image_format: str = "PNG", **options: Any) -> str:
    """`image` as a data URL: PNG (lossless) for the canvas's value; Pillow's `options` for the format."""
    buffer = io.BytesIO()
    image.save(buffer, format=image_format, **options)
    return data_url(buffer.getvalue(), image_format)


def data_url(data: bytes, image_format: str) -> str:
    """Encoded image bytes of `image_format` (PNG, JPEG) as a data URL."""
    return f"data:image/{image_format.lower()};base64," + base64.b64encode(data).decode("ascii")


def from_data_url(value: str) -> Image.Image:
    """The drawing in a canvas value; anything that is not a readable image is an ImageError."""
    if len(value) > MAX_DATA_URL_CHARS:
        raise ImageError(f"the drawing is too large to send ({len(value):,} characters; the limit is {MAX_DATA_URL_CHARS:,})")
    header, _, payload = value.partition(",")
    if not header.startswith("data:image/") or not header.endswith(";base64"):
        raise ImageError("the drawing is not an image (expected a data:image/...;base64 URL)")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):  # ValueError: characters outside ASCII
        raise ImageError("the drawing's data is not valid base64") from None
    return open_image(data)
