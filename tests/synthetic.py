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


def facade(rng: np.random.Generator, size: int, colors: list[tuple[int, int, int]]) -> tuple[Image.Image, Image.Image]:
    """A photo and its label map in the CMP layout: a facade on background, a grid of windows, a door, a shop
    band. Each class has its own photo tone, so the label map can be read back from the photo."""
    labels = Image.new("RGB", (size, size), colors[0])
    draw = ImageDraw.Draw(labels)
    left, right = int(rng.integers(0, size // 8)), size - int(rng.integers(0, size // 8))
    draw.rectangle([left, size // 10, right, size - 1], fill=colors[1])  # facade
    rows, columns = int(rng.integers(2, 4)), int(rng.integers(2, 5))
    step_x, step_y = (right - left) / columns, (size * 0.6) / rows
    for row in range(rows):
        for column in range(columns):
            x, y = left + step_x * (column + 0.3), size // 10 + step_y * (row + 0.3)
            draw.rectangle([x, y, x + step_x * 0.4, y + step_y * 0.45], fill=colors[2])  # windows
    draw.rectangle([left, int(size * 0.78), right, size - 1], fill=colors[11])  # shop
    draw.rectangle([size // 2 - size // 16, int(size * 0.8), size // 2 + size // 16, size - 1], fill=colors[3])  # door
    tones = np.random.default_rng(99).integers(30, 230, (len(colors), 3))  # the same tones in every image
    index = np.zeros((size, size), np.intp)
    pixels = np.asarray(labels)
    for k, color in enumerate(colors):
        index[(pixels == color).all(axis=-1)] = k
    photo = np.clip(tones[index] + rng.normal(0, 8, (size, size, 3)), 0, 255).astype(np.uint8)
    return Image.fromarray(photo), labels


def write_facades(folder: Path, colors: list[tuple[int, int, int]], n: int = 8, size: int = 64, seed: int = 0) -> Path:
    """n JPEG pairs, photo | labels, as the official facades packaging has them (JPEG: ringing at class borders)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for i in range(n):
        photo, labels = facade(rng, size, colors)
        both = Image.new("RGB", (2 * size, size))
        both.paste(photo, (0, 0))
        both.paste(labels, (size, 0))
        both.save(folder / f"{i + 1}.jpg", quality=80)
    return folder
