"""Where does a model's held-out L1 come from: the paper around the drawing, its colours, or its shapes?

    python bench/bench_l1_breakdown.py --data data/edges2emoji --checkpoint checkpoints/edges2emoji.safetensors [MORE ...]
        [--training-sample 264] [--output-mean]

Splits the evaluation's L1 (images in [-1, 1]) into the pixels whose ground truth is blank paper and those of
the drawing, and scores the outputs twice more: after each picture's colours are corrected by the best
gain and offset per channel (least squares against its ground truth: what is left is shape and shading, not
which colour), and in grey (luminance only). An input that does not say a colour (a flag's outline) costs L1
that no model can win back; this says how much of the score that is. With --training-sample N it also scores N
training pairs drawn at random (the split's first ones are sorted by name: flags and keycaps), so that the
held-out L1 can be told apart from how well the model fits what it was trained on. Prints a markdown table and
the worst pictures per checkpoint. Given more than one checkpoint, it also prints each later one's L1 minus the
first's, picture by picture, with a 95 % paired bootstrap interval: whether a gain of a few ten-thousandths is
larger than what the choice of held-out pictures alone would move it by. With --output-mean it also scores the
pixel-wise mean of all the models' pictures: if even that ensemble barely beats its members, what the models miss
is not their differences from one another, and averaging them (in weights or in pictures) cannot win it back.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from pix2pix.data.jitter import to_float  # noqa: E402
from pix2pix.data.pairs import Pairs  # noqa: E402
from pix2pix.data.sketch import PAPER  # noqa: E402
from pix2pix.evaluate import read_split  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.metrics import l1_distance  # noqa: E402
from pix2pix.translate import RuntimeUnavailable, Translator, add_runtime_argument  # noqa: E402

LUMA = (0.299, 0.587, 0.114)  # ITU-R BT.601 weights
COLUMNS = {
    "l1": "L1",
    "paper_share": "paper share",
    "l1_paper": "L1 on paper",
    "l1_drawing": "L1 on the drawing",
    "l1_colour_fitted": "L1, colours fitted",
    "l1_grey": "L1 in grey",
}


def colour_fitted(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Each output channel mapped by the gain and offset that bring it closest (least squares) to its target's."""
    flat_out, flat_target = outputs.double().flatten(2), targets.double().flatten(2)
    centred_out = flat_out - flat_out.mean(2, keepdim=True)
    centred_target = flat_target - flat_target.mean(2, keepdim=True)
    gain = (centred_out * centred_target).mean(2, keepdim=True) / centred_out.square().mean(2, keepdim=True).clamp_min(1e-12)
    fitted = gain * centred_out + flat_target.mean(2, keepdim=True)
    return fitted.clamp(-1, 1).view_as(outputs)


def grey(images: torch.Tensor) -> torch.Tensor:
    """Luminance as a one-channel batch."""
    return sum(weight * images[:, channel : channel + 1].double() for channel, weight in enumerate(LUMA))


def breakdown(outputs: torch.Tensor, targets: torch.Tensor) -> tuple[dict[str, float], torch.Tensor]:
    """The table's values for outputs and targets in [-1, 1] (N, 3, H, W), and the L1 of each picture."""
    error = (outputs.double() - targets.double()).abs().mean(1)
    per_picture = error.flatten(1).mean(1)
    paper = (targets > PAPER).all(1)  # blank paper, by the rule the sketch augmentation uses
    values = {
        "l1": per_picture.mean().item(),
        "paper_share": paper.double().mean().item(),
        "l1_paper": error[paper].mean().item() if paper.any() else float("nan"),
        "l1_drawing": error[~paper].mean().item() if (~paper).any() else float("nan"),
        "l1_colour_fitted": l1_distance(colour_fitted(outputs, targets), targets).mean().item(),
        "l1_grey": l1_distance(grey(outputs), grey(targets)).mean().item(),
    }
    return values, per_picture


def paired_difference(per_picture: torch.Tensor, reference: torch.Tensor, resamples: int = 10_000,
                      seed: int = 0) -> tuple[float, float, float]:
    """Mean of (per_picture - reference) over the same pictures, and its 95 % percentile bootstrap interval."""
    if per_picture.shape != reference.shape or per_picture.dim() != 1 or not len(per_picture):
        raise ValueError(f"need one L1 per picture for the same pictures: {tuple(per_picture.shape)} vs {tuple(reference.shape)}")
    difference = per_picture.double() - reference.double()
    picks = torch.randint(len(difference), (resamples, len(difference)), generator=torch.Generator().manual_seed(seed))
    low, high = torch.quantile(difference[picks].mean(1), torch.tensor([0.025, 0.975], dtype=torch.float64)).tolist()
    return difference.mean().item(), low, high


