"""The bundled training source: Microsoft's 3-D Fluent Emoji as packaged on npm by LobeHub.

3,391 WebP images, 256x256 RGBA, MIT licensed (see LICENSES/fluent-emoji-3d.md). The package is fetched
with `npm pack` rather than a URL, so npm's mirror and cache settings apply.
"""

from __future__ import annotations

import shutil
import subprocess
import tarfile
from pathlib import Path

PACKAGE = "@lobehub/fluent-emoji-3d"
SOURCE = f"npm package {PACKAGE} (Microsoft Fluent Emoji 3D)"
LICENSE = "MIT, Copyright (c) Microsoft Corporation; see LICENSES/fluent-emoji-3d.md"


class SourceError(ValueError):
    """The emoji source cannot be obtained or is not the expected package, with a message saying why."""


def emoji_folder(source: Path | None, workdir: Path) -> Path:
    """The folder of emoji images from `source` (the package .tgz or an unpacked folder), or from npm if None.

    Archives are unpacked under `workdir`, which the caller removes.
    """
    if source is None:
        source = _npm_pack(workdir)
    if not source.exists():
        raise SourceError(f"{source} does not exist")
    if source.is_file():
        source = _unpack(source, workdir)
    for folder in (source / "package" / "assets", source / "assets", source):
        if folder.is_dir() and any(folder.glob("*.webp")):
            return folder
    raise SourceError(f"{source} holds no .webp emoji (expected the {PACKAGE} package or its assets folder)")


def _npm_pack(workdir: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise SourceError(f"npm is not installed; install Node.js or pass --source with a copy of {PACKAGE}")
    result = subprocess.run([npm, "pack", PACKAGE, "--pack-destination", str(workdir)], capture_output=True, text=True)
    archives = sorted(workdir.glob("*.tgz"))
    if result.returncode != 0 or not archives:
        raise SourceError(f"`npm pack {PACKAGE}` failed: {(result.stderr or result.stdout).strip()[-500:]}")
    return archives[0]


def _unpack(archive: Path, workdir: Path) -> Path:
    target = workdir / "unpacked"
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(target, filter="data")  # the data filter refuses links and paths outside target
    except (tarfile.TarError, OSError, EOFError) as error:
        raise SourceError(f"{archive} is not a readable .tgz package: {error}") from None
    return target
