"""A BatchNorm generator carried over to affine instance norm computes, at inference, what it computed in
training on a batch of one picture: the same weights, each picture's own statistics."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch
from conftest import save_fixture_model
from torch import nn

from pix2pix import renorm
from pix2pix.checkpoint import ModelInfo, critic_path, load_discriminator, load_generator, read_safetensors
from pix2pix.config import GeneratorConfig
from pix2pix.models import UNetGenerator, init_weights
from pix2pix.renorm import with_instance_norm


@pytest.fixture
def trained() -> UNetGenerator:
    """A BatchNorm generator with scales, shifts and running statistics far from their initial values."""
    torch.manual_seed(4)
    generator = UNetGenerator(GeneratorConfig(ngf=8, num_downs=6, dropout=0.0))
    init_weights(generator)
    for module in generator.modules():
        if isinstance(module, nn.BatchNorm2d):
            module.weight.data.uniform_(0.5, 1.5)
            module.bias.data.uniform_(-0.5, 0.5)
            module.running_mean.uniform_(-1.0, 1.0)
            module.running_var.uniform_(0.5, 2.0)
    return generator.eval()


def test_the_carried_over_generator_normalises_each_picture_by_its_own_statistics(trained):
    renormed = with_instance_norm(trained)
    assert renormed.config.norm == "instance-affine" and not renormed.training
    assert not any(isinstance(m, nn.BatchNorm2d) for m in renormed.modules())
    pictures = torch.randn(3, 3, 64, 64)
    with torch.no_grad():
        one_at_a_time = torch.cat([copy.deepcopy(trained).train()(picture[None]) for picture in pictures])
        together = renormed(pictures)
        assert torch.allclose(together, one_at_a_time, atol=1e-5)
        assert not torch.allclose(together, trained(pictures), atol=1e-2)  # the running statistics are gone


def test_every_learned_weight_carries_over_and_only_the_running_statistics_are_dropped(trained):
    before, after = trained.state_dict(), with_instance_norm(trained).state_dict()
    assert set(before) - set(after) == {name for name in before if name.rpartition(".")[2] in
                                        ("running_mean", "running_var", "num_batches_tracked")}
    assert set(after) <= set(before) and all(torch.equal(after[name], before[name]) for name in after)


def test_only_a_batchnorm_generator_is_carried_over(trained):
    with pytest.raises(ValueError, match="already normalises by 'instance-affine'"):
        with_instance_norm(with_instance_norm(trained))


def test_the_command_line_writes_the_carried_over_model_with_its_critic_and_parent(tmp_path: Path, capsys):
    shipped, out = tmp_path / "shipped.safetensors", tmp_path / "renormed.safetensors"
    save_fixture_model(shipped, ModelInfo(task="t", input_kind="edges", metrics={"l1": 0.2}, training={"images_seen": 6}), seed=1)
    renorm.main([str(shipped), "--out", str(out)])
    assert "pix2pix.evaluate --checkpoint" in capsys.readouterr().out
    (generator, info), (original, _) = load_generator(out), load_generator(shipped)
    expected = with_instance_norm(original)
    assert generator.config.norm == "instance-affine" and info.metrics == {} and info.task == "t"
    assert all(torch.equal(generator.state_dict()[name], tensor) for name, tensor in expected.state_dict().items())
    assert info.training["init_from"]["checkpoint"] == "shipped.safetensors" and info.training["totals"]["images_seen"] == 6
    critic, original_critic = read_safetensors(critic_path(out))[0], read_safetensors(critic_path(shipped))[0]
    assert critic.keys() == original_critic.keys() and all(torch.equal(critic[key], original_critic[key]) for key in critic)
    assert load_discriminator(critic_path(out)).config == load_discriminator(critic_path(shipped)).config
    with pytest.raises(SystemExit, match="renormed.safetensors: the generator already normalises by 'instance-affine'"):
        renorm.main([str(out), "--out", str(tmp_path / "again.safetensors")])
    with pytest.raises(SystemExit, match="missing.safetensors does not exist"):
        renorm.main([str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "x.safetensors")])
