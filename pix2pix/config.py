"""Configuration dataclasses with the paper's defaults, and their command-line form.

Each dataclass is the single source of a group of settings: `add_arguments` turns its
fields into flags, `from_arguments` reads them back, so there is no separate options tree.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args, get_origin, get_type_hints

# "instance": per-picture statistics, no learned scale or shift (the CycleGAN code's); "instance-affine" keeps
# BatchNorm's learned scale and shift, so a BatchNorm model can go on with per-picture statistics (pix2pix.renorm).
Norm = Literal["batch", "instance", "instance-affine"]
Upsample = Literal["transpose", "resize"]


@dataclass(frozen=True)
class GeneratorConfig:
    """U-Net generator (paper section 3.2.1, appendix 6.1.1); defaults are U-Net-256."""

    in_channels: int = 3
    out_channels: int = 3
    ngf: int = 64  # filters in the first encoder layer; 64 is the paper's C64
    num_downs: int = 8  # 8 halvings take 256x256 to 1x1; 7 for U-Net-128
    norm: Norm = "batch"
    dropout: float = 0.5  # in the first three decoder blocks: the model's only noise source
    upsample: Upsample = "transpose"  # the paper's ConvTranspose; "resize": nearest x2 + 3x3 conv, no checkerboard

    def __post_init__(self) -> None:
        _require(self.in_channels > 0 and self.out_channels > 0, "in_channels and out_channels must be positive")
        _require(self.ngf > 0, f"ngf must be positive, not {self.ngf}")
        _require(5 <= self.num_downs <= 10,  # 5: the C64-C128-C256-C512 ramp and a bottleneck
                 f"num_downs must be between 5 and 10, not {self.num_downs}")
        _require(0.0 <= self.dropout < 1.0, f"dropout must be in [0, 1), not {self.dropout}")


@dataclass(frozen=True)
class DiscriminatorConfig:
    """PatchGAN discriminator (appendix 6.1.2); n_layers=3 gives the 70x70 receptive field."""

    in_channels: int = 6  # the (input, output) pair, concatenated on channels
    ndf: int = 64
    n_layers: int = 3  # 1 -> 16x16, 3 -> 70x70, 5 -> 286x286 patches
    norm: Norm = "batch"

    def __post_init__(self) -> None:
        _require(self.in_channels > 0, f"in_channels must be positive, not {self.in_channels}")
        _require(self.ndf > 0, f"ndf must be positive, not {self.ndf}")
        _require(self.n_layers >= 1, f"n_layers must be at least 1, not {self.n_layers}")


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation and data settings; defaults follow the paper (section 4, appendix 6.2)."""

    lambda_l1: float = 100.0
    gan_mode: Literal["vanilla", "lsgan"] = "vanilla"
    lr: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    n_epochs: int = 100  # epochs at the initial learning rate
    n_epochs_decay: int = 100  # epochs of linear decay to zero
    batch_size: int = 1
    load_size: int = 286  # random jitter: resize to 286 ...
    crop_size: int = 256  # ... then random-crop back to 256
    flip: bool = True
    direction: Literal["AtoB", "BtoA"] = "AtoB"
    seed: int = 0
    ema_decay: float = 0.0  # > 0: export an exponential moving average of G's weights (not in the paper)
    sketch_augment: bool = False  # edges inputs redrawn like a person's sketch (pix2pix.data.sketch; not in the paper)
    sketch_share: float = 1.0  # the share of training edge maps so redrawn; the rest stay the dataset's clean lines
    low_res_size: int = 0  # > 0: progressive resolution, the first steps at this crop size (4x cheaper at half), then crop_size
    low_res_share: float = 0.75  # the share of the run at low_res_size: of its steps, and of --max-minutes when that is set

    def __post_init__(self) -> None:
        for name in ("lambda_l1", "lr", "beta1", "beta2", "ema_decay"):
            _require(math.isfinite(getattr(self, name)), f"{name} must be a finite number, not {getattr(self, name)}")
        _require(self.lr > 0, f"lr must be positive, not {self.lr}")
        _require(0.0 <= self.beta1 < 1.0 and 0.0 <= self.beta2 < 1.0, "beta1 and beta2 must be in [0, 1)")
        _require(0.0 <= self.ema_decay < 1.0, f"ema_decay must be in [0, 1), not {self.ema_decay}")
        _require(self.batch_size >= 1, f"batch_size must be at least 1, not {self.batch_size}")
        _require(self.n_epochs + self.n_epochs_decay >= 1, "n_epochs + n_epochs_decay must be at least 1")
        _require(self.crop_size >= 1, f"crop_size must be positive, not {self.crop_size}")
        _require(self.crop_size <= self.load_size, f"crop_size ({self.crop_size}) cannot exceed load_size ({self.load_size})")
        _require(self.low_res_size == 0 or 2 <= self.low_res_size < self.crop_size,
                 f"low_res_size must be 0 (off) or from 2 to below crop_size ({self.crop_size}), not {self.low_res_size}")
        _require(0.0 < self.low_res_share < 1.0, f"low_res_share must be in (0, 1), not {self.low_res_share}")
        _require(0.0 < self.sketch_share <= 1.0, f"sketch_share must be in (0, 1], not {self.sketch_share}")

    @property
    def low_res_load_size(self) -> int:
        """The jitter's resize at low_res_size: the same margin, in proportion (286 for 256 -> 143 for 128)."""
        return round(self.load_size * self.low_res_size / self.crop_size)


