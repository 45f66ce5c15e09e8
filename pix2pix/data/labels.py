"""Paintable label maps: a palette of material colours learned over a dataset, and photos quantised to it.

Classes are colours a person would paint (yellow skin, dark eyes, red mouth), so the clustering looks
mainly at hue and chroma and little at lightness, which in a rendered photo is mostly light and shade.
"""

from __future__ import annotations

import colorsys
from collections.abc import Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image
from scipy import ndimage

from pix2pix.data.edges import line_mask
from pix2pix.images import to_rgb

BACKGROUND = (255, 255, 255)
LIGHTNESS_WEIGHT = 0.8  # lightness counts less than hue/chroma: shading must not split a material in two
COUNT_POWER = 0.75  # below 1: large areas (skin) cannot take every class, rare colours (mouths) get one
VIVID_BOOST = 1.5  # more saturated than the mean of a shaded region, still recognisably its colour
VIVID_CHROMA = 70.0  # ...up to this chroma, which sRGB can show for most hues
SAMPLES_PER_IMAGE = 600
OPAQUE = 128  # alpha at which a pixel counts as part of the object
REFERENCE_SIZE = 256  # smoothing sizes below are for a 256-pixel image and scaled for others
SHADING_TOLERANCE = 20.0  # weighted-Lab distance within which a pixel takes its region's class
MODE_FILTER_SIZE = 9
MIN_REGION_PIXELS = 40


@dataclass(frozen=True)
class Palette:
    """Class names and their RGB colours; index 0 is the white background.

    `centers` are the Lab cluster centres photos are classified by; the colours shown to the person
    painting are made vivid, so they are no longer the right reference. Empty means: classify by `colors`.
    """

    names: tuple[str, ...]
    colors: tuple[tuple[int, int, int], ...]
    centers: tuple[tuple[float, float, float], ...] = field(default=())

    def to_dict(self) -> dict[str, list]:
        """The palette as a dataset.json or a checkpoint's metadata stores it (`from_dict` reads it back)."""
        return {"names": list(self.names), "colors": [list(c) for c in self.colors], "centers": [list(c) for c in self.centers]}

    @classmethod
    def from_dict(cls, data: dict) -> Palette:
        """The palette of a dataset.json or a checkpoint's metadata."""
        return cls(names=tuple(data["names"]), colors=tuple(tuple(int(v) for v in c) for c in data["colors"]),
                   centers=tuple(tuple(float(v) for v in c) for c in data.get("centers", ())))


def learn_palette(images: Iterable[Image.Image], n_classes: int = 12) -> Palette:
    """Learn `n_classes` classes (background included) by weighted k-means over the dataset's colours in Lab.

    Transparent pixels of RGBA images are left out: they are the background class by definition.
    """
    if n_classes < 2:
        raise ValueError(f"a palette needs at least 2 classes (background and one colour), not {n_classes}")
    samples = np.concatenate([_sample_pixels(image, rng) for rng, image in _seeded(images)] or [np.zeros((0, 3))])
    if len(samples) == 0:
        raise ValueError("no opaque pixels to learn a palette from")
    bins, counts = np.unique(np.round(samples / 4) * 4, axis=0, return_counts=True)
    centers = _weighted_kmeans(bins, counts ** COUNT_POWER, n_classes - 1)
    colors = _distinct([_vivid(c) for c in centers])
    names = class_names(colors)
    all_centers = np.concatenate([_lab(np.array([BACKGROUND])), centers])
    return Palette(names=("background", *names), colors=(BACKGROUND, *colors),
                   centers=tuple(tuple(round(float(v), 2) for v in c) for c in all_centers))


