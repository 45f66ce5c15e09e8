"""Train a pix2pix model: python train.py --data DIR --name NAME

Paper defaults (U-Net-256 + 70x70 PatchGAN, L1 + cGAN with lambda 100, Adam 2e-4 / 0.5,
batch 1, 100 + 100 epochs). Fast by default: the dataset is decoded once and kept on the
device, jitter runs batched there, bf16 autocast and channels_last on a GPU. Multi-GPU:
torchrun --nproc-per-node N train.py ... (DistributedDataParallel).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import json
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn
from tqdm import tqdm

from pix2pix.checkpoint import (
    CheckpointError,
    ModelInfo,
    critic_path,
    derived_record,
    load_discriminator,
    load_generator,
    load_state,
    save_discriminator,
    save_generator,
    save_state,
)
from pix2pix.config import (
    ConfigError,
    DiscriminatorConfig,
    GeneratorConfig,
    TrainConfig,
    add_arguments,
    check_image_size,
    check_low_res,
    from_arguments,
)
from pix2pix.data.jitter import jitter, to_float
from pix2pix.data.pairs import DatasetError, Roles, dataset_description, read_pairs, split_folder
from pix2pix.data.sketch import MAX_WIDTH, MIN_WIDTH, sketchlike
from pix2pix.evaluate import sample_sheet
from pix2pix.images import to_uint8
from pix2pix.machine import machine_name, native_bf16
from pix2pix.models import PatchDiscriminator, UNetGenerator, init_weights
from pix2pix.renorm import CARRIED_OVER, with_instance_norm
from pix2pix.reupsample import with_resize_upsampling
from pix2pix.training import Pix2PixTrainer


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True, help="dataset folder: train/ (+ test/) of aligned A|B images, or A/ and B/")
    parser.add_argument("--name", required=True, help="run name; files go to RUNS/NAME")
    parser.add_argument("--runs", type=Path, default=Path("runs"), help="where runs are written (default: runs)")
    parser.add_argument("--resume", action="store_true", help="continue RUNS/NAME/latest.safetensors exactly where it stopped")
    parser.add_argument("--init-from", type=Path,
                        help="warm start: generator (and its .critic) from this checkpoint, with its architecture; fresh optimisers")
    parser.add_argument("--export", type=Path, help="also write the fp16 generator (+ .critic discriminator) here for shipping")
    parser.add_argument("--image-size", type=int, default=256, help="images are resized to this before jitter (default 256)")
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--amp", choices=["auto", "bf16", "off"], default="auto",
                        help="bf16 autocast; auto: on GPUs and on CPUs with AVX512-BF16 or AMX (elsewhere it is emulated: slower)")
    parser.add_argument("--compile", action="store_true", help="torch.compile the networks (slow start, faster steps)")
    parser.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: run the full schedule)")
    parser.add_argument("--max-minutes", type=float, default=0.0, help="stop after this much training time (0: no limit)")
    parser.add_argument("--max-cpu-minutes", type=float, default=0.0,
                        help="stop after this much CPU time, all threads counted (0: no limit): equal budgets on a shared machine")
    parser.add_argument("--save-every", type=int, default=1000, help="save RUNS/NAME/latest.safetensors every N steps")
    parser.add_argument("--sample-every", type=int, default=500, help="write an input|output|target sheet every N steps")
    parser.add_argument("--log-every", type=int, default=20, help="update losses in the progress bar every N steps")
    add_arguments(parser, GeneratorConfig)
    add_arguments(parser, DiscriminatorConfig, prefix="d_")
    add_arguments(parser, TrainConfig)
    parser.set_defaults(direction=None)  # unset: the dataset's own direction (facades: labels -> photo is BtoA)
    init_from = parser.parse_known_args(argv)[0].init_from
    if init_from:  # a warm start goes on with the checkpoint's architecture unless a flag says otherwise
        try:
            parser.set_defaults(**architecture_defaults(init_from))
        except CheckpointError as error:
            parser.error(f"cannot warm-start: {error}")
    arguments = parser.parse_args(argv)
    if arguments.direction is None:
        arguments.direction = dataset_direction(arguments.data)
    try:  # every setting is checked where it is defined; a bad one is one line, before any data is read
        arguments.configs = (from_arguments(GeneratorConfig, arguments), from_arguments(DiscriminatorConfig, arguments, prefix="d_"),
                             from_arguments(TrainConfig, arguments))
        check_image_size(arguments.configs[0], arguments.crop_size)
        check_low_res(arguments.configs[0], arguments.configs[2])
    except ConfigError as error:
        parser.error(str(error))
    for flag in ("save_every", "image_size"):
        if getattr(arguments, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be at least 1")
    return arguments


def architecture_defaults(checkpoint: Path) -> dict:
    """The generator's and critic's settings stored in a checkpoint, as flag defaults (critic ones prefixed d_)."""
    generator = dataclasses.asdict(load_generator(checkpoint)[0].config)
    discriminator = dataclasses.asdict(load_discriminator(critic_path(checkpoint)).config)
    return {**generator, **{"d_" + name: value for name, value in discriminator.items()}}


def dataset_direction(data: Path) -> str:
    """The direction a dataset records from its input to its photo (dataset.json), else the paper's AtoB."""
    try:
        return dataset_description(data).get("direction", "AtoB")
    except DatasetError:
        return "AtoB"  # a bad folder is reported, with the reason, when the data is read


