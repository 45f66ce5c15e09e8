"""The demo's handlers, called directly: every input kind, and every kind of bad input rejected with a message
(gr.Error: shown in the page, an error for API callers) that leaves the canvas and the picture as they were."""

from __future__ import annotations

import io
from pathlib import Path

import gradio as gr
import numpy as np
import pytest
from conftest import LABEL_PALETTE, edges_drawing, labels_drawing, save_fixture_model
from PIL import Image

from demo.catalog import example_drawings, load_catalog
from demo.handlers import ModelHandlers
from demo.picture import picture_url
from demo.sketchpad import MAX_DATA_URL_CHARS, from_data_url, to_data_url
from pix2pix.checkpoint import ModelInfo, critic_path
from pix2pix.critic import realness_overlay
from pix2pix.translate import Translator

SKIP = gr.skip()


def rejects(message: str):
    return pytest.raises(gr.Error, match=message)


def picture(value: str) -> Image.Image:
    """The picture in a handler's answer, which is a JPEG data URL."""
    assert value.startswith("data:image/jpeg;base64,")
    return from_data_url(value)


@pytest.fixture(scope="module")
def catalog(checkpoints_dir: Path):
    return load_catalog(checkpoints_dir, device="cpu")


@pytest.fixture(scope="module")
def edges(catalog, examples_dir: Path) -> ModelHandlers:
    return ModelHandlers(catalog.translators["edges2things"], example_drawings(examples_dir / "edges2things"))


@pytest.fixture(scope="module")
def labels(catalog, examples_dir: Path) -> ModelHandlers:
    return ModelHandlers(catalog.translators["labels2things"], example_drawings(examples_dir / "labels2things"))


def png_bytes(image: Image.Image, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=options.pop("format", "PNG"), **options)
    return buffer.getvalue()


def test_catalog_loads_good_models_and_reports_the_broken_one(catalog):
    assert set(catalog.translators) == {"edges2things", "labels2things", "walls"}
    assert "broken.safetensors" in catalog.failures["broken"]
    assert catalog.translators["labels2things"].canvas.palette.names == tuple(LABEL_PALETTE["names"])


def test_examples_are_the_left_halves(edges):
    assert len(edges.examples) == 2
    assert all(example.size == (256, 256) for example in edges.examples)
    assert np.asarray(edges.examples[0]).min() == 0  # the drawn circle, not the grey right half


@pytest.mark.parametrize("kind", ["edges", "labels"])
def test_translate_each_input_kind(kind, edges, labels):
    handlers, drawing = (edges, edges_drawing()) if kind == "edges" else (labels, labels_drawing())
    output = picture(handlers.translate(to_data_url(drawing)))
    assert output.size == (256, 256) and output.mode == "RGB"
    assert output != picture(handlers.translate(handlers.blank_canvas()))


def test_the_picture_is_the_translation(edges):
    drawing = edges_drawing()
    assert edges.translate(to_data_url(drawing)) == picture_url(edges.translator.translate(drawing))


