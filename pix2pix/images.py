"""Safe image I/O and tensor conversion shared by data, training, evaluation and the demo.

Every image that enters the project goes through `open_image`, so corrupt files, odd
modes (RGBA, P, CMYK, 16-bit) and decompression bombs get one clear error everywhere.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_PIXELS = 40_000_000  # a 10,000 x 4,000 image; anything larger is refused, not decoded
MAX_SIDE = 10_000  # and no side longer: a 1 x 40,000,000 strip is tiny on disk but slow and huge to decode
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


class ImageError(ValueError):
    """An image that cannot be used, with a message meant for the person who supplied it."""


def open_image(
    source: str | Path | bytes | Image.Image | np.ndarray,
    background: tuple[int, int, int] = (255, 255, 255),
    keep_alpha: bool = False,
) -> Image.Image:
    """Return `source` as an 8-bit RGB image, transparency composited onto `background`
    (or as RGBA with `keep_alpha`, for callers that need to know what was transparent)."""
    if isinstance(source, np.ndarray):
        image = _from_array(source)
    elif isinstance(source, Image.Image):
        image = source
    else:
        image = _decode(source)
    if image.width < 1 or image.height < 1:
        raise ImageError("the image is empty (0 pixels)")
    check_size("the image", image.width, image.height)
    return _eight_bit(image).convert("RGBA") if keep_alpha else to_rgb(image, background)


def _decode(source: str | Path | bytes) -> Image.Image:
    name = "the data" if isinstance(source, bytes) else str(source)
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            check_size(name, image.width, image.height)
            image.load()
            return ImageOps.exif_transpose(image)
    except FileNotFoundError:
        raise ImageError(f"{name} does not exist") from None
    except Image.DecompressionBombError:  # Pillow's own limit, hit while opening: the same answer as ours
        raise ImageError(f"{name} is too large; the limit is {MAX_PIXELS:,} pixels and {MAX_SIDE:,} per side") from None
    except UnidentifiedImageError as error:
        raise ImageError(f"{name} is not an image that can be read ({error.__class__.__name__})") from None
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageError):
            raise
        raise ImageError(f"{name} is corrupt or truncated: {error}") from None


def check_size(name: str, width: int, height: int) -> None:
    """Refuse, before decoding, an image too large to work with."""
    if width * height > MAX_PIXELS or max(width, height) > MAX_SIDE:
        raise ImageError(f"{name} is too large ({width}x{height}); the limit is {MAX_PIXELS:,} pixels and {MAX_SIDE:,} per side")


def _from_array(array: np.ndarray) -> Image.Image:
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (1, 3, 4)):
        raise ImageError(f"an image array must be HxW, HxWx3 or HxWx4, not {array.shape}")
    if array.size == 0:
        raise ImageError("the image is empty (0 pixels)")
    if array.dtype != np.uint8:
        array = _to_uint8(array)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(np.ascontiguousarray(array))


def _to_uint8(array: np.ndarray) -> np.ndarray:
    """Scale 16-bit, float (0..1) or bool arrays to 0..255."""
    if array.dtype == np.bool_:
        return array.astype(np.uint8) * 255
    if np.issubdtype(array.dtype, np.floating):
        return (np.clip(np.nan_to_num(array), 0.0, 1.0) * 255 + 0.5).astype(np.uint8)
    if array.dtype in (np.uint16, np.int32, np.int64, np.uint32):
        top = 65535 if array.max(initial=0) > 255 else 255
        return (np.clip(array, 0, top).astype(np.float64) * (255 / top) + 0.5).astype(np.uint8)
    return np.clip(array, 0, 255).astype(np.uint8)


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """Convert any PIL mode to RGB, compositing transparency onto `background`."""
    image = _eight_bit(image)
    if image.mode == "P" or image.mode == "LA" or (image.mode == "L" and "transparency" in image.info):
        image = image.convert("RGBA")
    if image.mode == "RGBA":
        canvas = Image.new("RGB", image.size, background)
        canvas.paste(image, mask=image.getchannel("A"))
        return canvas
    return image.convert("RGB") if image.mode != "RGB" else image


def _eight_bit(image: Image.Image) -> Image.Image:
    """16-bit and float greyscale modes -> 8-bit 'L'; other modes unchanged."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        return Image.fromarray(_to_uint8(np.asarray(image)))
    if image.mode == "F":
        array = np.asarray(image)
        return Image.fromarray(_to_uint8(array / max(float(array.max(initial=0)), 1.0)))
    return image


def image_files(folder: Path) -> list[Path]:
    """Image files directly inside `folder`, sorted by name."""
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB image -> float tensor (3, H, W) in [-1, 1], the range the generator works in."""
    array = np.asarray(to_rgb(image), dtype=np.uint8)
    return torch.from_numpy(array.copy()).permute(2, 0, 1).float().div_(127.5).sub_(1.0)


def to_uint8(tensor: torch.Tensor) -> torch.Tensor:
    """Float tensor in [-1, 1] -> uint8 tensor in [0, 255], on the CPU."""
    return tensor.detach().float().clamp(-1, 1).add(1).mul(127.5).round().byte().cpu()


def to_image(tensor: torch.Tensor) -> Image.Image:
    """Float tensor (3, H, W) in [-1, 1] -> RGB image."""
    return Image.fromarray(to_uint8(tensor).permute(1, 2, 0).numpy())


def uint8_image(image: torch.Tensor) -> Image.Image:
    """uint8 tensor (3, H, W) -> RGB image."""
    return Image.fromarray(image.permute(1, 2, 0).numpy())
