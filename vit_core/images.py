"""From a user's file to the model's input tensor.

`load_picture` accepts PNG, JPEG, WebP, GIF (first frame), BMP and TIFF (first page) and always gives an 8-bit RGB
picture: EXIF orientation applied, transparency flattened onto white, 16-bit, float and CMYK converted, and the size
of the picture as it was uploaded. Anything it cannot read becomes an `ImageError` whose message can be shown to the
user as it is: whatever the bytes, no other exception escapes. It changes no global state (Pillow settings, warning
filters), so the app's sessions, each in its own thread, can call it at the same time; at most `DECODE_SLOTS` of them
decode at once, which bounds the server's memory when a class uploads together (docs/PERFORMANCE.md).

A big picture is shrunk while it is decoded, but never so far that its shorter side drops below `short_side`: a
10000×50 strip keeps all its 50 rows, and the model's view is computed from as many pixels as the model can use.
`preprocess` then crops and resizes as the checkpoint's preprocessor config says (see PreprocessConfig);
`preparation` says what that did to a picture of a given size: the share the model saw, the crop box, how much it was
enlarged or shrunk, and how far it was squashed (a frozen `Preparation`, which `views.analyse` keeps).
"""
from __future__ import annotations

import io
import math
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import torch
from PIL import Image

from .config import PreprocessConfig

FORMATS = {"PNG", "JPEG", "MPO", "WEBP", "GIF", "BMP", "TIFF"}
SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")  # how these files begin (WebP: below)
# file name endings of the formats above: any other ending names a format we do not read ("HEIC files are not …")
EXTENSIONS = {"png", "apng", "jpg", "jpeg", "jpe", "jfif", "pjpeg", "pjp", "mpo", "webp", "gif", "bmp", "dib", "tif",
              "tiff"}
MAX_PIXELS = 64_000_000  # above this a file is refused before decoding (a "decompression bomb")
MAX_MB = 10  # the largest picture file the app reads, in MiB as Streamlit counts them: phones take 3–8 MB photos
MAX_BYTES = MAX_MB * 1024 * 1024
# The largest file the server takes in (.streamlit/config.toml's server.maxUploadSize; tests/test_images.py keeps them
# equal). It is larger than MAX_MB on purpose: a file between the two reaches the app, which refuses it in the page's
# own language ("the limit is 10 MB"); only a file larger still is stopped by Streamlit's uploader before it is sent.
UPLOAD_MB = 3 * MAX_MB
SHORT_SIDE = 1024  # a larger picture is shrunk while decoding until its shorter side is this long, and no further
DECODE_SLOTS = 2  # pictures decoded at once, server-wide: a 64-megapixel PNG needs about 256 MB while it is decoded
_DECODING = threading.BoundedSemaphore(DECODE_SLOTS)
RESAMPLE = {"nearest": Image.NEAREST, "lanczos": Image.LANCZOS, "bilinear": Image.BILINEAR,
            "bicubic": Image.BICUBIC, "box": Image.BOX, "hamming": Image.HAMMING}
# modes that can be shrunk as they are, before being converted to RGB (a full-size conversion costs a full-size copy)
SHRINK_FIRST = {"L", "LA", "RGB", "RGBA", "RGBX", "CMYK", "YCbCr"}
# EXIF Orientation (tag 274) → the flip or turn that puts the stored picture the right way up
ORIENTATION = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
               5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_90}
QUARTER_TURNS = {Image.Transpose.TRANSPOSE, Image.Transpose.ROTATE_270, Image.Transpose.TRANSVERSE,
                 Image.Transpose.ROTATE_90}  # these swap width and height
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


@dataclass(frozen=True)
class Picture:
    """A decoded picture: upright 8-bit RGB, perhaps shrunk, and the size it has in the file."""

    image: Image.Image  # RGB; its shorter side is at most the `short_side` it was loaded with (or as in the file)
    size: tuple[int, int]  # (width, height) as uploaded, the right way up: what the user's own viewer shows


def load_image(source: bytes | str | Path | BinaryIO, short_side: int = SHORT_SIDE) -> Image.Image:
    """Any supported picture → RGB, shrunk until its shorter side is `short_side` (or left as it is if smaller)."""
    return load_picture(source, short_side).image


