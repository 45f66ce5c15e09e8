"""Every image mode and every bad file ends as RGB or as a clear ImageError."""

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from pix2pix.images import MAX_PIXELS, ImageError, open_image, to_image, to_tensor


def encoded(image: Image.Image, format: str = "PNG") -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=format)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "image",
    [
        Image.new("L", (8, 8), 128),
        Image.new("CMYK", (8, 8), (0, 255, 0, 0)),
        Image.new("P", (8, 8)),
        Image.new("I;16", (8, 8), 40000),
        Image.new("1", (8, 8), 1),
        Image.new("LA", (8, 8), (10, 0)),
    ],
    ids=lambda image: image.mode,
)
def test_any_mode_becomes_rgb(image):
    assert open_image(image).mode == "RGB"


def test_transparency_is_composited_on_white_or_kept_on_request():
    rgba = Image.new("RGBA", (4, 4), (255, 0, 0, 0))
    assert open_image(encoded(rgba)).getpixel((0, 0)) == (255, 255, 255)
    kept = open_image(encoded(rgba), keep_alpha=True)
    assert kept.mode == "RGBA" and kept.getpixel((0, 0))[3] == 0


def test_sixteen_bit_is_scaled_not_clipped():
    array = np.full((4, 4), 65535, dtype=np.uint16)
    assert open_image(array).getpixel((0, 0)) == (255, 255, 255)
    assert open_image(Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16))).getpixel((0, 0))[0] == 128


def test_float_and_bool_arrays():
    assert open_image(np.full((2, 2, 3), 0.5)).getpixel((0, 0)) == (128, 128, 128)
    assert open_image(np.ones((2, 2), dtype=bool)).getpixel((0, 0)) == (255, 255, 255)


def test_one_pixel_image_is_fine():
    assert open_image(encoded(Image.new("RGB", (1, 1)))).size == (1, 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"hello, not an image", "not an image"),
        (encoded(Image.new("RGB", (64, 64)))[:60], "corrupt or truncated"),
        (np.zeros((0, 5, 3), dtype=np.uint8), "empty"),
        (np.zeros((4, 4, 2), dtype=np.uint8), "HxW"),
    ],
    ids=["text", "truncated", "empty", "two-channel"],
)
def test_bad_input_gets_a_clear_error(data, message):
    with pytest.raises(ImageError, match=message):
        open_image(data)


def test_huge_image_is_refused_before_decoding():
    side = int(MAX_PIXELS**0.5) + 10
    huge = encoded(Image.new("L", (side, side)), "PNG")
    with pytest.raises(ImageError, match="too large"):
        open_image(huge)


def test_missing_file(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        open_image(tmp_path / "nope.png")


def test_tensor_round_trip():
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (5, 7, 3), dtype=np.uint8))
    tensor = to_tensor(image)
    assert tensor.shape == (3, 5, 7) and tensor.min() >= -1 and tensor.max() <= 1
    assert np.array_equal(np.asarray(to_image(tensor)), np.asarray(image))


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that claims `width` x `height` pixels but holds almost no data: what an attacker uploads."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize(("width", "height"), [(1, 40_000_000), (40_000_000, 1), (60_000, 60_000), (10_001, 10)])
def test_long_or_enormous_images_are_refused_from_their_header(width, height):
    with pytest.raises(ImageError, match="too large"):  # decoding would have failed as truncated instead
        open_image(png_header_only(width, height))