@dataclass
class Cluster:
    """Where this process trains: its device, and its place among DDP ranks (one rank without torchrun)."""

    device: torch.device
    rank: int = 0
    world_size: int = 1
    use_amp: bool = False

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @property
    def main_process(self) -> bool:
        return self.rank == 0


@dataclass
class Progress:
    """Where the loop is: what --resume restores, besides models, optimisers and random streams."""

    step: int = 0
    epoch: int = 0
    position: int = 0  # index into this epoch's permutation
    permutation: torch.Tensor | None = None
    earlier_seconds: float = 0.0  # training time of the runs this one resumes
    lineage: dict = field(default_factory=dict)  # the checkpoint this run warm-started from, and its totals
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)  # tells this run apart in later lineages; kept on resume


@dataclass
class TrainingData:
    """The training split, decoded once and kept on the device as uint8."""

    description: dict
    roles: Roles
    inputs: torch.Tensor
    targets: torch.Tensor

    def __len__(self) -> int:
        return len(self.inputs)


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    cluster = start_cluster(arguments)
    train(arguments, cluster)
    if cluster.distributed:
        dist.destroy_process_group()  # train's DDP wrappers are gone, so the gloo group ends here, not at exit


def train(arguments: argparse.Namespace, cluster: Cluster) -> None:
    """Build or resume the run, train it, save and export it; under DDP, check that the replicas agree."""
    generator_config, discriminator_config, config = arguments.configs
    data = load_training_data(arguments, config, cluster)
    global_batch = config.batch_size * cluster.world_size
    total_steps = len(data) // global_batch * (config.n_epochs + config.n_epochs_decay)
    if arguments.max_steps:
        total_steps = min(total_steps, arguments.max_steps)

    torch.manual_seed(config.seed)  # models initialised identically on every rank
    generator, discriminator, lineage = build_models(arguments, generator_config, discriminator_config, cluster)
    trainer = Pix2PixTrainer(generator, discriminator, config, cluster.use_amp, channels_last=cluster.device.type == "cuda",
                             distributed=cluster.distributed, compile=arguments.compile)
    order_rng = torch.Generator().manual_seed(config.seed)  # the same on every rank: ranks share one permutation
    jitter_rng = torch.Generator().manual_seed(config.seed + 1 + cluster.rank)
    torch.manual_seed(config.seed + 1 + cluster.rank)  # dropout
    progress = Progress(permutation=torch.randperm(len(data), generator=order_rng), lineage=lineage)

    run_dir = arguments.runs / arguments.name
    latest = run_dir / "latest.safetensors"
    remove_stale_temporaries(run_dir)
    if arguments.resume:
        progress = resume(latest, trainer, order_rng, jitter_rng, arguments.configs)
        if cluster.main_process:
            print(f"resumed {latest} at step {progress.step} (epoch {progress.epoch})")
    elif latest.exists():
        sys.exit(f"error: {run_dir} already holds a run; continue it with --resume or choose another --name")
    run_dir.mkdir(parents=True, exist_ok=True)
    forget_logged_steps_after(run_dir / "log.jsonl", progress.step)

    def save() -> None:
        save_state(latest, {
            **trainer.state_dict(),
            "order_rng": order_rng.get_state(), "jitter_rng": jitter_rng.get_state(), "torch_rng": torch.get_rng_state(),
            "step": progress.step, "epoch": progress.epoch, "position": progress.position, "permutation": progress.permutation,
            "seconds": progress.earlier_seconds + time.perf_counter() - started, "lineage": progress.lineage,
            "run_id": progress.run_id,
            **{name: dataclasses.asdict(value) for name, value in zip(CONFIG_NAMES, arguments.configs, strict=True)},
        })  # fmt: skip

    started = time.perf_counter()
    with stop_on_signals() as stop_requested:
        train_loop(arguments, trainer, data, progress, cluster, total_steps, jitter_rng, order_rng, save, stop_requested)
    train_seconds = progress.earlier_seconds + time.perf_counter() - started
    if cluster.main_process:
        images = progress.step * global_batch
        print(f"trained {progress.step} steps ({images} images, epoch {progress.epoch}) in {train_seconds / 60:.1f} min; state: {latest}")
        if arguments.export:
            export(arguments, trainer, data, progress, cluster, train_seconds)
    if cluster.distributed:
        check_replicas_agree(generator, discriminator, cluster.device)


