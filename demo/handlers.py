"""The page's event handlers for one model: plain methods that the tests call without a browser.

Pictures go out as data URLs (demo/picture.py), inside the response; a stroke's goes out as JPEG bytes
over the stroke route (demo/strokes.py, `stroke_picture`). Bad input (a corrupt upload, a huge
image, an unknown class, a value that is not a drawing) raises `gr.Error`: the page shows the message and
leaves the canvas and the output as they were (nobody loses their drawing), and an API caller gets an error.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
from PIL import Image

from demo.picture import picture_jpeg, picture_url
from demo.sketchpad import from_data_url, to_data_url
from pix2pix.critic import realness_overlay
from pix2pix.images import ImageError, open_image
from pix2pix.translate import Translator

MAX_VARIATIONS = 8
MAX_SEED = 2**63 - 1 - MAX_VARIATIONS  # torch seeds are 64-bit signed; the last variation's seed must fit too

Canvas = str | Image.Image | np.ndarray | None  # the sketchpad's PNG data URL, or a bare image from a test or API caller


def rejected(message: str) -> gr.Error:
    """The error for input the studio cannot use: shown in the page, returned to API callers, never logged
    as a crash."""
    return gr.Error(message, print_exception=False)


def rejection_message(error: ImageError) -> str:
    """What a person is told about an image the studio cannot use, on the page and over the stroke route."""
    return f"That image cannot be used: {error}"


def _rejects_bad_image(handler: Callable[..., Any]) -> Callable[..., Any]:
    """Turn an ImageError into the studio's rejection: every output stays as it was."""

    @functools.wraps(handler)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        except ImageError as error:
            raise rejected(rejection_message(error)) from None

    return guarded


class ModelHandlers:
    """Everything one model's tab does, bound to its Translator (loaded once, shared by all visitors)."""

    def __init__(self, translator: Translator, examples: list[Image.Image] | None = None):
        self.translator = translator
        self.examples = [translator.prepare(example) for example in examples or []]

    def blank_canvas(self) -> str:
        """A model-sized canvas filled with the background (white paper, or the background class)."""
        return to_data_url(self._blank())

    def _blank(self) -> Image.Image:
        return self.translator.canvas.blank(self.translator.size)

    def _drawing(self, canvas: Canvas) -> Image.Image | np.ndarray:
        """The canvas's drawing; an empty canvas counts as blank paper."""
        if canvas is None or (isinstance(canvas, str) and not canvas):
            return self._blank()
        if not isinstance(canvas, (str, Image.Image, np.ndarray)):  # an API caller's number, list or dict
            raise ImageError(f"the drawing must be a PNG data URL, not a {type(canvas).__name__}")
        return from_data_url(canvas) if isinstance(canvas, str) else canvas

    @_rejects_bad_image
    def translate(self, canvas: Canvas) -> str:
        """The generator's picture for the canvas; an empty canvas is translated as blank paper."""
        return picture_url(self.translator.translate(self._drawing(canvas)))

    def stroke_picture(self, drawing: bytes) -> bytes:
        """The JPEG picture for a drawing sent as image bytes (the stroke route, demo/strokes.py); ImageError
        for bytes that are not a usable image."""
        return picture_jpeg(self.translator.translate(open_image(drawing)))

    @_rejects_bad_image
    def load_example(self, selection: gr.SelectData) -> tuple[str, str]:
        """Put the clicked held-out drawing on the canvas and translate it."""
        drawing = self.examples[selection.index]
        return to_data_url(drawing), picture_url(self.translator.translate(drawing))

    @_rejects_bad_image
    def load_photo(self, photo_path: str | None) -> tuple[str, str]:
        """Turn an uploaded photo into this model's kind of drawing (edges or labels), put it on the canvas, translate it."""
        if photo_path is None:
            return gr.skip()
        try:
            drawing = self.translator.from_photo(photo_path)
        except ImageError as error:  # name the file as the person knows it, not by the server's upload path
            raise ImageError(str(error).replace(photo_path, Path(photo_path).name)) from None
        return to_data_url(drawing), picture_url(self.translator.translate(drawing))

    @_rejects_bad_image
    def fill_background(self, canvas: Canvas, class_name: str) -> tuple[str, str]:
        """Paint every unpainted (background-class) pixel with `class_name`, keeping what was painted."""
        inks = dict(self.translator.canvas.inks)
        if self.translator.canvas.tool != "brushes" or class_name not in inks:
            raise rejected(f"Pick one of the model's classes to fill with, not {class_name!r}.")
        drawing = self.translator.prepare(self._drawing(canvas))
        pixels = np.array(drawing)
        pixels[(pixels == self.translator.canvas.paper).all(axis=-1)] = inks[class_name]
        filled = Image.fromarray(pixels)
        return to_data_url(filled), picture_url(self.translator.translate(filled))

    @_rejects_bad_image
    def variations(self, canvas: Canvas, count: float, seed: float | None) -> list[tuple[Image.Image, str]]:
        """`count` pictures for the same drawing with dropout on, one seed each (seed, seed+1, ...)."""
        drawing = self._drawing(canvas)
        first = int(seed or 0)
        if not 0 <= first <= MAX_SEED:
            raise rejected(f"The first seed must be a whole number from 0 to {MAX_SEED:,}, not {first:,}.")
        seeds = list(range(first, first + min(max(int(count or 1), 1), MAX_VARIATIONS)))
        pictures = self.translator.variations(drawing, seeds)
        return [(picture, f"seed {s}") for picture, s in zip(pictures, seeds, strict=True)]

    @_rejects_bad_image
    def critic_view(self, canvas: Canvas) -> Image.Image:
        """The output with the PatchGAN's per-patch realness painted over it (green = looks real)."""
        if self.translator.discriminator is None:
            raise rejected(f"{self.translator.critic_problem}, so there is nothing to show.")
        drawing = self._drawing(canvas)
        output = self.translator.translate(drawing)
        return realness_overlay(output, self.translator.realness(drawing, output))
