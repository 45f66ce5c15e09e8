"""ONNX export of a generator, verified against torch: python -m pix2pix.export --onnx CHECKPOINT

Writes NAME.onnx beside NAME.safetensors (or --out), runs it in ONNX Runtime on a few drawings and
checks its pictures against torch's before keeping it. A Translator finds the file there and runs
the generator through ONNX Runtime where that measures faster on the machine (CPUs without
AVX512-BF16, typically); the file records which checkpoint it came from, so a retrained model
never runs with stale weights.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from pathlib import Path

import numpy as np
import torch

from pix2pix.checkpoint import CheckpointError, load_generator
from pix2pix.model_thread import on_model_thread

NO_SPINNING = ("session.intra_op.allow_spinning", "0")  # ONNX Runtime session option: idle threads sleep
SOURCE_KEY = "pix2pix_source_sha256"  # ONNX metadata: the checkpoint the graph was exported from
TOLERANCE = 2e-3  # largest difference from torch's fp32 picture (on [-1, 1]) a verified export may have


def onnx_path(checkpoint: str | Path) -> Path:
    """Where a checkpoint's ONNX export lives by default: beside it."""
    return Path(checkpoint).with_suffix(".onnx")


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@on_model_thread
def export_onnx(checkpoint: str | Path, out: str | Path | None = None) -> tuple[Path, float]:
    """Export the fp32 generator with a dynamic batch, verify it, and return (path, largest difference).
    On the model thread, like all model work: a process that exports and then translates keeps one OpenMP pool."""
    import onnx

    out = Path(out) if out else onnx_path(checkpoint)
    generator = load_generator(checkpoint)[0].float().eval()
    size = 2 ** generator.config.num_downs
    example = torch.zeros(1, generator.config.in_channels, size, size)
    batch = torch.export.Dim("batch", min=1, max=64)
    temporary = out.with_name(f".{out.name}.tmp")
    with torch.no_grad():
        program = torch.onnx.export(generator, (example,), dynamo=True, input_names=["drawing"], output_names=["picture"],
                                    dynamic_shapes=({0: batch},), verbose=False)
    model = program.model_proto
    onnx.helper.set_model_props(model, {SOURCE_KEY: file_sha256(checkpoint)})
    onnx.save_model(model, temporary)
    try:
        difference = verify(temporary, generator)
    except Exception:
        temporary.unlink(missing_ok=True)
        raise
    if difference > TOLERANCE:
        temporary.unlink(missing_ok=True)
        raise CheckpointError(f"the ONNX graph's pictures differ from torch's by up to {difference:.2g} (limit {TOLERANCE:g})")
    temporary.replace(out)
    return out, difference


def verify(path: str | Path, generator: torch.nn.Module, count: int = 3) -> float:
    """Largest absolute difference between ONNX Runtime's and torch's pictures for `count` random drawings."""
    config = generator.config
    size = 2**config.num_downs
    drawings = torch.rand(count, config.in_channels, size, size, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        expected = generator(drawings).numpy()
    session = onnx_session(path)
    found = session.run(None, {"drawing": drawings.numpy()})[0]
    return float(np.abs(found - expected).max())


def onnx_session(path: str | Path, threads: int | None = None):
    """An ONNX Runtime CPU session for `path`, on as many threads as torch uses. Its threads sleep between runs
    instead of spinning: spinning ones kept the cores from torch, which then timed slower right after an ONNX
    run, so the Translator's timing at load (the runtimes taking turns) favoured ONNX Runtime."""
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads or torch.get_num_threads()
    options.add_session_config_entry(*NO_SPINNING)
    options.log_severity_level = 3  # errors only
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def exported_from(path: str | Path) -> str | None:
    """The sha256 of the checkpoint an ONNX file was exported from (None if it does not say)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return next((prop.value for prop in model.metadata_props if prop.key == SOURCE_KEY), None)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pix2pix.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--onnx", type=Path, required=True, metavar="CHECKPOINT", help="the generator .safetensors to export")
    parser.add_argument("--out", type=Path, help="where to write (default: beside the checkpoint, NAME.onnx)")
    arguments = parser.parse_args(argv)
    try:
        path, difference = export_onnx(arguments.onnx, arguments.out)
    except (CheckpointError, OSError) as error:
        sys.exit(f"error: {error}")
    except ImportError as error:
        sys.exit(f"error: ONNX export needs the onnx, onnxscript and onnxruntime packages ({error.name} is missing)")
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB); ONNX Runtime matches torch within {difference:.1g}")


if __name__ == "__main__":
    main()
