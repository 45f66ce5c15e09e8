"""The CPU recipe's parts: validated configuration, the objective, the schedule, one trainer step, the weight
average, sketch-like edges and warm starts."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path

import pytest
import torch

import train
from pix2pix.checkpoint import critic_path, load_discriminator, load_generator
from pix2pix.config import ConfigError, DiscriminatorConfig, GeneratorConfig, TrainConfig, check_low_res
from pix2pix.data.pairs import Roles
from pix2pix.data.sketch import MAX_WIDTH, sketchlike
from pix2pix.images import to_uint8
from pix2pix.losses import discriminator_loss, generator_loss
from pix2pix.models import PatchDiscriminator, UNetGenerator, init_weights
from pix2pix.renorm import with_instance_norm
from pix2pix.reupsample import with_resize_upsampling
from pix2pix.training import Pix2PixTrainer, linear_decay
from tests.synthetic import write_aligned

TINY = ["--image-size", "64", "--load-size", "72", "--crop-size", "64", "--num-downs", "6", "--ngf", "8", "--d-ndf", "8"]


@pytest.mark.parametrize(("make", "message"), [
    (lambda: GeneratorConfig(ngf=0), "ngf must be positive"),
    (lambda: GeneratorConfig(dropout=1.0), "dropout must be in"),
    (lambda: DiscriminatorConfig(ndf=-1), "ndf must be positive"),
    (lambda: TrainConfig(lr=float("nan")), "lr must be a finite number"),
    (lambda: TrainConfig(lr=0.0), "lr must be positive"),
    (lambda: TrainConfig(ema_decay=1.0), "ema_decay must be in"),
    (lambda: TrainConfig(crop_size=300, load_size=286), "cannot exceed"),
    (lambda: TrainConfig(low_res_size=256), "low_res_size must be 0"),
    (lambda: TrainConfig(low_res_size=128, low_res_share=1.0), "low_res_share must be in"),
    (lambda: TrainConfig(sketch_share=0.0), "sketch_share must be in"),
])
def test_configuration_is_validated_where_it_is_defined(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


@pytest.mark.parametrize(("arguments", "message"), [
    (["--ngf", "0"], "ngf must be positive"),
    (["--lr", "nan"], "lr must be a finite number"),
    (["--save-every", "0"], "--save-every must be at least 1"),
    (["--image-size", "0"], "--image-size must be at least 1"),
    (["--crop-size", "60", "--load-size", "72"], "multiple of 2**num_downs"),
])
def test_the_command_line_reports_bad_values_in_one_line(arguments, message, tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.parse_arguments(["--data", str(tmp_path), "--name", "x", *TINY, *arguments])
    assert message in capsys.readouterr().err


def test_losses_on_hand_checked_logits():
    confident_real, confident_fake = torch.full((1, 1, 2, 2), 20.0), torch.full((1, 1, 2, 2), -20.0)
    assert discriminator_loss(confident_real, confident_fake).item() == pytest.approx(0.0, abs=1e-6)
    assert discriminator_loss(confident_fake, confident_real).item() == pytest.approx(0.5 * 2 * 20.0, rel=1e-4)
    fake, target = torch.zeros(1, 3, 2, 2), torch.full((1, 3, 2, 2), 0.5)
    total, gan, l1 = generator_loss(torch.zeros(1, 1, 2, 2), fake, target, lambda_l1=100.0)
    assert gan.item() == pytest.approx(torch.log(torch.tensor(2.0)).item())  # logit 0: D is unsure
    assert l1.item() == pytest.approx(0.5) and total.item() == pytest.approx(gan.item() + 50.0)
    lsgan_total, lsgan_gan, _ = generator_loss(torch.zeros(1, 1, 2, 2), fake, target, 0.0, "lsgan")
    assert lsgan_gan.item() == pytest.approx(1.0) and lsgan_total.item() == pytest.approx(1.0)


def test_the_learning_rate_is_constant_then_decays_linearly_to_nearly_zero():
    factor = linear_decay(n_epochs=3, n_epochs_decay=4)
    assert [round(factor(epoch), 3) for epoch in range(7)] == [1.0, 1.0, 1.0, 0.8, 0.6, 0.4, 0.2]


def tiny_trainer(ema_decay: float = 0.0) -> Pix2PixTrainer:
    torch.manual_seed(0)
    generator, discriminator = UNetGenerator(GeneratorConfig(ngf=8, num_downs=5)), PatchDiscriminator(DiscriminatorConfig(ndf=8))
    init_weights(generator)
    init_weights(discriminator)
    return Pix2PixTrainer(generator, discriminator, TrainConfig(ema_decay=ema_decay, lr=1e-3))


def test_one_trainer_step_moves_both_networks_and_reports_the_losses():
    trainer = tiny_trainer()
    before_g = [p.detach().clone() for p in trainer.generator.parameters()]
    before_d = [p.detach().clone() for p in trainer.discriminator.parameters()]
    real_a, real_b = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    losses = trainer.step(real_a, real_b)
    assert set(losses) == {"D", "G_gan", "G_L1"} and all(torch.isfinite(v) for v in losses.values())
    assert any(not torch.equal(a, b) for a, b in zip(before_g, trainer.generator.parameters(), strict=True))
    assert any(not torch.equal(a, b) for a, b in zip(before_d, trainer.discriminator.parameters(), strict=True))
    assert all(p.requires_grad for p in trainer.discriminator.parameters())  # D is unfrozen after G's step


def test_the_weight_average_trails_the_raw_weights_and_is_what_ships():
    trainer = tiny_trainer(ema_decay=0.9)
    start = [p.detach().clone() for p in trainer.generator.parameters()]
    for _ in range(3):
        trainer.step(torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1)
    raw, average = list(trainer.generator.parameters()), list(trainer.ema.parameters())
    assert any(not torch.equal(a, r) for a, r in zip(average, raw, strict=True))
    for a, r, s in zip(average, raw, start, strict=True):  # between where G started and where it is now
        assert (a - s).norm() <= (r - s).norm() + 1e-6
    batches = [torch.rand(2, 3, 32, 32) * 2 - 1 for _ in range(3)]
    assert trainer.shipped_generator(batches) is trainer.ema
    plain = tiny_trainer()
    assert plain.ema is None and plain.shipped_generator(batches) is plain.generator  # no average: the raw weights ship


def test_the_average_warms_up_instead_of_holding_on_to_the_initialisation():
    """With decay 0.999 and no warm-up, the average after one step would be 99.9 % the random start; the warm-up
    decay (1 + n) / (10 + n) makes it follow the first steps closely, and the count survives a resume."""
    trainer = tiny_trainer(ema_decay=0.999)
    start = [p.detach().clone() for p in trainer.ema.parameters()]
    trainer.step(torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1)
    for average, raw, initial in zip(trainer.ema.parameters(), trainer.generator.parameters(), start, strict=True):
        assert torch.allclose(average, initial + (1 - 2 / 11) * (raw - initial), atol=1e-6)
    resumed = tiny_trainer(ema_decay=0.999)
    resumed.load_state_dict(trainer.state_dict())
    assert resumed.ema_updates == trainer.ema_updates == 1


def test_the_average_gets_batchnorm_statistics_of_its_own():
    """The raw generator's running statistics belong to other weights: measured again for the average, they are
    the plain mean over the given batches, and training's random stream does not move."""
    trainer = tiny_trainer(ema_decay=0.9)
    for _ in range(2):
        trainer.step(torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1)
    batches = [torch.rand(2, 3, 32, 32) * 2 - 1 for _ in range(4)]
    rng_before = torch.get_rng_state()
    average = trainer.shipped_generator(batches)
    assert torch.equal(torch.get_rng_state(), rng_before)
    assert not average.training
    first_norm = next(m for m in average.modules() if isinstance(m, torch.nn.BatchNorm2d))
    raw_norm = next(m for m in trainer.generator.modules() if isinstance(m, torch.nn.BatchNorm2d))
    assert not torch.allclose(first_norm.running_mean, raw_norm.running_mean)
    norm = average.encoder[1].block[2]  # the first BatchNorm: its input depends on no other norm or dropout
    features = []
    hook = norm.register_forward_hook(lambda module, inputs, output: features.append(inputs[0]))
    with torch.no_grad():
        for batch in batches:
            average(batch)  # eval mode: the statistics stay as they are
    hook.remove()
    expected = torch.stack([f.mean(dim=(0, 2, 3)) for f in features]).mean(0)
    assert torch.allclose(norm.running_mean, expected, atol=1e-5)


