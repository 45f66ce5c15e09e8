"""Tiny paired datasets made on the fly: circles outlined in A, filled with colour in B."""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw


def pair(rng: np.random.Generator, size: int) -> tuple[Image.Image, Image.Image]:
    sketch, picture = Image.new("RGB", (size, size), "white"), Image.new("RGB", (size, size), "white")
    for _ in range(2):
        x, y = rng.integers(size // 5, 4 * size // 5, 2).tolist()
        r = int(rng.integers(size // 10, size // 4))
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        ImageDraw.Draw(sketch).ellipse([x - r, y - r, x + r, y + r], outline="black", width=2)
        ImageDraw.Draw(picture).ellipse([x - r, y - r, x + r, y + r], fill=colour)
    return sketch, picture


def write_aligned(folder: Path, n: int = 8, size: int = 64, seed: int = 0) -> Path:
    """n aligned A|B images of 2*size x size in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        sketch, picture = pair(rng, size)
        both = Image.new("RGB", (2 * size, size))
        both.paste(sketch, (0, 0))
        both.paste(picture, (size, 0))
        both.save(folder / f"{i:03d}.png")
    return folder


def write_folders(folder: Path, n: int = 4, size: int = 64, seed: int = 0) -> Path:
    """n pairs as folder/A/NAME.png and folder/B/NAME.png."""
    (folder / "A").mkdir(parents=True, exist_ok=True)
    (folder / "B").mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        sketch, picture = pair(rng, size)
        sketch.save(folder / "A" / f"{i:03d}.png")
        picture.save(folder / "B" / f"{i:03d}.png")
    return folder
