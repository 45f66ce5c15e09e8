"""Evaluation: the metrics on hand-checkable images, and the CLI end to end on a tiny model and dataset."""

import pytest
import torch
from PIL import Image

from pix2pix.checkpoint import load_generator, read_safetensors
from pix2pix.evaluate import HEADER_HEIGHT, evaluate, main, score
from pix2pix.metrics import PSNR_CAP, checkerboard_energy, edge_counts, l1_distance, psnr, ssim
from pix2pix.translate import RuntimeUnavailable, Translator


def pattern(height: int, width: int, phase: float) -> torch.Tensor:
    """A smooth, structured RGB image in [0, 1], (1, 3, H, W) float64."""
    y, x = torch.meshgrid(torch.arange(height, dtype=torch.float64), torch.arange(width, dtype=torch.float64), indexing="ij")
    red = 0.5 + 0.4 * torch.sin(x / 3.0 + phase) * torch.cos(y / 5.0)
    green = (x + 2 * y) / (width + 2 * height)
    blue = 0.5 + 0.5 * torch.sin(x * y / 40.0 + phase)
    return torch.stack([red, green, blue])[None]


def test_identical_images_score_perfectly():
    image = pattern(32, 40, 0.0)
    assert l1_distance(image, image).item() == 0
    assert psnr(image, image).item() == PSNR_CAP
    assert ssim(image, image).item() == pytest.approx(1.0, abs=1e-12)


def test_psnr_and_l1_of_known_noise():
    target = torch.full((2, 3, 16, 16), 0.5, dtype=torch.float64)
    signs = (torch.arange(16 * 16).view(16, 16) % 2 * 2 - 1).to(torch.float64)  # +-1 alternating
    output = target + 0.1 * signs  # every pixel off by exactly 0.1: MSE 0.01 -> 20 dB
    assert psnr(output, target).tolist() == pytest.approx([20.0, 20.0])
    assert l1_distance(output, target).tolist() == pytest.approx([0.1, 0.1])


def test_ssim_of_flat_images_is_the_luminance_term():
    # No variance anywhere: SSIM reduces to (2ab + C1) / (a^2 + b^2 + C1), C1 = 0.01^2.
    a, b = torch.full((1, 3, 16, 16), 0.5), torch.full((1, 3, 16, 16), 0.25)
    assert ssim(a, b).item() == pytest.approx((2 * 0.5 * 0.25 + 1e-4) / (0.5**2 + 0.25**2 + 1e-4))


def test_ssim_and_psnr_match_scikit_image():
    # Reference values from scikit-image 0.26: structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
    # use_sample_covariance=False, data_range=1.0, channel_axis=-1) and peak_signal_noise_ratio(a, b, data_range=1.0).
    a, b = pattern(32, 40, 0.0), pattern(32, 40, 0.7)
    assert ssim(a, b).item() == pytest.approx(0.7946984898462223, abs=1e-9)
    assert ssim(b, a).item() == pytest.approx(ssim(a, b).item(), abs=1e-12)
    assert psnr(a, b).item() == pytest.approx(15.845151827435194, abs=1e-9)


def test_mismatched_sizes_are_refused():
    with pytest.raises(ValueError, match="differ in size"):
        ssim(torch.zeros(1, 3, 16, 16), torch.zeros(1, 3, 16, 17))
    with pytest.raises(ValueError, match="sizes differ"):
        score(torch.zeros(1, 3, 16, 16, dtype=torch.uint8), torch.zeros(1, 3, 16, 16, dtype=torch.uint8), torch.zeros(2, 3, 16, 16), False)


def test_score_averages_over_the_split_and_leaves_out_edges_for_other_models():
    images = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    metrics = score(images, images, images, edges=False, chunk=2)
    assert metrics == {"l1": 0.0, "psnr": PSNR_CAP, "ssim": pytest.approx(1.0), "checkerboard": pytest.approx(1.0)}


def vertical_line(column: int, size: int = 32) -> torch.Tensor:
    lines = torch.zeros(1, size, size, dtype=torch.bool)
    lines[0, 4:28, column] = True
    return lines


def test_edge_f1_is_one_for_identical_maps_and_within_tolerance():
    assert edge_counts(vertical_line(10), vertical_line(10)).f1 == 1.0
    assert edge_counts(vertical_line(12), vertical_line(10)).f1 == 1.0  # 2 px away: matched
    assert edge_counts(vertical_line(12), vertical_line(10), tolerance=1).f1 == 0.0


def test_edge_f1_drops_for_lines_beyond_tolerance():
    assert edge_counts(vertical_line(13), vertical_line(10)).f1 == 0.0  # 3 px away
    both = vertical_line(10) | vertical_line(20)
    half = edge_counts(vertical_line(10), both)  # one of the sketch's two lines reproduced
    assert (half.precision, half.recall) == (1.0, 0.5)
    assert half.f1 == pytest.approx(2 / 3)


