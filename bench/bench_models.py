"""Speed of the paper's reference setup vs the project's default paths, measured in one run on one device.

    python bench/bench_models.py [--device auto|cpu|cuda] [--ngf 64 32] [--sizes 1 4 16 64] [--repeats 10] [--quick] [--compile]

Reference: fp32, eager, batch 1, BatchNorm, ngf = ndf = 64, PyTorch's default backend flags.
Project: what train.py does on the device (CUDA: bf16 autocast + channels_last + cudnn.benchmark
+ TF32 [+ --compile]; CPU: the faster of its --amp off / --amp bf16) and what Translator does
for inference (CUDA: fp16 + channels_last; CPU: fp32 or bf16, whichever it measured faster).
Both inference paths are timed drawing -> picture: PIL images in, PIL images out.
Prints a markdown table, naming the machine, to paste into the README.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import torch
from PIL import Image
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere: the repo root holds pix2pix/ and train.py
from pix2pix.checkpoint import ModelInfo, save_generator  # noqa: E402
from pix2pix.config import DiscriminatorConfig, GeneratorConfig, TrainConfig  # noqa: E402
from pix2pix.data.jitter import jitter  # noqa: E402
from pix2pix.images import to_image, to_tensor  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.models import PatchDiscriminator, UNetGenerator, init_weights  # noqa: E402
from pix2pix.training import Pix2PixTrainer  # noqa: E402
from pix2pix.translate import Translator, resolve_device  # noqa: E402

SIZE = 256
REFERENCE_NGF = 64


@dataclass
class Result:
    """One row of the table; throughput and training figures keep the batch size they were best at."""

    setup: str
    latency_ms: float
    throughput: tuple[float, int]  # images/s, batch
    training_batch1: float
    training_best: tuple[float, int] | None  # None for the reference, which trains at batch 1 only


def model_size(model: Callable[[], torch.nn.Module], *inputs_of: int) -> tuple[float, float]:
    """(millions of parameters, GFLOP of one forward on 256x256 inputs with these channel counts), counted on the meta device."""
    with torch.device("meta"):
        module = model()
        inputs = [torch.zeros(1, channels, SIZE, SIZE) for channels in inputs_of]
        with FlopCounterMode(display=False) as counter:
            module(*inputs)
    return sum(p.numel() for p in module.parameters()) / 1e6, counter.get_total_flops() / 1e9


def median_seconds(run: Callable[[], object], device: torch.device, repeats: int, warmup: int) -> float:
    """Median wall time of `run` after `warmup` calls, synchronising the GPU around each call."""
    times = []
    for index in range(warmup + repeats):
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        started = time.perf_counter()
        run()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if index >= warmup:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


@contextlib.contextmanager
def cuda_backend(fast: bool) -> Iterator[None]:
    """train.py's CUDA flags (cudnn.benchmark + TF32) when `fast`, PyTorch's defaults otherwise; restored afterwards."""
    saved = torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.benchmark = fast
    torch.backends.cudnn.allow_tf32 = True  # PyTorch's default for convolutions, and train.py's
    torch.backends.cuda.matmul.allow_tf32 = fast
    try:
        yield
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved


def drawings(batch: int) -> list[Image.Image]:
    return [Image.new("RGB", (SIZE, SIZE), "white") for _ in range(batch)]


def reference_translate(device: torch.device) -> Callable[[list[Image.Image]], list[Image.Image]]:
    """The paper's generator in fp32, eager, contiguous: drawings in, pictures out."""
    generator = UNetGenerator(GeneratorConfig(ngf=REFERENCE_NGF)).to(device).eval()

    @torch.no_grad()
    def translate(batch: list[Image.Image]) -> list[Image.Image]:
        return [to_image(image) for image in generator(torch.stack([to_tensor(d) for d in batch]).to(device))]

    return translate


def project_translator(ngf: int, device: torch.device, folder: Path) -> Translator:
    """A Translator over a random generator saved as a shipped checkpoint (fp16 weights), so it picks its own settings."""
    path = folder / f"bench_ngf{ngf}.safetensors"
    generator = UNetGenerator(GeneratorConfig(ngf=ngf))
    init_weights(generator)
    save_generator(path, generator, ModelInfo(task="bench"))
    return Translator(path, device)


