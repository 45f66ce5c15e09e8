"""The networks match Isola et al. 2017: sizes, shapes, receptive field, skips, dropout."""

import pytest
import torch
import torch.nn.functional as F

from pix2pix.config import DiscriminatorConfig, GeneratorConfig
from pix2pix.models import PatchDiscriminator, ResizeConvolution, UNetGenerator, init_weights


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_unet256_has_the_papers_size_and_shape():
    generator = UNetGenerator()
    assert count(generator) == pytest.approx(54.4e6, rel=0.001)
    encoder_widths = [down.block[-2 if i not in (0, 7) else -1].out_channels for i, down in enumerate(generator.encoder)]
    assert encoder_widths == [64, 128, 256, 512, 512, 512, 512, 512]
    decoder_widths = [up.block[1].out_channels for up in generator.decoder]
    assert decoder_widths == [512, 512, 512, 512, 256, 128, 64]
    with torch.no_grad():
        assert generator.eval()(torch.zeros(1, 3, 256, 256)).shape == (1, 3, 256, 256)


def test_unet_width_and_depth_are_configurable():
    small = UNetGenerator(GeneratorConfig(ngf=32))
    assert count(small) == pytest.approx(count(UNetGenerator()) / 4, rel=0.01)
    unet128 = UNetGenerator(GeneratorConfig(num_downs=7)).eval()
    with torch.no_grad():
        assert unet128(torch.zeros(1, 3, 128, 128)).shape == (1, 3, 128, 128)
    with pytest.raises(ValueError, match="num_downs"):
        UNetGenerator(GeneratorConfig(num_downs=3))


def test_dropout_only_in_the_first_three_decoder_blocks_and_active_in_training():
    generator = UNetGenerator(GeneratorConfig(ngf=8))
    assert [up.dropout for up in generator.decoder] == [0.5, 0.5, 0.5, 0.0, 0.0, 0.0, 0.0]
    x = torch.randn(2, 3, 256, 256)
    generator.train()
    assert not torch.equal(generator(x), generator(x))  # dropout noise
    generator.eval()
    assert torch.equal(generator(x), generator(x))


def test_inference_noise_comes_from_the_callers_generator():
    generator = UNetGenerator(GeneratorConfig(ngf=8)).eval()
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        seeded = [generator(x, torch.Generator().manual_seed(seed)) for seed in (1, 1, 2)]
        plain = generator(x)
    assert torch.equal(seeded[0], seeded[1]) and not torch.equal(seeded[0], seeded[2])
    assert not torch.equal(seeded[0], plain) and torch.equal(plain, generator(x))  # eval mode stays deterministic


def test_skip_connections_carry_the_input_to_the_output():
    """Zeroing the bottleneck path leaves the output still depending on the input: the skips carry it."""
    generator = UNetGenerator(GeneratorConfig(ngf=8)).eval()
    innermost = generator.decoder[0]
    innermost.register_forward_hook(lambda module, inputs, output: torch.zeros_like(output))
    x = torch.randn(1, 3, 256, 256)
    assert not torch.allclose(generator(x), generator(torch.randn(1, 3, 256, 256)))


def test_patchgan_outputs_30x30_logits_for_256_pairs():
    discriminator = PatchDiscriminator()
    x = torch.zeros(1, 3, 256, 256)
    assert discriminator(x, x).shape == (1, 1, 30, 30)
    assert count(discriminator) == pytest.approx(2.77e6, rel=0.01)