def outline_batch() -> tuple[torch.Tensor, torch.Tensor]:
    """A filled square on white (target) and its 2 px outline (input), in [-1, 1]."""
    target = torch.ones(1, 3, 64, 64)
    target[..., 16:48, 16:48] = -0.5
    sketch = torch.ones(1, 3, 64, 64)
    sketch[..., 15:49, 15:17] = sketch[..., 15:49, 47:49] = sketch[..., 15:17, 15:49] = sketch[..., 47:49, 15:49] = -1.0
    return sketch, target


def test_sketchlike_lines_stay_on_the_outline_at_any_width():
    sketch, target = outline_batch()
    original = sketch[0, 0] < 0
    near = torch.nn.functional.max_pool2d(original[None, None].float(), 11, stride=1, padding=5)[0, 0] > 0
    widths = set()
    for seed in range(12):
        drawn = sketchlike(sketch, target, torch.Generator().manual_seed(seed))
        assert drawn.shape == sketch.shape and set(drawn.unique().tolist()) <= {-1.0, 1.0}  # binary ink on paper
        ink = drawn[0, 0] < 0
        assert ink[~near].sum() == 0  # within a few px of the true contour: wobble, never invention
        assert ink[near].sum() > 0.5 * original.sum() / 2  # the outline is kept: it is the object's silhouette
        widths.add(int(ink[32].sum()))  # a row through both vertical sides: twice the line width
    assert len(widths) >= 3 and max(widths) <= 2 * MAX_WIDTH + 2


