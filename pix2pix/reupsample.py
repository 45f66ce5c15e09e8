"""Carry a trained ConvTranspose generator over to resize-convolution upsampling, so that training goes on
without the 2-pixel checkerboard instead of starting again.

A ConvTranspose4x4/2 paints each of its four output phases (even/odd row, even/odd column) with its own 2x2
slice of the 4x4 kernel; where the slices' sums differ, flat regions come out as a 2-pixel grid. A
resize-convolution is the same kind of map with the phases' taps tied together (`tied_transpose_kernel`).
Each 3x3 kernel is the least-squares fit of that tied form to the trained 4x4 one: what the fit leaves out is
the part that differs between the phases, the grid.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from pix2pix.models import UNetGenerator, tied_transpose_kernel


def tied_fit(transpose_weight: torch.Tensor) -> torch.Tensor:
    """The resize-convolution weight (out, in, 3, 3) closest to a ConvTranspose4x4/2 weight (in, out, 4, 4),
    least squares per kernel; exact where the kernel already has the tied form."""
    basis = tied_transpose_kernel(torch.eye(9, dtype=torch.float64).reshape(9, 1, 3, 3))  # (1, 9, 4, 4)
    fit = torch.linalg.pinv(basis.reshape(9, 16).T)  # (9, 16): 4x4 taps -> 3x3 taps
    weight = transpose_weight.to(torch.float64).flatten(2)  # (in, out, 16)
    kernel = torch.einsum("kt,iot->oik", fit, weight).unflatten(2, (3, 3))
    return kernel.to(transpose_weight.dtype).contiguous()


def with_resize_upsampling(generator: UNetGenerator) -> UNetGenerator:
    """A copy of `generator` that upsamples by resize-convolution, each ConvTranspose replaced by its tied fit;
    every other weight and the BatchNorm statistics are carried over unchanged."""
    if generator.config.upsample != "transpose":
        raise ValueError(f"the generator already upsamples by {generator.config.upsample!r}")
    resized = UNetGenerator(dataclasses.replace(generator.config, upsample="resize"))
    state = {}
    for name, value in generator.state_dict().items():
        module_name, _, kind = name.rpartition(".")
        transposed = kind == "weight" and isinstance(generator.get_submodule(module_name), nn.ConvTranspose2d)
        state[name] = tied_fit(value) if transposed else value
    resized.load_state_dict(state)
    return resized.to(next(generator.parameters()).device).train(generator.training)