def training_step(ngf: int, device: torch.device, amp: bool, channels_last: bool, compile: bool, max_batch: int) -> Callable[[int], None]:
    """One pix2pix step as train.py takes it (jitter on the device, then Pix2PixTrainer.step), on random uint8 pairs."""
    config = TrainConfig()
    generator, discriminator = UNetGenerator(GeneratorConfig(ngf=ngf)).to(device), PatchDiscriminator(DiscriminatorConfig()).to(device)
    init_weights(generator)
    init_weights(discriminator)
    trainer = Pix2PixTrainer(generator, discriminator, config, use_amp=amp, channels_last=channels_last, compile=compile)
    inputs = torch.randint(0, 256, (max_batch, 3, SIZE, SIZE), dtype=torch.uint8, device=device)
    targets = torch.randint(0, 256, (max_batch, 3, SIZE, SIZE), dtype=torch.uint8, device=device)
    jitter_rng = torch.Generator().manual_seed(config.seed)

    def step(batch: int) -> None:
        trainer.step(*jitter(inputs[:batch], targets[:batch], config.load_size, config.crop_size, config.flip, jitter_rng))

    return step


def sweep(run: Callable[[int], object], sizes: list[int], device: torch.device, repeats: int, warmup: int) -> dict[int, float]:
    """images/s at each batch size; sizes that do not fit in GPU memory are skipped."""
    rates = {}
    for batch in sizes:
        try:
            rates[batch] = batch / median_seconds(lambda batch=batch: run(batch), device, repeats, warmup)
        except torch.OutOfMemoryError:
            torch.cuda.empty_cache()
            print(f"  batch {batch}: out of memory, skipped", file=sys.stderr)
    return rates


def best(rates: dict[int, float]) -> tuple[float, int]:
    batch = max(rates, key=rates.__getitem__)
    return rates[batch], batch


def measure_reference(device: torch.device, sizes: list[int], repeats: int, warmup: int) -> Result:
    with cuda_backend(fast=False):
        translate = reference_translate(device)
        latency = median_seconds(lambda: translate(drawings(1)), device, repeats, warmup)
        throughput = sweep(lambda batch: translate(drawings(batch)), sizes, device, repeats, warmup)
        step = training_step(REFERENCE_NGF, device, amp=False, channels_last=False, compile=False, max_batch=1)
        training = sweep(step, [1], device, repeats, warmup)
    return Result(f"reference: fp32, eager, BatchNorm, ngf={REFERENCE_NGF}", 1000 * latency, best(throughput), training[1], None)


def measure_project(ngf: int, device: torch.device, sizes: list[int], repeats: int, warmup: int, compile: bool, folder: Path) -> Result:
    translator = project_translator(ngf, device, folder)
    latency = median_seconds(lambda: translator.translate_batch(drawings(1)), device, repeats, warmup)
    throughput = sweep(lambda batch: translator.translate_batch(drawings(batch)), sizes, device, repeats, warmup)
    inference = translator.runtime_name
    if device.type == "cuda":  # train.py on CUDA: bf16 autocast, channels_last, cudnn.benchmark, TF32
        flags = "bf16 autocast + channels_last + cudnn.benchmark" + (" + compile" if compile else "")
        with cuda_backend(fast=True):
            step = training_step(ngf, device, amp=True, channels_last=True, compile=compile, max_batch=max(sizes))
            training = sweep(step, sizes, device, repeats, warmup)
    else:  # train.py on the CPU: fp32 or --amp bf16, whichever is faster here (what --amp auto aims at by CPU flags)
        batch1 = {}
        for amp in (False, True):
            batch1[amp] = sweep(training_step(ngf, device, amp, False, compile, 1), [1], device, repeats, warmup)[1]
        amp = batch1[True] > batch1[False]
        flags = "--amp bf16" if amp else "fp32 (--amp off)"
        larger = [batch for batch in sizes if batch > 1]
        training = {1: batch1[amp], **sweep(training_step(ngf, device, amp, False, compile, max(sizes)), larger, device, repeats, warmup)}
    setup = f"project, ngf={ngf}: inference {inference} + channels_last (Translator); training {flags}"
    return Result(setup, 1000 * latency, best(throughput), training.get(1, float("nan")), best(training))


