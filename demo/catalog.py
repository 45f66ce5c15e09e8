"""The models the demo serves: every checkpoint in a folder, loaded once, and the reasons for those that fail."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from PIL import Image

from pix2pix.images import ImageError, image_files, open_image
from pix2pix.translate import Translator, find_checkpoints


@dataclass
class Catalog:
    """Loaded models by name, and a message for each checkpoint that could not be loaded."""

    translators: dict[str, Translator] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)


def load_catalog(checkpoints_dir: str | Path, device: str | torch.device = "auto") -> Catalog:
    """Load every generator in `checkpoints_dir`; one bad file costs only its own tab."""
    catalog = Catalog()
    for name, path in find_checkpoints(checkpoints_dir).items():
        try:
            catalog.translators[name] = Translator(path, device)
        except Exception as error:  # any failure, CheckpointError or not, must disable only this model
            catalog.failures[name] = f"{path.name} could not be loaded: {error}"
    return catalog


def example_drawings(folder: str | Path) -> list[Image.Image]:
    """The drawings (left halves) of the aligned A|B example pairs in `folder`; unreadable files are left out."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    drawings = []
    for path in image_files(folder):
        try:
            pair = open_image(path)
        except ImageError:
            continue
        drawings.append(pair.crop((0, 0, pair.width // 2, pair.height)))
    return drawings
