"""Command line for preparing datasets: `python -m pix2pix.data {emoji,edges,labels,download} ...`."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from pix2pix.data import download, emoji
from pix2pix.data.pairs import DatasetError as PairsError
from pix2pix.data.pairs import write_examples
from pix2pix.data.prepare import INPUT_KINDS, DatasetError, PreparedDataset, prepare_dataset
from pix2pix.data.split import DEFAULT_TEST_FRACTION, emoji_group
from pix2pix.images import IMAGE_SUFFIXES, image_files


def main(argv: list[str] | None = None) -> int:
    """Run the command in `argv`; returns the exit status (errors are printed as one line, no traceback)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "examples":
            count = write_examples(args.data, args.out, args.count)
            print(f"{args.out}: {count} held-out examples (input | ground truth)")
            return 0
        if args.command == "download":
            description = download.download_dataset(args.name, args.out, args.base_url, local_copy=args.local_copy)
            print(f"{args.out}: {description['n_train']} train, {description['n_test']} test pairs")
            return 0
        if not 2 <= args.classes <= 64:
            raise DatasetError(f"--classes must be between 2 and 64, not {args.classes}")
        if not 0.0 <= args.test_fraction < 1.0:
            raise DatasetError(f"--test-fraction must be at least 0 and below 1, not {args.test_fraction}")
        _report(args.out, _emoji(args) if args.command == "emoji" else _folder(args))
    except (DatasetError, PairsError, emoji.SourceError, download.DownloadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


def _emoji(args: argparse.Namespace) -> PreparedDataset:
    with tempfile.TemporaryDirectory(prefix="pix2pix-emoji-") as workdir:
        files = sorted(emoji.emoji_folder(args.source, Path(workdir)).glob("*.webp"))
        return prepare_dataset(files, args.out, args.kind, f"{args.kind}2emoji", emoji_group, emoji.SOURCE,
                               emoji.LICENSE, args.classes, args.test_fraction)


def _folder(args: argparse.Namespace) -> PreparedDataset:
    folder: Path = args.images
    if not folder.is_dir():
        raise DatasetError(f"--images {folder} is not a folder")
    files = image_files(folder)
    if not files:
        raise DatasetError(f"--images {folder} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
    name = folder.resolve().name
    return prepare_dataset(files, args.out, args.command, f"{args.command}2{name}", str, f"folder {name}",
                           "as licensed by the images' owners", args.classes, args.test_fraction)


def _report(out: Path, prepared: PreparedDataset) -> None:
    if prepared.skipped:
        print(f"warning: skipped {len(prepared.skipped)} unreadable file(s), e.g. {prepared.skipped[0]}",
              file=sys.stderr)
    description = prepared.description
    print(f"{out}: {description['n_train']} train, {description['n_test']} test pairs ({description['task']})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m pix2pix.data", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    emoji_command = commands.add_parser("emoji", help="the bundled 3-D Fluent Emoji (npm)")
    emoji_command.add_argument("--kind", choices=INPUT_KINDS, required=True, help="input side: edge or label map")
    emoji_command.add_argument("--source", type=Path, help="the package .tgz or unpacked folder (default: npm pack)")
    edges_command = commands.add_parser("edges", help="edge maps from a folder of images")
    labels_command = commands.add_parser("labels", help="label maps from a folder of images")
    for command in (edges_command, labels_command):
        command.add_argument("--images", type=Path, required=True, help="folder of source images")
    for command in (emoji_command, labels_command):
        command.add_argument("--classes", type=int, default=12, help="label classes, background included")
    for command in (emoji_command, edges_command, labels_command):
        command.add_argument("--out", type=Path, required=True, help="dataset folder to write (train/, test/)")
        command.add_argument("--test-fraction", type=float, default=DEFAULT_TEST_FRACTION,
                             help="share of groups held out for testing")
    edges_command.set_defaults(classes=12)  # unused by edges; keeps one argument check for all commands
    fetch = commands.add_parser("download", help="an official pix2pix dataset")
    fetch.add_argument("name", help=", ".join(download.DATASETS))
    fetch.add_argument("--out", type=Path, required=True, help="dataset folder to write (train/, test/)")
    fetch.add_argument("--base-url", help=f"archive location (default: ${download.URL_VARIABLE} or the official one)")
    fetch.add_argument("--from", dest="local_copy", type=Path,
                       help="a copy already on disk (its folder of train/, val/, test/, or its .tar.gz): no network")
    examples = commands.add_parser("examples", help="held-out pairs for the studio's example gallery")
    examples.add_argument("--data", type=Path, required=True, help="a prepared dataset (its test/ split is used)")
    examples.add_argument("--out", type=Path, required=True, help="folder to write, e.g. demo/examples/NAME")
    examples.add_argument("--count", type=int, default=12, help="how many, spread evenly over the split (default 12)")
    return parser


if __name__ == "__main__":
    sys.exit(main())
