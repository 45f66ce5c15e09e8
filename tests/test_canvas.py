"""One place decides what a model is drawn with: pencil, class brushes or a photo."""

from __future__ import annotations

import pytest
from PIL import Image

from pix2pix.canvas import PENCIL, PENCIL_WIDEST, WIDEST, Canvas
from pix2pix.checkpoint import CheckpointError, ModelInfo
from pix2pix.data.palettes import CMP_FACADES

CMP = CMP_FACADES.to_dict()


def test_edges_models_get_a_pencil_of_their_trained_width_on_white_paper():
    canvas = Canvas.for_model(ModelInfo(input_kind="edges", pencil_width=3))
    assert (canvas.tool, canvas.paper, canvas.line_width) == ("pencil", (255, 255, 255), 3)
    assert canvas.widest == PENCIL_WIDEST < WIDEST  # a thick pencil's blots are no sketch the model learned
    assert canvas.inks == [("Pencil", (0, 0, 0))] and canvas.palette == PENCIL


def test_labels_models_get_class_brushes_on_the_background_class_never_a_pencil():
    canvas = Canvas.for_model(ModelInfo(input_kind="labels", palette=CMP))
    assert canvas.tool == "brushes" and canvas.paper == (0, 0, 222) and canvas.widest == WIDEST
    assert [name for name, _ in canvas.inks][:3] == ["facade", "window", "door"] and len(canvas.inks) == 11
    assert "Pencil" not in dict(canvas.inks)
    blurred = Image.new("RGB", (2, 1), (5, 50, 250))  # an antialiased facade stroke
    assert {tuple(c) for _, c in canvas.snap(blurred).getcolors()} == {(0, 48, 255)}


def test_photo_models_get_a_photo_and_nothing_is_snapped():
    canvas = Canvas.for_model(ModelInfo(input_kind="photo", palette=CMP))  # e.g. the facades judge
    assert canvas.tool == "photo" and canvas.palette is None and canvas.inks == []
    photo = Image.new("RGB", (2, 1), (123, 45, 67))
    assert canvas.snap(photo) is photo


@pytest.mark.parametrize(("info", "message"), [
    (ModelInfo(input_kind="labels", palette=None), "without a palette"),
    (ModelInfo(input_kind="sound"), "not one of edges, labels, photo"),
])
def test_a_model_nobody_could_draw_for_is_refused(info, message):
    with pytest.raises(CheckpointError, match=message):
        Canvas.for_model(info)
