"""A ConvTranspose generator carried over to resize-convolution keeps what the tied form can hold and loses
exactly the part that paints the 2-pixel grid."""

from __future__ import annotations

import torch
from torch import nn

from pix2pix.config import GeneratorConfig
from pix2pix.models import ResizeConvolution, UNetGenerator, tied_transpose_kernel
from pix2pix.reupsample import tied_fit, with_resize_upsampling


def test_the_fit_of_a_kernel_that_already_has_the_tied_form_is_exact():
    weight = torch.randn(6, 4, 3, 3, dtype=torch.float64)
    assert torch.allclose(tied_fit(tied_transpose_kernel(weight)), weight, atol=1e-12)


def test_the_fit_is_the_least_squares_projection():
    torch.manual_seed(1)
    free = torch.randn(4, 6, 4, 4, dtype=torch.float64)
    residual = free - tied_transpose_kernel(tied_fit(free))
    for _ in range(5):  # orthogonal to every tied kernel, so no other one comes closer
        other = tied_transpose_kernel(torch.randn(6, 4, 3, 3, dtype=torch.float64))
        assert abs((residual * other).sum().item()) < 1e-9
    assert residual.abs().max() > 0.1  # a free kernel is not tied


def test_a_free_transposed_kernel_paints_a_grid_on_flat_input_and_its_fit_does_not():
    torch.manual_seed(2)
    transpose = nn.ConvTranspose2d(3, 2, 4, stride=2, padding=1, bias=False).double()
    resize = ResizeConvolution(3, 2, bias=False).double()
    with torch.no_grad():
        resize.weight.copy_(tied_fit(transpose.weight))
        flat = torch.ones(1, 3, 8, 8, dtype=torch.float64)
        grid, smooth = transpose(flat)[..., 2:-2, 2:-2], resize(flat)[..., 2:-2, 2:-2]  # away from the borders
    assert (grid[..., 0::2, 0::2] - grid[..., 1::2, 1::2]).abs().max() > 0.01
    assert torch.allclose(smooth, smooth[..., :1, :1].expand_as(smooth), atol=1e-12)


def test_a_generator_carries_over_with_everything_but_its_upsampling_unchanged():
    torch.manual_seed(3)
    generator = UNetGenerator(GeneratorConfig(ngf=8, num_downs=6)).eval()
    for module in generator.modules():  # tied kernels: the carried-over generator must compute the same pictures
        if isinstance(module, nn.ConvTranspose2d):
            module.weight.data = tied_transpose_kernel(torch.randn(module.out_channels, module.in_channels, 3, 3) * 0.05)
    resized = with_resize_upsampling(generator)
    assert resized.config.upsample == "resize" and not resized.training
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in resized.modules())
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(resized(x), generator(x), atol=1e-5)
    unchanged = [name for name, value in generator.state_dict().items() if "encoder" in name or "running" in name]
    assert unchanged and all(torch.equal(resized.state_dict()[name], generator.state_dict()[name]) for name in unchanged)
