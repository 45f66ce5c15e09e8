"""Facades as in the paper: the CMP palette on every data path, label maps snapped on load, and the judge."""

from __future__ import annotations

import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import train
from pix2pix.checkpoint import load_generator
from pix2pix.data.__main__ import main as data_main
from pix2pix.data.pairs import DatasetError, Roles, dataset_description, read_pairs
from pix2pix.data.palettes import CMP_FACADES
from pix2pix.evaluate import evaluate
from pix2pix.judge import Judge, class_indices, judge_path, label_scores, train_judge
from tests.synthetic import write_aligned, write_facades

COLORS = [tuple(c) for c in CMP_FACADES.colors]
TINY = ["--image-size", "64", "--load-size", "64", "--crop-size", "64", "--num-downs", "6", "--ngf", "8", "--d-ndf", "8"]


@pytest.fixture(scope="module")
def official(tmp_path_factory) -> Path:
    """A facades-format copy on disk, as the official archive unpacks: train/, val/, test/ of photo | labels JPEGs."""
    root = tmp_path_factory.mktemp("official")
    write_facades(root / "train", COLORS, n=12, seed=0)
    write_facades(root / "val", COLORS, n=2, seed=1)
    write_facades(root / "test", COLORS, n=6, seed=2)
    return root


@pytest.fixture(scope="module")
def facades(official, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("data") / "facades"
    assert data_main(["download", "facades", "--from", str(official), "--out", str(out)]) == 0
    return out


def palette_colors(images: torch.Tensor) -> set[tuple[int, ...]]:
    return {tuple(c) for c in images.permute(0, 2, 3, 1).reshape(-1, 3).unique(dim=0).tolist()}


def test_a_local_copy_records_the_cmp_palette_and_direction(facades):
    description = dataset_description(facades)
    assert description["palette"]["names"][:3] == ["background", "facade", "window"]
    assert [tuple(c) for c in description["palette"]["colors"]] == COLORS
    assert (description["input_kind"], description["direction"]) == ("labels", "BtoA")
    assert (description["n_train"], description["n_test"]) == (12, 6)


def test_loading_snaps_jpeg_ringing_to_the_palette(facades):
    description = dataset_description(facades)
    raw = read_pairs(facades / "train", 64, "BtoA")  # no roles: the label maps as the JPEGs hold them
    assert not palette_colors(raw.inputs) <= set(COLORS)  # the fixture does have ringing to remove
    pairs = read_pairs(facades / "train", 64, "BtoA", Roles.of(description, "BtoA"))
    assert palette_colors(pairs.inputs) <= set(COLORS)
    assert len(palette_colors(pairs.targets)) > 50  # photos are left alone


def test_the_judge_direction_snaps_the_targets(facades):
    description = dataset_description(facades)
    roles = Roles.of(description, "AtoB")
    assert (roles.input_kind, roles.target_kind) == ("photo", "labels")
    pairs = read_pairs(facades / "train", 64, "AtoB", roles)
    assert palette_colors(pairs.targets) <= set(COLORS)


def test_the_archive_paths_record_the_palette_too(official, tmp_path):
    archive = tmp_path / "facades.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(official, arcname="facades")
    out = tmp_path / "from-archive"
    assert data_main(["download", "facades", "--from", str(archive), "--out", str(out)]) == 0
    assert dataset_description(out)["palette"]["colors"] == [list(c) for c in COLORS]
    assert archive.is_file()  # a local archive is the user's: never deleted


def test_a_missing_local_copy_is_a_clear_error(tmp_path, capsys):
    assert data_main(["download", "facades", "--from", str(tmp_path / "nowhere"), "--out", str(tmp_path / "f")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_label_scores_on_a_hand_checked_case():
    truth = torch.tensor([[0, 0, 1, 1]])
    predicted = torch.tensor([[0, 1, 1, 1]])
    scores = label_scores(predicted, truth, n_classes=3)
    assert scores["accuracy"] == pytest.approx(3 / 4)
    assert scores["miou"] == pytest.approx((1 / 2 + 2 / 3) / 2)  # class 2 occurs nowhere: left out


def test_class_indices_pick_the_nearest_colour():
    pixels = torch.tensor([[0, 0, 220], [0, 50, 250], [250, 80, 5]], dtype=torch.uint8)  # near background, facade, molding
    image = pixels.T.reshape(1, 3, 3, 1)  # (N, 3, H, W): three pixels in a column
    assert class_indices(image, CMP_FACADES)[0, :, 0].tolist() == [0, 1, 9]


@pytest.fixture(scope="module")
def judged(facades, tmp_path_factory) -> Path:
    """The fixture's judge (photo -> classes, 15 s of cross-entropy), and a facades model."""
    runs = tmp_path_factory.mktemp("runs")
    train_judge(facades, minutes=0.25, ngf=8, lr=2e-3, size=64, progress=False)
    train.main(["--data", str(facades), "--runs", str(runs), "--sample-every", "0", "--batch-size", "4", *TINY,
                "--name", "facades", "--direction", "BtoA", "--max-steps", "2", "--export", str(runs / "facades.safetensors")])
    return runs / "facades.safetensors"


def test_the_judge_reads_real_photos_better_than_blank_or_shuffled_ones(facades, judged):
    judge = Judge(judge_path(facades), "cpu")
    pairs = read_pairs(facades / "test", 64, "BtoA", Roles.of(dataset_description(facades), "BtoA"))
    blank = torch.full_like(pairs.targets, 128)
    shuffled = pairs.targets.roll(1, dims=0)
    real = judge.scores(pairs.inputs, pairs.targets, pairs.targets)["judge_real_accuracy"]
    assert real > judge.scores(pairs.inputs, blank, pairs.targets)["judge_accuracy"] + 0.1
    assert real > judge.scores(pairs.inputs, shuffled, pairs.targets)["judge_accuracy"] + 0.1


def test_evaluate_reports_the_judge_for_a_labels_model(facades, judged):
    metrics = evaluate(judged, facades, device="cpu")
    for key in ("judge_accuracy", "judge_miou", "judge_real_accuracy", "judge_real_miou"):
        assert 0.0 <= metrics[key] <= 1.0
    assert metrics["judge_real_accuracy"] > metrics["judge_accuracy"]  # two steps of training paint no facade


def test_a_judge_must_turn_photos_into_label_maps(judged):
    from pix2pix.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="not a judge"):
        Judge(judged, "cpu")


def test_only_label_map_datasets_get_a_judge(tmp_path):
    write_aligned(tmp_path / "circles" / "train", n=4)
    with pytest.raises(DatasetError, match="not a label-map dataset"):
        train_judge(tmp_path / "circles", minutes=0.01, progress=False)


def test_snapping_agrees_with_the_canvas_rule():
    """The browser snaps by RGB distance; so does the server: a colour halfway in Lab but not in RGB goes the same way."""
    from pix2pix.data.labels import snap_to_palette

    colour = (0, 90, 250)
    expected = min(COLORS, key=lambda c: sum((a - b) ** 2 for a, b in zip(c, colour, strict=True)))
    assert snap_to_palette(Image.new("RGB", (1, 1), colour), CMP_FACADES).getpixel((0, 0)) == expected


def test_examples_are_held_out_label_maps_on_the_left(facades, tmp_path):
    assert data_main(["examples", "--data", str(facades), "--out", str(tmp_path / "ex"), "--count", "3"]) == 0
    files = sorted((tmp_path / "ex").glob("*.png"))
    assert len(files) == 3 and {f.stem for f in files} <= {p.stem for p in (facades / "test").iterdir()}
    with Image.open(files[0]) as pair:
        left = torch.from_numpy(np.asarray(pair.convert("RGB"))[:, : pair.width // 2].copy()).permute(2, 0, 1)[None]
    assert palette_colors(left) <= set(COLORS)  # the label map, snapped: what the facades tab starts from


def test_a_bare_folder_in_the_cmp_palette_is_recognised_by_train_py(official, tmp_path):
    bare = tmp_path / "bare"
    (bare / "train").mkdir(parents=True)
    for path in (official / "train").iterdir():
        (bare / "train" / path.name).write_bytes(path.read_bytes())
    description = dataset_description(bare)
    assert (description["task"], description["input_kind"], description["direction"]) == ("facades", "labels", "BtoA")
    out = tmp_path / "model.safetensors"
    train.main(["--data", str(bare), "--name", "bare", "--runs", str(tmp_path / "runs"), "--sample-every", "0", *TINY,
                "--direction", "BtoA", "--max-steps", "1", "--export", str(out)])
    info = load_generator(out)[1]
    assert (info.input_kind, info.palette["names"][2]) == ("labels", "window")


def test_a_folder_of_ordinary_pairs_is_not_mistaken_for_label_maps(tmp_path):
    write_aligned(tmp_path / "circles" / "train", n=4)
    assert dataset_description(tmp_path / "circles") == {}
