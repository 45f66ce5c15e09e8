"""What a person draws a model's input with, decided once from its checkpoint.

Edges models get a black pencil on white paper, label-map models brushes in their palette's class
colours on the background class, photo-input models a photo to start from. The studio's page, its
handlers and the Translator all read this answer instead of asking `palette is None` themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from PIL import Image

from pix2pix.checkpoint import CheckpointError, ModelInfo
from pix2pix.data.labels import Palette, snap_to_palette

WHITE = (255, 255, 255)
PENCIL = Palette(names=("paper", "Pencil"), colors=(WHITE, (0, 0, 0)))  # ink on paper: an edges model's two colours
BRUSH_WIDTH = 12  # label regions are painted broad
WIDEST = 48  # brushes and the eraser go this wide: label regions and rubbing out are broad
PENCIL_WIDEST = 8  # bench_sketch_fill --widths 8 12: the edges model fills every outline at 8 px, not at 12
LIVE_FRAME_SECONDS = 0.08  # models at least this fast follow the pen while it moves, not only after each stroke


@dataclass(frozen=True)
class Canvas:
    """The drawing surface for one model."""

    tool: Literal["pencil", "brushes", "photo"]
    palette: Palette | None  # the colours a drawing is snapped to (index 0 = blank canvas); None for photos
    line_width: int  # the pencil's or brush's starting width
    widest: int  # how wide the pencil or brush goes (the eraser always goes to WIDEST)

    @classmethod
    def for_model(cls, info: ModelInfo) -> Canvas:
        if info.input_kind == "edges":
            return cls("pencil", PENCIL, info.pencil_width, PENCIL_WIDEST)
        if info.input_kind == "labels":
            if not info.palette:
                raise CheckpointError("it is a label-map model without a palette, so nobody can paint its classes; "
                                      "retrain it from a dataset.json that records the palette")
            return cls("brushes", Palette.from_dict(info.palette), BRUSH_WIDTH, WIDEST)
        if info.input_kind == "photo":
            return cls("photo", None, 0, 0)
        raise CheckpointError(f"its input kind {info.input_kind!r} is not one of edges, labels, photo")

    @property
    def paper(self) -> tuple[int, int, int]:
        """The colour of a blank canvas: white paper, or the background class."""
        return tuple(self.palette.colors[0]) if self.palette else WHITE

    @property
    def inks(self) -> list[tuple[str, tuple[int, int, int]]]:
        """(name, colour) of what can be drawn with: the pencil, or every class but the background."""
        if self.palette is None:
            return []
        return list(zip(self.palette.names[1:], self.palette.colors[1:], strict=True))

    def blank(self, size: int) -> Image.Image:
        return Image.new("RGB", (size, size), self.paper)

    def snap(self, image: Image.Image) -> Image.Image:
        """Every pixel to the nearest canvas colour (the browser's rule too): what the model sees is what was drawn."""
        return snap_to_palette(image, self.palette) if self.tool == "brushes" else image