def start_cluster(arguments: argparse.Namespace) -> Cluster:
    """Pick the device, join the DDP group under torchrun, and set the GPU's fast paths."""
    rank, world_size = int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))
    if arguments.device == "auto":
        device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', 0))}" if torch.cuda.is_available() else "cpu")
    else:
        device = torch.device(arguments.device)
    if world_size > 1:
        # DDP imports torch._dynamo. Imported while a gloo group is up, it keeps the group and its threads alive
        # past destroy_process_group, to be torn down at exit, where 2 of 83 runs of the DDP test aborted.
        importlib.import_module("torch._dynamo")
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    if device.type == "cuda":
        torch.cuda.set_device(device)
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    use_amp = arguments.amp == "bf16" or (arguments.amp == "auto" and native_bf16(device))
    return Cluster(device, rank, world_size, use_amp)


def load_training_data(arguments: argparse.Namespace, config: TrainConfig, cluster: Cluster) -> TrainingData:
    """The train split in this run's direction, label maps snapped to their palette, on the device."""
    try:
        description = dataset_description(arguments.data)
        roles = Roles.of(description, config.direction)
        if config.sketch_augment and roles.input_kind != "edges":
            raise DatasetError(f"--sketch-augment redraws edge maps, but this run's inputs are {roles.input_kind}")
        pairs = read_pairs(split_folder(arguments.data, "train"), arguments.image_size, config.direction, roles)
    except DatasetError as error:
        sys.exit(f"error: {error}")
    global_batch = config.batch_size * cluster.world_size
    if len(pairs) < global_batch:
        sys.exit(f"error: {len(pairs)} training pairs cannot fill one batch of {global_batch}; lower --batch-size")
    return TrainingData(description, roles, pairs.inputs.to(cluster.device), pairs.targets.to(cluster.device))


def build_models(arguments: argparse.Namespace, generator_config: GeneratorConfig, discriminator_config: DiscriminatorConfig,
                 cluster: Cluster) -> tuple[UNetGenerator, PatchDiscriminator, dict]:
    """Freshly initialised networks (N(0, 0.02)), or the --init-from checkpoint's, and the lineage to record."""
    generator, discriminator = UNetGenerator(generator_config), PatchDiscriminator(discriminator_config)
    init_weights(generator)
    init_weights(discriminator)
    lineage: dict = {}
    if arguments.init_from:
        try:
            generator, discriminator, lineage = warm_start(arguments.init_from, generator_config, discriminator_config)
        except CheckpointError as error:
            sys.exit(f"error: cannot warm-start: {error}")
        if cluster.main_process:
            print(f"warm start from {arguments.init_from} ({lineage['totals']['images_seen']} images seen before)")
    return generator.to(cluster.device).train(), discriminator.to(cluster.device).train(), lineage


CONFIG_NAMES = ("generator_config", "discriminator_config", "train_config")


