"""From a user's file to the model's input tensor.

`load_image` accepts PNG, JPEG, WebP, GIF (first frame), BMP and TIFF and always returns an 8-bit RGB picture:
EXIF orientation applied, transparency flattened onto white, 16-bit and CMYK converted. Anything it cannot read
becomes an `ImageError` whose message can be shown to the user as it is.
`preprocess` then crops and resizes as the checkpoint's preprocessor config says (see PreprocessConfig).
"""
from __future__ import annotations

import io
import warnings
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image, ImageOps

from .config import PreprocessConfig

FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "TIFF"}
MAX_PIXELS = 64_000_000  # above this a file is refused before decoding (a "decompression bomb")
MAX_BYTES = 50_000_000
DISPLAY_SIDE = 1024  # larger pictures are shrunk while decoding; the model needs far fewer pixels
RESAMPLE = {"nearest": Image.NEAREST, "lanczos": Image.LANCZOS, "bilinear": Image.BILINEAR,
            "bicubic": Image.BICUBIC, "box": Image.BOX, "hamming": Image.HAMMING}


class ImageError(ValueError):
    """A file that is not a usable picture. The message is meant for the user."""


def load_image(source: bytes | str | Path | BinaryIO, max_side: int = DISPLAY_SIDE) -> Image.Image:
    """Any supported picture → RGB, at most `max_side` pixels on its longer side."""
    data = _read_bytes(source)
    if not data:
        raise ImageError("The file is empty.")
    if len(data) > MAX_BYTES:
        raise ImageError(f"The file is too large ({len(data) / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data))
            if im.format not in FORMATS:
                raise ImageError(f"{im.format} files are not supported; use PNG, JPEG, WebP, GIF, BMP or TIFF.")
            width, height = im.size
            if width * height > MAX_PIXELS:
                raise ImageError(f"The picture is too large ({width}×{height} pixels; the limit is "
                                 f"{MAX_PIXELS // 1_000_000} megapixels).")
            if width < 1 or height < 1:
                raise ImageError("The picture has no pixels.")
            im.seek(0)  # first frame of an animation or a multi-page TIFF
            if im.format in ("JPEG", "MPO"):
                im.draft("RGB", (max_side, max_side))  # decode a big JPEG at 1/2, 1/4 or 1/8 scale: much faster
            im.load()
            im = ImageOps.exif_transpose(im)
            im = _to_rgb(im)
            if max(im.size) > max_side:
                im.thumbnail((max_side, max_side), Image.LANCZOS, reducing_gap=3.0)
            return im
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ImageError(f"The picture has too many pixels (limit {MAX_PIXELS // 1_000_000} megapixels).") from None
    except Image.UnidentifiedImageError:
        raise ImageError("This file is not a picture, or not one in a format we can read "
                         "(PNG, JPEG, WebP, GIF, BMP, TIFF).") from None
    except Exception as e:  # PIL reports damaged files with many exception types
        raise ImageError(f"The picture is damaged or incomplete and cannot be read ({type(e).__name__}: {e}).") from None


def _read_bytes(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, (str, Path)):
        try:
            return Path(source).read_bytes()
        except OSError as e:
            raise ImageError(f"Cannot read {source}: {e.strerror or e}") from None
    return source.read()


def _to_rgb(im: Image.Image) -> Image.Image:
    """Every PIL mode → 8-bit RGB; transparent pixels become white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        a = np.asarray(im, dtype=np.float64)
        scale = 65535.0 if im.mode != "F" and a.max(initial=0) > 255 else (1.0 if im.mode == "F" and a.max(initial=0) <= 1 else 255.0)
        im = Image.fromarray((np.clip(a / scale, 0, 1) * 255 + 0.5).astype(np.uint8), "L")
    if im.mode == "P" and "transparency" in im.info or im.mode in ("PA", "LA", "La", "RGBa"):
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def crop_box(size: tuple[int, int], pre: PreprocessConfig) -> tuple[float, float, float, float]:
    """The region (left, top, right, bottom) of a width×height picture that becomes the model's input."""
    w, h = size
    if pre.squash:
        return 0.0, 0.0, float(w), float(h)
    side = min(w, h) * pre.crop_size / pre.resize_to  # the crop, measured in original pixels
    left, top = (w - side) / 2, (h - side) / 2
    return left, top, left + side, top + side


def model_view(image: Image.Image, pre: PreprocessConfig) -> Image.Image:
    """The crop_size × crop_size RGB picture the model sees, before normalisation."""
    s = pre.crop_size
    return image.resize((s, s), RESAMPLE[pre.resample], box=crop_box(image.size, pre), reducing_gap=3.0)


def preprocess(image: Image.Image, pre: PreprocessConfig) -> torch.Tensor:
    """RGB picture → normalised (1, 3, S, S) float tensor."""
    x = torch.from_numpy(np.asarray(model_view(image, pre), dtype=np.float32) / 255.0)  # (S, S, 3) in [0, 1]
    mean, std = torch.tensor(pre.image_mean), torch.tensor(pre.image_std)
    return ((x - mean) / std).permute(2, 0, 1)[None].contiguous()  # (1, 3, S, S)


def denormalize(pixel_values: torch.Tensor, pre: PreprocessConfig) -> np.ndarray:
    """(1, 3, S, S) model input → (S, S, 3) array in [0, 1], for display."""
    x = pixel_values[0].permute(1, 2, 0) * torch.tensor(pre.image_std) + torch.tensor(pre.image_mean)
    return x.clamp(0, 1).numpy()
