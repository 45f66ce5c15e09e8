"""Fixtures for the demo's tests: tiny random models saved as real checkpoints, with example pairs.

The bundled checkpoints are trained separately; tests must not depend on them, only on the file format.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from PIL import Image, ImageDraw

from pix2pix.checkpoint import ModelInfo, critic_path, save_discriminator, save_generator
from pix2pix.config import DiscriminatorConfig, GeneratorConfig
from pix2pix.data.palettes import CMP_FACADES
from pix2pix.models import PatchDiscriminator, ResizeConvolution, UNetGenerator, init_weights
from tests.synthetic import write_aligned

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

LABEL_PALETTE = {
    "names": ["background", "yellow", "brown", "red", "blue"],
    "colors": [[255, 255, 255], [250, 200, 20], [110, 60, 20], [220, 30, 40], [30, 90, 230]],
}


def save_fixture_model(path: Path, info: ModelInfo, seed: int, with_critic: bool = True,
                       config: GeneratorConfig = GeneratorConfig(ngf=8)) -> None:
    """A random ngf=8 generator (and ndf=8 critic): fast on a CPU, same checkpoint format as the real ones."""
    torch.manual_seed(seed)
    generator = UNetGenerator(config)
    for module in generator.modules():  # He init: a random net whose picture visibly reacts to strokes and dropout seeds
        if isinstance(module, (torch.nn.Conv2d, torch.nn.ConvTranspose2d, ResizeConvolution)):
            torch.nn.init.normal_(module.weight, 0.0, (2.0 / module.weight[0].numel()) ** 0.5)
    save_generator(path, generator, info)
    if with_critic:
        discriminator = PatchDiscriminator(DiscriminatorConfig(ndf=8))
        init_weights(discriminator)
        save_discriminator(critic_path(path), discriminator)


def save_example_pair(path: Path, drawing: Image.Image) -> None:
    """An aligned A|B pair as the held-out examples are stored: drawing left, (here: grey) truth right."""
    pair = Image.new("RGB", (512, 256), (128, 128, 128))
    pair.paste(drawing, (0, 0))
    path.parent.mkdir(parents=True, exist_ok=True)
    pair.save(path)


def edges_drawing() -> Image.Image:
    image = Image.new("RGB", (256, 256), "white")
    ImageDraw.Draw(image).ellipse((48, 48, 208, 208), outline="black", width=3)
    return image


def labels_drawing() -> Image.Image:
    image = Image.new("RGB", (256, 256), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((40, 40, 216, 216), fill=tuple(LABEL_PALETTE["colors"][1]))
    draw.rectangle((90, 150, 166, 170), fill=tuple(LABEL_PALETTE["colors"][3]))
    return image


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """checkpoints/ with an edges model, two labels models and a broken file; examples/ beside it."""
    root = tmp_path_factory.mktemp("studio")
    checkpoints = root / "checkpoints"
    save_fixture_model(checkpoints / "edges2things.safetensors", ModelInfo(task="edges2things", input_kind="edges"), seed=1)
    labels_info = ModelInfo(task="labels2things", input_kind="labels", palette=LABEL_PALETTE)
    save_fixture_model(checkpoints / "labels2things.safetensors", labels_info, seed=2, with_critic=False)
    walls_info = ModelInfo(task="walls", input_kind="labels", palette=CMP_FACADES.to_dict())
    save_fixture_model(checkpoints / "walls.safetensors", walls_info, seed=3, with_critic=False)  # the CMP facades palette
    (checkpoints / "broken.safetensors").write_bytes(b"this is not a checkpoint")
    for index in range(2):
        save_example_pair(root / "examples" / "edges2things" / f"{index}.png", edges_drawing().rotate(30 * index, fillcolor="white"))
        save_example_pair(root / "examples" / "labels2things" / f"{index}.png", labels_drawing().rotate(30 * index, fillcolor="white"))
    return root


@pytest.fixture(scope="session")
def checkpoints_dir(model_folder: Path) -> Path:
    return model_folder / "checkpoints"


@pytest.fixture(scope="session")
def examples_dir(model_folder: Path) -> Path:
    return model_folder / "examples"


@pytest.fixture(scope="session")
def studio_url(checkpoints_dir: Path, examples_dir: Path) -> Iterator[str]:
    """The studio served on loopback, for the client and browser tests."""
    from demo.app import build_app, launch

    app = build_app(checkpoints_dir, examples_dir, device="cpu")
    url = launch(app, host="127.0.0.1", prevent_thread_lock=True, quiet=True)  # gradio picks a free port
    yield url
    app.close()


@pytest.fixture
def fake_cpuinfo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Point pix2pix.machine at a /proc/cpuinfo of our own, listing `flags`."""
    def write(flags: str) -> None:
        path = tmp_path / "cpuinfo"
        path.write_text(f"processor\t: 0\nmodel name\t: Test CPU @ 2.00GHz\nflags\t\t: {flags}\n\nprocessor\t: 1\n")
        monkeypatch.setattr("pix2pix.machine.CPUINFO", path)
    return write


@pytest.fixture
def tiny_setup(tmp_path):
    """4 aligned 256x256 pairs in data/test and a random ngf=8 edges->image generator (fp16, as shipped)."""
    write_aligned(tmp_path / "data" / "test", n=4, size=256)
    torch.manual_seed(0)
    checkpoint = tmp_path / "elsewhere" / "tiny.safetensors"
    save_generator(checkpoint, UNetGenerator(GeneratorConfig(ngf=8)), ModelInfo(task="edges2circles", input_kind="edges"))
    return tmp_path / "data", checkpoint
