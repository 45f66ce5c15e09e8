"""Train a pix2pix model: python train.py --data DIR --name NAME

Paper defaults (U-Net-256 + 70x70 PatchGAN, L1 + cGAN with lambda 100, Adam 2e-4 / 0.5,
batch 1, 100 + 100 epochs). Fast by default: the dataset is decoded once and kept on the
device, jitter runs batched there, bf16 autocast and channels_last on a GPU. Multi-GPU:
torchrun --nproc-per-node N train.py ... (DistributedDataParallel).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from pix2pix.checkpoint import (
    CheckpointError,
    ModelInfo,
    critic_path,
    load_discriminator,
    load_generator,
    load_state,
    save_discriminator,
    save_generator,
    save_state,
)
from pix2pix.config import ConfigError, DiscriminatorConfig, GeneratorConfig, TrainConfig, add_arguments, check_image_size, from_arguments
from pix2pix.data.jitter import jitter, to_float
from pix2pix.data.pairs import DatasetError, Roles, dataset_description, read_pairs, split_folder
from pix2pix.data.sketch import MAX_WIDTH, MIN_WIDTH, sketchlike
from pix2pix.evaluate import sample_sheet
from pix2pix.images import to_uint8
from pix2pix.machine import machine_name
from pix2pix.models import PatchDiscriminator, UNetGenerator, init_weights
from pix2pix.training import Pix2PixTrainer


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="dataset folder: train/ (+ test/) of aligned A|B images, or A/ and B/")
    parser.add_argument("--name", required=True, help="run name; files go to RUNS/NAME")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="where runs are written (default: runs)")
    parser.add_argument("--resume", action="store_true", help="continue RUNS/NAME/latest.safetensors exactly where it stopped")
    parser.add_argument("--init-from", type=Path, help="warm start: generator (and its .critic) from this checkpoint, fresh optimisers")
    parser.add_argument("--export", type=Path, help="also write the fp16 generator (+ .critic discriminator) here for shipping")
    parser.add_argument("--image-size", type=int, default=256, help="images are resized to this before jitter (default 256)")
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--amp", choices=["auto", "bf16", "off"], default="auto", help="bf16 autocast; auto = on for CUDA")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks (slow start, faster steps)")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: run the full schedule)")
    parser.add_argument("--max-minutes", type=float, default=0.0, help="stop after this much training time (0: no limit)")
    parser.add_argument("--save-every", type=int, default=1000, help="save RUNS/NAME/latest.safetensors every N steps")
    parser.add_argument("--sample-every", type=int, default=500, help="write an input|output|target sheet every N steps")
    parser.add_argument("--log-every", type=int, default=20, help="update losses in the progress bar every N steps")
    add_arguments(parser, GeneratorConfig)
    add_arguments(parser, DiscriminatorConfig, prefix="d_")
    add_arguments(parser, TrainConfig)
    arguments = parser.parse_args(argv)
    try:  # every setting is checked where it is defined; a bad one is one line, before any data is read
        arguments.configs = (from_arguments(GeneratorConfig, arguments), from_arguments(DiscriminatorConfig, arguments, prefix="d_"),
                             from_arguments(TrainConfig, arguments))
        check_image_size(arguments.configs[0], arguments.crop_size)
    except ConfigError as error:
        parser.error(str(error))
    for flag in ("save_every", "image_size"):
        if getattr(arguments, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    generator_config, discriminator_config, config = arguments.configs

    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    rank, world_size = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if arguments.device == "auto":
        device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(arguments.device)
    if distributed:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    use_amp = arguments.amp == "bf16" or (arguments.amp == "auto" and device.type == "cuda")
    main_process = rank == 0

    # Data: decoded once, kept on the device as uint8.
    description = dataset_description(arguments.data)
    roles = Roles.of(description, config.direction)
    if config.sketch_augment and roles.input_kind != "edges":
        sys.exit(f"error: --sketch-augment redraws edge maps, but this run's inputs are {roles.input_kind}")
    try:
        pairs = read_pairs(split_folder(arguments.data, "train"), arguments.image_size, config.direction, roles)
    except DatasetError as error:
        sys.exit(f"error: {error}")
    global_batch = config.batch_size * world_size
    if len(pairs) < global_batch:
        sys.exit(f"error: {len(pairs)} training pairs cannot fill one batch of {global_batch}; lower --batch-size")
    inputs, targets = pairs.inputs.to(device), pairs.targets.to(device)
    steps_per_epoch = len(pairs) // global_batch
    total_steps = steps_per_epoch * (config.n_epochs + config.n_epochs_decay)
    if arguments.max_steps:
        total_steps = min(total_steps, arguments.max_steps)

    # Models, initialised identically on every rank.
    torch.manual_seed(config.seed)
    generator = UNetGenerator(generator_config).to(device)
    discriminator = PatchDiscriminator(discriminator_config).to(device)
    init_weights(generator)
    init_weights(discriminator)
    lineage: dict = {}
    if arguments.init_from:
        try:
            generator, discriminator, lineage = warm_start(arguments.init_from, generator_config, discriminator_config)
        except CheckpointError as error:
            sys.exit(f"error: cannot warm-start: {error}")
        generator, discriminator = generator.to(device).train(), discriminator.to(device).train()
        if main_process:
            print(f"warm start from {arguments.init_from} ({lineage['totals']['images_seen']} images seen before)")
    on_gpu = device.type == "cuda"
    trainer = Pix2PixTrainer(
        generator, discriminator, config, use_amp, channels_last=on_gpu, distributed=distributed, compile=arguments.compile
    )
    order_rng = torch.Generator().manual_seed(config.seed)  # the same on every rank: ranks share one permutation
    jitter_rng = torch.Generator().manual_seed(config.seed + 1 + rank)
    torch.manual_seed(config.seed + 1 + rank)  # dropout
    step, epoch, position, permutation = 0, 0, 0, torch.randperm(len(pairs), generator=order_rng)
    earlier_seconds = 0.0  # training time of the runs this one resumes

    run_dir = arguments.runs / arguments.name
    run_dir.mkdir(parents=True, exist_ok=True)
    latest = run_dir / "latest.safetensors"
    if latest.exists() and not arguments.resume:
        sys.exit(f"error: {run_dir} already holds a run; continue it with --resume or choose another --name")
    if arguments.resume:
        try:
            state = load_state(latest)
        except CheckpointError as error:
            sys.exit(f"error: cannot resume: {error}")
        trainer.load_state_dict(state)
        order_rng.set_state(state["order_rng"])
        jitter_rng.set_state(state["jitter_rng"])
        torch.set_rng_state(state["torch_rng"])
        step, epoch, position, permutation = state["step"], state["epoch"], state["position"], state["permutation"]
        earlier_seconds = state.get("seconds", 0.0)
        lineage = state.get("lineage", {})
        if main_process:
            print(f"resumed {latest} at step {step} (epoch {epoch})")

    fixed = torch.arange(min(4, len(pairs)))  # the same few training pairs in every sample sheet
    writer = _tensorboard(run_dir) if main_process else None

    def save_training_state() -> None:
        save_state(latest, {
            **trainer.state_dict(),
            "order_rng": order_rng.get_state(), "jitter_rng": jitter_rng.get_state(), "torch_rng": torch.get_rng_state(),
            "step": step, "epoch": epoch, "position": position, "permutation": permutation,
            "seconds": earlier_seconds + time.perf_counter() - started,
            "generator_config": dataclasses.asdict(generator_config), "train_config": dataclasses.asdict(config),
            "lineage": lineage,
        })  # fmt: skip

    progress = tqdm(total=total_steps, initial=step, desc=arguments.name, unit="step", disable=not main_process, dynamic_ncols=True)
    started, images_at_start = time.perf_counter(), step * global_batch
    while step < total_steps:
        if position + global_batch > len(pairs):  # epoch boundary: new order, learning-rate schedule steps
            epoch, position = epoch + 1, 0
            permutation = torch.randperm(len(pairs), generator=order_rng)
            trainer.end_epoch()
        batch = permutation[position + rank * config.batch_size : position + (rank + 1) * config.batch_size].to(device)
        position += global_batch
        real_a, real_b = jitter(inputs[batch], targets[batch], config.load_size, config.crop_size, config.flip, jitter_rng,
                                roles.input_kind == "labels", roles.target_kind == "labels")
        if config.sketch_augment:
            real_a = sketchlike(real_a, real_b, jitter_rng)
        losses = trainer.step(real_a, real_b)
        step += 1
        progress.update(1)

        if main_process and (step % arguments.log_every == 0 or step == total_steps):
            seconds = time.perf_counter() - started
            losses = {key: value.item() for key, value in losses.items()}
            images_per_second = (step * global_batch - images_at_start) / seconds
            progress.set_postfix(**{k: f"{v:.3f}" for k, v in losses.items()}, img_s=f"{images_per_second:.1f}", epoch=epoch)
            record = {"step": step, "epoch": epoch, **losses, "lr": trainer.learning_rate, "img_s": images_per_second}
            with open(run_dir / "log.jsonl", "a") as log:
                log.write(json.dumps(record) + "\n")
            if writer:
                for key, value in losses.items():
                    writer.add_scalar(f"loss/{key}", value, step)
                writer.add_scalar("lr", record["lr"], step)
        if main_process and arguments.sample_every and step % arguments.sample_every == 0:
            shipped = trainer.shipped_generator
            shipped.eval()
            with torch.no_grad():
                outputs = to_uint8(shipped(to_float(inputs[fixed])))
            generator.train()
            (run_dir / "samples").mkdir(parents=True, exist_ok=True)
            sheet = sample_sheet(inputs[fixed].cpu(), outputs, targets[fixed].cpu(), rows=len(fixed))
            sheet.save(run_dir / "samples" / f"step_{step:07d}.png")
        out_of_time = arguments.max_minutes and time.perf_counter() - started > 60 * arguments.max_minutes
        if distributed and arguments.max_minutes:  # every rank must stop at the same step
            flag = torch.tensor([float(bool(out_of_time))], device=device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            out_of_time = bool(flag.item())
        if main_process and (step % arguments.save_every == 0 or step == total_steps or out_of_time):
            save_training_state()
        if out_of_time:
            break
    progress.close()
    train_seconds = earlier_seconds + time.perf_counter() - started

    if main_process:
        images = step * global_batch
        print(f"trained {step} steps ({images} images, epoch {epoch}) in {train_seconds / 60:.1f} min; state: {latest}")
        if arguments.export:
            minutes = round(train_seconds / 60, 1)
            earlier = lineage.get("totals", {})
            info = ModelInfo(
                task=description.get("task", arguments.name),
                input_kind=roles.input_kind,
                palette=description.get("palette"),
                image_size=config.crop_size,
                pencil_width=(MIN_WIDTH + MAX_WIDTH) // 2 if config.sketch_augment else 2,
                epoch=epoch,
                step=step,
                training={
                    "data": description.get("source", str(arguments.data)), "train_pairs": len(pairs), "steps": step,
                    "images_seen": images, "epochs": round(images / len(pairs), 2), "minutes": minutes,
                    "device": machine_name(device), "world_size": world_size, "amp": "bf16" if use_amp else "fp32",
                    "config": dataclasses.asdict(config), "discriminator": dataclasses.asdict(discriminator_config),
                    "init_from": lineage.get("init_from"),
                    "totals": {  # this run and every run it warm-started from
                        "images_seen": earlier.get("images_seen", 0) + images,
                        "minutes": round(earlier.get("minutes", 0.0) + minutes, 1),
                        "machines": sorted({*earlier.get("machines", []), machine_name(device)}),
                    },
                },
            )  # fmt: skip
            save_generator(arguments.export, trainer.shipped_generator, info)
            save_discriminator(critic_path(arguments.export), discriminator)
            print(f"exported {arguments.export} and {critic_path(arguments.export)}")
    if writer:
        writer.close()
    if distributed:
        check_replicas_agree(generator, discriminator, device)
        dist.destroy_process_group()


def check_replicas_agree(generator: nn.Module, discriminator: nn.Module, device: torch.device) -> None:
    """DDP keeps every rank's weights identical; verify it once at the end instead of trusting it."""
    fingerprint = torch.stack([p.detach().double().sum() for p in [*generator.parameters(), *discriminator.parameters()]]).to(device)
    gathered = [torch.empty_like(fingerprint) for _ in range(dist.get_world_size())]
    dist.all_gather(gathered, fingerprint)
    if any(not torch.equal(gathered[0], other) for other in gathered[1:]):
        raise RuntimeError("the DDP replicas' weights differ")
    if dist.get_rank() == 0:
        print(f"all {len(gathered)} replicas hold identical weights")


