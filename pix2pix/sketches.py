"""Simple outline drawings, as a person would sketch them, and how much of each outline a model paints in.

The drawings are the held-out check that an edges model works for real sketches, whatever the pencil
width: none of them comes from a dataset. Each is a list of strokes in a 0..1 square, drawn at any size
and line width.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage

PAPER_LEVEL = 230  # an output pixel whose every channel is at least this is blank paper, not paint

Stroke = tuple[str, tuple[float, ...]]  # ("ellipse", (x0, y0, x1, y1)) | ("polygon", (x, y, ...)) | ("line", (x, y, ...))


def _circle(x: float, y: float, r: float) -> Stroke:
    return ("ellipse", (x - r, y - r, x + r, y + r))


def _star(points: int, outer: float, inner: float) -> Stroke:
    corners = []
    for k in range(2 * points):
        radius, angle = (outer if k % 2 == 0 else inner), math.pi * k / points - math.pi / 2
        corners += [0.5 + radius * math.cos(angle), 0.52 + radius * math.sin(angle)]
    return ("polygon", tuple(corners))


def _heart() -> Stroke:
    corners = []
    for k in range(48):
        t = 2 * math.pi * k / 48
        x, y = 16 * math.sin(t) ** 3, 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        corners += [0.5 + x / 40, 0.48 - y / 40]
    return ("polygon", tuple(corners))


DRAWINGS: dict[str, list[Stroke]] = {
    "house": [("polygon", (0.2, 0.45, 0.8, 0.45, 0.8, 0.85, 0.2, 0.85)), ("polygon", (0.15, 0.45, 0.5, 0.15, 0.85, 0.45)),
              ("polygon", (0.42, 0.62, 0.58, 0.62, 0.58, 0.85, 0.42, 0.85))],
    "face": [_circle(0.5, 0.5, 0.35), _circle(0.37, 0.42, 0.05), _circle(0.63, 0.42, 0.05),
             ("line", (0.35, 0.62, 0.42, 0.68, 0.5, 0.7, 0.58, 0.68, 0.65, 0.62))],
    "cat": [_circle(0.5, 0.55, 0.3), ("polygon", (0.25, 0.4, 0.28, 0.12, 0.45, 0.27)),
            ("polygon", (0.75, 0.4, 0.72, 0.12, 0.55, 0.27)), _circle(0.4, 0.5, 0.04), _circle(0.6, 0.5, 0.04)],
    "fish": [("ellipse", (0.15, 0.3, 0.7, 0.7)), ("polygon", (0.68, 0.5, 0.88, 0.3, 0.88, 0.7)), _circle(0.3, 0.45, 0.03)],
    "star": [_star(5, 0.4, 0.17)],
    "heart": [_heart()],
    "apple": [_circle(0.5, 0.56, 0.32), ("line", (0.5, 0.26, 0.52, 0.12)), ("ellipse", (0.53, 0.12, 0.7, 0.22))],
    "cup": [("polygon", (0.22, 0.3, 0.68, 0.3, 0.64, 0.82, 0.26, 0.82)), ("ellipse", (0.62, 0.4, 0.86, 0.66))],
    "tree": [_circle(0.5, 0.38, 0.27), ("polygon", (0.44, 0.63, 0.56, 0.63, 0.56, 0.9, 0.44, 0.9))],
    "car": [("polygon", (0.1, 0.5, 0.28, 0.5, 0.36, 0.32, 0.66, 0.32, 0.74, 0.5, 0.9, 0.5, 0.9, 0.68, 0.1, 0.68)),
            _circle(0.28, 0.7, 0.08), _circle(0.72, 0.7, 0.08)],
    "sun": [_circle(0.5, 0.5, 0.22), *[("line", (0.5 + 0.28 * math.cos(a), 0.5 + 0.28 * math.sin(a),
                                                 0.5 + 0.4 * math.cos(a), 0.5 + 0.4 * math.sin(a)))
                                       for a in np.linspace(0, 2 * math.pi, 8, endpoint=False)]],
    "balloon": [("ellipse", (0.3, 0.12, 0.7, 0.62)), ("line", (0.5, 0.62, 0.47, 0.75, 0.53, 0.85, 0.5, 0.95))],
}


def draw(strokes: list[Stroke], size: int = 256, width: int = 2) -> Image.Image:
    """Black strokes `width` pixels wide on white paper, `size` pixels square."""
    image = Image.new("RGB", (size, size), "white")
    pen = ImageDraw.Draw(image)
    for kind, coordinates in strokes:
        points = [round(v * (size - 1)) for v in coordinates]
        if kind == "ellipse":
            pen.ellipse(points, outline="black", width=width)
        elif kind == "polygon":
            pen.line([*points, *points[:2]], fill="black", width=width, joint="curve")
        else:
            pen.line(points, fill="black", width=width, joint="curve")
    return image


def inside(drawing: Image.Image) -> np.ndarray:
    """Pixels enclosed by the drawing's lines (not reachable from the border without crossing ink), lines excluded."""
    paper = np.asarray(drawing.convert("L")) >= 128
    regions, _ = ndimage.label(paper)  # 4-connected: a diagonal gap in a 1 px line does not leak
    border = np.unique(np.concatenate([regions[0], regions[-1], regions[:, 0], regions[:, -1]]))
    return paper & ~np.isin(regions, border)


def fill_share(drawing: Image.Image, picture: Image.Image) -> float:
    """The share of the drawing's enclosed area that the picture paints (is not near-white there)."""
    enclosed = inside(drawing)
    return float(painted(picture, drawing.size)[enclosed].mean()) if enclosed.any() else 0.0


def spill_share(drawing: Image.Image, picture: Image.Image) -> float:
    """The share of the paper outside every outline that the picture paints: a model that paints everything
    would fill every outline too, so the fill share is read beside this."""
    outside = (np.asarray(drawing.convert("L")) >= 128) & ~inside(drawing)
    return float(painted(picture, drawing.size)[outside].mean()) if outside.any() else 0.0


def painted(picture: Image.Image, size: tuple[int, int]) -> np.ndarray:
    """Where the picture is not blank paper."""
    return (np.asarray(picture.convert("RGB").resize(size)) < PAPER_LEVEL).any(axis=-1)
