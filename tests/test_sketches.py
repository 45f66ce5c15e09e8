"""The outline drawings and the fill score that judge whether an edges model paints what a person sketches."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw

from pix2pix.sketches import DRAWINGS, draw, fill_share, inside, spill_share


def square_outline(width: int = 2) -> Image.Image:
    image = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(image).rectangle((16, 16, 47, 47), outline="black", width=width)
    return image


def test_inside_is_what_the_lines_enclose():
    enclosed = inside(square_outline())
    assert enclosed.sum() == 28 * 28  # a 32 px square with 2 px walls
    assert not inside(draw([("line", (0.1, 0.1, 0.9, 0.9))], 64, 3)).any()  # an open line encloses nothing


def test_fill_and_spill_shares_on_hand_made_pictures():
    drawing = square_outline()
    blank = Image.new("RGB", (64, 64), "white")
    filled = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(filled).rectangle((18, 18, 45, 45), fill=(250, 200, 20))
    half = Image.new("RGB", (64, 64), "white")
    ImageDraw.Draw(half).rectangle((18, 18, 31, 45), fill=(30, 90, 230))
    everywhere = Image.new("RGB", (64, 64), (200, 100, 100))
    assert fill_share(drawing, blank) == 0.0 and fill_share(drawing, filled) == 1.0
    assert fill_share(drawing, half) == pytest.approx(0.5)
    assert spill_share(drawing, filled) == 0.0 and spill_share(drawing, everywhere) == 1.0
    assert fill_share(drawing, filled.resize((256, 256))) == 1.0  # pictures of another size are compared at the drawing's


@pytest.mark.parametrize("name", list(DRAWINGS))
@pytest.mark.parametrize("width", [1, 2, 3, 5])
def test_every_drawing_encloses_something_at_every_width(name, width):
    drawing = draw(DRAWINGS[name], 256, width)
    ink = (np.asarray(drawing.convert("L")) < 128).mean()
    assert 0.002 < ink < 0.2 and inside(drawing).mean() > 0.05