def random_sample(pairs: Pairs, count: int, seed: int = 0) -> Pairs:
    """`count` of the pairs, drawn without replacement by a seeded generator, kept in their order."""
    if not 0 < count <= len(pairs):
        raise ValueError(f"cannot draw {count} of {len(pairs)} pairs")
    picked = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(seed))[:count].sort().values
    return pairs.take(picked)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="dataset folder with the held-out split")
    parser.add_argument("--checkpoint", type=Path, nargs="+", required=True, help="models to score, in one run")
    parser.add_argument("--split", default="test")
    parser.add_argument("--worst", type=int, default=8, help="list this many pictures with the highest L1")
    parser.add_argument("--training-sample", type=int, default=0, metavar="N",
                        help="also score N pairs of the train split drawn at random (seed 0); 0: skip")
    parser.add_argument("--output-mean", action="store_true",
                        help="also score the pixel-wise mean of the models' pictures (an ensemble of them): how much "
                             "of the L1 averaging models, rather than training one, can win back")
    add_runtime_argument(parser)
    arguments = parser.parse_args(argv)
    if arguments.output_mean and len(arguments.checkpoint) < 2:
        parser.error("--output-mean needs at least two checkpoints")
    columns = {**COLUMNS, **({"l1_training": f"L1 on {arguments.training_sample} training pairs"} if arguments.training_sample else {})}
    names, rows, worst, per_pictures = [], [], [], []

    def score(name: str, runtime: str, outputs: dict[str, torch.Tensor], splits: dict[str, Pairs]) -> None:
        """One row of the table, one line of worst pictures and the per-picture L1, for the pictures `outputs`
        painted from the pairs `splits` (held_out, and training with --training-sample)."""
        held_out = splits["held_out"]
        values, per_picture = breakdown(outputs["held_out"], to_float(held_out.targets))
        if "training" in splits:
            values["l1_training"] = l1_distance(outputs["training"], to_float(splits["training"].targets)).mean().item()
        ranked = per_picture.argsort(descending=True)[: arguments.worst].tolist()
        names.append(name)
        rows.append(f"| {name} | " + " | ".join(f"{values[key]:.3f}" for key in columns) + " |")
        worst.append(f"{name} ({runtime}), highest L1: " + ", ".join(f"{held_out.names[i]} {per_picture[i]:.2f}" for i in ranked))
        per_pictures.append(per_picture)

    first_splits, summed, runtimes = None, {}, set()  # every model's pictures added up, for --output-mean
    for path in arguments.checkpoint:
        try:
            translator = Translator(path, "cpu", arguments.runtime)
        except RuntimeUnavailable as error:
            sys.exit(f"error: {error}")
        splits = {"held_out": read_split(translator, arguments.data, arguments.split)}
        if arguments.training_sample:
            try:
                splits["training"] = random_sample(read_split(translator, arguments.data, "train"), arguments.training_sample)
            except ValueError as error:
                parser.error(str(error))
        first_splits = first_splits or splits
        if arguments.output_mean and not all(torch.equal(pairs.targets, first_splits[split].targets) for split, pairs in splits.items()):
            parser.error(f"--output-mean averages pictures of the same pairs, but {path.name} reads them at another size or "
                         f"in another direction than {arguments.checkpoint[0].name}")
        outputs = {split: to_float(translator.translate_uint8(pairs.inputs)) for split, pairs in splits.items()}
        score(path.name, translator.runtime_name, outputs, splits)
        if arguments.output_mean:
            summed = {split: summed.get(split, 0) + pictures for split, pictures in outputs.items()}
            runtimes.add(translator.runtime_name)
    if arguments.output_mean:
        count = len(arguments.checkpoint)
        score(f"output mean of the {count} models", " / ".join(sorted(runtimes)),
              {split: total / count for split, total in summed.items()}, first_splits)
    print(f"L1 breakdown, {arguments.split} split of {arguments.data} ({len(splits['held_out'])} pictures), "
          f"{machine_name(translator.device)}\n")
    print("| model | " + " | ".join(columns.values()) + " |\n|---|" + "---:|" * len(columns))
    print("\n".join(rows) + "\n\n" + "\n".join(worst))
    for name, per_picture in zip(names[1:], per_pictures[1:], strict=True):
        mean, low, high = paired_difference(per_picture, per_pictures[0])
        print(f"{name} minus {names[0]}, L1 picture by picture: {mean:+.6f}, "
              f"95 % paired bootstrap interval [{low:+.6f}, {high:+.6f}] over {len(per_picture)} pictures")


if __name__ == "__main__":
    main()