def warm_start(path: Path, generator_config: GeneratorConfig,
               discriminator_config: DiscriminatorConfig) -> tuple[UNetGenerator, PatchDiscriminator, dict]:
    """The generator and critic shipped in `path`, in float32, and the lineage to record: the checkpoint and
    the totals of all training behind it. Their architecture must be the one this run asks for."""
    generator, info = load_generator(path)
    discriminator = load_discriminator(critic_path(path))
    for name, wanted, found in (("generator", generator_config, generator.config),
                                ("discriminator", discriminator_config, discriminator.config)):
        if wanted != found:
            changed = ", ".join(f"{key} {getattr(found, key)} (asked {getattr(wanted, key)})"
                                for key in dataclasses.asdict(found) if getattr(found, key) != getattr(wanted, key))
            raise CheckpointError(f"{path.name}'s {name} differs from this run's flags: {changed}")
    training = info.training
    totals = training.get("totals") or {"images_seen": training.get("images_seen", 0), "minutes": training.get("minutes", 0.0),
                                        "machines": [training["device"]] if "device" in training else []}
    init_from = {"checkpoint": path.name, "task": info.task, "step": info.step, "metrics": info.metrics,
                 "training": {k: v for k, v in training.items() if k not in ("config", "discriminator")}}
    return generator.float(), discriminator.float(), {"init_from": init_from, "totals": totals}


def _tensorboard(run_dir: Path):
    """TensorBoard logging when the package is installed; training never depends on it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


if __name__ == "__main__":
    main()
