"""ONNX export: verified against torch, used by the Translator only for its own weights and only where faster."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import edges_drawing, save_fixture_model

from pix2pix.checkpoint import ModelInfo
from pix2pix.config import GeneratorConfig
from pix2pix.export import NO_SPINNING, exported_from, file_sha256, main, onnx_path
from pix2pix.translate import Translator


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    checkpoint = tmp_path_factory.mktemp("export") / "model.safetensors"
    save_fixture_model(checkpoint, ModelInfo(task="t", input_kind="edges"), seed=5)
    main(["--onnx", str(checkpoint)])
    return checkpoint


def test_export_writes_a_verified_graph_of_these_weights(exported: Path):
    assert onnx_path(exported).is_file() and not list(exported.parent.glob(".*.tmp"))
    assert exported_from(onnx_path(exported)) == file_sha256(exported)


def test_onnx_runtime_paints_what_torch_paints(exported: Path, monkeypatch: pytest.MonkeyPatch):
    reference = Translator(exported, "cpu")  # torch fp32 (the runtime its timing picks may be bf16)
    torch_picture = np.asarray(reference.translate_batch([reference.prepare(edges_drawing())], runtime="fp32")[0], np.float32)
    timings = {"fp32": 0.03, "bf16": 0.03, "onnxruntime": 0.01}  # as on a CPU where ONNX Runtime is faster
    monkeypatch.setattr(Translator, "_time_frames", lambda self, runtimes: timings)
    translator = Translator(exported, "cpu")
    assert translator.runtime == "onnxruntime" and translator.runtime_name == "cpu, ONNX Runtime"
    onnx_picture = np.asarray(translator.translate(edges_drawing()), np.float32)
    assert np.abs(onnx_picture - torch_picture).max() <= 1  # at most one level of rounding apart
    assert len(translator.variations(edges_drawing(), [1, 2])) == 2  # dropout still runs in torch
    # its threads sleep between runs, so they leave the cores to torch (and the timing at load is fair to it)
    assert translator.onnx.get_session_options().get_session_config_entry(NO_SPINNING[0]) == NO_SPINNING[1]


@pytest.mark.parametrize("norm", ["batch", "instance-affine"])
def test_a_resize_convolution_model_exports_with_its_tied_kernels(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, norm: str):
    checkpoint = tmp_path / "resize.safetensors"
    config = GeneratorConfig(ngf=8, upsample="resize", norm=norm)
    save_fixture_model(checkpoint, ModelInfo(task="t", input_kind="edges"), seed=7, config=config)
    main(["--onnx", str(checkpoint)])  # verified against torch, or it fails
    torch_picture = Translator(checkpoint, "cpu").translate_batch([edges_drawing().resize((256, 256))], runtime="fp32")[0]
    monkeypatch.setattr(Translator, "_time_frames", lambda self, runtimes: {"fp32": 0.03, "bf16": 0.03, "onnxruntime": 0.01})
    translator = Translator(checkpoint, "cpu")
    assert translator.runtime == "onnxruntime"
    onnx_picture = translator.translate(edges_drawing())
    assert np.abs(np.asarray(onnx_picture, np.float32) - np.asarray(torch_picture, np.float32)).max() <= 1


def test_torch_is_kept_where_it_is_faster(exported: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(Translator, "_time_frames", lambda self, runtimes: {"fp32": 0.03, "bf16": 0.012, "onnxruntime": 0.019})
    translator = Translator(exported, "cpu")
    assert translator.runtime == "bf16" and translator.onnx is None


@pytest.mark.parametrize(("flags", "timed"), [("fpu avx2", ["fp32", "onnxruntime"]),
                                              ("fpu avx512f avx512_bf16", ["fp32", "bf16", "onnxruntime"])])
def test_bf16_is_timed_at_load_only_where_the_cpu_computes_it(exported: Path, fake_cpuinfo, monkeypatch: pytest.MonkeyPatch,
                                                                flags: str, timed: list[str]):
    fake_cpuinfo(flags)
    asked: list[list[str]] = []
    monkeypatch.setattr(Translator, "_time_frames", lambda self, runtimes: asked.append(runtimes) or dict.fromkeys(runtimes, 0.03))
    assert Translator(exported, "cpu").runtime == "fp32"  # no runtime clearly faster: torch fp32
    assert Translator(exported, "cpu", runtime="bf16").runtime == "bf16"  # asked for by name, it runs anywhere
    assert asked == [timed, ["bf16"]]


def test_an_export_of_other_weights_or_a_broken_one_is_not_used(exported: Path, tmp_path: Path):
    retrained = tmp_path / "model.safetensors"
    save_fixture_model(retrained, ModelInfo(task="t", input_kind="edges"), seed=6)
    onnx_path(retrained).write_bytes(onnx_path(exported).read_bytes())
    stale = Translator(retrained, "cpu")
    assert stale.onnx is None and "exported from other weights" in stale.onnx_problem
    onnx_path(retrained).write_bytes(b"not an onnx file")
    broken = Translator(retrained, "cpu")
    assert broken.onnx is None and "cannot be used" in broken.onnx_problem
    assert broken.translate(edges_drawing()).size == (256, 256)  # the model still serves


def test_export_of_a_missing_checkpoint_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit, match="error: .*missing.safetensors"):
        main(["--onnx", str(tmp_path / "missing.safetensors")])