def markdown(device: torch.device, results: list[Result], widths: list[int]) -> str:
    """The model sizes and the timings as markdown tables, each project row followed by its speed-up."""
    lines = [f"### Speed on {machine_name(device)} ({device.type}, torch {torch.__version__})", ""]
    lines += ["| model | parameters | GFLOP per 256x256 forward |", "|---|---:|---:|"]
    for ngf in widths:
        params, gflop = model_size(lambda ngf=ngf: UNetGenerator(GeneratorConfig(ngf=ngf)), 3)
        lines.append(f"| U-Net generator, ngf={ngf} | {params:.1f} M | {gflop:.1f} |")
    params, gflop = model_size(lambda: PatchDiscriminator(DiscriminatorConfig()), 3, 3)
    lines += [f"| PatchGAN discriminator, ndf=64 | {params:.1f} M | {gflop:.1f} |", ""]
    lines += [
        "| setup | inference latency, batch 1 | inference throughput | training, batch 1 | training, best batch |",
        "|---|---:|---:|---:|---:|",
    ]
    reference = results[0]
    for result in results:
        best_training = f"{result.training_best[0]:.2f} img/s @ {result.training_best[1]}" if result.training_best else "(batch 1 only)"
        lines.append(
            f"| {result.setup} | {result.latency_ms:.1f} ms | {result.throughput[0]:.1f} img/s @ {result.throughput[1]} "
            f"| {result.training_batch1:.2f} img/s | {best_training} |"
        )
        if result is not reference:
            speed_ups = (
                reference.latency_ms / result.latency_ms,
                result.throughput[0] / reference.throughput[0],
                result.training_batch1 / reference.training_batch1,
                (result.training_best[0] if result.training_best else result.training_batch1) / reference.training_batch1,
            )
            lines.append("| speed-up vs reference | " + " | ".join(f"{ratio:.2f}x" for ratio in speed_ups) + " |")
    return "\n".join(lines)


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda, cuda:1 ...")
    parser.add_argument("--ngf", type=int, nargs="+", default=[64], help="project generator widths (bundled models: 32; default 64)")
    parser.add_argument("--sizes", type=int, nargs="+", help="batch sizes to sweep (default: 1 4 16 64 on CUDA, 1 2 4 8 on the CPU)")
    parser.add_argument("--repeats", type=int, default=10, help="timed repeats per measurement; the median is reported (default 10)")
    parser.add_argument(
        "--quick", action="store_true", help="2 repeats, 1 warm-up, batches 1 and 2 (1 and 16 on CUDA): a few minutes on a small CPU"
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile the project's training networks, as train.py --compile")
    arguments = parser.parse_args(argv)
    if min(arguments.ngf) < 1 or arguments.repeats < 1 or (arguments.sizes and min(arguments.sizes) < 1):
        parser.error("--ngf, --sizes and --repeats must be positive")
    return arguments


def main(argv: list[str] | None = None) -> None:
    arguments = parse_arguments(argv)
    device = resolve_device(arguments.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("error: --device cuda, but this PyTorch sees no GPU")
    on_gpu = device.type == "cuda"
    if arguments.quick:
        sizes, repeats, warmup = arguments.sizes or ([1, 16] if on_gpu else [1, 2]), 2, 1 + 2 * on_gpu
    else:
        sizes, repeats, warmup = arguments.sizes or ([1, 4, 16, 64] if on_gpu else [1, 2, 4, 8]), arguments.repeats, 3
    sizes = sorted(set(sizes) | {1})  # batch-1 figures are always reported
    print(f"benchmarking on {machine_name(device)}: batches {sizes}, {repeats} repeats after {warmup} warm-up", file=sys.stderr)
    results = [measure_reference(device, sizes, repeats, warmup)]
    with tempfile.TemporaryDirectory() as folder:
        for ngf in arguments.ngf:
            results.append(measure_project(ngf, device, sizes, repeats, warmup, arguments.compile, Path(folder)))
    print(markdown(device, results, sorted({REFERENCE_NGF, 32, *arguments.ngf}, reverse=True)))


if __name__ == "__main__":
    main()