def resume(latest: Path, trainer: Pix2PixTrainer, order_rng: torch.Generator, jitter_rng: torch.Generator,
           configs: tuple) -> Progress:
    """Restore everything `save` wrote; a run continues only with the settings it was started with."""
    try:
        state = load_state(latest)
    except CheckpointError as error:
        sys.exit(f"error: cannot resume: {error}")
    changed = [f"--{(prefix + key).replace('_', '-')} {saved[key]} (now {value})"
               for name, config, prefix in zip(CONFIG_NAMES, configs, ("", "d_", ""), strict=True)
               for key, value in dataclasses.asdict(config).items()
               if (saved := state.get(name)) is not None and key in saved and saved[key] != value]
    if changed:
        sys.exit(f"error: cannot resume with other settings than the run's: {', '.join(changed)}")
    trainer.load_state_dict(state)
    order_rng.set_state(state["order_rng"])
    jitter_rng.set_state(state["jitter_rng"])
    torch.set_rng_state(state["torch_rng"])
    return Progress(state["step"], state["epoch"], state["position"], state["permutation"], state.get("seconds", 0.0),
                    state.get("lineage", {}), state.get("run_id") or uuid.uuid4().hex)


def train_loop(arguments: argparse.Namespace, trainer: Pix2PixTrainer, data: TrainingData, progress: Progress, cluster: Cluster,
               total_steps: int, jitter_rng: torch.Generator, order_rng: torch.Generator, save, stop_requested) -> None:
    """Alternate D and G updates over shuffled batches until the schedule, --max-steps, a time limit or a signal ends it."""
    config = trainer.config
    global_batch = config.batch_size * cluster.world_size
    fixed = torch.arange(min(4, len(data)))  # the same few training pairs in every sample sheet
    run_dir = arguments.runs / arguments.name
    writer = _tensorboard(run_dir) if cluster.main_process else None
    bar = tqdm(total=total_steps, initial=progress.step, desc=arguments.name, unit="step", disable=not cluster.main_process,
               dynamic_ncols=True)
    started, images_at_start = time.perf_counter(), progress.step * global_batch
    clock = TimeLimit(arguments.max_minutes, arguments.max_cpu_minutes)
    previous_size = None
    while progress.step < total_steps:
        if progress.position + global_batch > len(data):  # epoch boundary: new order, learning-rate schedule steps
            progress.epoch, progress.position = progress.epoch + 1, 0
            progress.permutation = torch.randperm(len(data), generator=order_rng)
            trainer.end_epoch()
        first = progress.position + cluster.rank * config.batch_size
        batch = progress.permutation[first : first + config.batch_size].to(cluster.device)
        progress.position += global_batch
        size = crop_size_at(config, progress.step, total_steps, clock.used())
        if size != previous_size and cluster.main_process and previous_size is not None:
            tqdm.write(f"progressive resolution: {previous_size} -> {size} at step {progress.step}")
        previous_size = size
        losses = trainer.step(*training_pair(data, batch, config, jitter_rng, size))
        progress.step += 1
        bar.update(1)
        step = progress.step
        if cluster.main_process and (step % arguments.log_every == 0 or step == total_steps):
            images_per_second = (step * global_batch - images_at_start) / (time.perf_counter() - started)
            log_losses(run_dir, writer, bar, losses, step, progress.epoch, trainer.learning_rate, images_per_second, size)
        if cluster.main_process and arguments.sample_every and step % arguments.sample_every == 0:
            write_sample_sheet(run_dir, trainer.shipped_generator(statistics_batches(data, config)), data, fixed, step)
        stop = bool(stop_requested()) or clock.used() >= 1.0
        if cluster.distributed:  # every rank must stop at the same step
            flag = torch.tensor([float(stop)], device=cluster.device)
            dist.all_reduce(flag, op=dist.ReduceOp.MAX)
            stop = bool(flag.item())
        if cluster.main_process and (step % arguments.save_every == 0 or step == total_steps or stop):
            save()
        if stop:
            break
    bar.close()
    if writer:
        writer.close()


