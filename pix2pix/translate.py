"""Inference: a generator loaded once, kept on its device, turning drawings into pictures.

The demo, the evaluation and the benchmarks all translate through `Translator`, so the
speed settings (half precision on GPUs; on CPUs fp32, bf16 or ONNX Runtime, whichever a timing at
load finds fastest; channels_last) are chosen in one place.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from pix2pix.batching import SharedBatches
from pix2pix.canvas import Canvas
from pix2pix.checkpoint import CheckpointError, critic_path, load_discriminator, load_generator
from pix2pix.data.edges import edges_from_photo
from pix2pix.data.labels import labels_from_photo
from pix2pix.export import exported_from, file_sha256, onnx_path, onnx_session
from pix2pix.images import open_image, to_image, to_rgb, to_tensor, uint8_image
from pix2pix.machine import native_bf16
from pix2pix.model_thread import on_model_thread

WARM_UP_FRAMES, TIMED_FRAMES = 2, 3  # per runtime, at load (bf16 kernels need more than one frame to settle)
RUNTIMES = ("auto", "fp32", "bf16", "onnxruntime")  # what may run a generator; "auto": the fastest at load
MAX_SHARED_BATCH = 8  # concurrent translations run together, up to this many (pix2pix/batching.py)


class RuntimeUnavailable(ValueError):
    """A runtime that is not one of RUNTIMES, or that this machine or checkpoint cannot run."""


def add_runtime_argument(parser: argparse.ArgumentParser) -> None:
    """`--runtime`, the same on every command that scores pictures: bf16 rounds pictures differently from fp32,
    and machines differ in which is fastest, so scores taken on two machines are compared with it fixed."""
    parser.add_argument("--runtime", choices=RUNTIMES, default="auto",
                        help="what runs the generator (default auto: the fastest at load, as in the studio); "
                             "fix it to compare scores taken on different machines")


def find_checkpoints(folder: str | Path) -> dict[str, Path]:
    """Generators in `folder` by name (file stem); discriminators (*.critic.safetensors) are companions, not models."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.safetensors")) if not p.name.endswith(".critic.safetensors")}


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' -> the GPU when there is one, else the CPU."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class Translator:
    """One bundled model, ready to translate: generator (+ its PatchGAN critic when shipped).

    It is loaded, timed and run on the process's model thread (pix2pix/model_thread.py), whichever thread
    asks: one OpenMP pool for every model, and requests that take turns on the cores."""

    @on_model_thread
    def __init__(self, checkpoint: str | Path, device: str | torch.device = "auto", runtime: str = "auto"):
        """`runtime` 'auto' runs the fastest at load; fp32, bf16 or onnxruntime fixes it (scores compared
        across machines need the same runtime: bf16 rounds the pictures differently)."""
        if runtime not in RUNTIMES:
            raise RuntimeUnavailable(f"runtime must be one of {', '.join(RUNTIMES)}, not {runtime!r}")
        self.path = Path(checkpoint)
        self.device = resolve_device(device)
        generator, self.info = load_generator(self.path, self.device)
        critic = critic_path(self.path)
        discriminator, self.critic_problem = None, f"{self.name} ships no critic ({critic.name} is missing)"
        if critic.is_file():
            try:  # a broken critic costs only the critic's view, never the model
                discriminator, self.critic_problem = load_discriminator(critic, self.device), None
            except CheckpointError as error:
                self.critic_problem = f"{self.name}'s critic cannot be used: {error}"
        self.canvas = Canvas.for_model(self.info)
        self.size = self.info.image_size
        # GPUs run in half precision; CPUs use bf16 only where it measures faster (AVX512-BF16, AMX).
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.generator = generator.to(self.dtype).to(memory_format=torch.channels_last)
        self.discriminator = discriminator.to(self.dtype).to(memory_format=torch.channels_last) if discriminator else None
        self._shared = SharedBatches(self.translate_batch, MAX_SHARED_BATCH)
        self.onnx, self.onnx_problem = self._onnx_session() if self.device.type == "cpu" else (None, None)
        available = self._runtimes()
        if runtime != "auto" and runtime not in available:
            why = f" ({self.onnx_problem})" if runtime == "onnxruntime" and self.onnx_problem else ""
            raise RuntimeUnavailable(f"{self.name}: runtime {runtime} is not available here{why}; available: {', '.join(available)}")
        timings = self._time_frames(self._contenders(available) if runtime == "auto" else [runtime])  # fixed: time only it
        self.runtime = self._fastest(timings) if runtime == "auto" else runtime  # fp32, bf16 (CPU autocast) or onnxruntime
        if self.runtime != "onnxruntime":
            self.onnx = None  # its weights are a second copy of the model's: keep only what runs
        self.frame_seconds = timings[self.runtime]  # one 256x256 frame, as this machine runs it: decides live drawing

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def input_kind(self) -> str:
        return self.info.input_kind

    @property
    def runtime_name(self) -> str:
        """What runs the generator, in the page's words: 'cpu, bf16', 'cuda, fp16', 'cpu, ONNX Runtime'."""
        if self.runtime == "onnxruntime":
            return "cpu, ONNX Runtime"
        return f"{self.device.type}, {'fp16' if self.dtype == torch.float16 else self.runtime}"

    def prepare(self, drawing: Image.Image | np.ndarray) -> Image.Image:
        """A canvas as the model sees it: RGB on white, model-sized, label colours snapped to the palette."""
        image = open_image(drawing)
        if image.size != (self.size, self.size):
            resample = Image.Resampling.NEAREST if self.canvas.tool == "brushes" else Image.Resampling.LANCZOS
            image = image.resize((self.size, self.size), resample)
        return self.canvas.snap(image)

    def from_photo(self, photo: Image.Image | np.ndarray | bytes | str | Path) -> Image.Image:
        """Turn a photo into this model's kind of input, with the extractor its training data used."""
        rgba = open_image(photo, keep_alpha=True)
        rgb = to_rgb(rgba)
        alpha = np.asarray(rgba.getchannel("A"))
        if self.canvas.tool == "pencil":  # the silhouette of a transparent object is part of its outline
            return edges_from_photo(_fit_square(rgba, self.size, fill=(255, 255, 255, 0)))
        square = _fit_square(rgb, self.size)
        if self.canvas.tool == "photo":
            return square
        has_transparency = bool((alpha < 255).any())
        alpha_square = np.asarray(_fit_square(Image.fromarray(alpha), self.size, fill=0)) if has_transparency else None
        return labels_from_photo(square, self.canvas.palette, alpha_square)

    def translate(self, drawing: Image.Image | np.ndarray) -> Image.Image:
        """The generator's picture for `drawing`, deterministic (dropout off). Concurrent calls (visitors of one
        server) share a batch: more pictures per second from the same cores."""
        return self._shared.run(self.prepare(drawing))

    def variations(self, drawing: Image.Image | np.ndarray, seeds: list[int]) -> list[Image.Image]:
        """Several pictures for one drawing: dropout stays on, as in the paper, one seed per picture."""
        prepared = self.prepare(drawing)
        outputs = []
        for seed in seeds:
            outputs.extend(self.translate_batch([prepared], dropout=True, seed=seed))
        return outputs

    def translate_uint8(self, inputs: torch.Tensor, batch_size: int = 16) -> torch.Tensor:
        """Translate a split's uint8 inputs (N, 3, H, W) in batches; returns uint8 outputs of the same shape."""
        outputs = []
        for start in tqdm(range(0, len(inputs), batch_size), desc=f"translating with {self.name}", unit="batch", leave=False):
            drawings = [self.prepare(uint8_image(image)) for image in inputs[start : start + batch_size]]
            outputs += [torch.from_numpy(np.asarray(image).copy()).permute(2, 0, 1) for image in self.translate_batch(drawings)]
        return torch.stack(outputs)

    @on_model_thread
    @torch.inference_mode()
    def translate_batch(self, drawings: list[Image.Image], dropout: bool = False, seed: int | None = None,
                        runtime: str | None = None) -> list[Image.Image]:
        """Translate prepared, model-sized drawings in one batch; with `dropout`, `seed` picks the dropout noise.
        `runtime` (fp32, bf16, onnxruntime) overrides the one chosen at load, for timing them.

        The noise comes from a generator of this call's own, so concurrent requests share no state."""
        runtime = runtime or self.runtime
        batch = torch.stack([to_tensor(d) for d in drawings])
        if runtime == "onnxruntime" and not dropout:  # variations need torch: ONNX Runtime has no dropout masks
            output = torch.from_numpy(self.onnx.run(None, {"drawing": batch.numpy()})[0])
        else:
            batch = batch.to(self.device, self.dtype).contiguous(memory_format=torch.channels_last)
            noise = torch.Generator(self.device).manual_seed(seed or 0) if dropout else None
            with self._autocast(runtime):
                output = self.generator(batch, noise)
        return [to_image(image) for image in output]

    @on_model_thread
    @torch.inference_mode()
    def realness(self, drawing: Image.Image, output: Image.Image) -> np.ndarray:
        """The PatchGAN's verdict per patch: probability that each ~70x70 patch of the
        (drawing, output) pair is real, a 30x30 array for 256x256 images."""
        if self.discriminator is None:
            raise FileNotFoundError(self.critic_problem)
        condition = to_tensor(self.prepare(drawing))[None].to(self.device, self.dtype)
        image = to_tensor(output.convert("RGB").resize((self.size, self.size)))[None].to(self.device, self.dtype)
        with self._autocast(self.runtime):
            logits = self.discriminator(condition, image)
        return torch.sigmoid(logits.float())[0, 0].cpu().numpy()

    @staticmethod
    def _autocast(runtime: str):
        return torch.autocast("cpu", dtype=torch.bfloat16) if runtime == "bf16" else nullcontext()

    def _onnx_session(self):
        """ONNX Runtime on the verified export beside the checkpoint (`python -m pix2pix.export --onnx`), if there is
        one for these very weights and onnxruntime is installed; else None and, for a file that cannot be used, why."""
        path = onnx_path(self.path)
        if not path.is_file():
            return None, None
        try:
            if exported_from(path) != file_sha256(self.path):
                return None, f"{path.name} was exported from other weights; export it again"
            return onnx_session(path), None
        except ImportError:
            return None, f"{path.name} needs onnxruntime (pip install onnx onnxruntime)"
        except Exception as error:  # a corrupt file costs only the faster runtime, never the model
            return None, f"{path.name} cannot be used: {error}"

    def _runtimes(self) -> list[str]:
        """The runtimes this device has: torch fp32; on CPUs bf16 and ONNX Runtime when exported."""
        return ["fp32"] + (["bf16"] if self.device.type == "cpu" else []) + (["onnxruntime"] if self.onnx else [])

    def _contenders(self, available: list[str]) -> list[str]:
        """The runtimes that 'auto' times at load: all but bf16 on a CPU that only emulates it (AVX2, AVX-512 without
        AVX512-BF16), where a frame takes 50x fp32's (2.6 s on a 2-core AVX2 EPYC) and timing it delayed every start."""
        return [runtime for runtime in available if runtime != "bf16" or native_bf16(self.device)]

    def _fastest(self, timings: dict[str, float]) -> str:
        """bf16 only where it is clearly faster than fp32, ONNX Runtime only where it beats the faster of those."""
        torch_runtime = "bf16" if timings.get("bf16", float("inf")) < 0.8 * timings["fp32"] else "fp32"
        use_onnx = "onnxruntime" in timings and timings["onnxruntime"] < 0.9 * timings[torch_runtime]
        return "onnxruntime" if use_onnx else torch_runtime

    def _time_frames(self, runtimes: list[str]) -> dict[str, float]:
        """Seconds per frame for each of `runtimes`: a warm-up (the kernels are ready before the first stroke),
        then the median of three, the runtimes taking turns so that a busy moment of the machine does not fall
        on one of them."""
        blank = [Image.new("RGB", (self.size, self.size), "white")]
        timings: dict[str, list[float]] = {runtime: [] for runtime in runtimes}
        for runtime in runtimes * (WARM_UP_FRAMES + TIMED_FRAMES):
            started = time.perf_counter()
            self.translate_batch(blank, runtime=runtime)
            timings[runtime].append(time.perf_counter() - started)
        return {runtime: statistics.median(times[WARM_UP_FRAMES:]) for runtime, times in timings.items()}


def _fit_square(image: Image.Image, size: int, fill: int | tuple[int, ...] = (255, 255, 255)) -> Image.Image:
    """Scale to fit `size` x `size` keeping the aspect ratio, centred on `fill`."""
    scale = size / max(image.width, image.height)
    resized = image.resize((max(1, round(image.width * scale)), max(1, round(image.height * scale))), Image.Resampling.LANCZOS)
    canvas = Image.new(image.mode, (size, size), fill)
    canvas.paste(resized, ((size - resized.width) // 2, (size - resized.height) // 2))
    return canvas

