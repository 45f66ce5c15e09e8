"""Carry a trained BatchNorm generator over to instance norm, so that training goes on with each picture's own
statistics instead of starting again.

In training, BatchNorm normalises with the batch's statistics; at a batch of one those are the picture's own,
which is what InstanceNorm computes at any batch size, in training and at inference alike. Only the running
statistics that BatchNorm keeps for inference have no place in the new model: the learned scale and shift
carry over as they are (`instance-affine`).
"""

from __future__ import annotations

import dataclasses

from pix2pix.models import UNetGenerator


def with_instance_norm(generator: UNetGenerator) -> UNetGenerator:
    """A copy of `generator` with affine InstanceNorm in place of BatchNorm; every weight carried over unchanged,
    the running statistics dropped."""
    if generator.config.norm != "batch":
        raise ValueError(f"the generator already normalises by {generator.config.norm!r}")
    renormed = UNetGenerator(dataclasses.replace(generator.config, norm="instance-affine"))
    kept = renormed.state_dict().keys()
    renormed.load_state_dict({name: value for name, value in generator.state_dict().items() if name in kept})
    return renormed.to(next(generator.parameters()).device).train(generator.training)
