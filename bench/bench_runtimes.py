"""One 256x256 frame through each CPU runtime the Translator can choose: torch fp32, torch bf16, ONNX Runtime.

    python bench/bench_runtimes.py [--checkpoint checkpoints/facades.safetensors] [--repeats 30] [--batch-sizes 1 2 4 8]

Exports the checkpoint to ONNX in a temporary folder (verified against torch, as
`python -m pix2pix.export` does), times batch-1 translations (drawing in, picture out) for each
runtime and prints the medians as a markdown table naming the machine, with the runtime that a
Translator picks at load on this machine. Then, with that runtime, pictures per second at each of
`--batch-sizes`: what concurrent requests gain by sharing a batch (pix2pix/batching.py).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from pix2pix.export import export_onnx, onnx_path, onnx_session  # noqa: E402
from pix2pix.machine import machine_name  # noqa: E402
from pix2pix.translate import Translator  # noqa: E402

RUNTIMES = ("fp32", "bf16", "onnxruntime")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/facades.safetensors"))
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        checkpoint = Path(folder) / args.checkpoint.name
        shutil.copy(args.checkpoint, checkpoint)
        export_onnx(checkpoint)
        translator = Translator(checkpoint, "cpu")
        chosen = translator.runtime
        translator.onnx = translator.onnx or onnx_session(onnx_path(checkpoint))  # let go if not chosen: open it again
        drawing = [Image.new("RGB", (translator.size, translator.size), "white")]
        medians = {runtime: 1000 * median_seconds(translator, drawing, runtime, args.repeats) for runtime in RUNTIMES}
        per_second = {size: size / median_seconds(translator, drawing * size, chosen, max(3, args.repeats // size))
                      for size in args.batch_sizes}
    print(f"\n{args.checkpoint.name}, batch 1, median of {args.repeats}, on {machine_name(torch.device('cpu'))}, "
          f"torch {torch.__version__}\n")
    print("| runtime | ms per frame | |")
    print("|---|---:|---|")
    for runtime, milliseconds in medians.items():
        name = {"fp32": "torch fp32", "bf16": "torch bf16 autocast", "onnxruntime": "ONNX Runtime fp32"}[runtime]
        print(f"| {name} | {milliseconds:.1f} | {'chosen by the Translator at load' if runtime == chosen else ''} |")
    print(f"\n| batch ({chosen}) | pictures per second |")
    print("|---:|---:|")
    for size, rate in per_second.items():
        print(f"| {size} | {rate:.0f} |")


def median_seconds(translator: Translator, drawings: list[Image.Image], runtime: str, repeats: int) -> float:
    translator.translate_batch(drawings, runtime=runtime)  # warm-up
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        translator.translate_batch(drawings, runtime=runtime)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


if __name__ == "__main__":
    main()
