"""Checkpoints: bit-exact round trips, self-describing metadata, atomic writes, clear refusals."""

import dataclasses
import json

import pytest
import torch

from pix2pix.checkpoint import (
    CheckpointError,
    ModelInfo,
    load_discriminator,
    load_generator,
    load_state,
    read_safetensors,
    save_discriminator,
    save_generator,
    save_state,
    write_safetensors,
)
from pix2pix.config import DiscriminatorConfig, GeneratorConfig
from pix2pix.models import PatchDiscriminator, UNetGenerator, init_weights

PALETTE = {"names": ["background", "yellow"], "colors": [[255, 255, 255], [250, 200, 20]]}


def tiny_generator() -> UNetGenerator:
    torch.manual_seed(0)
    generator = UNetGenerator(GeneratorConfig(ngf=8, num_downs=6, norm="instance"))
    init_weights(generator)
    return generator


def test_generator_round_trips_bit_exact_with_its_metadata(tmp_path):
    generator = tiny_generator()
    info = ModelInfo(task="labels2things", input_kind="labels", palette=PALETTE, image_size=64, epoch=3, step=99, metrics={"psnr": 20.5})
    save_generator(tmp_path / "g.safetensors", generator, info, dtype=torch.float32)
    loaded, loaded_info = load_generator(tmp_path / "g.safetensors")
    assert loaded.config == generator.config
    assert loaded_info == info
    for (name, a), b in zip(generator.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(a, b), name
    x = torch.randn(1, 3, 64, 64)
    assert torch.equal(generator.eval()(x), loaded(x))


def test_fp16_export_is_half_the_size_and_close(tmp_path):
    generator = tiny_generator()
    save_generator(tmp_path / "32.safetensors", generator, ModelInfo(), dtype=torch.float32)
    save_generator(tmp_path / "16.safetensors", generator, ModelInfo())
    assert (tmp_path / "16.safetensors").stat().st_size < 0.55 * (tmp_path / "32.safetensors").stat().st_size
    loaded, _ = load_generator(tmp_path / "16.safetensors")
    x = torch.randn(1, 3, 64, 64)
    assert torch.allclose(generator.eval()(x), loaded(x), atol=2e-2)


def test_discriminator_round_trip_and_kind_checks(tmp_path):
    discriminator = PatchDiscriminator(DiscriminatorConfig(ndf=8, n_layers=2))
    save_discriminator(tmp_path / "d.safetensors", discriminator, dtype=torch.float32)
    assert load_discriminator(tmp_path / "d.safetensors").config.n_layers == 2
    with pytest.raises(CheckpointError, match="not a generator"):
        load_generator(tmp_path / "d.safetensors")
    save_generator(tmp_path / "g.safetensors", tiny_generator(), ModelInfo())
    with pytest.raises(CheckpointError, match="not a discriminator"):
        load_discriminator(tmp_path / "g.safetensors")


def test_training_state_round_trips_optimizer_and_rng(tmp_path):
    generator = tiny_generator()
    optimizer = torch.optim.Adam(generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    generator(torch.randn(1, 3, 64, 64)).mean().backward()
    optimizer.step()
    rng = torch.Generator().manual_seed(5)
    state = {"optimizer": optimizer.state_dict(), "rng": rng.get_state(), "step": 7, "names": ["a", "b"]}
    save_state(tmp_path / "s.safetensors", state)
    loaded = load_state(tmp_path / "s.safetensors")
    assert loaded["step"] == 7 and loaded["names"] == ["a", "b"]
    restored = torch.Generator()
    restored.set_state(loaded["rng"])
    assert torch.equal(torch.rand(3, generator=restored), torch.rand(3, generator=rng))
    fresh = torch.optim.Adam(generator.parameters())
    fresh.load_state_dict(loaded["optimizer"])
    assert fresh.param_groups[0]["betas"] == (0.5, 0.999)
    key = next(iter(optimizer.state))
    assert torch.equal(fresh.state_dict()["state"][0]["exp_avg"], optimizer.state[key]["exp_avg"])


def test_foreign_and_corrupt_files_are_refused(tmp_path):
    from safetensors.torch import save_file

    save_file({"w": torch.zeros(2)}, tmp_path / "foreign.safetensors")
    with pytest.raises(CheckpointError, match="not a pix2pix studio checkpoint"):
        load_generator(tmp_path / "foreign.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 100)
    with pytest.raises(CheckpointError, match="cannot be read"):
        load_generator(tmp_path / "junk.safetensors")
    with pytest.raises(CheckpointError, match="does not exist"):
        load_generator(tmp_path / "missing.safetensors")


def test_weights_that_do_not_match_the_config_are_refused(tmp_path):
    generator = tiny_generator()
    save_generator(tmp_path / "g.safetensors", generator, ModelInfo())
    tensors = {k: v for k, v in generator.state_dict().items() if "output" not in k}
    config = json.dumps(dataclasses.asdict(generator.config))
    write_safetensors(tmp_path / "bad.safetensors", tensors, {"model": "generator", "config": config})
    with pytest.raises(CheckpointError, match="do not match"):
        load_generator(tmp_path / "bad.safetensors")


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "g.safetensors"
    save_generator(path, tiny_generator(), ModelInfo(step=1))
    with pytest.raises(AttributeError):
        write_safetensors(path, {"w": "not a tensor"}, {})  # fails inside the write
    assert load_generator(path)[1].step == 1
    assert [p.name for p in tmp_path.iterdir()] == ["g.safetensors"]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("config", lambda config: json.dumps({**config, "ngf": "abc"}), "ngf must be an integer, not 'abc'"),
    ("config", lambda config: json.dumps({**config, "norm": "group"}), "norm must be one of batch, instance"),
    ("config", lambda config: json.dumps({**config, "wings": 2}), "unknown setting"),
    ("config", lambda config: "{", "not valid JSON"),
    ("image_size", lambda _: '"big"', "'image_size' holds 'big'"),
])
def test_a_bad_metadata_field_is_named(tmp_path, key, value, message):
    path = tmp_path / "g.safetensors"
    save_generator(path, UNetGenerator(GeneratorConfig(ngf=8)), ModelInfo())
    tensors, metadata = read_safetensors(path)
    write_safetensors(path, tensors, {**metadata, key: value(json.loads(metadata["config"]))})
    with pytest.raises(CheckpointError, match=message):
        load_generator(path)