def test_evaluation_end_to_end(tiny_setup, tmp_path, capsys):
    data, checkpoint = tiny_setup
    tensors_before, _ = read_safetensors(checkpoint)
    sheet = tmp_path / "sheet.png"
    arguments = ["--checkpoint", str(checkpoint), "--data", str(data), "--sheet", str(sheet), "--rows", "3"]
    metrics = main([*arguments, "--write-metrics", "--device", "cpu", "--batch-size", "3"])

    assert set(metrics) == {"split", "images", "runtime", "l1", "psnr", "ssim", "checkerboard",
                            "edge_precision", "edge_recall", "edge_f1"}
    assert (metrics["split"], metrics["images"]) == ("test", 4) and metrics["runtime"] in ("cpu, fp32", "cpu, bf16")
    assert f"4 images of the 'test' split, generator on {metrics['runtime']}" in capsys.readouterr().out
    assert 0 < metrics["l1"] <= 2 and 0 < metrics["psnr"] < PSNR_CAP and -1 <= metrics["ssim"] <= 1
    precision, recall = metrics["edge_precision"], metrics["edge_recall"]
    assert metrics["edge_f1"] == pytest.approx(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    with Image.open(sheet) as image:
        assert image.size == (3 * 256, HEADER_HEIGHT + 3 * 256)

    assert load_generator(checkpoint)[1].metrics == metrics
    tensors_after, metadata = read_safetensors(checkpoint)
    assert metadata["task"] == '"edges2circles"'
    assert tensors_after.keys() == tensors_before.keys()
    for name, tensor in tensors_before.items():
        assert tensors_after[name].dtype == tensor.dtype and torch.equal(tensors_after[name], tensor), name


def test_limit_scores_only_the_first_pairs(tiny_setup):
    data, checkpoint = tiny_setup
    first_two = evaluate(checkpoint, data, device="cpu", limit=2)
    assert first_two["images"] == 2 and evaluate(checkpoint, data, device="cpu", limit=9)["images"] == 4
    assert first_two["l1"] != evaluate(checkpoint, data, device="cpu")["l1"]


def test_cli_errors_name_the_problem(tiny_setup, tmp_path, capsys):
    data, checkpoint = tiny_setup
    with pytest.raises(SystemExit, match="does not exist"):
        main(["--checkpoint", str(tmp_path / "missing.safetensors"), "--data", str(data)])
    (tmp_path / "empty" / "test").mkdir(parents=True)
    with pytest.raises(SystemExit, match="no images"):
        main(["--checkpoint", str(checkpoint), "--data", str(tmp_path / "empty"), "--device", "cpu"])
    with pytest.raises(SystemExit, match="no 'val' folder"):
        main(["--checkpoint", str(checkpoint), "--data", str(data), "--split", "val", "--device", "cpu"])


def test_checkerboard_energy_sees_a_two_pixel_grid_and_not_smooth_images():
    smooth = pattern(32, 32, 0.3)
    grid = smooth.clone()
    grid[..., ::2, ::2] += 0.1  # a ConvTranspose-style grid on top of the same picture
    assert checkerboard_energy(smooth).item() < 0.05 * checkerboard_energy(grid).item()
    flat = torch.zeros(1, 3, 4, 4)
    flat[..., ::2, ::2] = 1.0  # one dot per 2x2 block: each of the three Nyquist terms is (16 / 4)^2 / 16 = 1
    assert checkerboard_energy(flat).item() == pytest.approx(3.0)


def test_a_fixed_runtime_scores_the_same_way_on_any_machine(tiny_setup, capsys):
    data, checkpoint = tiny_setup
    fp32, bf16 = (evaluate(checkpoint, data, device="cpu", runtime=runtime) for runtime in ("fp32", "bf16"))
    assert fp32["l1"] != bf16["l1"]  # bf16 rounds the pictures differently: the runtime is part of the score
    assert (fp32["runtime"], bf16["runtime"]) == ("cpu, fp32", "cpu, bf16")  # and is stored with it
    assert evaluate(checkpoint, data, device="cpu", runtime="bf16") == bf16
    with pytest.raises(SystemExit, match="runtime onnxruntime is not available here.*available: fp32, bf16"):
        main(["--checkpoint", str(checkpoint), "--data", str(data), "--device", "cpu", "--runtime", "onnxruntime"])
    with pytest.raises(SystemExit):
        main(["--checkpoint", str(checkpoint), "--data", str(data), "--runtime", "fp16"])
    assert "invalid choice: 'fp16'" in capsys.readouterr().err
    with pytest.raises(RuntimeUnavailable, match="runtime must be one of auto, fp32, bf16, onnxruntime, not 'fp16'"):
        Translator(checkpoint, "cpu", runtime="fp16")
