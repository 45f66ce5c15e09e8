"""Reading paired training data into memory: aligned A|B images or A/ and B/ folders.

Datasets for pix2pix are small (hundreds to thousands of images), so they are decoded once
into uint8 tensors that can live on the GPU; training then never waits for a data loader.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from pix2pix.data.labels import Palette, snap_to_palette
from pix2pix.data.palettes import NAMED_PALETTES
from pix2pix.images import ImageError, image_files, open_image


class DatasetError(ValueError):
    """A dataset folder that cannot be used, with a message that says how to fix it."""


@dataclass
class Pairs:
    """Input and target images of one split, uint8 (N, 3, H, W), in the training direction."""

    inputs: torch.Tensor
    targets: torch.Tensor
    names: list[str]

    def __len__(self) -> int:
        return len(self.names)

    def take(self, index: torch.Tensor | range) -> Pairs:
        """The pairs at `index`, in that order: a test's first few, or a random sample."""
        index = torch.as_tensor(index, dtype=torch.long)
        return Pairs(self.inputs[index], self.targets[index], [self.names[i] for i in index.tolist()])


def dataset_description(root: str | Path) -> dict:
    """The dataset.json written by `python -m pix2pix.data` (task, input kind, direction, palette); for a bare
    folder of pairs, what its images show: a side painted in a known palette is its label map. Else {}."""
    path = Path(root) / "dataset.json"
    if not path.is_file():
        return _recognised_labels(Path(root))
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DatasetError(f"{path} is not valid JSON: {error}") from None


SAMPLED_PAIRS = 8  # enough to tell a label map from a photo
PALETTE_TOLERANCE = 60.0  # RGB distance within which a pixel counts as a palette colour (JPEG ringing included)
LABEL_SHARE, PHOTO_SHARE = 0.75, 0.3  # label maps lie near their palette (CMP facades: 80-97 %), photos do not (0 %)


def _recognised_labels(root: Path) -> dict:
    """A description for a folder without dataset.json whose A or B side uses one of the named palettes."""
    folder = root / "train" if (root / "train").is_dir() else root
    if not folder.is_dir():
        return {}
    sources = _folder_pairs(folder) if (folder / "A").is_dir() and (folder / "B").is_dir() else [(p, p) for p in image_files(folder)]
    sides: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    for a_path, b_path in sources[:SAMPLED_PAIRS]:
        try:
            pair = _read_pair(a_path, b_path)
        except DatasetError:
            continue
        for side, image in zip(sides, pair, strict=True):
            side.append(np.asarray(image.convert("RGB"), np.float32).reshape(-1, 3)[::7])
    if not sides[0]:
        return {}
    for name, palette in NAMED_PALETTES.items():
        near = [_share_near(np.concatenate(side), palette) for side in sides]
        for (labels, photo), direction in (((near[0], near[1]), "AtoB"), ((near[1], near[0]), "BtoA")):
            if labels >= LABEL_SHARE and photo <= PHOTO_SHARE:
                return {"task": name, "input_kind": "labels", "direction": direction, "palette": palette.to_dict(),
                        "source": str(root),
                        "recognised": f"the {'A' if direction == 'AtoB' else 'B'} side is painted in the {name} palette"}
    return {}


def _share_near(pixels: np.ndarray, palette: Palette) -> float:
    """The share of RGB `pixels` (N, 3) within PALETTE_TOLERANCE of one of the palette's colours."""
    colors = np.asarray(palette.colors, np.float32)
    return float((np.sqrt(((pixels[:, None, :] - colors[None]) ** 2).sum(-1)).min(axis=1) < PALETTE_TOLERANCE).mean())


@dataclass(frozen=True)
class Roles:
    """What the two sides of a dataset are in one training direction: each 'labels', 'edges' or 'photo'.

    dataset.json names the input kind for its own direction (facades: labels, BtoA); training the other way
    round (photo -> labels, e.g. the facades judge) swaps the roles.
    """

    input_kind: str
    target_kind: str
    palette: Palette | None  # the label colours, on whichever side holds the label map

    @classmethod
    def of(cls, description: dict, direction: str) -> Roles:
        palette = Palette.from_dict(description["palette"]) if description.get("palette") else None
        kind = description.get("input_kind", "photo")
        if direction == description.get("direction", "AtoB"):
            return cls(kind, "photo", palette)
        return cls("photo", kind, palette)


