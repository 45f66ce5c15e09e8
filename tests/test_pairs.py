"""Reading paired data: both layouts, both directions, and clear errors for bad folders."""

import pytest
import torch
from PIL import Image

from pix2pix.data.jitter import jitter, to_float
from pix2pix.data.pairs import DatasetError, Roles, read_pairs, split_folder
from tests.synthetic import write_aligned, write_folders


def test_aligned_and_folder_layouts_read_the_same_pairs(tmp_path):
    aligned = read_pairs(write_aligned(tmp_path / "aligned", n=3), image_size=64)
    folders = read_pairs(write_folders(tmp_path / "folders", n=3), image_size=64)
    assert aligned.inputs.shape == aligned.targets.shape == (3, 3, 64, 64)
    assert aligned.inputs.dtype == torch.uint8
    assert torch.equal(aligned.inputs, folders.inputs) and torch.equal(aligned.targets, folders.targets)
    assert aligned.names == ["000", "001", "002"]


def test_take_keeps_each_input_with_its_target_and_name_in_the_given_order(tmp_path):
    pairs = read_pairs(write_aligned(tmp_path / "aligned", n=4), image_size=64)
    picked = pairs.take(torch.tensor([3, 1]))
    assert picked.names == ["003", "001"]
    assert torch.equal(picked.inputs, pairs.inputs[[3, 1]]) and torch.equal(picked.targets, pairs.targets[[3, 1]])
    assert pairs.take(range(2)).names == ["000", "001"] and len(pairs.take(range(0))) == 0


def test_direction_swaps_input_and_target(tmp_path):
    folder = write_aligned(tmp_path / "d", n=2)
    a_to_b, b_to_a = read_pairs(folder, 64, "AtoB"), read_pairs(folder, 64, "BtoA")
    assert torch.equal(a_to_b.inputs, b_to_a.targets) and torch.equal(a_to_b.targets, b_to_a.inputs)


def test_images_are_resized_nearest_for_label_maps(tmp_path):
    folder = write_aligned(tmp_path / "big", n=1, size=128)
    pairs = read_pairs(folder, image_size=64, roles=Roles("labels", "photo", None))
    assert pairs.inputs.shape[-1] == 64
    # nearest keeps only the original colours (black and white): no grey from blending
    assert set(pairs.inputs.unique().tolist()) <= {0, 255}


def test_empty_folder_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no images"):
        read_pairs(tmp_path / "empty")


def test_unmatched_names_are_listed(tmp_path):
    folder = write_folders(tmp_path / "f", n=3)
    (folder / "B" / "001.png").rename(folder / "B" / "zzz.png")
    with pytest.raises(DatasetError, match="no partner.*001"):
        read_pairs(folder)


def test_unreadable_file_is_named(tmp_path):
    folder = write_aligned(tmp_path / "u", n=2)
    (folder / "001.png").write_bytes(b"not a png at all")
    with pytest.raises(DatasetError, match="001.png"):
        read_pairs(folder)


def test_odd_width_is_an_error(tmp_path):
    folder = tmp_path / "odd"
    folder.mkdir()
    Image.new("RGB", (65, 32)).save(folder / "x.png")
    with pytest.raises(DatasetError, match="odd width"):
        read_pairs(folder)


def test_split_folder(tmp_path):
    write_aligned(tmp_path / "root" / "train", n=1)
    assert split_folder(tmp_path / "root", "train").name == "train"
    with pytest.raises(DatasetError, match="no 'test' folder"):
        split_folder(tmp_path / "root", "test")
    with pytest.raises(DatasetError, match="does not exist"):
        split_folder(tmp_path / "nowhere", "train")


def test_jitter_crops_the_same_window_from_both_images():
    image = torch.arange(64 * 64, dtype=torch.float32).reshape(1, 1, 64, 64).repeat(4, 3, 1, 1).div(64 * 64 / 255).byte()
    generator = torch.Generator().manual_seed(0)
    a, b = jitter(image, image.clone(), load_size=72, crop_size=64, flip=True, generator=generator)
    assert a.shape == (4, 3, 64, 64) and a.min() >= -1 and a.max() <= 1
    assert torch.equal(a, b)  # identical inputs stay identical: same crop, same flip
    again = jitter(image, image, 72, 64, True, torch.Generator().manual_seed(0))[0]
    assert torch.equal(a, again)
    flipped = (a[:, 0, 0, 0] > a[:, 0, 0, -1]).tolist()
    assert any(flipped) and not all(flipped)  # with 4 samples and seed 0 both cases occur


def test_a_load_size_equal_to_the_crop_only_mirrors():
    """--load-size 256 with 256 crops (the emoji recipe): no resize, no shift, each picture whole or mirrored."""
    images = torch.randint(0, 256, (8, 3, 64, 64), dtype=torch.uint8)
    labels = torch.randint(0, 256, (8, 3, 64, 64), dtype=torch.uint8)
    a, b = jitter(images, labels, load_size=64, crop_size=64, flip=True, generator=torch.Generator().manual_seed(0))
    whole, targets = to_float(images), to_float(labels)
    mirrored = [torch.equal(a[i], whole[i].flip(-1)) for i in range(8)]
    assert all(mirrored[i] or torch.equal(a[i], whole[i]) for i in range(8))
    assert any(mirrored) and not all(mirrored)
    for i in range(8):  # the target went through the same mirror as its input
        assert torch.equal(b[i], targets[i].flip(-1) if mirrored[i] else targets[i])
