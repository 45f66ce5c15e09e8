"""Image-quality metrics for evaluating a translator against ground truth, vectorised in torch.

Every function takes batches (N, C, H, W) and returns one value per image, so the evaluation
can score a split in chunks and average at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

PSNR_CAP = 100.0  # dB for identical images, so results stay finite and JSON-safe
SSIM_WINDOW = 11  # Wang et al. 2004: 11x11 gaussian window, sigma 1.5, K1 = 0.01, K2 = 0.03
SSIM_SIGMA = 1.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
EDGE_TOLERANCE = 2  # px: a line pixel is matched when a line of the other map lies within this Euclidean distance


def _check_pair(output: torch.Tensor, target: torch.Tensor) -> None:
    if output.shape != target.shape:
        raise ValueError(f"output and target differ in size: {tuple(output.shape)} vs {tuple(target.shape)}")
    if output.ndim != 4:
        raise ValueError(f"expected image batches (N, C, H, W), got shape {tuple(output.shape)}")


def l1_distance(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute difference per image, on whatever range the images are in ([-1, 1] matches the training loss)."""
    _check_pair(output, target)
    return (output.double() - target.double()).abs().flatten(1).mean(1)


def checkerboard_energy(images: torch.Tensor) -> torch.Tensor:
    """Spectral energy at the 2-pixel period per image (the Nyquist frequencies of rows, columns and both): where
    ConvTranspose upsampling leaves its grid. Compare an output's with its ground truth's."""
    grey = images.double().mean(1)
    rows = torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(grey.shape[-2] // 2 + 1)[: grey.shape[-2]]
    columns = torch.tensor([1.0, -1.0], dtype=torch.float64).repeat(grey.shape[-1] // 2 + 1)[: grey.shape[-1]]
    patterns = (rows[:, None].expand_as(grey[0]), columns[None, :].expand_as(grey[0]), rows[:, None] * columns[None, :])
    return sum((grey * pattern).flatten(1).sum(1).square() for pattern in patterns) / grey[0].numel()


def psnr(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Peak signal-to-noise ratio in dB per image, for images in [0, 1]; capped at PSNR_CAP."""
    _check_pair(output, target)
    mse = (output.double() - target.double()).square().flatten(1).mean(1)
    return (-10 * torch.log10(mse)).clamp(max=PSNR_CAP)


def gaussian_window(size: int = SSIM_WINDOW, sigma: float = SSIM_SIGMA) -> torch.Tensor:
    """Normalised 1-D gaussian taps, float64."""
    offsets = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    taps = torch.exp(-offsets.square() / (2 * sigma**2))
    return taps / taps.sum()


def ssim(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Structural similarity per image, for images in [0, 1]: computed per channel and averaged.

    The gaussian filter is applied only where the window fits ('valid'), as in Wang et al.'s
    reference code; this equals scikit-image's `structural_similarity(gaussian_weights=True,
    sigma=1.5, use_sample_covariance=False, data_range=1)`, which crops the filtered border.
    """
    _check_pair(output, target)
    if min(output.shape[-2:]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs images of at least {SSIM_WINDOW}x{SSIM_WINDOW}, got {tuple(output.shape[-2:])}")
    x, y = output.double(), target.double()
    channels = x.shape[1]
    taps = gaussian_window().to(x.device)
    rows, columns = taps.view(1, 1, -1, 1).repeat(channels, 1, 1, 1), taps.view(1, 1, 1, -1).repeat(channels, 1, 1, 1)

    def blur(image: torch.Tensor) -> torch.Tensor:
        return F.conv2d(F.conv2d(image, rows, groups=channels), columns, groups=channels)

    mu_x, mu_y = blur(x), blur(y)
    var_x = blur(x * x) - mu_x.square()
    var_y = blur(y * y) - mu_y.square()
    covariance = blur(x * y) - mu_x * mu_y
    c1, c2 = SSIM_K1**2, SSIM_K2**2  # data range 1
    similarity = ((2 * mu_x * mu_y + c1) * (2 * covariance + c2)) / ((mu_x.square() + mu_y.square() + c1) * (var_x + var_y + c2))
    return similarity.flatten(1).mean(1)


@dataclass
class EdgeCounts:
    """Line pixels of an extracted edge map and of a reference sketch, and how many of each are matched."""

    matched_lines: int = 0  # line pixels of the extracted map within the tolerance of a reference line
    lines: int = 0
    matched_reference: int = 0  # reference line pixels within the tolerance of an extracted line
    reference: int = 0

    def __add__(self, other: EdgeCounts) -> EdgeCounts:
        return EdgeCounts(
            self.matched_lines + other.matched_lines,
            self.lines + other.lines,
            self.matched_reference + other.matched_reference,
            self.reference + other.reference,
        )

    @property
    def precision(self) -> float:
        """Share of extracted lines that the sketch asked for (1 when nothing was extracted)."""
        return self.matched_lines / self.lines if self.lines else 1.0

    @property
    def recall(self) -> float:
        """Share of the sketch's lines that the output reproduces (1 when the sketch is blank)."""
        return self.matched_reference / self.reference if self.reference else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def _near(lines: torch.Tensor, tolerance: int) -> torch.Tensor:
    """Pixels within `tolerance` (Euclidean) of a line pixel: dilation by a disk."""
    offsets = torch.arange(-tolerance, tolerance + 1, dtype=torch.float32)
    disk = (offsets.view(-1, 1).square() + offsets.view(1, -1).square() <= tolerance**2).float().to(lines.device)
    spread = F.conv2d(lines.float().unsqueeze(1), disk[None, None], padding=tolerance)
    return spread.squeeze(1) > 0


def edge_counts(lines: torch.Tensor, reference: torch.Tensor, tolerance: int = EDGE_TOLERANCE) -> EdgeCounts:
    """Match two boolean line maps (N, H, W) with a pixel tolerance, pooled over the batch."""
    if lines.shape != reference.shape or lines.ndim != 3:
        raise ValueError(f"line maps must be (N, H, W) and the same size, got {tuple(lines.shape)} and {tuple(reference.shape)}")
    lines, reference = lines.bool(), reference.bool()
    return EdgeCounts(
        matched_lines=int((lines & _near(reference, tolerance)).sum()),
        lines=int(lines.sum()),
        matched_reference=int((reference & _near(lines, tolerance)).sum()),
        reference=int(reference.sum()),
    )
