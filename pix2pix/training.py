"""The pix2pix update (paper section 3): one D step, then one G step, with Adam and linear decay.

train.py drives it over a dataset; bench/ times it. Both take exactly this step.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from pix2pix.config import TrainConfig
from pix2pix.losses import discriminator_loss, generator_loss
from pix2pix.models import PatchDiscriminator, UNetGenerator


class PairCritic(nn.Module):
    """Runs D on the real and the fake pair in one forward, so DistributedDataParallel sees one
    forward per backward, while BatchNorm still sees real and fake batches separately (as in the paper)."""

    def __init__(self, discriminator: PatchDiscriminator):
        super().__init__()
        self.discriminator = discriminator

    def forward(self, condition: torch.Tensor, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.discriminator(condition, real), self.discriminator(condition, fake)


def linear_decay(n_epochs: int, n_epochs_decay: int):
    """Constant learning rate for n_epochs, then linearly to zero over n_epochs_decay (paper 6.2)."""
    return lambda epoch: 1.0 - max(0, epoch + 1 - n_epochs) / float(n_epochs_decay + 1)


@torch.no_grad()
def recompute_batchnorm_statistics(model: nn.Module, batches: Iterable[torch.Tensor]) -> None:
    """Replace every BatchNorm's running mean and variance by their plain average over `batches`, run in
    training mode (dropout on, as when the raw statistics were gathered); the model is left in eval mode."""
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm2d)]
    if not norms:
        model.eval()
        return
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None  # cumulative average over all batches
    device = next(model.parameters()).device
    model.train()
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):  # dropout here must not move training's streams
        for batch in batches:
            model(batch)
    model.eval()
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum


class Pix2PixTrainer:
    """G and D with their optimisers and schedules; `step` is one alternating update."""

    def __init__(
        self,
        generator: UNetGenerator,
        discriminator: PatchDiscriminator,
        config: TrainConfig,
        use_amp: bool = False,
        channels_last: bool = False,
        distributed: bool = False,
        compile: bool = False,
    ):
        self.generator, self.discriminator, self.config = generator, discriminator, config
        self.use_amp, self.channels_last = use_amp, channels_last
        if channels_last:
            generator.to(memory_format=torch.channels_last)
            discriminator.to(memory_format=torch.channels_last)
        adam = {"lr": config.lr, "betas": (config.beta1, config.beta2)}
        self.optimizer_g = torch.optim.Adam(generator.parameters(), **adam)
        self.optimizer_d = torch.optim.Adam(discriminator.parameters(), **adam)
        decay = linear_decay(config.n_epochs, config.n_epochs_decay)
        self.scheduler_g = torch.optim.lr_scheduler.LambdaLR(self.optimizer_g, decay)
        self.scheduler_d = torch.optim.lr_scheduler.LambdaLR(self.optimizer_d, decay)
        # The average of G's recent weights: smoother than any single step's weights, and what is shipped.
        self.ema = copy.deepcopy(generator).eval().requires_grad_(False) if config.ema_decay else None
        self.ema_updates = 0
        self.train_generator: nn.Module = generator
        self.critic: nn.Module = PairCritic(discriminator)
        if distributed:
            device = next(generator.parameters()).device
            ids = [device.index] if device.type == "cuda" else None
            self.train_generator = DistributedDataParallel(generator, device_ids=ids)
            self.critic = DistributedDataParallel(self.critic, device_ids=ids)
        if compile:
            self.train_generator, self.critic = torch.compile(self.train_generator), torch.compile(self.critic)
        generator.train()
        discriminator.train()

    def step(self, real_a: torch.Tensor, real_b: torch.Tensor) -> dict[str, torch.Tensor]:
        """Update D on (real, fake) pairs, then G against the updated D; returns the losses."""
        if self.channels_last:
            real_a, real_b = real_a.contiguous(memory_format=torch.channels_last), real_b.contiguous(memory_format=torch.channels_last)
        device_type, config = real_a.device.type, self.config
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.use_amp):
            fake_b = self.train_generator(real_a)
            # D step: real pairs towards 1, generated pairs towards 0.
            real_logits, fake_logits = self.critic(real_a, real_b, fake_b.detach())
            loss_d = discriminator_loss(real_logits, fake_logits, config.gan_mode)
        self.optimizer_d.zero_grad(set_to_none=True)
        loss_d.backward()
        self.optimizer_d.step()

        # G step: fool D (frozen: its weights must not move with G's loss) and stay near the target in L1.
        self.discriminator.requires_grad_(False)
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.use_amp):
            fake_logits = self.discriminator(real_a, fake_b)
            loss_g, loss_gan, loss_l1 = generator_loss(fake_logits, fake_b, real_b, config.lambda_l1, config.gan_mode)
        self.optimizer_g.zero_grad(set_to_none=True)
        loss_g.backward()
        self.optimizer_g.step()
        self.discriminator.requires_grad_(True)
        if self.ema is not None:
            self._update_ema()
        return {"D": loss_d.detach(), "G_gan": loss_gan.detach(), "G_L1": loss_l1.detach()}

    @torch.no_grad()
    def _update_ema(self) -> None:
        # Warm-up: early on the average follows the weights closely, so that it is not mostly the
        # random initialisation for the first thousands of steps of a short CPU run.
        self.ema_updates += 1
        decay = min(self.config.ema_decay, (1 + self.ema_updates) / (10 + self.ema_updates))
        for average, weight in zip(self.ema.parameters(), self.generator.parameters(), strict=True):
            average.lerp_(weight, 1.0 - decay)

    def shipped_generator(self, batches: Iterable[torch.Tensor]) -> UNetGenerator:
        """The generator to sample from and export: the weight average when there is one, with BatchNorm
        statistics measured for its own weights on `batches` of training inputs (the raw generator's running
        statistics belong to other weights and wreck the average's pictures)."""
        if self.ema is None:
            return self.generator
        recompute_batchnorm_statistics(self.ema, batches)
        return self.ema

    def end_epoch(self) -> None:
        self.scheduler_g.step()
        self.scheduler_d.step()

    @property
    def learning_rate(self) -> float:
        return self.scheduler_g.get_last_lr()[0]

    def state_dict(self) -> dict[str, Any]:
        return {
            "generator": self.generator.state_dict(), "discriminator": self.discriminator.state_dict(),
            "optimizer_g": self.optimizer_g.state_dict(), "optimizer_d": self.optimizer_d.state_dict(),
            "scheduler_g": self.scheduler_g.state_dict(), "scheduler_d": self.scheduler_d.state_dict(),
            **({"ema": self.ema.state_dict(), "ema_updates": self.ema_updates} if self.ema is not None else {}),
        }  # fmt: skip

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.generator.load_state_dict(state["generator"])
        self.discriminator.load_state_dict(state["discriminator"])
        self.optimizer_g.load_state_dict(state["optimizer_g"])
        self.optimizer_d.load_state_dict(state["optimizer_d"])
        self.scheduler_g.load_state_dict(state["scheduler_g"])
        self.scheduler_d.load_state_dict(state["scheduler_d"])
        if self.ema is not None:
            self.ema.load_state_dict(state["ema"] if "ema" in state else state["generator"])
            self.ema_updates = int(state.get("ema_updates", 0))
