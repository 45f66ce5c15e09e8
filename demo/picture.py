"""The generated picture: a gr.HTML whose value is the picture itself, as a JPEG data URL.

A gr.Image output makes every answer a PNG in gradio's file cache (~11 ms to encode a 256x256
picture) that the browser then fetches with a second request. Here the picture travels inside
the response (a JPEG at quality 95 encodes in ~0.3 ms and is a third of the PNG's size) and the
page shows it at once; API callers get the same data URL. Strokes bring theirs over the stroke
route (demo/strokes.py) as the same JPEG bytes, and the canvas's script swaps them into this view.
"""

from __future__ import annotations

import io
from typing import Any

import gradio as gr
from PIL import Image

from demo.sketchpad import data_url

JPEG_QUALITY = 95

TEMPLATE = (
    '<div class="picture"><img src="${value}" alt="The generated picture">'
    '<a class="picture-download" href="${value}" download="pix2pix.jpg">Download</a></div>'
)
CSS = """
.picture { display: flex; flex-direction: column; align-items: flex-start; gap: 6px; margin-top: 30px; }
.picture img { width: 100%; max-width: 448px; aspect-ratio: 1; image-rendering: pixelated;
  border: 1px solid var(--border-color-primary); border-radius: var(--radius-md); }
.picture-download { font-size: var(--text-sm); }
"""


def picture_view(value: str, **options: Any) -> gr.HTML:
    """Shows a `picture_url` value; the download link saves the same picture."""
    return gr.HTML(value=value, html_template=TEMPLATE, css_template=CSS, js_on_load=None, **options)


def picture_jpeg(picture: Image.Image) -> bytes:
    """The picture as the studio sends it: a JPEG at JPEG_QUALITY."""
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format="JPEG", quality=JPEG_QUALITY)
    return buffer.getvalue()


def picture_url(picture: Image.Image) -> str:
    """The value `picture_view` shows: `picture_jpeg` as a data URL."""
    return data_url(picture_jpeg(picture), "JPEG")
