"""Carry a trained BatchNorm generator over to instance norm, so that training goes on with each picture's own
statistics instead of starting again: python -m pix2pix.renorm CHECKPOINT --out FILE writes it, to score it
before any training; `train.py --init-from CHECKPOINT --norm instance-affine` does the same and trains on.

In training, BatchNorm normalises with the batch's statistics; at a batch of one those are the picture's own,
which is what InstanceNorm computes at any batch size, in training and at inference alike. Only the running
statistics that BatchNorm keeps for inference have no place in the new model: the learned scale and shift
carry over as they are (`instance-affine`).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from pix2pix import checkpoint
from pix2pix.checkpoint import CheckpointError, critic_path
from pix2pix.models import UNetGenerator

CARRIED_OVER = "batch -> instance-affine (scales and shifts kept, running statistics dropped)"


def with_instance_norm(generator: UNetGenerator) -> UNetGenerator:
    """A copy of `generator` with affine InstanceNorm in place of BatchNorm; every weight carried over unchanged,
    the running statistics dropped."""
    if generator.config.norm != "batch":
        raise ValueError(f"the generator already normalises by {generator.config.norm!r}")
    renormed = UNetGenerator(dataclasses.replace(generator.config, norm="instance-affine"))
    kept = renormed.state_dict().keys()
    renormed.load_state_dict({name: value for name, value in generator.state_dict().items() if name in kept})
    return renormed.to(next(generator.parameters()).device).train(generator.training)


def carry_over(path: Path, out: Path) -> None:
    """Write `path`'s generator carried over to instance norm to `out`, its critic unchanged beside it; the record
    names `path` as its parent, and its metrics stay empty until it is evaluated."""
    generator, info = checkpoint.load_generator(path)
    try:
        renormed = with_instance_norm(generator)
    except ValueError as error:
        raise CheckpointError(f"{path.name}: {error}") from None
    discriminator = checkpoint.load_discriminator(critic_path(path))
    training = checkpoint.derived_record(path, info, norm=CARRIED_OVER)
    checkpoint.save_generator(out, renormed, dataclasses.replace(info, metrics={}, training=training))
    checkpoint.save_discriminator(critic_path(out), discriminator)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoint", type=Path, help="a BatchNorm generator .safetensors, its critic beside it")
    parser.add_argument("--out", type=Path, required=True, help="where to write the carried-over generator (its critic goes beside it)")
    arguments = parser.parse_args(argv)
    try:
        carry_over(arguments.checkpoint, arguments.out)
    except CheckpointError as error:
        sys.exit(f"error: {error}")
    print(f"wrote {arguments.out} and {critic_path(arguments.out)}. {checkpoint.scoring_hint(arguments.out)}")


if __name__ == "__main__":
    main()