def test_the_picture_keeps_a_photo_within_a_level_or_two():
    """JPEG at the picture's quality, on a smooth photo-like image (the fixture models paint noise)."""
    y, x = np.mgrid[0:256, 0:256]
    photo = np.stack([x, y, (x + y) // 2], -1).astype(np.uint8)
    photo[64:192, 64:192] = (200, 40, 40)  # a sharp-edged block, like a window
    sent = np.asarray(picture(picture_url(Image.fromarray(photo))), np.float32)
    assert np.abs(sent - photo).mean() < 1.5


@pytest.mark.parametrize("canvas", [None, ""])
def test_empty_canvas_is_blank_paper(edges, canvas):
    assert edges.translate(canvas) == edges.translate(edges.blank_canvas())


def test_label_canvas_starts_as_background_class(labels):
    background = from_data_url(labels.blank_canvas())
    assert background.getcolors() == [(256 * 256, tuple(LABEL_PALETTE["colors"][0]))]


def test_canvas_value_round_trips_a_drawing():
    drawing = labels_drawing()
    assert to_data_url(drawing).startswith("data:image/png;base64,")
    assert from_data_url(to_data_url(drawing)) == drawing


@pytest.mark.parametrize(("value", "message"), [
    ("hello", "not an image"),
    ("data:text/plain;base64,aGVsbG8=", "not an image"),
    ("data:image/png;base64,not base64!", "not valid base64"),
    ("data:image/png;base64,aGVsbG8=", "not an image that can be read"),
    ("data:image/png;base64," + "A" * MAX_DATA_URL_CHARS, "too large"),
    ("data:image/png;base64,aGVsbG8=é", "not valid base64"),
    (42, "must be a PNG data URL, not a int"),
    (["data:image/png;base64,aGVsbG8="], "not a list"),
    ({"image": "x"}, "not a dict"),
], ids=["not-a-url", "text", "bad-base64", "not-png", "too-long", "non-ascii", "number", "list", "dict"])
def test_bad_canvas_values_are_rejected(edges, value, message):
    with rejects(message):
        edges.translate(value)


@pytest.mark.parametrize("image", [
    Image.new("RGBA", (300, 200), (0, 0, 0, 0)),
    Image.new("L", (64, 64), 255),
    Image.new("CMYK", (256, 256), (0, 0, 0, 0)),
    Image.fromarray(np.full((128, 128), 40000, np.uint16)),
    Image.new("RGB", (1, 1), "black"),
], ids=["rgba", "grayscale", "cmyk", "16-bit", "1x1"])
def test_odd_images_translate(edges, labels, image, tmp_path: Path):
    for handlers in (edges, labels):
        assert picture(handlers.translate(image)).size == (256, 256)  # as an API caller may send it
        canvas, output = handlers.load_photo(_saved(image, tmp_path))
        assert from_data_url(canvas).size == (256, 256) and picture(output).size == (256, 256)


def _saved(image: Image.Image, folder: Path) -> str:
    path = folder / ("photo.tif" if image.mode == "CMYK" else "photo.png")  # PNG has no CMYK
    image.save(path)
    return str(path)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # PIL notices first; open_image refuses it
def test_huge_image_is_rejected(edges, tmp_path: Path):
    huge = Image.new("L", (10_000, 10_000), 255)
    with rejects("too large"):
        edges.translate(to_data_url(huge))
    path = tmp_path / "huge.png"
    huge.save(path)
    with rejects("too large"):
        edges.load_photo(str(path))


@pytest.mark.parametrize(("name", "content", "message"), [
    ("corrupt.png", png_bytes(edges_drawing())[:400], "corrupt|truncated|cannot be read"),
    ("notes.txt", b"this is a text file, not a picture\n", "not an image"),
    ("empty.png", b"", "not an image"),
])
def test_bad_uploads_are_rejected_by_name(edges, labels, tmp_path: Path, name, content, message):
    path = tmp_path / name
    path.write_bytes(content)
    for handlers in (edges, labels):
        with rejects(message) as error:
            handlers.load_photo(str(path))
        assert name in str(error.value) and str(tmp_path) not in str(error.value)  # no server paths


def test_no_upload_changes_nothing(edges):
    assert edges.load_photo(None) == SKIP


def test_photo_becomes_edges_on_the_canvas(edges, tmp_path: Path):
    photo = Image.new("RGB", (640, 480), (30, 120, 200))
    photo.paste((250, 210, 30), (200, 120, 440, 360))
    canvas, output = edges.load_photo(_saved(photo, tmp_path))
    pixels = np.asarray(from_data_url(canvas))
    assert set(np.unique(pixels)) <= {0, 255} and (pixels == 0).any()  # black lines on white
    assert picture(output).size == (256, 256)


def test_photo_becomes_palette_labels(labels, tmp_path: Path):
    photo = Image.new("RGB", (300, 300), "white")
    photo.paste((250, 200, 20), (50, 50, 250, 250))
    canvas, _ = labels.load_photo(_saved(photo, tmp_path))
    colors = {color for _, color in from_data_url(canvas).getcolors()}
    assert colors <= {tuple(c) for c in LABEL_PALETTE["colors"]} and (250, 200, 20) in colors


def test_example_click_loads_and_translates(edges):
    canvas, output = edges.load_example(gr.SelectData(None, {"index": 1, "value": None}))
    assert from_data_url(canvas) == edges.examples[1]
    assert output == edges.translate(canvas)


def test_fill_background_keeps_the_painting(labels):
    canvas, output = labels.fill_background(to_data_url(labels_drawing()), "blue")
    filled = np.asarray(from_data_url(canvas))
    assert (filled[0, 0] == LABEL_PALETTE["colors"][4]).all()  # the corner was background
    assert (filled[128, 128] == LABEL_PALETTE["colors"][1]).all()  # the painted face stays yellow
    assert picture(output).size == (256, 256)
    with rejects("classes"):
        labels.fill_background(to_data_url(labels_drawing()), "no such class")


def test_variations_differ_from_each_other(edges):
    pictures = edges.variations(to_data_url(edges_drawing()), 3, 7)
    assert [caption for _, caption in pictures] == ["seed 7", "seed 8", "seed 9"]
    arrays = [np.asarray(picture) for picture, _ in pictures]
    assert not np.array_equal(arrays[0], arrays[1]) and not np.array_equal(arrays[1], arrays[2])
    again = edges.variations(to_data_url(edges_drawing()), 1, 7)
    assert np.array_equal(np.asarray(again[0][0]), arrays[0])  # a seed reproduces its picture
    assert len(edges.variations(None, 100, None)) == 8  # bounded, and an empty canvas is fine
    for seed in (2**64, -1):
        with rejects("first seed must be"):
            edges.variations(None, 2, seed)


def test_critic_overlay_has_the_output_size(edges):
    overlay = edges.critic_view(to_data_url(edges_drawing()))
    assert isinstance(overlay, Image.Image) and overlay.size == (256, 256)


def test_model_without_critic_says_so(labels):
    with rejects("no critic"):
        labels.critic_view(to_data_url(labels_drawing()))


def test_realness_overlay_colours():
    white = Image.new("RGB", (64, 64), "white")
    real, fake = realness_overlay(white, np.ones((30, 30))), realness_overlay(white, np.zeros((30, 30)))
    assert real.size == (64, 64)
    r, g, _ = real.getpixel((10, 10))
    assert g > r  # green = looks real
    r, g, _ = fake.getpixel((10, 10))
    assert r > g
    with pytest.raises(ValueError, match="2-D"):
        realness_overlay(white, np.ones(5))


def test_a_broken_critic_costs_only_the_critic_view(tmp_path):
    save_fixture_model(tmp_path / "model.safetensors", ModelInfo(task="t", input_kind="edges"), seed=4)
    critic_path(tmp_path / "model.safetensors").write_bytes(b"not a checkpoint")
    handlers = ModelHandlers(Translator(tmp_path / "model.safetensors", "cpu"))
    assert picture(handlers.translate(to_data_url(edges_drawing()))).size == (256, 256)  # the generator still serves
    with rejects("critic cannot be used: model.critic.safetensors cannot be read"):
        handlers.critic_view(to_data_url(edges_drawing()))


def test_concurrent_variations_share_no_state(edges):
    from concurrent.futures import ThreadPoolExecutor

    drawing = to_data_url(edges_drawing())
    plain = edges.translate(drawing)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: edges.variations(drawing, 2, 5), range(4)))
    first = [np.asarray(picture) for picture, _ in results[0]]
    for result in results[1:]:
        assert all(np.array_equal(a, np.asarray(b)) for a, (b, _) in zip(first, result, strict=True))
    assert edges.translate(drawing) == plain  # variations leave the plain picture alone
