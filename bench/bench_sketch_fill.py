"""Does an edges model paint a person's outline, whatever the pencil width?

    python bench/bench_sketch_fill.py --checkpoint checkpoints/edges2emoji.safetensors [--compare OTHER ...] [--sheet docs/...png]
        [--widths 1 2 3 5]

Draws each of the simple outlines in pix2pix.sketches (house, face, cat, ...) with 1, 2, 3 and 5 px lines (the
widths the emoji models train on; `--widths 8 12` tries the studio's thicker pencils),
translates it and reports the share of each drawing's enclosed area that the picture paints (not near-white),
and beside it the share of the paper outside the outlines that it paints too (a model that paints everything
would fill every outline). Prints a markdown table per checkpoint: rows are drawings, columns widths.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.sketches import DRAWINGS, draw, fill_share, spill_share  # noqa: E402
from pix2pix.translate import RuntimeUnavailable, Translator, add_runtime_argument  # noqa: E402

WIDTHS = (1, 2, 3, 5)


def fill_table(translator: Translator, widths: tuple[int, ...] = WIDTHS) -> tuple[np.ndarray, np.ndarray, list[list[Image.Image]]]:
    """Fill and spill shares (drawings x widths) and the pictures, row by row."""
    shares, spills, pictures = np.zeros((len(DRAWINGS), len(widths))), np.zeros((len(DRAWINGS), len(widths))), []
    for row, strokes in enumerate(DRAWINGS.values()):
        drawings = [draw(strokes, translator.size, width) for width in widths]
        outputs = translator.translate_batch([translator.prepare(d) for d in drawings])
        shares[row] = [fill_share(d, o) for d, o in zip(drawings, outputs, strict=True)]
        spills[row] = [spill_share(d, o) for d, o in zip(drawings, outputs, strict=True)]
        pictures.append([image for pair in zip(drawings, outputs, strict=True) for image in pair])
    return shares, spills, pictures


def markdown(name: str, shares: np.ndarray, spills: np.ndarray, widths: tuple[int, ...] = WIDTHS) -> str:
    lines = [f"#### {name}: share of each outline's inside painted, per line width", "",
             "| drawing | " + " | ".join(f"{w} px" for w in widths) + " |", "|---|" + "---:|" * len(widths)]
    lines += [f"| {drawing} | " + " | ".join(f"{v:.2f}" for v in row) + " |" for drawing, row in zip(DRAWINGS, shares, strict=True)]
    lines.append("| **mean** | " + " | ".join(f"**{v:.2f}**" for v in shares.mean(axis=0)) + " |")
    lines.append("| paper outside painted (mean) | " + " | ".join(f"{v:.2f}" for v in spills.mean(axis=0)) + " |")
    lines += ["", f"mean {shares.mean():.3f}, lowest {shares.min():.3f} "
              f"({list(DRAWINGS)[shares.min(axis=1).argmin()]}, {widths[shares.min(axis=0).argmin()]} px)"]
    return "\n".join(lines)


def sheet(pictures: list[list[Image.Image]], size: int) -> Image.Image:
    """One row per drawing: drawing | picture for each width."""
    image = Image.new("RGB", (len(pictures[0]) * size, len(pictures) * size), "white")
    for row, images in enumerate(pictures):
        for column, picture in enumerate(images):
            image.paste(picture.resize((size, size)), (column * size, row * size))
    return image


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True, help="the edges model to score")
    parser.add_argument("--compare", type=Path, nargs="*", default=[], help="more edges models, scored in the same run")
    parser.add_argument("--sheet", type=Path, help="write drawing | picture pairs of the first checkpoint here")
    parser.add_argument("--widths", type=int, nargs="+", default=list(WIDTHS), metavar="PX",
                        help="pencil widths to draw with, in model pixels (default: 1 2 3 5)")
    add_runtime_argument(parser)
    arguments = parser.parse_args(argv)
    if min(arguments.widths) < 1:
        parser.error("--widths must be whole pixels, at least 1")
    widths = tuple(arguments.widths)
    print(f"sketch fill on {machine_name(torch.device('cpu'))}\n")
    for index, path in enumerate([arguments.checkpoint, *arguments.compare]):
        try:
            translator = Translator(path, "cpu", arguments.runtime)
        except RuntimeUnavailable as error:
            sys.exit(f"error: {error}")
        if translator.input_kind != "edges":
            sys.exit(f"error: {path.name} is a {translator.input_kind} model; this measures edges models")
        shares, spills, pictures = fill_table(translator, widths)
        print(markdown(f"{path.name} ({translator.runtime_name})", shares, spills, widths) + "\n")
        if index == 0 and arguments.sheet:
            arguments.sheet.parent.mkdir(parents=True, exist_ok=True)
            sheet(pictures, 128).save(arguments.sheet)


if __name__ == "__main__":
    main()