def receptive_field(n_layers: int) -> int:
    """Width of the input region that one output logit depends on, measured by gradients."""
    discriminator = PatchDiscriminator(DiscriminatorConfig(n_layers=n_layers, ndf=8)).eval()
    for module in discriminator.modules():
        if isinstance(module, torch.nn.Conv2d):
            torch.nn.init.constant_(module.weight, 0.01)
    x = torch.zeros(1, 3, 320, 320, requires_grad=True)
    logits = discriminator(x, torch.zeros(1, 3, 320, 320))
    logits[0, 0, logits.shape[2] // 2, logits.shape[3] // 2].backward()
    columns = (x.grad[0].abs().sum(dim=(0, 1)) > 0).nonzero()
    return int(columns.max() - columns.min() + 1)


@pytest.mark.parametrize(("n_layers", "field"), [(1, 16), (3, 70)])
def test_patchgan_receptive_field(n_layers, field):
    assert receptive_field(n_layers) == field


def test_instance_norm_and_init():
    generator = UNetGenerator(GeneratorConfig(ngf=8, norm="instance"))
    assert any(isinstance(m, torch.nn.InstanceNorm2d) for m in generator.modules())
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in generator.modules())
    init_weights(generator)
    weights = torch.cat([m.weight.detach().flatten() for m in generator.modules() if isinstance(m, torch.nn.Conv2d)])
    assert abs(weights.mean().item()) < 0.002 and weights.std().item() == pytest.approx(0.02, rel=0.05)


def test_resize_convolution_is_nearest_x2_then_a_3x3_convolution_without_any_free_transposed_kernel():
    torch.manual_seed(0)
    resize = ResizeConvolution(3, 5).double()
    reference = torch.nn.Conv2d(3, 5, 3, padding=1).double()
    reference.load_state_dict(resize.state_dict())
    x = torch.randn(2, 3, 7, 9, dtype=torch.float64)
    expected = reference(F.interpolate(x, scale_factor=2, mode="nearest"))
    assert torch.allclose(resize(x), expected, atol=1e-12)  # training: the kernel is built with gradients
    with torch.no_grad():
        assert torch.allclose(resize(x), expected, atol=1e-12)  # inference: the cached kernel
        resize.weight.mul_(2.0)  # a weight update (EMA, load_state_dict) rebuilds the cached kernel
        assert torch.allclose(resize(x) - resize.bias[:, None, None], 2 * (expected - reference.bias[:, None, None]), atol=1e-12)
    generator = UNetGenerator(GeneratorConfig(ngf=8, upsample="resize")).eval()
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in generator.modules())
    assert sum(isinstance(m, ResizeConvolution) for m in generator.modules()) == 8  # every decoder step and the output
    with torch.no_grad():
        assert generator(torch.zeros(1, 3, 256, 256)).shape == (1, 3, 256, 256)
    assert any(isinstance(m, torch.nn.ConvTranspose2d) for m in UNetGenerator(GeneratorConfig(ngf=8)).modules())  # paper default


def test_resize_convolution_follows_autocast_without_rebuilding_per_frame():
    resize = ResizeConvolution(4, 4).eval()
    x = torch.randn(1, 4, 8, 8)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        first = resize(x)
        kernel = resize.kernel()
        assert kernel.dtype == torch.bfloat16 and resize.kernel() is kernel
        assert torch.allclose(first.float(), resize(x).float())
    with torch.no_grad():
        assert resize(x).dtype == torch.float32
        assert torch.allclose(resize(x), first.float(), atol=0.05)
        full = resize.kernel()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert resize.kernel() is kernel  # runtimes taken in turn (the Translator's timing) each keep theirs
        assert resize.kernel() is full


@pytest.mark.parametrize("size", [128, 100, 33])
def test_the_unet_takes_any_size_and_gives_the_same_size_back(size):
    generator = UNetGenerator(GeneratorConfig(ngf=8)).eval()
    assert generator(torch.zeros(2, 3, size, size)).shape == (2, 3, size, size)


def test_at_multiples_of_2_to_the_num_downs_nothing_is_padded(monkeypatch: pytest.MonkeyPatch):
    import pix2pix.models as models

    generator = UNetGenerator(GeneratorConfig(ngf=8)).eval()
    monkeypatch.setattr(models.F, "pad", lambda *args, **kwargs: pytest.fail("padded a 256x256 input"))
    assert generator(torch.zeros(1, 3, 256, 256)).shape == (1, 3, 256, 256)
