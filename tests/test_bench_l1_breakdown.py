"""bench_l1_breakdown: the paper/drawing split and the colour-fitted L1 measure what they say."""

import pytest
import torch
from conftest import save_fixture_model

from bench.bench_l1_breakdown import breakdown, colour_fitted, main, paired_difference, random_sample
from pix2pix.checkpoint import ModelInfo
from pix2pix.data.jitter import to_float
from pix2pix.data.pairs import Pairs
from pix2pix.evaluate import evaluate, read_split
from pix2pix.metrics import l1_distance
from pix2pix.translate import Translator


def drawing_on_paper(seed: int = 0) -> torch.Tensor:
    """Two pictures in [-1, 1]: white paper on the left half, a random drawing (well below white) on the right."""
    images = torch.ones(2, 3, 16, 16, dtype=torch.float64)
    images[..., 8:] = torch.rand(2, 3, 16, 8, generator=torch.Generator().manual_seed(seed)) * 1.2 - 0.9
    return images


def test_recoloured_pictures_lose_their_error_once_colours_are_fitted():
    targets = drawing_on_paper()
    gain, offset = torch.tensor([0.5, 0.8, 0.3]).view(1, 3, 1, 1), torch.tensor([0.2, -0.1, 0.4]).view(1, 3, 1, 1)
    outputs = (targets * gain + offset).double()
    values, _ = breakdown(outputs, targets)
    assert values["l1"] > 0.1
    assert values["l1_colour_fitted"] < 1e-6
    assert torch.allclose(colour_fitted(outputs, targets), targets)


def test_error_on_the_paper_is_told_apart_from_error_on_the_drawing():
    targets = drawing_on_paper()
    outputs = targets.clone()
    outputs[..., :8] = 0.5  # greys the paper, leaves the drawing exact
    values, per_picture = breakdown(outputs, targets)
    assert values["paper_share"] == 0.5
    assert values["l1_drawing"] == 0
    assert abs(values["l1_paper"] - 0.5) < 1e-9
    assert torch.allclose(per_picture, torch.full((2,), 0.25, dtype=torch.float64))


def test_grey_l1_ignores_a_change_of_hue_at_equal_luminance():
    targets = torch.zeros(1, 3, 4, 4, dtype=torch.float64)
    outputs = targets.clone()
    outputs[:, 0], outputs[:, 1] = 0.587, -0.299  # red up, green down: luminance unchanged
    values, _ = breakdown(outputs, targets)
    assert values["l1"] > 0.25
    assert values["l1_grey"] < 1e-9


def test_the_training_sample_is_a_seeded_draw_of_distinct_pairs_that_stay_matched():
    count = 20
    images = torch.arange(count, dtype=torch.uint8).view(count, 1, 1, 1).expand(count, 3, 2, 2)
    pairs = Pairs(images, 255 - images, [f"p{index:02d}" for index in range(count)])
    sample = random_sample(pairs, 8)
    indices = sample.inputs[:, 0, 0, 0].tolist()
    assert len(set(indices)) == 8 and indices == sorted(indices)  # distinct, in the split's order
    assert indices != list(range(8))  # not the split's first pairs
    assert sample.names == [f"p{index:02d}" for index in indices]
    assert torch.equal(sample.targets, 255 - sample.inputs)  # each input keeps its own target
    assert random_sample(pairs, 8).names == sample.names and random_sample(pairs, 8, seed=1).names != sample.names
    with pytest.raises(ValueError, match="cannot draw 21 of 20 pairs"):
        random_sample(pairs, 21)


def test_the_command_scores_with_the_runtime_asked_for_and_names_it(tiny_setup, capsys):
    data, checkpoint = tiny_setup
    for runtime in ("fp32", "bf16"):
        main(["--data", str(data), "--checkpoint", str(checkpoint), "--runtime", runtime])
        out = capsys.readouterr().out
        assert f"tiny.safetensors (cpu, {runtime}), highest L1:" in out
    with pytest.raises(SystemExit, match="runtime onnxruntime is not available here"):
        main(["--data", str(data), "--checkpoint", str(checkpoint), "--runtime", "onnxruntime"])


