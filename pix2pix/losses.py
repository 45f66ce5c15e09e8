"""The pix2pix objective: G* = arg min_G max_D L_cGAN(G, D) + lambda * L_L1(G) (paper eq. 4)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def adversarial_loss(logits: torch.Tensor, real: bool, gan_mode: str = "vanilla") -> torch.Tensor:
    """Per-patch GAN loss: BCE with logits (the paper's) or least squares (LSGAN)."""
    target = torch.ones_like(logits) if real else torch.zeros_like(logits)
    if gan_mode == "vanilla":
        return F.binary_cross_entropy_with_logits(logits.float(), target.float())
    if gan_mode == "lsgan":
        return F.mse_loss(logits.float(), target.float())
    raise ValueError(f"unknown gan_mode {gan_mode!r}; use 'vanilla' or 'lsgan'")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor, gan_mode: str = "vanilla") -> torch.Tensor:
    """D's loss, halved as in the paper 'to slow down the rate at which D learns relative to G'."""
    return 0.5 * (adversarial_loss(real_logits, True, gan_mode) + adversarial_loss(fake_logits, False, gan_mode))


def generator_loss(
    fake_logits: torch.Tensor, fake: torch.Tensor, target: torch.Tensor, lambda_l1: float, gan_mode: str = "vanilla"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """G's loss: fool D (non-saturating form) plus lambda * L1 to the target. Returns (total, gan, l1)."""
    gan = adversarial_loss(fake_logits, True, gan_mode)
    l1 = F.l1_loss(fake.float(), target.float())
    return gan + lambda_l1 * l1, gan, l1
