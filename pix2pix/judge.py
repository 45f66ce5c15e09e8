"""A judge of generated label-map -> photo pictures: how much of the label map can be read back from them.

L1 cannot tell a good facade from a bad one: the mean training photo scores as well as a real model.
The paper's answer for cityscapes (its "FCN-score") is to segment the generated photos with a model
trained on real photos and compare the recovered labels with the input ones. Our segmenter is a pix2pix
U-Net trained the other way round (photo -> label map), its colours snapped to the dataset's palette; run on
the real test photos it gives the ceiling that a perfect generator would reach.
"""

from __future__ import annotations

from pathlib import Path

import torch

from pix2pix.checkpoint import CheckpointError
from pix2pix.data.labels import Palette, class_map
from pix2pix.translate import Translator

JUDGE_FILE = "judge.safetensors"  # lives in the dataset folder it was trained on


def judge_path(data: str | Path) -> Path:
    """Where a dataset keeps its judge."""
    return Path(data) / JUDGE_FILE


def class_indices(images: torch.Tensor, palette: Palette) -> torch.Tensor:
    """uint8 (N, 3, H, W) -> (N, H, W) index of the nearest palette colour."""
    return torch.from_numpy(class_map(images.permute(0, 2, 3, 1).numpy(), palette))


def label_scores(predicted: torch.Tensor, truth: torch.Tensor, n_classes: int) -> dict[str, float]:
    """Per-pixel accuracy and mean IoU over the classes that occur in `truth` or `predicted` (all images pooled)."""
    predicted, truth = predicted.reshape(-1), truth.reshape(-1)
    confusion = torch.bincount(truth * n_classes + predicted, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    hits = confusion.diag().double()
    union = confusion.sum(0).double() + confusion.sum(1).double() - hits
    present = union > 0
    return {"accuracy": float(hits.sum() / confusion.sum()), "miou": float((hits[present] / union[present]).mean())}


class Judge:
    """The segmenter of one dataset, ready to read label maps back from photos."""

    def __init__(self, path: str | Path, device: str | torch.device = "auto"):
        self.translator = Translator(path, device)
        if self.translator.input_kind != "photo" or not self.translator.info.palette:
            raise CheckpointError(f"{Path(path).name} is not a judge: it must turn photos into palette label maps")
        self.palette = Palette.from_dict(self.translator.info.palette)

    def labels(self, photos: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        """uint8 photos (N, 3, H, W) -> class indices (N, H, W) of the label maps read from them."""
        return class_indices(self.translator.translate_uint8(photos, batch_size), self.palette)

    def scores(self, inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """Label recovery from the generated photos, and from the real ones (the ceiling)."""
        truth = class_indices(inputs, self.palette)
        n = len(self.palette.colors)
        generated, real = label_scores(self.labels(outputs), truth, n), label_scores(self.labels(targets), truth, n)
        return {"judge_accuracy": generated["accuracy"], "judge_miou": generated["miou"],
                "judge_real_accuracy": real["accuracy"], "judge_real_miou": real["miou"]}