@pytest.mark.parametrize(("share", "low", "high"), [(1.0, 0, 0), (0.5, 16, 48)])
def test_the_sketch_share_redraws_that_share_of_a_batch_and_leaves_the_rest_clean(share, low, high):
    sketch, target = outline_batch()
    batch = [to_uint8(images).repeat(64, 1, 1, 1) for images in (sketch, target)]
    data = train.TrainingData({}, Roles("edges", "photo", None), *batch)
    config = TrainConfig(load_size=64, crop_size=64, flip=False, sketch_augment=True, sketch_share=share)
    inputs, _ = train.training_pair(data, torch.arange(64), config, torch.Generator().manual_seed(0))
    clean = (inputs == sketch).flatten(1).all(1)
    assert low <= int(clean.sum()) <= high


def test_the_sketch_option_is_refused_for_label_inputs(tmp_path, capsys):
    root = tmp_path / "labels"
    write_aligned(root / "train", n=4)
    (root / "dataset.json").write_text(json.dumps({"task": "x", "input_kind": "labels", "palette": None}))
    with pytest.raises(SystemExit, match="redraws edge maps"):
        train.main(["--data", str(root), "--name", "s", "--runs", str(tmp_path / "runs"), *TINY, "--sketch-augment"])


@pytest.fixture(scope="module")
def shipped(tmp_path_factory) -> tuple[Path, Path]:
    """A dataset and a model exported from it, as if it were a bundled checkpoint."""
    root = tmp_path_factory.mktemp("warm")
    write_aligned(root / "data" / "train", n=8)
    (root / "data" / "dataset.json").write_text(json.dumps({"task": "circles", "input_kind": "edges", "palette": None}))
    train.main(["--data", str(root / "data"), "--name", "first", "--runs", str(root / "runs"), *TINY, "--batch-size", "2",
                "--max-steps", "3", "--sample-every", "0", "--export", str(root / "first.safetensors")])
    return root / "data", root / "first.safetensors"


def test_warm_start_begins_from_the_given_weights_exactly(shipped):
    data, checkpoint = shipped
    generator, discriminator, lineage = train.warm_start(checkpoint, load_generator(checkpoint)[0].config, DiscriminatorConfig(ndf=8))
    reference, info = load_generator(checkpoint)
    for name, tensor in reference.state_dict().items():
        assert torch.equal(generator.state_dict()[name], tensor), name
    assert lineage["totals"]["images_seen"] == info.training["images_seen"] == 6


