"""Pictures of the PatchGAN's verdict, for teaching what the discriminator looks at.

The critic scores each ~70x70 patch of a (drawing, output) pair; painting those scores over the
output shows which parts of the picture fool it and which give the generator away.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

RED, GREEN, BLUE = 220.0, 200.0, 40.0  # the ramp's channel peaks: red = fake, yellow = unsure, green = real


def realness_colors(realness: np.ndarray) -> Image.Image:
    """Per-patch realness in [0, 1] -> RGB, red (fake) through yellow to green (real), one pixel per patch.

    The ramp passes through yellow rather than a muddy brown, so "unsure" reads as its own colour.
    """
    score = np.clip(np.nan_to_num(np.asarray(realness, np.float32)), 0.0, 1.0)
    rgb = np.stack([RED * np.minimum(1.0, 2.0 * (1.0 - score)), GREEN * np.minimum(1.0, 2.0 * score), np.full_like(score, BLUE)], -1)
    return Image.fromarray(np.round(rgb).astype(np.uint8))


def realness_overlay(output: Image.Image, realness: np.ndarray, opacity: float = 0.5) -> Image.Image:
    """`output` with the critic's per-patch realness blended over it, patches upscaled with nearest so they stay visible."""
    if np.asarray(realness).ndim != 2:
        raise ValueError(f"realness must be a 2-D patch map, not shape {np.asarray(realness).shape}")
    picture = output.convert("RGB")
    colors = realness_colors(realness).resize(picture.size, Image.Resampling.NEAREST)
    return Image.blend(picture, colors, opacity)
