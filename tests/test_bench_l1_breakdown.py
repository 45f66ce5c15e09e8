"""bench_l1_breakdown: the paper/drawing split and the colour-fitted L1 measure what they say."""

import torch

from bench.bench_l1_breakdown import breakdown, colour_fitted


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