def split_folder(root: str | Path, split: str) -> Path:
    """`root/split` when it exists (the official layout), else `root` itself for split 'train'."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"dataset folder {root} does not exist")
    if (root / split).is_dir():
        return root / split
    if split == "train":
        return root
    raise DatasetError(f"{root} has no '{split}' folder")


def read_pairs(folder: str | Path, image_size: int = 256, direction: str = "AtoB", roles: Roles | None = None) -> Pairs:
    """Decode every pair in `folder`, resized to `image_size`. A label-map side (per `roles`) is snapped to
    its palette, so JPEG ringing at class borders becomes no extra colours, and resized nearest: its
    colours are classes and must not be blended."""
    roles = roles or Roles("photo", "photo", None)
    label_a, label_b = (roles.input_kind == "labels", roles.target_kind == "labels")[:: 1 if direction == "AtoB" else -1]
    folder = Path(folder)
    if (folder / "A").is_dir() and (folder / "B").is_dir():
        sources = _folder_pairs(folder)
    else:
        sources = [(path, path) for path in image_files(folder)]
    if not sources:
        raise DatasetError(f"{folder} holds no images (expected aligned A|B images, or A/ and B/ folders)")
    a_list, b_list = [], []
    for a_path, b_path in tqdm(sources, desc=f"reading {folder.name}", unit="img", leave=False):
        a, b = _read_pair(a_path, b_path)
        a_list.append(_label_map(a, image_size, roles.palette) if label_a else _resized(a, image_size, False))
        b_list.append(_label_map(b, image_size, roles.palette) if label_b else _resized(b, image_size, False))
    a_tensor, b_tensor = torch.from_numpy(np.stack(a_list)), torch.from_numpy(np.stack(b_list))
    a_tensor, b_tensor = a_tensor.permute(0, 3, 1, 2).contiguous(), b_tensor.permute(0, 3, 1, 2).contiguous()
    names = [a.stem for a, _ in sources]
    return Pairs(a_tensor, b_tensor, names) if direction == "AtoB" else Pairs(b_tensor, a_tensor, names)


def _folder_pairs(folder: Path) -> list[tuple[Path, Path]]:
    a_files = {p.stem: p for p in image_files(folder / "A")}
    b_files = {p.stem: p for p in image_files(folder / "B")}
    unmatched = sorted(set(a_files) ^ set(b_files))
    if unmatched:
        shown = ", ".join(unmatched[:5]) + (" ..." if len(unmatched) > 5 else "")
        raise DatasetError(f"{folder}: {len(unmatched)} image(s) in A/ or B/ have no partner with the same name: {shown}")
    return [(a_files[stem], b_files[stem]) for stem in sorted(a_files)]


def _read_pair(a_path: Path, b_path: Path) -> tuple[Image.Image, Image.Image]:
    try:
        if a_path != b_path:
            return open_image(a_path), open_image(b_path)
        image = open_image(a_path)
    except ImageError as error:
        raise DatasetError(str(error)) from None
    if image.width % 2:
        raise DatasetError(f"{a_path} has an odd width ({image.width}); an aligned image is A and B side by side")
    half = image.width // 2
    return image.crop((0, 0, half, image.height)), image.crop((half, 0, image.width, image.height))


def _label_map(image: Image.Image, size: int, palette: Palette | None) -> np.ndarray:
    return _resized(snap_to_palette(image, palette) if palette else image, size, nearest=True)


def _resized(image: Image.Image, size: int, nearest: bool) -> np.ndarray:
    if image.size != (size, size):
        image = image.resize((size, size), Image.Resampling.NEAREST if nearest else Image.Resampling.BICUBIC)
    return np.asarray(image, dtype=np.uint8)


def write_examples(data: str | Path, out: str | Path, count: int = 12) -> int:
    """Write `count` test pairs, spread evenly over the split, as input | ground truth PNGs in the dataset's own
    direction (label maps snapped to the palette): the studio shows their left halves as examples."""
    if count < 1:
        raise DatasetError(f"--count must be at least 1, not {count}")
    description = dataset_description(data)
    direction = description.get("direction", "AtoB")
    pairs = read_pairs(split_folder(data, "test"), 256, direction, Roles.of(description, direction))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for index in np.linspace(0, len(pairs) - 1, min(count, len(pairs))).round().astype(int):
        both = torch.cat([pairs.inputs[index], pairs.targets[index]], dim=-1)
        Image.fromarray(both.permute(1, 2, 0).numpy()).save(out / f"{pairs.names[index]}.png")
    return min(count, len(pairs))
