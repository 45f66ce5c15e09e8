"""Random jitter and mirroring (paper section 6.2), done on whole batches on the device."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float [-1, 1]."""
    return images.float().div_(127.5).sub_(1.0)


def jitter(
    inputs: torch.Tensor,
    targets: torch.Tensor,
    load_size: int,
    crop_size: int,
    flip: bool,
    generator: torch.Generator,
    nearest_input: bool = False,
    nearest_target: bool = False,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Resize both images of each pair to `load_size`, crop the same random `crop_size`
    window from both, and mirror both with probability 1/2. Takes uint8, returns [-1, 1] floats.
    Label maps are resized nearest: their colours are classes and must not be blended."""
    a, b = to_float(inputs), to_float(targets)
    if load_size != a.shape[-1]:
        a = _resized(a, load_size, nearest_input)
        b = _resized(b, load_size, nearest_target)
    n = a.shape[0]
    # Draw on the CPU generator so the random stream is the same on every device.
    offsets = torch.randint(0, load_size - crop_size + 1, (n, 2), generator=generator).tolist()
    mirror = (torch.rand(n, generator=generator) < 0.5).tolist() if flip else [False] * n
    a_crops, b_crops = [], []
    for i, ((y, x), mirrored) in enumerate(zip(offsets, mirror, strict=True)):
        a_crop, b_crop = a[i, :, y : y + crop_size, x : x + crop_size], b[i, :, y : y + crop_size, x : x + crop_size]
        a_crops.append(a_crop.flip(-1) if mirrored else a_crop)
        b_crops.append(b_crop.flip(-1) if mirrored else b_crop)
    return torch.stack(a_crops), torch.stack(b_crops)


def _resized(images: torch.Tensor, size: int, nearest: bool) -> torch.Tensor:
    return F.interpolate(images, size=(size, size), mode="nearest" if nearest else "bilinear", antialias=not nearest)
