"""Score a checkpoint on a held-out split: python -m pix2pix.evaluate --checkpoint FILE --data DIR

Every input is translated through `Translator` (the demo's inference path) and compared with
its ground truth: L1 on [-1, 1] images (the training loss's scale), PSNR and SSIM on [0, 1],
for edges->image models, how well the output's own edges (re-extracted with the dataset's
`edges_from_photo`) follow the input sketch, and for label-map models whose dataset has a judge
(DATA/judge.safetensors, see pix2pix.judge), how much of the label map can be read back from the output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from pix2pix.checkpoint import CheckpointError, ModelInfo, read_safetensors, write_safetensors
from pix2pix.data.edges import edges_from_photo
from pix2pix.data.pairs import DatasetError, Pairs, Roles, dataset_description, read_pairs, split_folder
from pix2pix.images import uint8_image
from pix2pix.judge import Judge, judge_path
from pix2pix.metrics import EDGE_TOLERANCE, EdgeCounts, checkerboard_energy, edge_counts, l1_distance, psnr, ssim
from pix2pix.translate import RuntimeUnavailable, Translator, add_runtime_argument

LABELS = {
    "l1": "L1 (mean |output - target|, images in [-1, 1])",
    "psnr": "PSNR (dB, images in [0, 1])",
    "ssim": "SSIM (gaussian 11x11, sigma 1.5, [0, 1])",
    "edge_precision": f"edge precision (output edges near a sketch line, {EDGE_TOLERANCE} px)",
    "edge_recall": f"edge recall (sketch lines near an output edge, {EDGE_TOLERANCE} px)",
    "edge_f1": "edge F1",
    "checkerboard": "checkerboard (2-px-period spectral energy, output over ground truth; 1 = as in real images)",
    "judge_accuracy": "labels read back from the outputs: pixel accuracy",
    "judge_miou": "labels read back from the outputs: mean IoU",
    "judge_real_accuracy": "labels read back from the real photos (ceiling): pixel accuracy",
    "judge_real_miou": "labels read back from the real photos (ceiling): mean IoU",
}
HEADER_HEIGHT = 20  # px of the label row above the sample sheet


def score(inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor, edges: bool, chunk: int = 16) -> dict[str, float]:
    """Mean metrics over uint8 images (N, 3, H, W); with `edges`, also edge precision/recall/F1
    pooled over all line pixels of the split."""
    if outputs.shape != targets.shape or inputs.shape != targets.shape:
        raise ValueError(f"sizes differ: inputs {tuple(inputs.shape)}, outputs {tuple(outputs.shape)}, targets {tuple(targets.shape)}")
    l1_values, psnr_values, ssim_values, counts = [], [], [], EdgeCounts()
    grid_output, grid_target = 0.0, 0.0
    for start in range(0, len(outputs), chunk):
        output, target = outputs[start : start + chunk].double() / 255, targets[start : start + chunk].double() / 255
        l1_values.append(l1_distance(2 * output - 1, 2 * target - 1))
        psnr_values.append(psnr(output, target))
        ssim_values.append(ssim(output, target))
        grid_output += float(checkerboard_energy(output).sum())
        grid_target += float(checkerboard_energy(target).sum())
        if edges:
            sketch_lines = inputs[start : start + chunk].float().mean(1) < 128
            output_lines = torch.stack([line_map(edges_from_photo(uint8_image(image))) for image in outputs[start : start + chunk]])
            counts += edge_counts(output_lines, sketch_lines)
    metrics = {name: float(torch.cat(values).mean()) for name, values in (("l1", l1_values), ("psnr", psnr_values), ("ssim", ssim_values))}
    metrics["checkerboard"] = grid_output / grid_target if grid_target else float("inf") if grid_output else 1.0
    if edges:
        metrics.update(edge_precision=counts.precision, edge_recall=counts.recall, edge_f1=counts.f1)
    return metrics


def line_map(sketch: Image.Image) -> torch.Tensor:
    """Black-on-white drawing -> boolean (H, W) map of its lines."""
    return torch.from_numpy(np.asarray(sketch.convert("L")) < 128)


def sample_sheet(inputs: torch.Tensor, outputs: torch.Tensor, targets: torch.Tensor, rows: int = 8) -> Image.Image:
    """input | output | ground truth for `rows` examples spread evenly over the split, under a label row."""
    picked = np.linspace(0, len(inputs) - 1, min(rows, len(inputs))).round().astype(int)
    height, width = inputs.shape[-2:]
    sheet = Image.new("RGB", (3 * width, HEADER_HEIGHT + len(picked) * height), "white")
    draw = ImageDraw.Draw(sheet)
    for column, label in enumerate(("input", "output", "ground truth")):
        draw.text((column * width + 4, 4), label, fill="black")
    for row, index in enumerate(picked):
        for column, images in enumerate((inputs, outputs, targets)):
            sheet.paste(uint8_image(images[index]), (column * width, HEADER_HEIGHT + row * height))
    return sheet


def write_metrics(checkpoint: str | Path, metrics: dict[str, float | int | str]) -> None:
    """Store `metrics` in the checkpoint's ModelInfo, rewriting the file atomically with the very same tensors."""
    tensors, metadata = read_safetensors(checkpoint)
    info = ModelInfo.from_metadata(metadata)
    info.metrics = metrics
    write_safetensors(checkpoint, tensors, {**metadata, **info.to_metadata()})