def labels_from_photo(image: Image.Image, palette: Palette, alpha: np.ndarray | None = None) -> Image.Image:
    """Quantise `image` to `palette`, smoothing away shading and speckle.

    Where `alpha` (HxW uint8) is given, pixels below 128 are exactly background and the rest never are,
    so white objects stay separate from the background.
    """
    rgb = np.asarray(to_rgb(image))
    scale = max(rgb.shape[:2]) / REFERENCE_SIZE
    smooth = cv2.bilateralFilter(rgb, max(3, round(7 * scale)) | 1, 40, 5 * scale)  # flattens shading, keeps boundaries
    opaque = np.ones(rgb.shape[:2], bool) if alpha is None else np.asarray(alpha) >= OPAQUE
    first = 0 if alpha is None else 1  # with an alpha channel, an opaque pixel may not be background
    min_pixels = max(4, round(MIN_REGION_PIXELS * scale * scale))
    costs = _costs(smooth, _centers(palette)[first:])
    labels = _vote_by_region(costs, line_mask(image), opaque, min_pixels) + first
    labels = np.where(opaque, labels, 0)
    labels = _mode_filter(labels, first, len(palette.colors), max(3, round(MODE_FILTER_SIZE * scale)) | 1)
    labels = _remove_small_regions(labels, opaque, min_pixels, first)
    labels[~opaque] = 0
    return Image.fromarray(np.asarray(palette.colors, np.uint8)[labels])


def snap_to_palette(image: Image.Image, palette: Palette) -> Image.Image:
    """Map every pixel to the nearest palette colour, e.g. an antialiased painted canvas or JPEG ringing."""
    rgb = np.asarray(to_rgb(image))
    return Image.fromarray(np.asarray(palette.colors, np.uint8)[class_map(rgb, palette)])


def class_map(rgb: np.ndarray, palette: Palette) -> np.ndarray:
    """Index of the nearest palette colour for each pixel of `rgb` (..., 3), by RGB distance: the rule the
    studio's canvas applies in the browser too, so both sides agree on every pixel."""
    pixels = np.asarray(rgb, np.uint8).reshape(-1, 3).astype(np.int32)
    # A canvas or label map holds few distinct colours: find the nearest class once per colour, not per pixel.
    colours, where = np.unique((pixels[:, 0] << 16) | (pixels[:, 1] << 8) | pixels[:, 2], return_inverse=True)
    points = np.stack([colours >> 16, (colours >> 8) & 255, colours & 255], axis=1).astype(np.float32)
    return _nearest(points, np.asarray(palette.colors, np.float32))[where.reshape(-1)].reshape(np.shape(rgb)[:-1])


def _seeded(images: Iterable[Image.Image]) -> Iterable[tuple[np.random.Generator, Image.Image]]:
    """One generator per image, so the palette depends only on the images, not on the order of the sampling."""
    for index, image in enumerate(images):
        yield np.random.default_rng(index), image


def _sample_pixels(image: Image.Image, rng: np.random.Generator) -> np.ndarray:
    rgb = np.asarray(to_rgb(image)).reshape(-1, 3)
    if "A" in image.getbands():
        rgb = rgb[np.asarray(image.getchannel("A")).reshape(-1) >= OPAQUE]
    if len(rgb) > SAMPLES_PER_IMAGE:
        rgb = rgb[rng.choice(len(rgb), SAMPLES_PER_IMAGE, replace=False)]
    return _lab(rgb)


def _lab(rgb: np.ndarray) -> np.ndarray:
    """RGB (N, 3) 0..255 -> CIE Lab (N, 3) with L in 0..100 and a, b around 0."""
    lab = cv2.cvtColor(np.asarray(rgb, np.float32).reshape(-1, 1, 3) / 255.0, cv2.COLOR_RGB2LAB)
    return lab.reshape(-1, 3)


def _rgb(lab: np.ndarray) -> np.ndarray:
    rgb = cv2.cvtColor(np.asarray(lab, np.float32).reshape(-1, 1, 3), cv2.COLOR_LAB2RGB).reshape(-1, 3)
    return np.clip(np.round(rgb * 255), 0, 255).astype(np.uint8)


def _weighted(lab: np.ndarray) -> np.ndarray:
    return lab * np.array([LIGHTNESS_WEIGHT, 1.0, 1.0], np.float32)


def _centers(palette: Palette) -> np.ndarray:
    return np.asarray(palette.centers, np.float32) if palette.centers else _lab(np.asarray(palette.colors))


