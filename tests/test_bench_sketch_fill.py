"""bench_sketch_fill: the widths asked for are the widths drawn, scored and shown."""

from pathlib import Path

import pytest
from PIL import Image

from bench.bench_sketch_fill import main
from pix2pix.sketches import DRAWINGS


def test_widths_choose_the_columns_and_the_sheet(checkpoints_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture):
    sheet = tmp_path / "fill.png"
    main(["--checkpoint", str(checkpoints_dir / "edges2things.safetensors"), "--widths", "2", "9", "--sheet", str(sheet)])
    table = capsys.readouterr().out
    assert "| drawing | 2 px | 9 px |" in table and "1 px" not in table
    assert table.count("\n| ") == len(DRAWINGS) + 3  # header, one row per drawing, mean, paper outside
    with Image.open(sheet) as image:
        assert image.size == (2 * 2 * 128, len(DRAWINGS) * 128)  # drawing | picture for each of the two widths


def test_bad_widths_and_label_models_are_refused(checkpoints_dir: Path, capsys: pytest.CaptureFixture):
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(checkpoints_dir / "edges2things.safetensors"), "--widths", "0"])
    assert "--widths must be whole pixels, at least 1" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="labels model; this measures edges models"):
        main(["--checkpoint", str(checkpoints_dir / "labels2things.safetensors")])


def test_a_fixed_runtime_is_the_one_that_scores_and_is_named(checkpoints_dir: Path, capsys: pytest.CaptureFixture):
    edges = str(checkpoints_dir / "edges2things.safetensors")
    for runtime in ("fp32", "bf16"):
        main(["--checkpoint", edges, "--widths", "2", "--runtime", runtime])
        assert f"#### edges2things.safetensors (cpu, {runtime}):" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="runtime onnxruntime is not available here"):
        main(["--checkpoint", edges, "--runtime", "onnxruntime"])