def test_the_paired_difference_is_exact_for_a_constant_shift_and_tells_noise_from_a_gain():
    reference = torch.rand(200, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.4
    assert paired_difference(reference - 0.002, reference) == pytest.approx((-0.002, -0.002, -0.002))
    noise = torch.tensor([0.01, -0.01] * 100, dtype=torch.float64)
    mean, low, high = paired_difference(reference + noise, reference)
    assert mean == pytest.approx(0) and low < 0 < high  # pictures that trade errors: no gain either way
    mean, low, high = paired_difference(reference - 0.004 + noise, reference)
    assert mean == pytest.approx(-0.004) and low < mean < high < 0  # the same noise around a real gain
    assert paired_difference(reference + noise, reference, seed=1) != paired_difference(reference + noise, reference)
    with pytest.raises(ValueError, match="one L1 per picture for the same pictures"):
        paired_difference(reference[:10], reference)


def second_model(first):
    """Another random generator for the same task as tiny_setup's, beside it."""
    second = first.with_name("other.safetensors")
    save_fixture_model(second, ModelInfo(task="edges2circles", input_kind="edges"), seed=1, with_critic=False)
    return second


def test_each_later_checkpoint_is_compared_with_the_first_picture_by_picture(tiny_setup, capsys):
    data, first = tiny_setup
    second = second_model(first)
    differences = {}
    for pair in ((first, second), (second, first)):
        main(["--data", str(data), "--checkpoint", *map(str, pair), "--runtime", "fp32"])
        line = next(line for line in capsys.readouterr().out.splitlines() if " minus " in line)
        assert line.startswith(f"{pair[1].name} minus {pair[0].name}, L1 picture by picture: ") and line.endswith(" over 4 pictures")
        differences[pair] = float(line.split("picture by picture: ")[1].split(",")[0])
    l1 = {path: evaluate(path, data, runtime="fp32")["l1"] for path in (first, second)}
    assert differences[first, second] == pytest.approx(l1[second] - l1[first], abs=2e-6)  # later minus first
    assert differences[second, first] == -differences[first, second] != 0


def test_the_output_mean_scores_the_average_of_the_models_pictures(tiny_setup, capsys):
    data, first = tiny_setup
    second = second_model(first)
    main(["--data", str(data), "--checkpoint", str(first), str(second), "--runtime", "fp32", "--output-mean"])
    out = capsys.readouterr().out
    assert "| output mean of the 2 models |" in out and "output mean of the 2 models (cpu, fp32), highest L1:" in out
    line = next(line for line in out.splitlines() if line.startswith("output mean of the 2 models minus tiny.safetensors"))
    difference = float(line.split("picture by picture: ")[1].split(",")[0])
    translators = [Translator(path, "cpu", "fp32") for path in (first, second)]
    pairs = read_split(translators[0], data, "test")
    pictures = [to_float(translator.translate_uint8(pairs.inputs)) for translator in translators]
    l1 = [l1_distance(picture, to_float(pairs.targets)).mean().item() for picture in (*pictures, (pictures[0] + pictures[1]) / 2)]
    assert difference == pytest.approx(l1[2] - l1[0], abs=2e-6)
    assert l1[2] < (l1[0] + l1[1]) / 2  # two different models' errors partly cancel in their mean
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--checkpoint", str(first), "--output-mean"])
    assert "--output-mean needs at least two checkpoints" in capsys.readouterr().err
    reversed_model = first.with_name("reversed.safetensors")
    reversed_info = ModelInfo(task="circles2edges", training={"config": {"direction": "BtoA"}})
    save_fixture_model(reversed_model, reversed_info, seed=2, with_critic=False)
    with pytest.raises(SystemExit):
        main(["--data", str(data), "--checkpoint", str(first), str(reversed_model), "--runtime", "fp32", "--output-mean"])
    assert "reversed.safetensors reads them at another size or in another direction than tiny.safetensors" in capsys.readouterr().err
