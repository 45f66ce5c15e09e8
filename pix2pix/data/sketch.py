"""Make training edge maps look like what people draw: any line width, wobbly, with inner lines left out.

Edge maps from photos are clean ~2 px Canny lines. A person's sketch is sparse, slightly off the object's
true contours and drawn with whatever pencil width the page offers; a model that only ever saw the clean
lines paints blank paper for a 5 px outline. This runs on whole batches on the training device.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

MIN_WIDTH, MAX_WIDTH = 1, 5  # the pencil widths a model trained with this should accept
WOBBLE_PX = 2.0  # at most this far off the true contour ...
WOBBLE_GRID = 5  # ... bending smoothly over a grid of this many control points a side
MAX_INNER_DROP = 0.6  # up to this share of the lines inside the object are left out
OUTLINE_MARGIN = 6  # lines within this many pixels of the object's silhouette count as its outline
PAPER = 0.9  # target pixels brighter than this in every channel ([-1, 1] scale) are background


def sketchlike(inputs: torch.Tensor, targets: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """`inputs`: edge maps in [-1, 1] (black lines on white), `targets` their pictures; returns new edge maps.

    Each drawing gets its own line width in [MIN_WIDTH, MAX_WIDTH], a smooth wobble and a random share of
    its inner lines dropped; the outline of the object (against the target's white background) is kept.
    """
    n, _, height, width = inputs.shape
    ink = (inputs.mean(dim=1, keepdim=True) < 0).float()
    ink = -F.max_pool2d(-F.pad(ink, (0, 1, 0, 1), value=0.0), 2, stride=1)  # the ~1 px line under the 2 px one
    ink = ink * _kept_lines(ink, targets, generator)
    ink = _wobbled(ink, generator)
    widths = torch.randint(MIN_WIDTH, MAX_WIDTH + 1, (n,), generator=generator).tolist()
    drawn = torch.cat([_thickened(ink[i : i + 1], w) for i, w in enumerate(widths)])
    return (1.0 - 2.0 * drawn).expand(-1, inputs.shape[1], -1, -1).contiguous()


def _kept_lines(ink: torch.Tensor, targets: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """1 where a line survives: all of the outline, and the inner lines outside randomly placed blobs."""
    n, _, height, width = ink.shape
    background = (targets > PAPER).all(dim=1, keepdim=True).float()
    near_outside = F.max_pool2d(background, 2 * OUTLINE_MARGIN + 1, stride=1, padding=OUTLINE_MARGIN)
    blobs = torch.rand(n, 1, 8, 8, generator=generator)
    blobs = F.interpolate(blobs, size=(height, width), mode="bicubic", align_corners=False).to(ink.device)
    drop_share = torch.rand(n, 1, 1, 1, generator=generator).to(ink.device) * MAX_INNER_DROP
    dropped = blobs < drop_share
    return torch.where(dropped & (near_outside == 0), 0.0, 1.0)


def _wobbled(ink: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """The lines moved by a smooth random displacement of at most WOBBLE_PX; nearest sampling keeps them binary."""
    n, _, height, width = ink.shape
    offsets = (torch.rand(n, 2, WOBBLE_GRID, WOBBLE_GRID, generator=generator) * 2 - 1) * WOBBLE_PX
    offsets = F.interpolate(offsets, size=(height, width), mode="bicubic", align_corners=True).to(ink.device)
    ys, xs = torch.meshgrid(torch.arange(height, device=ink.device), torch.arange(width, device=ink.device), indexing="ij")
    x = (xs + offsets[:, 0]) / (width - 1) * 2 - 1
    y = (ys + offsets[:, 1]) / (height - 1) * 2 - 1
    return F.grid_sample(ink, torch.stack([x, y], dim=-1), mode="nearest", padding_mode="border", align_corners=True)


def _thickened(ink: torch.Tensor, width: int) -> torch.Tensor:
    """1 px lines drawn with a square pencil `width` pixels wide."""
    if width == 1:
        return ink
    before, after = (width - 1) // 2, width // 2
    return F.max_pool2d(F.pad(ink, (before, after, before, after)), width, stride=1)