def read_split(translator: Translator, data: str | Path, split: str = "test") -> Pairs:
    """A split's (input, target) pairs at the model's size, in the direction the model was trained in."""
    depth = 2**translator.generator.config.num_downs
    if translator.size % depth:
        raise CheckpointError(f"{translator.name}: its image size {translator.size} is not a multiple of 2**num_downs = {depth}")
    direction = translator.info.training.get("config", {}).get("direction", "AtoB")
    return read_pairs(split_folder(data, split), translator.size, direction, Roles.of(dataset_description(data), direction))


def evaluate(
    checkpoint: str | Path,
    data: str | Path,
    split: str = "test",
    device: str = "auto",
    limit: int = 0,
    batch_size: int = 16,
    sheet: str | Path | None = None,
    rows: int = 8,
    runtime: str = "auto",
) -> dict[str, float | int | str]:
    """Translate a split with the checkpoint and return {'split', 'images', 'runtime', 'l1', 'psnr', 'ssim', ...};
    optionally write a sample sheet PNG. The runtime is part of the score: bf16 rounds the pictures differently."""
    split_folder(data, split)  # a wrong folder fails before the model loads
    translator = Translator(checkpoint, device, runtime)
    pairs = read_split(translator, data, split)
    if limit:
        pairs = pairs.take(range(min(limit, len(pairs))))
    outputs = translator.translate_uint8(pairs.inputs, batch_size)
    metrics = score(pairs.inputs, outputs, pairs.targets, edges=translator.input_kind == "edges")
    if translator.canvas.tool == "brushes" and judge_path(data).is_file():
        metrics.update(Judge(judge_path(data), device).scores(pairs.inputs, outputs, pairs.targets))
    if sheet:
        Path(sheet).parent.mkdir(parents=True, exist_ok=True)
        sample_sheet(pairs.inputs, outputs, pairs.targets, rows).save(sheet)
    return {"split": split, "images": len(pairs), "runtime": translator.runtime_name, **metrics}


def format_table(metrics: dict[str, float | int | str]) -> str:
    """The metrics as an aligned two-column table."""
    lines = [f"{metrics['images']} images of the '{metrics['split']}' split, generator on {metrics['runtime']}"]
    width = max(len(label) for key, label in LABELS.items() if key in metrics)
    lines += [f"  {label:<{width}}  {metrics[key]:.4f}" for key, label in LABELS.items() if key in metrics]
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="generator .safetensors (checkpoints/, runs/..., anywhere)")
    parser.add_argument("--data", type=Path, required=True, help="dataset folder holding the split (aligned A|B images, or A/ and B/)")
    parser.add_argument("--split", default="test", help="held-out split folder inside --data (default: test)")
    parser.add_argument("--sheet", type=Path, help="write an input | output | ground truth sample sheet PNG here")
    parser.add_argument("--rows", type=int, default=8, help="examples on the sample sheet (default 8)")
    parser.add_argument("--write-metrics", action="store_true", help="store the metrics in the checkpoint's metadata")
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--limit", type=int, default=0, help="evaluate only the first N pairs (0: all)")
    parser.add_argument("--batch-size", type=int, default=16, help="images translated per batch (default 16)")
    add_runtime_argument(parser)
    arguments = parser.parse_args(argv)
    if arguments.rows < 1 or arguments.batch_size < 1 or arguments.limit < 0:
        parser.error("--rows and --batch-size must be at least 1, --limit at least 0")
    return arguments


def main(argv: list[str] | None = None) -> dict[str, float | int | str]:
    arguments = parse_arguments(argv)
    try:
        metrics = evaluate(
            arguments.checkpoint, arguments.data, arguments.split, arguments.device,
            arguments.limit, arguments.batch_size, arguments.sheet, arguments.rows, arguments.runtime,
        )  # fmt: skip
        print(format_table(metrics))
        if arguments.sheet:
            print(f"sample sheet: {arguments.sheet}")
        if arguments.write_metrics:
            write_metrics(arguments.checkpoint, metrics)
            print(f"metrics stored in {arguments.checkpoint}")
    except (CheckpointError, DatasetError, RuntimeUnavailable) as error:
        sys.exit(f"error: {error}")
    return metrics


if __name__ == "__main__":
    main()