def log_losses(run_dir: Path, writer, bar: tqdm, losses: dict[str, torch.Tensor], step: int, epoch: int, learning_rate: float,
               images_per_second: float, size: int) -> None:
    values = {key: value.item() for key, value in losses.items()}
    bar.set_postfix(**{k: f"{v:.3f}" for k, v in values.items()}, img_s=f"{images_per_second:.1f}", epoch=epoch)
    record = {"step": step, "epoch": epoch, **values, "lr": learning_rate, "img_s": images_per_second, "size": size}
    with open(run_dir / "log.jsonl", "a") as log:
        log.write(json.dumps(record) + "\n")
    if writer:
        for key, value in values.items():
            writer.add_scalar(f"loss/{key}", value, step)
        writer.add_scalar("lr", learning_rate, step)


def forget_logged_steps_after(log: Path, step: int) -> None:
    """A resumed run repeats the steps after its last save: drop their earlier records, so no step is logged twice."""
    if not log.is_file():
        return
    kept = [line for line in log.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= step]
    log.write_text("".join(line + "\n" for line in kept))


class TimeLimit:
    """--max-minutes (wall clock) and --max-cpu-minutes (this process's CPU time), counted from now."""

    def __init__(self, minutes: float, cpu_minutes: float):
        self.minutes, self.cpu_minutes = minutes, cpu_minutes
        self.wall_started, self.cpu_started = time.perf_counter(), time.process_time()

    def used(self) -> float:
        """The share of the tighter limit spent (0 with no limit; 1 or more: time to stop)."""
        shares = [0.0]
        if self.minutes:
            shares.append((time.perf_counter() - self.wall_started) / (60 * self.minutes))
        if self.cpu_minutes:
            shares.append((time.process_time() - self.cpu_started) / (60 * self.cpu_minutes))
        return max(shares)


def crop_size_at(config: TrainConfig, step: int, total_steps: int, time_used: float) -> int:
    """The training resolution now: progressive runs spend low_res_share of their steps (and of their time
    limit, when set) at low_res_size, the rest at crop_size; others train at crop_size throughout."""
    early = step < config.low_res_share * total_steps and time_used < config.low_res_share
    return config.low_res_size if config.low_res_size and early else config.crop_size


