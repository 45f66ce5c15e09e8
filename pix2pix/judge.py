"""A judge of generated label-map -> photo pictures: how much of the label map can be read back from them.

L1 cannot tell a good facade from a bad one: the mean training photo scores as well as a real model.
The paper's answer for cityscapes (its "FCN-score") is to segment the generated photos with a model
trained on real photos and compare the recovered labels with the input ones. Our segmenter is the
project's own U-Net, its output channels one per class, trained with cross-entropy on the real training
photos: `python -m pix2pix.judge --data DIR` writes DIR/judge.safetensors. Run on the real test photos,
it gives the ceiling that a perfect generator would reach.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm

from pix2pix.checkpoint import CheckpointError, ModelInfo, load_generator, save_generator
from pix2pix.config import GeneratorConfig
from pix2pix.data.jitter import jitter, to_float
from pix2pix.data.labels import Palette, class_map
from pix2pix.data.pairs import DatasetError, Roles, dataset_description, read_pairs, split_folder
from pix2pix.machine import machine_name
from pix2pix.models import UNetGenerator, init_weights

JUDGE_FILE = "judge.safetensors"  # lives in the dataset folder it was trained on
LOGIT_SCALE = 8.0  # the U-Net ends in tanh; scaled, its outputs are logits that can be confident
BATCH_SIZE = 4


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

    def __init__(self, path: str | Path, device: str | torch.device = "cpu"):
        self.device = torch.device("cpu" if str(device) == "auto" else device)
        self.model, info = load_generator(path, self.device)
        if info.input_kind != "photo" or not info.palette or self.model.config.out_channels != len(info.palette["colors"]):
            raise CheckpointError(f"{Path(path).name} is not a judge: it must turn photos into one score per palette class")
        self.palette = Palette.from_dict(info.palette)

    @torch.inference_mode()
    def labels(self, photos: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        """uint8 photos (N, 3, H, W) -> class indices (N, H, W) of the label maps read from them."""
        return torch.cat([self.model(to_float(photos[start : start + batch_size]).to(self.device)).argmax(1).cpu()
                          for start in range(0, len(photos), batch_size)])

    def scores(self, inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
        """Label recovery from the generated photos, and from the real ones (the ceiling)."""
        truth = class_indices(inputs, self.palette)
        n = len(self.palette.colors)
        generated, real = label_scores(self.labels(outputs), truth, n), label_scores(self.labels(targets), truth, n)
        return {"judge_accuracy": generated["accuracy"], "judge_miou": generated["miou"],
                "judge_real_accuracy": real["accuracy"], "judge_real_miou": real["miou"]}


def train_judge(data: str | Path, minutes: float, ngf: int = 32, bf16: bool = False, lr: float = 2e-4, seed: int = 0,
                size: int = 256, progress: bool = True) -> Path:
    """Train the segmenter of `data` (photo -> label classes, cross-entropy) for `minutes`; returns where it went."""
    description = dataset_description(data)
    if description.get("input_kind") != "labels" or not description.get("palette"):
        raise DatasetError(f"{data} is not a label-map dataset with a palette; only those have a judge")
    photo_to_labels = "BtoA" if description.get("direction", "AtoB") == "AtoB" else "AtoB"
    roles = Roles.of(description, photo_to_labels)
    pairs = read_pairs(split_folder(data, "train"), size, photo_to_labels, roles)
    palette = roles.palette
    torch.manual_seed(seed)
    depth = min(8, size.bit_length() - 1)  # U-Net-256 at 256 px; shallower for small test images
    model = UNetGenerator(GeneratorConfig(out_channels=len(palette.colors), ngf=ngf, num_downs=depth))
    init_weights(model)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(seed)
    started, step = time.perf_counter(), 0
    bar = tqdm(total=round(60 * minutes), desc="judge", unit="s", disable=not progress, dynamic_ncols=True)
    model.train()
    while (elapsed := time.perf_counter() - started) < 60 * minutes:
        for group in optimizer.param_groups:  # constant, then linear decay to zero over the second half, as pix2pix
            group["lr"] = lr * min(1.0, 2.0 * (1.0 - elapsed / (60 * minutes)))
        batch = torch.randint(0, len(pairs), (BATCH_SIZE,), generator=rng)
        photos, labels = jitter(pairs.inputs[batch], pairs.targets[batch], size + size // 8, size, True, rng, False, True)
        truth = class_indices(((labels + 1) * 127.5).round().to(torch.uint8), palette)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = LOGIT_SCALE * model(photos)
        loss = F.cross_entropy(logits.float(), truth)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        bar.update(round(elapsed) - bar.n)
        bar.set_postfix(loss=f"{loss.item():.3f}", step=step)
    bar.close()
    path = judge_path(data)
    info = ModelInfo(task=f"{description.get('task', 'labels')}-judge", input_kind="photo", palette=description["palette"],
                     image_size=size, step=step,
                     training={"data": description.get("source", str(data)), "train_pairs": len(pairs), "steps": step,
                               "images_seen": step * BATCH_SIZE, "minutes": round(minutes, 1), "loss": "cross-entropy",
                               "schedule": "constant, then linear decay over the second half",
                               "device": machine_name(torch.device("cpu")), "config": dataclasses.asdict(model.config)})
    save_generator(path, model, info)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pix2pix.judge", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="a label-map dataset (its dataset.json names the palette)")
    parser.add_argument("--minutes", type=float, default=40.0, help="training time (default 40)")
    parser.add_argument("--ngf", type=int, default=32, help="U-Net width (default 32)")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast: faster on CPUs with AVX512-BF16 or AMX")
    arguments = parser.parse_args(argv)
    if arguments.minutes <= 0 or arguments.ngf < 1:
        parser.error("--minutes must be positive and --ngf at least 1")
    try:
        path = train_judge(arguments.data, arguments.minutes, arguments.ngf, arguments.bf16)
    except DatasetError as error:
        sys.exit(f"error: {error}")
    print(f"judge written to {path}; python -m pix2pix.evaluate now reports label recovery for models of this dataset")


if __name__ == "__main__":
    main()