class ConfigError(ValueError):
    """A configuration value that cannot work, with a message that names it."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def check_image_size(generator: GeneratorConfig, size: int) -> None:
    """A U-Net halves its input num_downs times: the size must survive that exactly."""
    _require(size % 2**generator.num_downs == 0,
             f"the image size {size} must be a multiple of 2**num_downs = {2**generator.num_downs}")


def check_low_res(generator: GeneratorConfig, train: TrainConfig) -> None:
    """At a low resolution the U-Net's innermost normalised maps shrink to 1x1: BatchNorm can still normalise
    them across a batch of 2 or more, InstanceNorm (over one map's pixels) cannot."""
    if not train.low_res_size:
        return
    smallest = math.ceil(train.low_res_size / 2 ** (generator.num_downs - 1))
    if smallest < 2:
        _require(generator.norm == "batch" and train.batch_size >= 2,
                 f"at low_res_size {train.low_res_size} the U-Net's innermost maps are 1x1: that needs norm batch "
                 f"and batch_size 2 or more (or a low_res_size of at least {2 ** generator.num_downs})")


Config = TypeVar("Config")


def add_arguments(parser: argparse.ArgumentParser, config_class: type, prefix: str = "") -> None:
    """Add one `--flag` per dataclass field, typed and defaulted from the dataclass."""
    group = parser.add_argument_group(config_class.__name__)
    hints = get_type_hints(config_class)
    for field in dataclasses.fields(config_class):
        kind = hints[field.name]
        flag = "--" + (prefix + field.name).replace("_", "-")
        dest = prefix + field.name
        if kind is bool:
            group.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=field.default)
        elif get_origin(kind) is Literal:
            group.add_argument(flag, dest=dest, choices=get_args(kind), default=field.default)
        elif kind in (int, float):
            group.add_argument(flag, dest=dest, type=_checked(kind, field.name), default=field.default)
        else:
            raise TypeError(f"unsupported field type {kind} for {field.name}")


def _checked(kind: type, name: str):
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be {'an integer' if kind is int else 'a number'}, not {text!r}") from None
        if value < 0:
            raise argparse.ArgumentTypeError(f"{name} must not be negative, got {text}")
        return value

    return parse


def from_arguments(config_class: type[Config], arguments: argparse.Namespace, prefix: str = "") -> Config:
    """Build a dataclass from the flags that `add_arguments` added; its validation errors name the flag's field."""
    values = {f.name: getattr(arguments, prefix + f.name) for f in dataclasses.fields(config_class)}
    return config_class(**values)


def from_dict(config_class: type[Config], values: dict[str, Any]) -> Config:
    """Build a dataclass from stored values (a checkpoint's metadata), naming the field that is wrong."""
    if not isinstance(values, dict):
        raise ConfigError(f"expected a mapping of settings, not {type(values).__name__}")
    hints = get_type_hints(config_class)
    known = {f.name for f in dataclasses.fields(config_class)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"unknown setting(s) {', '.join(unknown)}")
    for name, value in values.items():
        kind = hints[name]
        if get_origin(kind) is Literal:
            if value not in get_args(kind):
                raise ConfigError(f"{name} must be one of {', '.join(map(str, get_args(kind)))}, not {value!r}")
        elif isinstance(value, bool) != (kind is bool) or not isinstance(value, (int, float) if kind is float else kind):
            raise ConfigError(f"{name} must be {TYPE_WORDS[kind]}, not {value!r}")
    return config_class(**values)


TYPE_WORDS = {int: "an integer", float: "a number", bool: "true or false"}