def load_picture(source: bytes | str | Path | BinaryIO, short_side: int = SHORT_SIDE) -> Picture:
    """Any supported picture → a `Picture`. Raises ImageError for anything that is not one."""
    data = _read_bytes(source)
    check_size(len(data))
    try:
        im = Image.open(io.BytesIO(data))
        if im.format not in FORMATS:
            raise ImageError("unsupported", format=im.format)
        width, height = im.size  # read from the header: nothing is decoded yet
        if width * height > MAX_PIXELS:
            raise ImageError("too_many_pixels", width=width, height=height, limit_mp=MAX_PIXELS // 1_000_000)
        if width < 1 or height < 1:
            raise ImageError("no_pixels")
        with _DECODING:  # a few at a time: each can need hundreds of MB until it is shrunk
            im.seek(0)  # first frame of an animation or a multi-page TIFF
            if im.format in ("JPEG", "MPO"):  # decode at 1/2, 1/4 or 1/8 scale, keeping the shorter side ≥ short_side
                im.draft("RGB", shrunk((width, height), short_side, math.ceil))
            im.load()
            turn = _orientation(im)
            if im.mode not in SHRINK_FIRST or "transparency" in im.info:
                im = _to_rgb(im)
            im = _to_rgb(_shrink(im, short_side))
            im.info.clear()  # the old metadata no longer applies: its Orientation must not be applied twice
            im = im if turn is None else im.transpose(turn)
        return Picture(im, (height, width) if turn in QUARTER_TURNS else (width, height))
    except ImageError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # Pillow's own, higher limit
        raise ImageError("bomb", limit_mp=MAX_PIXELS // 1_000_000) from None
    except Image.UnidentifiedImageError:
        looks_like_one = data.startswith(SIGNATURES) or data[8:12] == b"WEBP"
        raise ImageError("damaged" if looks_like_one else "not_a_picture") from None
    except Exception as e:  # Pillow reports damaged files with many exception types; the user needs none of them
        raise ImageError("damaged") from e


def check_size(n_bytes: int) -> None:
    """Refuse an empty file or one over MAX_BYTES, before anything is decoded."""
    if not n_bytes:
        raise ImageError("empty")
    if n_bytes > MAX_BYTES:
        raise ImageError("file_too_large", limit_mb=MAX_MB)


def by_name(error: ImageError, name: str) -> ImageError:
    """The same refusal, said better where the file's name tells what it is: a file that is not a picture we read
    and is called photo.heic is a HEIC file, which we do not read."""
    ending = Path(name).suffix.lstrip(".").lower()
    if error.kind == "not_a_picture" and ending and ending not in EXTENSIONS and ending.isalnum() and len(ending) <= 5:
        return ImageError("unsupported", format=ending.upper())
    return error


def shrunk(size: tuple[int, int], short_side: int, rounding=round) -> tuple[int, int]:
    """(width, height) scaled down until the shorter side is `short_side`; unchanged if it is already shorter."""
    w, h = size
    scale = short_side / min(w, h)
    return size if scale >= 1 else (max(1, rounding(w * scale)), max(1, rounding(h * scale)))


def _shrink(im: Image.Image, short_side: int) -> Image.Image:
    size = shrunk(im.size, short_side)
    return im if size == im.size else im.resize(size, Image.LANCZOS, reducing_gap=3.0)


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


def _orientation(im: Image.Image) -> Image.Transpose | None:
    """The flip or turn that the EXIF Orientation asks for. A damaged EXIF block is ignored: the pixels are fine."""
    try:
        return ORIENTATION.get(im.getexif().get(0x0112))
    except Exception:  # Pillow reports damaged EXIF data with many exception types
        return None


def _to_rgb(im: Image.Image) -> Image.Image:
    """Every PIL mode → 8-bit RGB; transparent pixels become white."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        im = _to_8bit_grey(im)
    if "transparency" in im.info or im.mode in ("PA", "LA", "La", "RGBa"):  # tRNS in P, L and RGB PNGs; GIF
        im = im.convert("RGBA")
    if im.mode == "RGBA":
        white = Image.new("RGBA", im.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, im).convert("RGB")
    return im if im.mode == "RGB" else im.convert("RGB")


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


@dataclass(frozen=True)
class Preparation:
    """What `preprocess` does to a width×height picture: the part of it the model sees, and how that part is scaled
    to the model's S×S input. Every size is in the picture's own pixels, as uploaded."""

    size: tuple[int, int]  # (width, height) of the picture, as uploaded
    box: tuple[float, float, float, float]  # the part the model sees (left, top, right, bottom): crop_box
    seen: float  # the share of the picture's area inside `box`: 1.0 for a square or a squashed picture
    input_size: int  # S: the box becomes S×S pixels
    scale: tuple[float, float]  # how many times wider and taller the box becomes: above 1 enlarged, below 1 shrunk
    enlarged: bool  # both ways: each pixel of the box becomes a blurred block of the model's pixels
    shrunk: bool  # both ways: several of the picture's pixels become one of the model's
    squashed: bool  # the box is not square and is resized to a square, its shape not kept
    aspect: float  # the box's width / height: the shape that was squashed to 1:1 (1.0 where it is square)

    @property
    def box_size(self) -> tuple[float, float]:
        left, top, right, bottom = self.box
        return right - left, bottom - top


def preparation(size: tuple[int, int], pre: PreprocessConfig) -> Preparation:
    """The record of what `preprocess` does to a picture of this (width, height) (see Preparation)."""
    w, h = size
    box = crop_box(size, pre)
    bw, bh = box[2] - box[0], box[3] - box[1]
    inside = (min(box[2], w) - max(box[0], 0)) * (min(box[3], h) - max(box[1], 0))  # a crop may exceed a small picture
    sx, sy = pre.crop_size / bw, pre.crop_size / bh
    return Preparation(size=(w, h), box=box, seen=inside / (w * h), input_size=pre.crop_size, scale=(sx, sy),
                       enlarged=min(sx, sy) > 1, shrunk=max(sx, sy) < 1, squashed=bw != bh, aspect=bw / bh)


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