def _costs(rgb: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Distance (HxWxK) of every pixel to every centre, in lightness-weighted Lab."""
    points = _weighted(_lab(rgb.reshape(-1, 3)))
    return np.sqrt(((points[:, None, :] - _weighted(centers)[None]) ** 2).sum(axis=2)).reshape(*rgb.shape[:2], -1)


def _vote_by_region(costs: np.ndarray, lines: np.ndarray, opaque: np.ndarray, min_pixels: int) -> np.ndarray:
    """Nearest class per pixel, pulled towards the class of the region (enclosed by drawn lines) around it.

    A face shaded from yellow to orange has no line across it, so it stays one colour, as a person would paint
    it. Lines have gaps, so a region may span two materials: a pixel only follows its region's class where
    that class is nearly as close as its own.
    """
    labels = costs.argmin(axis=2)
    walls = cv2.dilate(lines, np.ones((3, 3), np.uint8)) > 0  # closes one- and two-pixel gaps
    count, regions = cv2.connectedComponents((~walls & opaque).astype(np.uint8), connectivity=4)
    sizes = np.bincount(regions.ravel(), minlength=count)
    totals = np.stack([np.bincount(regions.ravel(), costs[..., k].ravel(), count) for k in range(costs.shape[2])], 1)
    choice = totals.argmin(axis=1)[regions]
    margin = np.take_along_axis(costs, choice[..., None], axis=2)[..., 0] - costs.min(axis=2)
    follow = (regions > 0) & (sizes[regions] >= min_pixels) & (margin < SHADING_TOLERANCE)
    return np.where(follow, choice, labels)


def _nearest(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Index of the nearest centre for each point, one centre at a time so large canvases need little memory."""
    best = np.full(len(points), np.inf, np.float32)
    labels = np.zeros(len(points), np.intp)
    for index, center in enumerate(centers):
        distance = ((points - center) ** 2).sum(axis=1)
        closer = distance < best
        best[closer], labels[closer] = distance[closer], index
    return labels


def _weighted_kmeans(points: np.ndarray, weights: np.ndarray, k: int, iterations: int = 30) -> np.ndarray:
    """Deterministic weighted k-means (k-means++ start, fixed seed) in lightness-weighted Lab; returns Lab centres."""
    space = _weighted(points.astype(np.float32))
    rng = np.random.default_rng(0)
    centers = [space[rng.choice(len(space), p=weights / weights.sum())]]
    for _ in range(1, min(k, len(space))):
        gap = ((space[:, None, :] - np.asarray(centers)[None]) ** 2).sum(axis=2).min(axis=1) * weights
        centers.append(space[rng.choice(len(space), p=gap / gap.sum())] if gap.sum() > 0 else space[0])
    centers = np.asarray(centers)
    for _ in range(iterations):
        assignment = _nearest(space, centers)
        for index in range(len(centers)):
            members = assignment == index
            if members.any():
                centers[index] = np.average(space[members], axis=0, weights=weights[members])
    return centers / np.array([LIGHTNESS_WEIGHT, 1.0, 1.0], np.float32)


def _vivid(center: np.ndarray) -> tuple[int, int, int]:
    """A clear brush colour for a cluster: its own hue with more chroma, lightness kept off pure white and black."""
    lightness, a, b = (float(v) for v in center)
    chroma = float(np.hypot(a, b))
    boost = max(1.0, min(VIVID_BOOST, VIVID_CHROMA / chroma)) if chroma > 12 else 1.0  # greys stay grey
    return tuple(int(v) for v in _rgb(np.array([[min(max(lightness, 22.0), 82.0), a * boost, b * boost]]))[0])


def _distinct(colors: list[tuple[int, int, int]], min_distance: float = 18.0) -> list[tuple[int, int, int]]:
    """Nudge lightness apart until no two colours (nor a colour and the background) are hard to tell apart."""
    result: list[tuple[int, int, int]] = []
    for color in colors:
        lab = _lab(np.array([color]))[0]
        for step in range(12):
            taken = _lab(np.array([BACKGROUND, *result]))
            if np.sqrt(((taken - lab) ** 2).sum(axis=1)).min() >= min_distance:
                break
            lab[0] = np.clip(lab[0] + (9 if step % 2 == 0 else -9) * (step + 1), 10, 85)
        result.append(tuple(int(v) for v in _rgb(lab[None])[0]))
    return result


HUE_NAMES = ((9, "red"), (37, "orange"), (68, "yellow"), (160, "green"), (192, "teal"), (241, "blue"),
             (315, "purple"), (340, "pink"), (361, "red"))  # upper bounds of HSV hue, in degrees


def colour_name(color: tuple[int, int, int]) -> str:
    """A plain name for a colour, as a person painting would say it: the hue word from the HSV hue,
    greys by chroma, dull warm colours as brown (dark), tan or pink (light); 'dark'/'light' compare the
    Lab lightness with that of the hue's pure colour (pure blue is dark and pure yellow light by nature)."""
    lightness, a, b = (float(v) for v in _lab(np.array([color]))[0])
    chroma = np.hypot(a, b)
    hue, saturation, _ = colorsys.rgb_to_hsv(*(v / 255 for v in color))
    pure = 50.0  # greys: mid-grey is plain "grey"
    if chroma < (22 if lightness < 40 else 12):  # dark colours look grey at a higher chroma
        if lightness < 40 and chroma >= 8 and a > 0:
            return "dark brown"  # a warm near-black: hair, eyes, wood
        base = "black" if lightness < 30 else "white" if lightness > 92 else "grey"
    else:
        base = next(name for limit, name in HUE_NAMES if hue * 360 < limit)
        pure = float(_lab(np.array([[round(255 * v) for v in colorsys.hsv_to_rgb(hue, 1.0, 1.0)]]))[0, 0])
        if base in ("orange", "red", "yellow") and (lightness < 45 or chroma < 45) and lightness < 90:
            light_name = "pink" if base == "red" else "tan"
            base = light_name if lightness > 60 else "brown"  # a dull orange: skin, wood, fur (a pale one stays cream-yellow)
    if base in ("black", "white"):
        return base
    dark = lightness < min(40.0, pure - 12)
    light = lightness > 72 and (lightness > pure + 8 or saturation < 0.5)  # lighter than the pure hue, or pale
    return f"dark {base}" if dark else f"light {base}" if light else base


def class_names(colors: list[tuple[int, int, int]]) -> list[str]:
    """Names for `colors`, told apart where two share one: the darker becomes 'dark', the lighter 'light'."""
    names = [colour_name(color) for color in colors]
    lightness = _lab(np.array(colors))[:, 0]
    for index in np.argsort(lightness):
        others = names[:index] + names[index + 1:]
        if names[index] in others:
            darker = any(n == names[index] and lightness[i] > lightness[index] for i, n in enumerate(names))
            plain = names[index].removeprefix("dark ").removeprefix("light ")
            candidate = f"{'dark' if darker else 'light'} {plain}"
            names[index] = candidate if candidate not in others else names[index]
    seen: dict[str, int] = {}
    for index, name in enumerate(names):  # last resort: number what words could not tell apart
        seen[name] = seen.get(name, 0) + 1
        names[index] = name if seen[name] == 1 else f"{name} {seen[name]}"
    return names


def _mode_filter(labels: np.ndarray, first: int, n_classes: int, size: int) -> np.ndarray:
    """Each pixel takes the most common class (of `first` and above) around it: removes speckle and ragged edges."""
    votes = [cv2.blur((labels == index).astype(np.float32), (size, size)) for index in range(first, n_classes)]
    return np.stack(votes).argmax(axis=0) + first


def _remove_small_regions(labels: np.ndarray, opaque: np.ndarray, min_pixels: int, first: int) -> np.ndarray:
    """Regions smaller than `min_pixels` take the class of the nearest large region, inside the object only."""
    small = np.zeros(labels.shape, bool)
    for index in range(first, int(labels.max()) + 1):
        count, regions, stats, _ = cv2.connectedComponentsWithStats(((labels == index) & opaque).astype(np.uint8), 4)
        small |= (stats[:, cv2.CC_STAT_AREA] < min_pixels)[regions] & (regions > 0)
    keep = opaque & ~small
    if not small.any() or not keep.any():
        return labels
    _, (rows, cols) = ndimage.distance_transform_edt(~keep, return_indices=True)
    return np.where(small, labels[rows, cols], labels)
