"""Every model shipped in checkpoints/ loads through the public loader and draws better than a blank page."""

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.bench_sketch_fill import WIDTHS, fill_table
from pix2pix.checkpoint import training_totals
from pix2pix.data.labels import Palette, class_names
from pix2pix.data.palettes import NAMED_PALETTES
from pix2pix.translate import Translator, find_checkpoints

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = find_checkpoints(ROOT / "checkpoints")


def test_the_demo_ships_facades_and_both_emoji_models():
    assert {"facades", "edges2emoji", "labels2emoji"} <= set(BUNDLED)


def examples(name: str) -> list[tuple[Image.Image, np.ndarray]]:
    """Held-out (input, ground truth) pairs committed beside the demo."""
    pairs = []
    for path in sorted((ROOT / "demo" / "examples" / name).glob("*.png")):
        both = Image.open(path).convert("RGB")
        half = both.width // 2
        pairs.append((both.crop((0, 0, half, both.height)), np.asarray(both.crop((half, 0, both.width, both.height)), np.float32)))
    return pairs


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_model_beats_a_blank_and_a_grey_image(name):
    translator = Translator(BUNDLED[name], device="cpu")
    assert translator.info.task == name
    assert translator.discriminator is not None, "the critic ships with every bundled model"
    pairs = examples(name)
    assert len(pairs) >= 8, f"demo/examples/{name} needs held-out examples"
    model, white, grey = [], [], []
    for drawing, truth in pairs:
        output = np.asarray(translator.translate(drawing), np.float32)
        assert output.shape == truth.shape
        model.append(np.abs(output - truth).mean())
        white.append(np.abs(255 - truth).mean())
        grey.append(np.abs(128 - truth).mean())
    assert np.mean(model) < np.mean(white) and np.mean(model) < np.mean(grey), (np.mean(model), np.mean(white), np.mean(grey))
    assert np.mean(np.array(model) < np.array(white)) >= 0.75  # not just on average: on most drawings


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_bundled_model_metadata_tells_its_story(name):
    info = Translator(BUNDLED[name], device="cpu").info
    assert info.input_kind in ("edges", "labels")
    assert (info.palette is not None) == (info.input_kind == "labels")
    totals = training_totals(info.training)  # a trained model's own run, or all the runs behind an average
    assert totals["images_seen"] > 0 and totals["minutes"] > 0 and totals["machines"]
    assert {"l1", "psnr", "ssim"} <= set(info.metrics), "run python -m pix2pix.evaluate --write-metrics"
    assert BUNDLED[name].stat().st_size <= 30 * 2**20
    if info.task in NAMED_PALETTES:  # a dataset's own classes: the palette it was trained on, the judge's scores
        assert Palette.from_dict(info.palette) == NAMED_PALETTES[info.task]
        assert {"judge_accuracy", "judge_miou", "judge_real_accuracy", "judge_real_miou"} <= set(info.metrics)
    elif info.palette:  # the swatches a person paints with carry the names data prep gives their colours today
        assert info.palette["names"][1:] == class_names([tuple(color) for color in info.palette["colors"][1:]])


def test_the_bundled_edges_model_paints_sketches_of_any_line_width():
    """Issue #9's bar, on drawings that are in no dataset: the inside of each outline is painted at 1, 2, 3 and 5 px,
    and the paper around it stays paper (`python bench/bench_sketch_fill.py` prints the whole table). The
    studio's widest pencil is held to the bar's lowest fill too."""
    translator = Translator(BUNDLED["edges2emoji"], device="cpu")
    shares, spills, _ = fill_table(translator, (*WIDTHS, translator.canvas.widest))
    bar = shares[:, : len(WIDTHS)]
    assert bar.mean() >= 0.9 and bar.min() >= 0.6, (bar.mean(), bar.min())
    assert shares[:, -1].min() >= 0.6, shares[:, -1]
    assert spills.mean() <= 0.1
    assert translator.canvas.line_width == 3  # the studio's pencil starts in the middle of what the model was trained on
