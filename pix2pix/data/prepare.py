"""Writing a pix2pix dataset: aligned A|B PNGs in train/ and test/, and a dataset.json that train.py reads.

A is the input made from the photo (an edge map or a label map), B the photo itself.
"""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from tqdm import tqdm

from pix2pix.data.edges import edges_from_photo
from pix2pix.data.labels import Palette, labels_from_photo, learn_palette
from pix2pix.data.split import DEFAULT_TEST_FRACTION, is_test
from pix2pix.images import ImageError, check_size, to_rgb

SIZE = 256  # the side of A and of B; the paper trains at 256x256
INPUT_KINDS = ("edges", "labels")
WORKERS = 2  # the machines this runs on are small and shared
MIN_JOBS_FOR_WORKERS = 200  # starting a worker (importing torch) costs about as much as 100 pairs


class DatasetError(ValueError):
    """Arguments or sources that cannot make a dataset, with a message that says what to change."""


@dataclass(frozen=True)
class PreparedDataset:
    """What was written, for the caller to report."""

    description: dict
    skipped: list[str]  # one message per unreadable source


def open_source(path: Path) -> Image.Image:
    """`path` as a SIZE x SIZE image, RGBA when it has transparency (its silhouette matters), RGB otherwise."""
    try:
        with Image.open(path) as image:
            check_size(str(path), image.width, image.height)
            image.load()
            image = ImageOps.exif_transpose(image)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageError):
            raise
        raise ImageError(f"{path} is not an image that can be read ({error.__class__.__name__})") from None
    transparent = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA") if transparent else to_rgb(image)
    return ImageOps.fit(image, (SIZE, SIZE), Image.Resampling.LANCZOS)  # shorter side to SIZE, centre crop


def input_from_source(source: Image.Image, kind: str, palette: Palette | None = None) -> Image.Image:
    """The A side for a source opened by `open_source`: its edge map or its label map."""
    if kind == "edges":
        return edges_from_photo(source)
    alpha = np.asarray(source.getchannel("A")) if source.mode == "RGBA" else None
    return labels_from_photo(to_rgb(source), palette, alpha)


def prepare_dataset(files: list[Path], out: Path, kind: str, task: str, group_of: Callable[[str], str],
                    source: str, license: str, n_classes: int = 12,
                    test_fraction: float = DEFAULT_TEST_FRACTION, progress: bool = True) -> PreparedDataset:
    """Write the A|B pairs of `files` to out/train and out/test (split by `group_of(file stem)`) and dataset.json."""
    if kind not in INPUT_KINDS:
        raise DatasetError(f"the input kind must be one of {', '.join(INPUT_KINDS)}, not {kind!r}")
    if not files:
        raise DatasetError("there are no image files to prepare")
    is_test(task, test_fraction)  # checks the fraction before any work is done
    _make_output_folder(out)
    skipped: list[str] = []
    palette = _learn_palette(files, n_classes, progress) if kind == "labels" else None
    names = _output_names(files)
    jobs = [(path, out / ("test" if is_test(group_of(path.stem), test_fraction) else "train") / name)
            for path, name in zip(files, names, strict=True)]
    counts = {"train": 0, "test": 0}
    for target, error in tqdm(_write_pairs(jobs, kind, palette), total=len(jobs), desc=task, disable=not progress):
        if error:
            skipped.append(error)
        else:
            counts[target.parent.name] += 1
    if counts["train"] + counts["test"] == 0:
        raise DatasetError(f"none of the {len(files)} files could be read; the first error: {skipped[0]}")
    description = {"task": task, "input_kind": kind, "palette": palette.to_dict() if palette else None,
                   "source": source, "license": license, "n_train": counts["train"], "n_test": counts["test"]}
    (out / "dataset.json").write_text(json.dumps(description, indent=2) + "\n")
    return PreparedDataset(description, skipped)


def _make_output_folder(out: Path) -> None:
    """Create out/train and out/test; a dataset written before is replaced, any other non-empty folder refused."""
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} is a file, not a folder")
    if out.is_dir() and any(out.iterdir()) and not (out / "dataset.json").is_file():
        raise DatasetError(f"{out} is not empty and holds no dataset.json; choose an empty or new folder")
    (out / "dataset.json").unlink(missing_ok=True)  # a half-rewritten dataset must not look complete
    for split in ("train", "test"):
        (out / split).mkdir(parents=True, exist_ok=True)
        for old in (out / split).glob("*.png"):
            old.unlink()


def _learn_palette(files: list[Path], n_classes: int, progress: bool) -> Palette:
    images = tqdm(_readable(files), total=len(files), desc="learning the palette", disable=not progress)
    try:
        return learn_palette(images, n_classes)
    except ValueError as error:
        raise DatasetError(f"cannot learn a palette: {error}") from None


def _readable(files: Iterable[Path]) -> Iterator[Image.Image]:
    """The sources that open; unreadable ones are reported when their pairs are written."""
    for path in files:
        try:
            yield open_source(path)
        except ImageError:
            continue


def _output_names(files: list[Path]) -> list[str]:
    """One PNG name per file: its stem, or its whole name where two files share a stem (a.jpg, a.png)."""
    stems = Counter(path.stem for path in files)
    return [f"{path.stem if stems[path.stem] == 1 else path.name}.png" for path in files]


def _write_pairs(jobs: list[tuple[Path, Path]], kind: str,
                 palette: Palette | None) -> Iterator[tuple[Path, str | None]]:
    """Write the pairs, in WORKERS processes when there are enough to repay starting them."""
    work = partial(_write_pair, kind=kind, palette=palette)
    if len(jobs) < MIN_JOBS_FOR_WORKERS:
        yield from map(work, jobs)
        return
    # spawn, not fork: OpenCV's thread pool, already used here, can deadlock in a forked child
    with multiprocessing.get_context("spawn").Pool(WORKERS, initializer=_quiet_opencv) as pool:
        yield from pool.imap(work, jobs, chunksize=16)


def _quiet_opencv() -> None:
    cv2.setNumThreads(1)  # the pool already uses the cores; nested threads only contend


def _write_pair(job: tuple[Path, Path], kind: str, palette: Palette | None) -> tuple[Path, str | None]:
    path, target = job
    try:
        source = open_source(path)
    except ImageError as error:
        return target, str(error)
    pair = Image.new("RGB", (2 * SIZE, SIZE))
    pair.paste(input_from_source(source, kind, palette), (0, 0))
    pair.paste(to_rgb(source), (SIZE, 0))
    pair.save(target, compress_level=4)  # level 4: nearly the size of the default at a fraction of the time
    return target, None
