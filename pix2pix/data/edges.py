"""Pencil-sketch edge maps from photos: the input side of an edges2* dataset and of the demo's photo upload.

The same function makes the training inputs and converts uploads, so what a user gets from a photo
looks like what the model was trained on.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from pix2pix.images import to_rgb

REFERENCE_SIZE = 256  # the parameters below are tuned for a 256-pixel image and scaled for others
BLUR_SIGMA = 1.4  # hides fine texture and soft shading that nobody would draw
MIN_LINE_PIXELS = 14  # shorter strokes are speckle, not lines
EDGE_PERCENTILE = 82  # the strongest fifth of gradients seed lines: outlines and parts, not texture
MIN_EDGE_STRENGTH = 25.0  # a flat image gets no lines rather than amplified noise
OPAQUE = 128  # alpha at which a pixel counts as part of the object


def edges_from_photo(image: Image.Image) -> Image.Image:
    """Return black ~2 px lines on white, the size of `image`; transparent images get their silhouette outlined."""
    width = max(2, round(2 * max(image.width, image.height) / REFERENCE_SIZE))  # 2 px at 256, thicker when larger
    lines = cv2.dilate(line_mask(image), np.ones((width, width), np.uint8))
    return Image.fromarray(np.where(lines > 0, 0, 255).astype(np.uint8)).convert("RGB")


def line_mask(image: Image.Image) -> np.ndarray:
    """The 1-pixel lines a person would draw (HxW uint8, 255 on a line): also the region borders of label maps."""
    scale = max(image.width, image.height) / REFERENCE_SIZE
    lines = _canny_lines(cv2.cvtColor(np.asarray(to_rgb(image)), cv2.COLOR_RGB2LAB), scale)
    if "A" in image.getbands():
        lines |= _silhouette(np.asarray(image.getchannel("A")), scale)
    return _drop_short_strokes(lines, max(2, round(MIN_LINE_PIXELS * scale)))


def _canny_lines(lab: np.ndarray, scale: float) -> np.ndarray:
    """Canny on a smoothed Lab image, so colour boundaries of equal brightness are drawn too.

    Thresholds come from the image's own gradients, so that dim and vivid photos both work.
    """
    smooth = cv2.GaussianBlur(lab, (0, 0), BLUR_SIGMA * max(scale, 0.5))
    gx = cv2.Sobel(smooth, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(smooth, cv2.CV_32F, 0, 1)
    magnitude = np.hypot(gx, gy).max(axis=2)  # Canny also follows the strongest channel
    strong = magnitude[magnitude > 0]
    high = max(float(np.percentile(strong, EDGE_PERCENTILE)) if strong.size else 0.0, MIN_EDGE_STRENGTH)
    return cv2.Canny(smooth, high / 2.5, high, L2gradient=True)


def _silhouette(alpha: np.ndarray, scale: float) -> np.ndarray:
    """The outer contour of the opaque region: an object's outline against transparency must always be drawn."""
    mask = (alpha >= OPAQUE).astype(np.uint8)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    outline = np.zeros_like(mask)
    cv2.drawContours(outline, contours, -1, 255, max(1, round(scale)))
    return outline


def _drop_short_strokes(lines: np.ndarray, min_pixels: int) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats((lines > 0).astype(np.uint8), connectivity=8)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_pixels
    keep[0] = False
    return np.where(keep[labels], 255, 0).astype(np.uint8)
