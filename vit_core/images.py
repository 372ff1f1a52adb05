"""From a user's file to the model's input tensor.

`load_image` accepts PNG, JPEG, WebP, GIF (first frame), BMP and TIFF (first page) and always returns an 8-bit RGB
picture: EXIF orientation applied, transparency flattened onto white, 16-bit, float and CMYK converted. Anything it
cannot read becomes an `ImageError` whose message can be shown to the user as it is: whatever the bytes, no other
exception escapes. It changes no global state (Pillow settings, warning filters), so the app's sessions, each in its
own thread, can call it at the same time.
`preprocess` then crops and resizes as the checkpoint's preprocessor config says (see PreprocessConfig).
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image

from .config import PreprocessConfig

FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "TIFF"}
SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")  # how these files begin (WebP: below)
MAX_PIXELS = 64_000_000  # above this a file is refused before decoding (a "decompression bomb")
MAX_MB = 10  # the largest file, in MiB as Streamlit counts them: phones take 3–8 MB photos
MAX_BYTES = MAX_MB * 1024 * 1024
DISPLAY_SIDE = 1024  # larger pictures are shrunk while decoding; the model needs far fewer pixels
RESAMPLE = {"nearest": Image.NEAREST, "lanczos": Image.LANCZOS, "bilinear": Image.BILINEAR,
            "bicubic": Image.BICUBIC, "box": Image.BOX, "hamming": Image.HAMMING}
# EXIF Orientation (tag 274) → the flip or turn that puts the stored picture the right way up
ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_90}
# Every way a file can be refused, in English; the app shows its own translation of the same kind.
MESSAGES = {
    "empty": "The file is empty.",
    "file_too_large": "The file is too large (the limit is {limit_mb} MB).",
    "unsupported": "{format} files are not supported; use PNG, JPEG, WebP, GIF, BMP or TIFF.",
    "too_many_pixels": "The picture is too large ({width}×{height} pixels; the limit is {limit_mp} megapixels).",
    "bomb": "The picture has too many pixels (limit {limit_mp} megapixels).",
    "no_pixels": "The picture has no pixels.",
    "damaged": "The picture is damaged or incomplete and cannot be read.",
    "not_a_picture": "This file is not a picture, or not one in a format we can read (PNG, JPEG, WebP, GIF, BMP, TIFF).",
    "unreadable": "Cannot read {name}: {why}.",
}


class ImageError(ValueError):
    """A file that is not a usable picture. The message is meant for the user; `kind` and `params` let a UI
    say the same in another language (see MESSAGES)."""

    def __init__(self, kind: str, **params):
        self.kind, self.params = kind, params
        super().__init__(MESSAGES[kind].format(**params))


def load_image(source: bytes | str | Path | BinaryIO, max_side: int = DISPLAY_SIDE) -> Image.Image:
    """Any supported picture → RGB, at most `max_side` pixels on its longer side."""
    data = _read_bytes(source)
    if not data:
        raise ImageError("empty")
    if len(data) > MAX_BYTES:
        raise ImageError("file_too_large", limit_mb=MAX_MB)
    try:
        im = Image.open(io.BytesIO(data))
        if im.format not in FORMATS:
            raise ImageError("unsupported", format=im.format)
        width, height = im.size  # read from the header: nothing is decoded yet
        if width * height > MAX_PIXELS:
            raise ImageError("too_many_pixels", width=width, height=height, limit_mp=MAX_PIXELS // 1_000_000)
        if width < 1 or height < 1:
            raise ImageError("no_pixels")
        im.seek(0)  # first frame of an animation or a multi-page TIFF
        if im.format in ("JPEG", "MPO"):
            im.draft("RGB", (max_side, max_side))  # decode a big JPEG at 1/2, 1/4 or 1/8 scale: much faster
        im.load()
        im = _to_rgb(_upright(im))
        im.info.clear()  # the old metadata no longer applies: its Orientation must not be applied twice
        if max(im.size) > max_side:
            im.thumbnail((max_side, max_side), Image.LANCZOS, reducing_gap=3.0)
        return im
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own, higher limit
        raise ImageError("bomb", limit_mp=MAX_PIXELS // 1_000_000) from None
    except Image.UnidentifiedImageError:
        looks_like_one = data.startswith(SIGNATURES) or data[8:12] == b"WEBP"
        raise ImageError("damaged" if looks_like_one else "not_a_picture") from None
    except Exception as e:  # Pillow reports damaged files with many exception types; the user needs none of them
        raise ImageError("damaged") from e


def _read_bytes(source) -> bytes:
    """The file's bytes, but at most MAX_BYTES + 1 of them: enough to know it is too large."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if isinstance(source, io.TextIOBase):
        raise TypeError("load_image needs bytes, a path, or a file opened in binary mode ('rb')")
    try:
        if isinstance(source, (str, Path)):
            with open(source, "rb") as f:
                return f.read(MAX_BYTES + 1)
        return source.read(MAX_BYTES + 1)
    except (OSError, ValueError) as e:  # no such file, a folder, no permission, a NUL in the name, a closed file
        name = repr(Path(source).name or str(source)) if isinstance(source, (str, Path)) else "the file"
        raise ImageError("unreadable", name=name, why=getattr(e, "strerror", None) or "it cannot be opened") from None


def _upright(im: Image.Image) -> Image.Image:
    """Flip or turn the picture as its EXIF Orientation says. A damaged EXIF block is ignored: the pixels are fine."""
    try:
        method = ORIENTATION.get(im.getexif().get(0x0112))
    except Exception:  # Pillow reports damaged EXIF data with many exception types
        return im
    return im if method is None else im.transpose(method)


def _to_rgb(im: Image.Image) -> Image.Image:
    """Every PIL mode → 8-bit RGB; transparent pixels become white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        im = _to_8bit_grey(im)
    if "transparency" in im.info or im.mode in ("PA", "LA", "La", "RGBa"):  # tRNS in P, L and RGB PNGs; GIF
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im.convert("RGB")


def _to_8bit_grey(im: Image.Image) -> Image.Image:
    """16-bit, 32-bit or float grey → 8-bit. 16-bit files mean 0…65535; 'I' and 'F' pictures come in other ranges."""
    a = np.asarray(im, dtype=np.float32)
    if im.mode.startswith("I;16"):
        white = 65535.0
    else:
        top = a[np.isfinite(a)].max(initial=0)  # the brightest real value tells the range
        white = 1.0 if im.mode == "F" and top <= 1 else 255.0 if top <= 255 else 65535.0
    a = np.nan_to_num(a / white, nan=0.0)  # NaN → black
    return Image.fromarray((np.clip(a, 0, 1) * 255 + 0.5).astype(np.uint8))


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
