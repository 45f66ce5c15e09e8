"""Dataset preparation on a few real emoji: edge maps, label maps, the grouped split and the CLI."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pix2pix.data import emoji
from pix2pix.data.__main__ import main
from pix2pix.data.edges import edges_from_photo
from pix2pix.data.labels import Palette, colour_name, labels_from_photo, learn_palette, snap_to_palette
from pix2pix.data.split import emoji_group, is_test

EMOJI = Path(__file__).parent / "assets" / "emoji"
WAVING_HANDS = ("1f44b", "1f44b-1f3fd", "1f44b-1f3ff")  # one emoji in three skin tones


def open_rgba(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("RGBA")


def flatten(image: Image.Image) -> Image.Image:
    canvas = Image.new("RGB", image.size, (255, 255, 255))
    canvas.paste(image, mask=image.getchannel("A"))
    return canvas


@pytest.fixture(scope="module")
def palette() -> Palette:
    return learn_palette([open_rgba(path) for path in sorted(EMOJI.glob("*.webp"))], n_classes=8)


@pytest.fixture(scope="module")
def label_dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("labels") / "labels2emoji"
    assert main(["emoji", "--kind", "labels", "--source", str(EMOJI), "--out", str(out), "--classes", "8",
                 "--test-fraction", "0.5"]) == 0
    return out


def test_edges_are_thin_black_lines_on_white_with_the_silhouette_drawn() -> None:
    ghost = open_rgba(EMOJI / "1f47b.webp")
    edges = np.asarray(edges_from_photo(ghost))
    assert edges.shape == (256, 256, 3) and set(np.unique(edges)) <= {0, 255}
    black = (edges[..., 0] == 0).mean()
    assert 0.01 < black < 0.2
    alpha = np.asarray(ghost.getchannel("A")) >= 128
    rim = alpha & ~np.pad(alpha, 1)[2:, 1:-1] | alpha & ~np.pad(alpha, 1)[:-2, 1:-1]  # opaque pixels on the outline
    near_line = np.zeros_like(alpha)
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            near_line |= np.roll(edges[..., 0] == 0, (dy, dx), axis=(0, 1))
    assert near_line[rim].mean() > 0.95


@pytest.mark.parametrize("size", [(1, 1), (37, 91), (700, 300)])
def test_edges_work_at_any_size(size: tuple[int, int]) -> None:
    photo = Image.fromarray(np.random.default_rng(0).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8))
    assert edges_from_photo(photo).size == size


def test_palette_has_white_background_unique_names_and_survives_json(palette: Palette) -> None:
    assert palette.names[0] == "background" and palette.colors[0] == (255, 255, 255)
    assert len(palette.colors) == len(palette.names) == 8 and len(set(palette.names)) == 8
    assert len(set(palette.colors)) == 8
    assert Palette.from_dict(palette.to_dict()) == palette
    minimal = Palette.from_dict({"names": ["background", "red"], "colors": [[255, 255, 255], [255, 0, 0]]})
    assert minimal == Palette(names=("background", "red"), colors=((255, 255, 255), (255, 0, 0)))  # no centres: classify by colours


@pytest.mark.parametrize(("color", "name"), [
    ((0, 0, 0), "black"), ((128, 128, 128), "grey"), ((200, 200, 200), "light grey"),
    ((255, 0, 0), "red"), ((255, 200, 200), "light pink"), ((255, 128, 0), "orange"),
    ((255, 255, 0), "yellow"), ((244, 182, 54), "yellow"), ((255, 255, 180), "light yellow"),  # yellow is light by nature
    ((0, 0, 255), "blue"), ((0, 0, 139), "dark blue"),  # and blue dark
    ((0, 200, 0), "green"), ((0, 100, 0), "dark green"), ((150, 255, 150), "light green"),
    ((139, 69, 19), "dark brown"), ((97, 59, 67), "dark brown"), ((228, 151, 116), "tan"),  # not "black", not "brown"
    ((128, 0, 128), "dark purple"), ((255, 105, 180), "pink"),
])
def test_classes_get_the_names_a_person_would_use(color: tuple[int, int, int], name: str) -> None:
    assert colour_name(color) == name


def test_label_maps_use_palette_colours_and_alpha_decides_the_background(palette: Palette) -> None:
    ghost = open_rgba(EMOJI / "1f47b.webp")  # a white object: it must not merge with the white background
    alpha = np.asarray(ghost.getchannel("A"))
    labels = np.asarray(labels_from_photo(flatten(ghost), palette, alpha))
    colours = {tuple(c) for c in labels.reshape(-1, 3)}
    assert colours <= set(palette.colors)
    background = (labels == 255).all(axis=2)
    assert np.array_equal(background, alpha < 128)


def test_snap_to_palette_maps_every_pixel_to_a_palette_colour(palette: Palette) -> None:
    painted = Image.fromarray(np.random.default_rng(1).integers(0, 256, (20, 30, 3), dtype=np.uint8))
    snapped = np.asarray(snap_to_palette(painted, palette))
    assert snapped.shape == (20, 30, 3) and {tuple(c) for c in snapped.reshape(-1, 3)} <= set(palette.colors)


def test_variants_share_a_group_and_the_split_is_stable() -> None:
    assert len({emoji_group(stem) for stem in WAVING_HANDS}) == 1
    assert emoji_group("1f3c3-200d-2640-fe0f") == emoji_group("1f3c3-1f3fb-200d-2642-fe0f")
    assert emoji_group("2764-fe0f") == "2764" and emoji_group("holiday_photo") == "holiday_photo"
    assert is_test("1f44b", 0.3) == is_test("1f44b", 0.3)
    assert not is_test("1f44b", 0.0) and is_test("1f44b", 1.0)


def test_label_dataset_is_aligned_pairs_with_palette_colours(label_dataset: Path) -> None:
    description = json.loads((label_dataset / "dataset.json").read_text())
    assert description["task"] == "labels2emoji" and description["input_kind"] == "labels"
    assert "MIT" in description["license"] and "fluent-emoji-3d" in description["source"]
    assert description["n_train"] + description["n_test"] == 7
    palette = Palette.from_dict(description["palette"])
    pairs = {path.stem: path for path in sorted(label_dataset.glob("*/*.png"))}
    assert len(pairs) == 7 and description["n_test"] == len(list((label_dataset / "test").glob("*.png")))
    for stem, path in pairs.items():
        pair = np.asarray(Image.open(path))
        assert pair.shape == (256, 512, 3)
        labels, photo = pair[:, :256], pair[:, 256:]
        assert {tuple(c) for c in labels.reshape(-1, 3)} <= set(palette.colors)
        alpha = np.asarray(open_rgba(EMOJI / f"{stem}.webp").getchannel("A"))
        assert np.array_equal((labels == 255).all(axis=2), alpha < 128)
        assert np.array_equal(photo, np.asarray(flatten(open_rgba(EMOJI / f"{stem}.webp"))))
    assert len({pairs[stem].parent.name for stem in WAVING_HANDS}) == 1  # variants on one side


def test_edge_dataset_from_a_folder_skips_unreadable_files(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    images = tmp_path / "drawings"
    images.mkdir()
    flatten(open_rgba(EMOJI / "1f600.webp")).resize((300, 200)).save(images / "smile.jpg")
    (images / "broken.png").write_bytes(b"not a png at all")
    (images / "notes.txt").write_text("ignored: not an image suffix")
    out = tmp_path / "out"
    assert main(["edges", "--images", str(images), "--out", str(out)]) == 0
    assert "skipped 1 unreadable" in capsys.readouterr().err
    description = json.loads((out / "dataset.json").read_text())
    assert description["task"] == "edges2drawings" and description["palette"] is None
    (pair,) = out.glob("*/*.png")
    edges = np.asarray(Image.open(pair))[:, :256]
    assert Image.open(pair).size == (512, 256) and 0.5 < (edges == 255).all(axis=2).mean() < 0.99


@pytest.mark.parametrize("setup, argv, message", [
    ("empty", ["edges", "--images", "{images}", "--out", "{out}"], "holds no image files"),
    ("missing", ["labels", "--images", "{images}", "--out", "{out}"], "is not a folder"),
    ("broken", ["edges", "--images", "{images}", "--out", "{out}"], "none of the 1 files could be read"),
    ("empty", ["emoji", "--kind", "edges", "--source", "{images}", "--out", "{out}"], "holds no .webp"),
    ("broken", ["labels", "--images", "{images}", "--out", "{out}", "--classes", "1"], "--classes"),
    ("broken", ["edges", "--images", "{images}", "--out", "{out}", "--test-fraction", "1.5"], "--test-fraction"),
])
def test_bad_input_gives_one_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture, setup: str, argv: list[str],
                                          message: str) -> None:
    images = tmp_path / "images"
    if setup != "missing":
        images.mkdir()
    if setup == "broken":
        (images / "broken.webp").write_bytes(b"RIFF0000WEBPjunk")
    argv = [arg.format(images=images, out=tmp_path / "out") for arg in argv]
    assert main(argv) == 1
    error = capsys.readouterr().err.strip().split("\n")[-1]  # after the progress bar, if any
    assert error.startswith("error:") and message in error


def test_bad_arguments_are_refused_by_the_parser(capsys: pytest.CaptureFixture) -> None:
    for argv in (["emoji", "--kind", "photos", "--out", "x"], ["edges", "--out", "x"], ["download"]):
        with pytest.raises(SystemExit) as exit_info:
            main(argv)
        assert exit_info.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_the_emoji_package_tgz_is_a_source_and_missing_npm_is_explained(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "fluent-emoji-3d.tgz"
    with tarfile.open(package, "w:gz") as tar:
        tar.add(EMOJI / "1f600.webp", "package/assets/1f600.webp")
    folder = emoji.emoji_folder(package, tmp_path / "work")
    assert [p.name for p in folder.glob("*.webp")] == ["1f600.webp"]
    monkeypatch.setattr(emoji.shutil, "which", lambda name: None)
    with pytest.raises(emoji.SourceError, match="npm is not installed.*--source"):
        emoji.emoji_folder(None, tmp_path)


def test_a_folder_that_is_not_a_dataset_is_not_overwritten(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "photos.txt").write_text("someone's files")
    assert main(["emoji", "--kind", "edges", "--source", str(EMOJI), "--out", str(tmp_path)]) == 1
    assert "not empty and holds no dataset.json" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photos.txt"]
