"""Downloading the official pix2pix datasets (Isola et al. 2017) into the aligned A|B layout train.py reads.

The archives are large (edges2shoes is 2 GB) and served over plain HTTP, so downloads resume where they
stopped, are checked against the announced size, and are checked for format before anything is unpacked.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path, PurePosixPath

from tqdm import tqdm

from pix2pix.data.palettes import NAMED_PALETTES
from pix2pix.images import IMAGE_SUFFIXES, image_files

OFFICIAL_URL = "http://efrosgans.eecs.berkeley.edu/pix2pix/datasets"
URL_VARIABLE = "PIX2PIX_DATASETS_URL"
# name -> (what the model's input is, the direction from it to the other side): facades and cityscapes
# are photo | labels, so their labels -> photo models train BtoA.
DATASETS = {"facades": ("labels", "BtoA"), "cityscapes": ("labels", "BtoA"), "maps": ("photo", "AtoB"),
            "edges2shoes": ("edges", "AtoB"), "edges2handbags": ("edges", "AtoB"), "night2day": ("photo", "AtoB")}
LICENSE = "research use; see the terms of the original dataset (listed in the pix2pix repository)"
CHUNK = 1 << 20
TIMEOUT_S = 60


class DownloadError(ValueError):
    """A dataset that cannot be downloaded or unpacked, with a message that says what to do."""


def download_dataset(name: str, out: Path, base_url: str | None = None, progress: bool = True,
                     local_copy: Path | None = None) -> dict:
    """Download dataset `name` into out/train and out/test (val becomes test where there is no test).

    `base_url` defaults to $PIX2PIX_DATASETS_URL, then to the official server. `local_copy`, a folder or
    .tar.gz of the official packaging already on disk, is used instead of the network. Returns the
    dataset.json written.
    """
    if name not in DATASETS:
        raise DownloadError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    archive = out / f"{name}.tar.gz"
    _check_output_folder(out, archive)
    if local_copy is not None and not local_copy.exists():
        raise DownloadError(f"--from {local_copy} does not exist")
    out.mkdir(parents=True, exist_ok=True)
    if local_copy is not None:
        source = f"the official pix2pix {name} archive, from a local copy ({local_copy.name})"
        counts = (_copy_pairs(local_copy, out) if local_copy.is_dir()
                  else _unpack_pairs(local_copy, name, out, delete_if_corrupt=False))
    else:
        source = f"{(base_url or os.environ.get(URL_VARIABLE) or OFFICIAL_URL).rstrip('/')}/{name}.tar.gz"
        if not archive.is_file():
            fetch(source, archive, progress)
        counts = _unpack_pairs(archive, name, out)
        archive.unlink()
    input_kind, direction = DATASETS[name]
    palette = NAMED_PALETTES.get(name)
    description = {"task": name, "input_kind": input_kind, "direction": direction,
                   "palette": palette.to_dict() if palette else None, "source": source,
                   "license": LICENSE, "n_train": counts["train"], "n_test": counts["test"]}
    (out / "dataset.json").write_text(json.dumps(description, indent=2) + "\n")
    return description


def fetch(url: str, target: Path, progress: bool = True) -> None:
    """Download `url` to `target` through `target`.part, resuming a .part left by an earlier, interrupted run."""
    part = target.with_name(target.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # the .part is not a prefix of what the server has now: start again
            part.unlink()
            return fetch(url, target, progress)
        raise DownloadError(f"{url} could not be downloaded: HTTP {error.code} {error.reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
    with response:
        if response.status != 206:
            offset = 0  # the server ignored the range and sends the whole file
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        with open(part, "ab" if offset else "wb") as file, tqdm(total=total, initial=offset, unit="B", unit_scale=True,
                                                               desc=target.name, disable=not progress) as bar:
            try:
                while chunk := response.read(CHUNK):
                    file.write(chunk)
                    bar.update(len(chunk))
            except (http.client.IncompleteRead, OSError) as error:
                raise DownloadError(f"the download of {url} broke off ({error}); run again to resume") from None
    size = part.stat().st_size
    if total is not None and size != total:
        raise DownloadError(f"the download of {url} is truncated ({size:,} of {total:,} bytes); run again to resume")
    part.replace(target)


def _check_output_folder(out: Path, archive: Path) -> None:
    """Refuse a folder that holds anything but an earlier download of this command."""
    ours = {"train", "test", "dataset.json", archive.name, archive.name + ".part"}
    if out.exists() and not out.is_dir():
        raise DownloadError(f"{out} is a file, not a folder")
    if out.is_dir() and any(entry.name not in ours for entry in out.iterdir()):
        raise DownloadError(f"{out} holds other files; choose an empty or new folder")


def _unpack_pairs(archive: Path, name: str, out: Path, delete_if_corrupt: bool = True) -> dict[str, int]:
    """Check every member is a file under NAME/ with no way out of it, then unpack the split images."""
    staging = out / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            splits = _image_members(members, name)
            test_split = "test" if splits["test"] else "val"
            for split, source in (("train", "train"), ("test", test_split)):
                (staging / split).mkdir(parents=True)
                for member in splits[source]:
                    with tar.extractfile(member) as data, open(staging / split / PurePosixPath(member.name).name,
                                                              "wb") as file:
                        shutil.copyfileobj(data, file)
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        if delete_if_corrupt:
            archive.unlink(missing_ok=True)  # a corrupt download must be fetched again, not reused
        message = error if isinstance(error, DownloadError) else f"it is truncated or corrupt ({error})"
        deleted = "; it was deleted" if delete_if_corrupt else ""
        raise DownloadError(f"{archive.name} is not a usable pix2pix archive: {message}{deleted}") from None
    return _replace_splits(staging, out)


def _copy_pairs(folder: Path, out: Path) -> dict[str, int]:
    """Copy the train and test (else val) images of an unpacked official dataset folder."""
    splits = {split: image_files(folder / split) if (folder / split).is_dir() else [] for split in ("train", "val", "test")}
    if not splits["train"] or not (splits["val"] or splits["test"]):
        raise DownloadError(f"{folder} has no images in train/ and val/ or test/ (the official packaging)")
    staging = out / ".unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    for split, source in (("train", "train"), ("test", "test" if splits["test"] else "val")):
        (staging / split).mkdir(parents=True)
        for path in tqdm(splits[source], desc=f"copying {split}", unit="img", leave=False):
            shutil.copyfile(path, staging / split / path.name)
    return _replace_splits(staging, out)


def _replace_splits(staging: Path, out: Path) -> dict[str, int]:
    """Move the staged train/ and test/ over the dataset's, and count their images."""
    for split in ("train", "test"):
        shutil.rmtree(out / split, ignore_errors=True)
        (staging / split).rename(out / split)
    staging.rmdir()
    return {split: len(image_files(out / split)) for split in ("train", "test")}


def _image_members(members: list[tarfile.TarInfo], name: str) -> dict[str, list[tarfile.TarInfo]]:
    """Image files by split; raises DownloadError for links, absolute paths, '..' or nothing to train on."""
    splits: dict[str, list[tarfile.TarInfo]] = {"train": [], "val": [], "test": []}
    for member in members:
        path = PurePosixPath(member.name)
        if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
            raise DownloadError(f"it holds {member.name!r}, which would be written outside the dataset folder")
        if path.parts[0] != name:
            raise DownloadError(f"it holds {member.name!r}, outside the folder {name}/")
        is_image = member.isfile() and path.suffix.lower() in IMAGE_SUFFIXES
        if is_image and len(path.parts) == 3 and path.parts[1] in splits:
            splits[path.parts[1]].append(member)
    if not splits["train"] or not (splits["val"] or splits["test"]):
        raise DownloadError(f"it has no images in {name}/train and {name}/val or {name}/test")
    return splits
