"""How well does the judge tell good facades from bad ones? Label recovery for reference 'generators'.

    python bench/bench_judge.py --data data/facades [--checkpoint checkpoints/facades.safetensors ...]

Scores, on the test split, the labels the dataset's judge (DATA/judge.safetensors, `python -m pix2pix.judge`)
reads back from: the real photos (the ceiling), the real photos of other buildings (shuffled), the mean
training photo everywhere, each class painted its mean training colour, and each checkpoint given. L1 to
the real photo is printed beside it: L1 cannot separate these, the judge should.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from pix2pix.data.pairs import Roles, dataset_description, read_pairs, split_folder  # noqa: E402
from pix2pix.judge import Judge, class_indices, judge_path  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.translate import Translator  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--checkpoint", type=Path, nargs="*", default=[])
    arguments = parser.parse_args(argv)
    description = dataset_description(arguments.data)
    direction = description.get("direction", "AtoB")
    roles = Roles.of(description, direction)
    test = read_pairs(split_folder(arguments.data, "test"), 256, direction, roles)
    train = read_pairs(split_folder(arguments.data, "train"), 256, direction, roles)
    judge = Judge(judge_path(arguments.data))
    mean_photo = train.targets.float().mean(0, keepdim=True).round().to(torch.uint8).expand_as(test.targets)
    train_classes = class_indices(train.inputs, judge.palette)
    colours = torch.stack([train.targets.permute(0, 2, 3, 1)[train_classes == k].float().mean(0)
                           if (train_classes == k).any() else torch.zeros(3) for k in range(len(judge.palette.colors))])
    class_colours = colours[class_indices(test.inputs, judge.palette)].round().to(torch.uint8).permute(0, 3, 1, 2)
    candidates = {"real photos (ceiling)": test.targets, "real photos of other buildings": test.targets.roll(1, dims=0),
                  "mean training photo": mean_photo, "per-class mean colours": class_colours}
    for path in arguments.checkpoint:
        candidates[path.name] = Translator(path, "cpu").translate_uint8(test.inputs)
    print(f"judge {judge_path(arguments.data)} on {len(test)} test pairs, {machine_name(torch.device('cpu'))}\n")
    print("| pictures | L1 to the real photo | pixel accuracy | mean IoU |")
    print("|---|---:|---:|---:|")
    for name, pictures in candidates.items():
        scores = judge.scores(test.inputs, pictures, test.targets)
        l1 = (pictures.float() - test.targets.float()).abs().mean().item() / 127.5
        print(f"| {name} | {l1:.3f} | {scores['judge_accuracy']:.3f} | {scores['judge_miou']:.3f} |")


if __name__ == "__main__":
    main()
