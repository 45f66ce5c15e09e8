"""The pix2pix networks, as in Isola et al. 2017, appendix 6.1.

Ck = Convolution(4x4, stride 2)-Norm-ReLU with k filters; CDk adds 50% dropout.
Encoder ReLUs are leaky (0.2), decoder ReLUs are not; the first C64 has no norm.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from pix2pix.config import DiscriminatorConfig, GeneratorConfig, Norm, Upsample


def norm_layer(norm: Norm, channels: int) -> nn.Module:
    """BatchNorm (the paper's) or InstanceNorm, with or without a learned scale and shift."""
    if norm == "batch":
        return nn.BatchNorm2d(channels)
    return nn.InstanceNorm2d(channels, affine=norm == "instance-affine", track_running_stats=False)


def conv_bias(norm: Norm) -> bool:
    """A norm with a learned shift makes the convolution's bias redundant; plain InstanceNorm keeps it (CycleGAN's code)."""
    return norm == "instance"


class Down(nn.Module):
    """Encoder block: LeakyReLU(0.2) -> Conv4x4/2 -> Norm. The ReLU comes first so the
    skip connection carries the pre-activation feature, as in the reference code."""

    def __init__(self, in_channels: int, out_channels: int, norm: Norm, *, activation: bool = True, normalize: bool = True):
        super().__init__()
        layers: list[nn.Module] = [nn.LeakyReLU(0.2)] if activation else []
        layers.append(nn.Conv2d(in_channels, out_channels, 4, stride=2, padding=1, bias=conv_bias(norm) or not normalize))
        if normalize:
            layers.append(norm_layer(norm, out_channels))
        self.block = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.block(x)


def upsampling(in_channels: int, out_channels: int, mode: Upsample, bias: bool = True) -> nn.Module:
    """Double the resolution: the paper's ConvTranspose4x4/2, or a resize-convolution (nearest x2 then 3x3)."""
    if mode == "transpose":
        return nn.ConvTranspose2d(in_channels, out_channels, 4, stride=2, padding=1, bias=bias)
    return ResizeConvolution(in_channels, out_channels, bias)


def tied_transpose_kernel(weight: torch.Tensor) -> torch.Tensor:
    """The ConvTranspose4x4/2 kernel (in, out, 4, 4) that computes nearest x2 then this Conv3x3 (out, in, 3, 3).

    Along one axis the resize-convolution reads x[i-1] v0 + x[i] (v1 + v2) for even outputs and
    x[i] (v0 + v1) + x[i+1] v2 for odd ones; a ConvTranspose reads x[i-1] w3 + x[i] w1 and x[i] w2 + x[i+1] w0.
    So w = (v2, v1 + v2, v0 + v1, v0) along each axis: the four output phases share their taps."""

    def along(kernel: torch.Tensor, dim: int) -> torch.Tensor:
        v0, v1, v2 = kernel.unbind(dim)
        return torch.stack([v2, v1 + v2, v0 + v1, v0], dim)

    return along(along(weight.transpose(0, 1), 2), 3)


class ResizeConvolution(nn.Module):
    """Nearest-neighbour x2 resize then a 3x3 convolution: its kernels overlap evenly, so it cannot paint the
    2-pixel checkerboard of a free ConvTranspose (Odena et al. 2016).

    It is computed as the ConvTranspose4x4/2 it equals (`tied_transpose_kernel`): the same output with 16
    instead of 36 multiply-adds per output pixel and channel pair. Outside training the kernel is built once
    per weight version and autocast dtype, not per frame."""

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True):
        super().__init__()
        convolution = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias)  # its default initialisation
        self.weight, self.bias = convolution.weight, convolution.bias
        self._kernels: dict[torch.dtype | None, tuple[tuple, torch.Tensor]] = {}

    def kernel(self) -> torch.Tensor:
        if torch.is_grad_enabled() or torch.compiler.is_compiling():
            return self._built()
        device = self.weight.device.type
        dtype = torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) else None
        version = (self.weight._version, self.weight.data_ptr(), self.weight.dtype)
        cached = self._kernels.get(dtype)  # one per autocast dtype: a Translator timing fp32 and bf16 in turn
        if cached is None or cached[0] != version:
            cached = self._kernels[dtype] = version, self._built().to(dtype) if dtype else self._built()
        return cached[1]

    def _built(self) -> torch.Tensor:
        """The tied kernel in the weight's memory layout: a channels-last model (the Translator's) keeps the
        fast convolution path only if its kernels are channels-last too."""
        channels_last = self.weight.is_contiguous(memory_format=torch.channels_last) and not self.weight.is_contiguous()
        layout = torch.channels_last if channels_last else torch.contiguous_format
        return tied_transpose_kernel(self.weight).contiguous(memory_format=layout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(x, self.kernel(), self.bias, stride=2, padding=1)


class Up(nn.Module):
    """Decoder block: ReLU -> ConvTranspose4x4/2 (or resize-convolution) -> Norm [-> Dropout 0.5].

    Dropout is pix2pix's only noise. It is on while training; at inference it is off unless the caller
    passes a `noise` generator, which then draws the masks: variations without touching global state."""

    def __init__(self, in_channels: int, out_channels: int, norm: Norm, dropout: float, upsample: Upsample = "transpose"):
        super().__init__()
        self.block = nn.Sequential(
            nn.ReLU(), upsampling(in_channels, out_channels, upsample, conv_bias(norm)), norm_layer(norm, out_channels)
        )
        self.dropout = dropout

    def forward(self, x: torch.Tensor, noise: torch.Generator | None = None) -> torch.Tensor:
        x = self.block(x)
        if self.dropout and noise is not None:
            keep = torch.rand(x.shape, generator=noise, device=x.device) >= self.dropout
            return x * keep.to(x.dtype) / (1.0 - self.dropout)
        return F.dropout(x, self.dropout, training=self.training) if self.dropout else x


class UNetGenerator(nn.Module):
    """U-Net: encoder C64-C128-C256-C512-C512-C512-C512-C512,
    decoder CD512-CD512-CD512-C512-C256-C128-C64, with skip connections between
    mirrored layers i and n-i, then a convolution to the output channels and tanh."""

    def __init__(self, config: GeneratorConfig = GeneratorConfig()):
        super().__init__()
        self.config = config
        widths = [config.ngf * min(2**i, 8) for i in range(config.num_downs)]  # 64,128,256,512,512,...
        self.encoder = nn.ModuleList()
        for i, width in enumerate(widths):
            first, last = i == 0, i == len(widths) - 1
            in_channels = config.in_channels if first else widths[i - 1]
            # The first layer has no norm (paper); the 1x1 bottleneck has none either (reference code).
            self.encoder.append(Down(in_channels, width, config.norm, activation=not first, normalize=not (first or last)))
        self.decoder = nn.ModuleList()
        for j, i in enumerate(range(len(widths) - 1, 0, -1)):
            in_channels = widths[i] if j == 0 else widths[i] * 2  # the innermost block has no skip to concatenate
            self.decoder.append(Up(in_channels, widths[i - 1], config.norm, config.dropout if j < 3 else 0.0, config.upsample))
        self.output = nn.Sequential(nn.ReLU(), upsampling(widths[0] * 2, config.out_channels, config.upsample), nn.Tanh())

    def forward(self, x: torch.Tensor, noise: torch.Generator | None = None) -> torch.Tensor:
        """`noise`: draw the dropout masks from this generator (inference variations); None: dropout as the mode says.

        Any input size works (progressive training runs at 128 first): a map with an odd side, or a 1x1 map
        that a 4x4/2 convolution cannot halve, is edge-padded to even before it is halved, and what comes back
        up is cropped to its skip's size. At multiples of 2**num_downs nothing is padded: the paper's network."""
        size = x.shape[-2:]
        skips = []
        for down in self.encoder:
            x = down(_even(x))
            skips.append(x)
        skips.pop()  # the bottleneck feeds the decoder directly
        for up in self.decoder:
            skip = skips.pop()
            x = torch.cat([_cropped(up(x, noise), skip.shape[-2:]), skip], dim=1)
        return _cropped(self.output(x), size)


def _even(x: torch.Tensor) -> torch.Tensor:
    """`x` edge-padded at the bottom and right to even sides (a 1x1 map to 2x2), so a 4x4/2 convolution halves it."""
    height, width = x.shape[-2:]
    if height % 2 == 0 and width % 2 == 0:
        return x
    return F.pad(x, (0, width % 2, 0, height % 2), mode="replicate")


def _cropped(x: torch.Tensor, size: torch.Size) -> torch.Tensor:
    return x if x.shape[-2:] == size else x[..., : size[0], : size[1]]


class PatchDiscriminator(nn.Module):
    """PatchGAN: C64-C128-C256-C512 then a 1-channel convolution, each output logit judging
    one 70x70 patch of the (input, output) pair; a 256x256 pair gives 30x30 logits."""

    def __init__(self, config: DiscriminatorConfig = DiscriminatorConfig()):
        super().__init__()
        self.config = config
        layers: list[nn.Module] = [nn.Conv2d(config.in_channels, config.ndf, 4, stride=2, padding=1), nn.LeakyReLU(0.2)]
        width = config.ndf
        for i in range(1, config.n_layers + 1):
            previous, width = width, config.ndf * min(2**i, 8)
            stride = 2 if i < config.n_layers else 1  # the last two convolutions keep the resolution
            layers += [
                nn.Conv2d(previous, width, 4, stride=stride, padding=1, bias=conv_bias(config.norm)),
                norm_layer(config.norm, width),
                nn.LeakyReLU(0.2),
            ]
        layers.append(nn.Conv2d(width, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, condition: torch.Tensor, image: torch.Tensor) -> torch.Tensor:
        return self.model(torch.cat([condition, image], dim=1))


def init_weights(module: nn.Module) -> None:
    """N(0, 0.02) for convolutions, N(1, 0.02) for norm scales (paper section 6.2)."""
    for m in module.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, ResizeConvolution)):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, (nn.BatchNorm2d, nn.InstanceNorm2d)) and m.affine:
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