def training_pair(data: TrainingData, batch: torch.Tensor, config: TrainConfig, rng: torch.Generator,
                  size: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The (input, target) batch the generator trains on at `size` (default crop_size): jittered, mirrored,
    label maps resized nearest, edge inputs redrawn like a person's sketch where that is on."""
    low_res = size is not None and size != config.crop_size
    load_size, crop_size = (config.low_res_load_size, size) if low_res else (config.load_size, config.crop_size)
    real_a, real_b = jitter(data.inputs[batch], data.targets[batch], load_size, crop_size, config.flip, rng,
                            data.roles.input_kind == "labels", data.roles.target_kind == "labels")
    if config.sketch_augment:
        redrawn = (torch.rand(len(real_a), generator=rng) < config.sketch_share).to(real_a.device)
        real_a = torch.where(redrawn[:, None, None, None], sketchlike(real_a, real_b, rng), real_a)
    return real_a, real_b


STATISTICS_BATCHES, STATISTICS_BATCH_SIZE = 25, 8  # 200 jittered training inputs measure BatchNorm's statistics


def statistics_batches(data: TrainingData, config: TrainConfig) -> Iterator[torch.Tensor]:
    """Training inputs as the generator sees them in training (jittered, sketch-like where that is on), from a
    random stream of their own: the same batches every time, and training's own streams untouched."""
    rng = torch.Generator().manual_seed(config.seed)
    for _ in range(STATISTICS_BATCHES):
        batch = torch.randint(0, len(data), (min(STATISTICS_BATCH_SIZE, len(data)),), generator=rng).to(data.inputs.device)
        yield training_pair(data, batch, config, rng)[0]


def write_sample_sheet(run_dir: Path, generator: UNetGenerator, data: TrainingData, fixed: torch.Tensor, step: int) -> None:
    """input | output | target for a few training pairs, from the generator that would be exported now."""
    was_training = generator.training
    generator.eval()
    with torch.no_grad():
        outputs = to_uint8(generator(to_float(data.inputs[fixed])))
    generator.train(was_training)  # the raw generator goes back to training; the average stays in eval mode
    (run_dir / "samples").mkdir(parents=True, exist_ok=True)
    sheet = sample_sheet(data.inputs[fixed].cpu(), outputs, data.targets[fixed].cpu(), rows=len(fixed))
    sheet.save(run_dir / "samples" / f"step_{step:07d}.png")


def export(arguments: argparse.Namespace, trainer: Pix2PixTrainer, data: TrainingData, progress: Progress, cluster: Cluster,
           train_seconds: float) -> None:
    """Ship the fp16 generator (the weight average when there is one) and its critic, with their provenance."""
    config, description = trainer.config, data.description
    images = progress.step * config.batch_size * cluster.world_size
    minutes = round(train_seconds / 60, 1)
    earlier = progress.lineage.get("totals", {})
    info = ModelInfo(
        task=description.get("task", arguments.name),
        input_kind=data.roles.input_kind,
        palette=description.get("palette"),
        image_size=config.crop_size,
        pencil_width=(MIN_WIDTH + MAX_WIDTH) // 2 if config.sketch_augment else 2,
        epoch=progress.epoch,
        step=progress.step,
        training={
            "run_id": progress.run_id, "data": description.get("source", str(arguments.data)), "train_pairs": len(data),
            "steps": progress.step, "images_seen": images, "epochs": round(images / len(data), 2), "minutes": minutes,
            "device": machine_name(cluster.device), "world_size": cluster.world_size, "amp": "bf16" if cluster.use_amp else "fp32",
            "config": dataclasses.asdict(config), "discriminator": dataclasses.asdict(trainer.discriminator.config),
            "init_from": progress.lineage.get("init_from"),
            "totals": {  # this run and every run it warm-started from
                "images_seen": earlier.get("images_seen", 0) + images,
                "minutes": round(earlier.get("minutes", 0.0) + minutes, 1),
                "machines": sorted({*earlier.get("machines", []), machine_name(cluster.device)}),
            },
        },
    )  # fmt: skip
    save_generator(arguments.export, trainer.shipped_generator(statistics_batches(data, config)), info)
    save_discriminator(critic_path(arguments.export), trainer.discriminator)
    print(f"exported {arguments.export} and {critic_path(arguments.export)}")


def remove_stale_temporaries(run_dir: Path) -> None:
    """A process killed while writing a checkpoint leaves its temporary file (up to ~170 MB) behind."""
    for temporary in run_dir.glob(".*.safetensors.*.tmp") if run_dir.is_dir() else []:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def stop_on_signals():
    """While training, SIGINT and SIGTERM ask the loop to save and stop after the current step, instead of killing it."""
    requested: list[int] = []
    if threading.current_thread() is not threading.main_thread():  # signal handlers can only be set from the main thread
        yield lambda: False
        return
    previous = {number: signal.signal(number, lambda number, _frame: requested.append(number))
                for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(requested)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


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
    the totals of all training behind it. Their architecture is the run's default (`architecture_defaults`); a flag
    that asks for another is refused, except that a ConvTranspose generator can go on as a resize-convolution one
    (`--upsample resize`; its kernels' tied fit) and a BatchNorm one with per-picture statistics
    (`--norm instance-affine`; its scales and shifts kept)."""
    generator, info = load_generator(path)
    discriminator = load_discriminator(critic_path(path))
    changes: dict[str, str] = {}
    if generator.config.upsample == "transpose" and generator_config.upsample == "resize":
        generator = with_resize_upsampling(generator)
        changes["upsample"] = "transpose -> resize (least-squares tied fit of each kernel)"
    if generator.config.norm == "batch" and generator_config.norm == "instance-affine":
        generator = with_instance_norm(generator)
        changes["norm"] = CARRIED_OVER
    for name, wanted, found in (("generator", generator_config, generator.config),
                                ("discriminator", discriminator_config, discriminator.config)):
        if wanted != found:
            changed = ", ".join(f"{key} {getattr(found, key)} (asked {getattr(wanted, key)})"
                                for key in dataclasses.asdict(found) if getattr(found, key) != getattr(wanted, key))
            raise CheckpointError(f"{path.name}'s {name} differs from this run's flags: {changed}")
    return generator.float(), discriminator.float(), derived_record(path, info, **changes)


def _tensorboard(run_dir: Path):
    """TensorBoard logging when the package is installed; training never depends on it."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(str(run_dir / "tensorboard"))


if __name__ == "__main__":
    main()