def test_a_warm_started_run_records_its_lineage_and_totals(shipped, tmp_path):
    data, checkpoint = shipped
    out = tmp_path / "second.safetensors"
    train.main(["--data", str(data), "--name", "second", "--runs", str(tmp_path), *TINY, "--batch-size", "2", "--max-steps", "2",
                "--sample-every", "0", "--init-from", str(checkpoint), "--ema-decay", "0.5", "--export", str(out)])
    training = load_generator(out)[1].training
    assert training["init_from"]["checkpoint"] == "first.safetensors"
    assert training["totals"]["images_seen"] == 6 + 4
    assert training["totals"]["minutes"] >= training["minutes"]


def test_a_warm_started_run_taken_up_again_with_resume_ends_as_an_unbroken_one(shipped, tmp_path):
    """A run too long for one session: its command again with --resume (--init-from kept, so the architecture
    defaults are the same) exports the same weights and the same lineage as the run trained in one go."""
    data, checkpoint = shipped
    command = ["--data", str(data), "--runs", str(tmp_path), *TINY, "--batch-size", "2", "--sample-every", "0",
               "--init-from", str(checkpoint), "--ema-decay", "0.5"]
    train.main([*command, "--name", "whole", "--max-steps", "4", "--export", str(tmp_path / "whole.safetensors")])
    train.main([*command, "--name", "parts", "--max-steps", "2"])
    train.main([*command, "--name", "parts", "--max-steps", "4", "--resume", "--export", str(tmp_path / "parts.safetensors")])
    (whole, whole_info), (parts, parts_info) = (load_generator(tmp_path / f"{name}.safetensors") for name in ("whole", "parts"))
    for name, tensor in whole.state_dict().items():
        assert torch.equal(parts.state_dict()[name], tensor), name
    assert parts_info.training["init_from"] == whole_info.training["init_from"]
    assert parts_info.training["totals"]["images_seen"] == whole_info.training["totals"]["images_seen"] == 6 + 8


def test_a_transposed_checkpoint_goes_on_as_a_resize_convolution_one(shipped, tmp_path):
    data, checkpoint = shipped
    wanted = dataclasses.replace(load_generator(checkpoint)[0].config, upsample="resize")
    generator, _, lineage = train.warm_start(checkpoint, wanted, DiscriminatorConfig(ndf=8))
    expected = with_resize_upsampling(load_generator(checkpoint)[0])
    assert generator.config == wanted
    assert all(torch.equal(generator.state_dict()[name], tensor) for name, tensor in expected.state_dict().items())
    assert "resize" in lineage["init_from"]["upsample"]
    out = tmp_path / "resized.safetensors"
    train.main(["--data", str(data), "--name", "resized", "--runs", str(tmp_path), *TINY, "--batch-size", "2", "--max-steps", "2",
                "--sample-every", "0", "--init-from", str(checkpoint), "--upsample", "resize", "--export", str(out)])
    exported, info = load_generator(out)
    assert exported.config.upsample == "resize" and "resize" in info.training["init_from"]["upsample"]


def test_a_batchnorm_checkpoint_goes_on_with_affine_instance_norm(shipped, tmp_path):
    data, checkpoint = shipped
    wanted = dataclasses.replace(load_generator(checkpoint)[0].config, norm="instance-affine")
    generator, discriminator, lineage = train.warm_start(checkpoint, wanted, DiscriminatorConfig(ndf=8))
    expected = with_instance_norm(load_generator(checkpoint)[0])
    assert generator.config == wanted and discriminator.config.norm == "batch"  # the critic keeps its BatchNorm
    assert generator.state_dict().keys() == expected.state_dict().keys()
    assert all(torch.equal(generator.state_dict()[name], tensor) for name, tensor in expected.state_dict().items())
    assert "instance-affine" in lineage["init_from"]["norm"]
    out = tmp_path / "renormed.safetensors"
    train.main(["--data", str(data), "--name", "renormed", "--runs", str(tmp_path), *TINY, "--batch-size", "2", "--max-steps", "2",
                "--sample-every", "0", "--init-from", str(checkpoint), "--norm", "instance-affine", "--ema-decay", "0.5",
                "--export", str(out)])
    exported, info = load_generator(out)
    assert exported.config.norm == "instance-affine" and "instance-affine" in info.training["init_from"]["norm"]
    assert any(isinstance(m, torch.nn.InstanceNorm2d) and m.affine for m in exported.modules())


def test_a_warm_start_takes_the_checkpoints_architecture_unless_told_otherwise(shipped, tmp_path):
    data, checkpoint = shipped
    out = tmp_path / "adopted.safetensors"
    sizes = ["--image-size", "64", "--load-size", "72", "--crop-size", "64"]  # TINY without the architecture flags
    train.main(["--data", str(data), "--name", "adopted", "--runs", str(tmp_path), *sizes, "--batch-size", "2", "--max-steps", "1",
                "--sample-every", "0", "--init-from", str(checkpoint), "--export", str(out)])
    assert load_generator(out)[0].config == load_generator(checkpoint)[0].config
    assert load_discriminator(critic_path(out)).config == load_discriminator(critic_path(checkpoint)).config


def test_a_warm_start_from_a_missing_checkpoint_is_one_clear_line(tmp_path, capsys):
    with pytest.raises(SystemExit):
        train.parse_arguments(["--data", str(tmp_path), "--name", "x", "--init-from", str(tmp_path / "nope.safetensors")])
    assert "cannot warm-start" in capsys.readouterr().err


def test_a_warm_start_from_another_architecture_is_refused(shipped, tmp_path):
    data, checkpoint = shipped
    with pytest.raises(SystemExit, match="ngf 8 \\(asked 16\\)"):
        train.main(["--data", str(data), "--name", "other", "--runs", str(tmp_path), *TINY, "--ngf", "16",
                    "--init-from", str(checkpoint)])


def test_progressive_needs_a_norm_that_can_work_on_1x1_maps():
    train_config = TrainConfig(low_res_size=128, batch_size=4)
    check_low_res(GeneratorConfig(), train_config)  # BatchNorm over a batch of 4: fine
    with pytest.raises(ConfigError, match="innermost maps are 1x1"):
        check_low_res(GeneratorConfig(norm="instance"), train_config)
    with pytest.raises(ConfigError, match="batch_size 2 or more"):
        check_low_res(GeneratorConfig(), TrainConfig(low_res_size=128, batch_size=1))
    check_low_res(GeneratorConfig(norm="instance"), TrainConfig(low_res_size=256, batch_size=1, crop_size=512, load_size=572))


def test_progressive_resolution_runs_its_share_at_low_res_then_at_full_size(tmp_path):
    data = write_aligned(tmp_path / "data", 6, size=64)
    train.main(["--data", str(data), "--name", "progressive", "--runs", str(tmp_path / "runs"), "--log-every", "1",
                "--sample-every", "0", *TINY, "--max-steps", "8", "--batch-size", "2", "--low-res-size", "32",
                "--low-res-share", "0.5", "--export", str(tmp_path / "progressive.safetensors")])
    log = [json.loads(line) for line in (tmp_path / "runs" / "progressive" / "log.jsonl").read_text().splitlines()]
    assert [record["size"] for record in log] == [32] * 4 + [64] * 4
    generator, info = load_generator(tmp_path / "progressive.safetensors")
    assert info.image_size == 64 and generator(torch.zeros(1, 3, 64, 64)).shape[-1] == 64


def test_the_switch_also_comes_at_its_share_of_the_time_limit():
    config = TrainConfig(low_res_size=128, low_res_share=0.75)
    assert train.crop_size_at(config, 10, 1000, time_used=0.74) == 128
    assert train.crop_size_at(config, 10, 1000, time_used=0.76) == 256  # 75 % of the time limit is past
    assert train.crop_size_at(config, 760, 1000, time_used=0.0) == 256  # 75 % of the steps are past
    assert train.crop_size_at(TrainConfig(), 0, 1000, time_used=0.0) == 256  # not progressive


def test_a_cpu_time_limit_counts_cpu_seconds_not_waiting():
    limit = train.TimeLimit(minutes=0, cpu_minutes=0.01)  # 0.6 CPU-seconds
    time.sleep(0.3)
    assert limit.used() < 0.5  # sleeping spends no CPU
    deadline = time.perf_counter() + 10
    while limit.used() < 1.0 and time.perf_counter() < deadline:
        sum(range(10_000))
    assert limit.used() >= 1.0
    assert train.TimeLimit(0, 0).used() == 0.0
