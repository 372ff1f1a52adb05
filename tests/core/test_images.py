"""load_image's contract: a correct RGB picture, or an ImageError with a message for the user; nothing else.

The corpus of files lives in tests/bad_images.py; here it is run, then fuzzed. No test measures time.
"""
from __future__ import annotations

import dataclasses
import io
import re
import struct
import sys
import threading
import tomllib
import warnings
import zlib

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from tests.bad_images import BY_NAME, CASES, GREEN, Case, encode, frames, png_chunk, quadrants
from tests.conftest import ROOT
from vit_core import images
from vit_core.config import PreprocessConfig
from vit_core.images import (ImageError, Preparation, crop_box, denormalize, load_image, model_view, preparation,
                             preprocess)

# Pillow warns about some of the damaged files, as it should; here they are expected.
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning:PIL.TiffImagePlugin"),
              pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")]
# What must never reach a learner's screen: tracebacks, exception class names, object reprs.
PYTHON_TEXT = re.compile(r"Traceback|File \"|line \d+|\w*(Error|Exception|Warning)\b|struct\.error|object at 0x")
FUZZ = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def assert_user_message(e: ImageError) -> None:
    msg = str(e)
    assert msg.strip(), "the message is empty"
    assert not PYTHON_TEXT.search(msg), f"the message shows Python internals: {msg!r}"


def assert_loads_or_refuses(data: bytes) -> None:
    """The whole contract, for any bytes at all."""
    try:
        im = load_image(data)
    except ImageError as e:
        assert_user_message(e)
    else:
        assert im.mode == "RGB"
        assert 1 <= min(im.size) <= images.SHORT_SIDE
        im.getpixel((0, 0))  # really decoded


# ---- the corpus ----
def test_corpus_covers_both_outcomes():
    assert len(CASES) >= 28
    assert {c.expect for c in CASES} == {"ok", "error"}
    assert all(c.check for c in CASES if c.expect == "ok")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus(case: Case):
    if case.expect == "error":
        with pytest.raises(ImageError) as info:
            load_image(case.data)
        assert_user_message(info.value)
        assert case.message.lower() in str(info.value).lower()
    else:
        im = load_image(case.data)
        assert im.mode == "RGB"
        case.check(im)
        assert im.getexif().get(0x0112, 1) not in range(2, 9), "the orientation is applied: nobody may apply it again"


def test_huge_jpeg_comes_back_small_and_is_decoded_small(monkeypatch):
    """6000×4000 → 1024 on the short side; the decoder itself worked at a reduced scale (JPEG draft mode), but never
    below the short side asked for."""
    decoded = []
    load = ImageFile.ImageFile.load

    def spy(self):
        result = load(self)
        decoded.append(self.size)
        return result

    monkeypatch.setattr(ImageFile.ImageFile, "load", spy)
    picture = images.load_picture(BY_NAME["jpeg-6000x4000"].data)
    assert picture.image.size == (1536, 1024) and picture.size == (6000, 4000)
    assert set(decoded) == {(3000, 2000)}, f"decoded at {decoded}"
    decoded.clear()
    small = images.load_picture(BY_NAME["jpeg-6000x4000"].data, short_side=224)
    assert small.image.size == (336, 224) and small.size == (6000, 4000)
    assert set(decoded) == {(750, 500)}, f"decoded at {decoded}"  # 1/8: still at least 224 on the short side


@pytest.mark.parametrize("name, size", [("png-10000x50", (10_000, 50)), ("png-50x10000", (50, 10_000)),
                                        ("jpeg-6000x4000", (6000, 4000)), ("png-1x1", (1, 1))])
def test_the_size_as_uploaded(name, size):
    assert images.load_picture(BY_NAME[name].data).size == size


@pytest.mark.parametrize("n", range(1, 10))
def test_the_size_as_uploaded_is_the_right_way_up(n):
    """Orientations 5 to 8 store the picture turned by a quarter (48×64 in the file); the size as uploaded is the
    one the user's own viewer shows: 64×48, as quadrants() is."""
    case = BY_NAME[f"jpeg-exif-orientation-{n}"]
    picture = images.load_picture(case.data)
    assert picture.size == picture.image.size == (64, 48)


def test_a_strip_keeps_every_row_for_the_model():
    """A 10000×50 strip: the model's 28×28 view is made from the middle 50×50 square at full resolution, not from 5
    rows of a strip shrunk to 1024×5."""
    a = np.zeros((50, 10_000, 3), np.uint8)
    a[:25, 4975:5025], a[25:, 4975:5025] = (255, 0, 0), (0, 0, 255)  # the middle square: red above, blue below
    image = load_image(encode(Image.fromarray(a), "PNG"))
    view = np.asarray(model_view(image, PreprocessConfig(resample="nearest")))
    assert (view[:14] == (255, 0, 0)).all() and (view[14:] == (0, 0, 255)).all()


def test_big_pictures_are_shrunk_before_their_colours_are_converted(monkeypatch):
    """A full-size copy is what a big picture costs: an RGB picture is never copied at full size to 'convert' it."""
    converted = []
    convert = Image.Image.convert

    def spy(self, mode=None, *args, **kwargs):
        converted.append((self.mode, mode, self.size))
        return convert(self, mode, *args, **kwargs)

    monkeypatch.setattr(Image.Image, "convert", spy)
    image = load_image(encode(Image.new("RGB", (4000, 3000), GREEN), "PNG"))
    assert image.size == (1365, 1024) and not any(size == (4000, 3000) for *_, size in converted), converted
    converted.clear()
    image = load_image(encode(Image.new("CMYK", (4000, 3000)), "TIFF", compression="tiff_deflate"))
    assert image.size == (1365, 1024) and all(size == (1365, 1024) for *_, size in converted), converted


def test_decodes_run_a_few_at_a_time(monkeypatch):
    """At most DECODE_SLOTS pictures are being decoded at any moment, however many sessions ask at once."""
    inside, most, lock = 0, 0, threading.Lock()
    load = ImageFile.ImageFile.load

    def slow(self):
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        try:
            threading.Event().wait(0.02)
            return load(self)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(ImageFile.ImageFile, "load", slow)
    data = BY_NAME["bmp"].data
    threads = [threading.Thread(target=load_image, args=(data,)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == images.DECODE_SLOTS


@pytest.mark.parametrize("name, kind, fmt", [("photo.heic", "unsupported", "HEIC"),
                                             ("slides.pdf", "unsupported", "PDF"),
                                             ("notes.png", "not_a_picture", None), ("noname", "not_a_picture", None),
                                             ("a.b.c.d.e.f.thisisnotanending", "not_a_picture", None)])
def test_a_file_that_is_not_a_picture_is_named_by_its_ending(name, kind, fmt):
    with pytest.raises(ImageError) as info:
        load_image(b"ftypheic" * 20)
    error = images.by_name(info.value, name)
    assert error.kind == kind and error.params.get("format") == fmt
    assert_user_message(error)
    assert images.by_name(ImageError("damaged"), "photo.heic").kind == "damaged"  # a broken PNG stays broken


MODES = ["1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV", "I", "I;16",
         "I;16L", "I;16B", "I;16N", "F"]


@pytest.mark.parametrize("fmt", ["PNG", "TIFF", "WEBP", "GIF", "BMP", "JPEG"])
def test_every_mode_a_format_can_hold_comes_back_rgb(fmt):
    tried = 0
    for mode in MODES:
        try:
            data = encode(Image.new(mode, (4, 3)), fmt)
        except (OSError, ValueError, KeyError):
            continue  # Pillow cannot write this mode in this format
        im = load_image(data)
        assert (im.mode, im.size) == ("RGB", (4, 3)), mode
        tried += 1
    assert tried >= 5


# ---- the ways a file arrives ----
def test_sources_bytes_path_and_file(tmp_path):
    data = BY_NAME["bmp"].data
    path = tmp_path / "paint.bmp"
    path.write_bytes(data)
    expected = np.asarray(load_image(data))
    for source in (bytearray(data), memoryview(data), path, str(path), io.BytesIO(data)):
        assert np.array_equal(np.asarray(load_image(source)), expected), type(source)
    with open(path, "rb") as f:
        assert np.array_equal(np.asarray(load_image(f)), expected)
    with open(path) as f, pytest.raises(TypeError, match="binary"):  # a programming error, not a user's
        load_image(f)


@pytest.mark.parametrize("path", ["/no/such/picture.png", "/", "bad\x00name.png", "x" * 5000])
def test_unreadable_paths(path):
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert_user_message(info.value)


def test_a_file_that_fails_to_read():
    class Broken(io.RawIOBase):
        def read(self, size=-1):
            raise OSError(5, "Input/output error")

    with pytest.raises(ImageError) as info:
        load_image(Broken())
    assert_user_message(info.value)


def test_too_many_bytes_are_refused_without_reading_them_all(monkeypatch):
    monkeypatch.setattr(images, "MAX_BYTES", 1000)

    class Endless:  # a stream that never ends, like /dev/zero
        def read(self, size=-1):
            assert size >= 0, "an unbounded read of an endless stream"
            return b"\x89PNG" + b"\0" * (size - 4)

    for source in (Endless(), b"\0" * 1001):
        with pytest.raises(ImageError, match="too large") as info:
            load_image(source)
        assert_user_message(info.value)
    load_image(BY_NAME["png-1x1"].data)  # under the limit


def test_one_upload_limit_for_the_whole_app():
    """One number: MAX_MB. The server takes in files up to UPLOAD_MB (.streamlit/config.toml, in MiB), a fixed
    multiple of it, so that a file a little too large still reaches the app, which refuses it in its own words."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["maxUploadSize"] == images.UPLOAD_MB == 3 * images.MAX_MB
    assert images.MAX_BYTES == images.MAX_MB * 2**20
    with pytest.raises(ImageError, match=f"the limit is {images.MAX_MB} MB"):
        load_image(b"\x89PNG" + b"\0" * images.MAX_BYTES)
    with pytest.raises(ImageError, match=f"the limit is {images.MAX_MB} MB"):
        images.check_size(images.MAX_BYTES + 1)
    images.check_size(images.MAX_BYTES)


def test_loading_leaves_global_warning_filters_alone():
    """Streamlit serves every session from threads of one process: load_image must not touch global state."""
    data = BY_NAME["png-1x1"].data
    before, interval = list(warnings.filters), sys.getswitchinterval()
    errors = []

    def work():
        try:
            for _ in range(200):
                load_image(data)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    sys.setswitchinterval(1e-6)  # switch threads often, so races show up
    try:
        for _ in range(5):
            threads = [threading.Thread(target=work) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
    finally:
        sys.setswitchinterval(interval)
        leaked, warnings.filters[:] = [f for f in warnings.filters if f not in before], before
    assert not errors and not leaked, (errors, leaked)


# ---- from picture to model input ----
CONFIGS = [
    PreprocessConfig(),  # the teaching model: 28×28, largest centred square
    PreprocessConfig(squash=True),
    PreprocessConfig(crop_size=28, resize_to=32, resample="bilinear"),
    PreprocessConfig(crop_size=224, resize_to=224, squash=True, image_mean=(0.485, 0.456, 0.406),
                     image_std=(0.229, 0.224, 0.225)),
]


@pytest.mark.parametrize("pre", CONFIGS, ids=["centre-crop", "squash", "resize-then-crop", "imagenet"])
@pytest.mark.parametrize("name", ["bmp", "png-10000x50", "png-50x10000", "png-1x1", "jpeg-exif-orientation-6"])
def test_preprocess_normalises_the_model_view(pre, name):
    image = load_image(BY_NAME[name].data)
    x = preprocess(image, pre)
    s = pre.crop_size
    assert x.shape == (1, 3, s, s) and x.dtype == torch.float32
    view = model_view(image, pre)
    assert view.size == (s, s) and view.mode == "RGB"
    rgb = torch.from_numpy(np.asarray(view, dtype=np.float32) / 255).permute(2, 0, 1)  # (3, S, S)
    mean, std = torch.tensor(pre.image_mean)[:, None, None], torch.tensor(pre.image_std)[:, None, None]
    assert torch.allclose(x[0], (rgb - mean) / std, atol=1e-6)
    back = denormalize(x, pre)
    assert back.shape == (s, s, 3)
    assert np.abs(back * 255 - np.asarray(view, dtype=np.float32)).max() <= 1.0 + 1e-4  # within 1/255


def test_crop_box_takes_the_largest_centred_square():
    pre = PreprocessConfig()
    assert crop_box((10_000, 50), pre) == (4975.0, 0.0, 5025.0, 50.0)
    assert crop_box((50, 10_000), pre) == (0.0, 4975.0, 50.0, 5025.0)
    assert crop_box((64, 64), pre) == (0.0, 0.0, 64.0, 64.0)
    assert crop_box((1, 1), pre) == (0.0, 0.0, 1.0, 1.0)
    assert crop_box((10_000, 50), PreprocessConfig(squash=True)) == (0.0, 0.0, 10_000.0, 50.0)
    assert crop_box((320, 640), PreprocessConfig(crop_size=28, resize_to=32)) == (20.0, 180.0, 300.0, 460.0)


def test_preparation_says_what_the_crop_and_resize_did():
    """The record of what preprocessing did: the share seen and the crop box, enlarged or shrunk and how much,
    squashed and from what shape (issue 28: a 50×10000 strip, a 1-pixel picture)."""
    pre = PreprocessConfig()  # the teaching model: the largest centred square, resized to 28×28
    strip = preparation((50, 10_000), pre)
    assert isinstance(strip, Preparation) and dataclasses.is_dataclass(strip)
    with pytest.raises(dataclasses.FrozenInstanceError):
        strip.seen = 1.0
    assert strip.size == (50, 10_000) and strip.box == (0.0, 4975.0, 50.0, 5025.0) and strip.box_size == (50, 50)
    assert strip.seen == pytest.approx(0.005) and strip.input_size == 28
    assert strip.scale == (0.56, 0.56) and strip.shrunk and not strip.enlarged
    assert not strip.squashed and strip.aspect == 1.0
    dot = preparation((1, 1), pre)
    assert dot.seen == 1.0 and dot.scale == (28.0, 28.0) and dot.enlarged and not dot.shrunk and not dot.squashed
    same = preparation((28, 28), pre)
    assert same.seen == 1.0 and same.scale == (1.0, 1.0) and not same.enlarged and not same.shrunk
    # Hugging Face's ViTImageProcessor squashes: the whole picture is seen, its shape is lost
    squashed = preparation((50, 10_000), PreprocessConfig(crop_size=224, resize_to=224, squash=True))
    assert squashed.seen == 1.0 and squashed.box == (0.0, 0.0, 50.0, 10_000.0)
    assert squashed.squashed and squashed.aspect == pytest.approx(1 / 200)
    assert squashed.scale == pytest.approx((4.48, 0.0224)) and not squashed.enlarged and not squashed.shrunk
    # ImageNet's resize to 256 and centre crop of 224: a square photo loses its border
    photo = preparation((512, 512), PreprocessConfig(crop_size=224, resize_to=256))
    assert photo.seen == pytest.approx((224 / 256) ** 2) and photo.box_size == (448.0, 448.0) and photo.shrunk


@pytest.mark.parametrize("size", [(120, 40), (40, 120)])
def test_model_view_shows_the_centre(size):
    w, h = size
    a = np.zeros((h, w, 3), np.uint8)
    a[(h - 40) // 2 : (h + 40) // 2, (w - 40) // 2 : (w + 40) // 2] = (0, 255, 0)  # the centred 40×40 square
    view = np.asarray(model_view(Image.fromarray(a), PreprocessConfig(resample="nearest")))
    assert (view == (0, 255, 0)).all()
    smooth = np.asarray(model_view(Image.fromarray(a), PreprocessConfig()))  # bicubic looks a little past the edge
    assert (smooth[2:-2, 2:-2] == (0, 255, 0)).all()


# ---- fuzzing: whatever the bytes, only ImageError escapes ----
def _seeds() -> dict[str, bytes]:
    small = Image.fromarray(quadrants(16, 12))
    return {
        "png": encode(small, "PNG"),
        "png-rgba": encode(small.convert("RGBA"), "PNG"),
        "png-palette": encode(small.convert("P"), "PNG", transparency=0),
        "png-16bit": encode(Image.fromarray(np.arange(192, dtype=np.uint16).reshape(12, 16) * 300), "PNG"),
        "png-interlaced": encode(small, "PNG", interlace=1),
        "jpeg": encode(small, "JPEG", exif=_exif_block()),
        "jpeg-progressive": encode(small, "JPEG", progressive=True),
        "gif": frames("GIF", duration=50),
        "bmp": encode(small, "BMP"),
        "bmp-palette": encode(small.convert("P"), "BMP"),
        "tiff": frames("TIFF"),
        "tiff-lzw": encode(small, "TIFF", compression="tiff_lzw"),
        "tiff-float": encode(Image.fromarray(np.linspace(0, 1, 192, dtype=np.float32).reshape(12, 16)), "TIFF"),
        "webp": encode(small, "WEBP", lossless=True),
        "webp-lossy": encode(small, "WEBP", quality=50),
    }


def _exif_block() -> bytes:
    e = Image.Exif()
    e[0x0112], e[0x010F] = 6, "Camera"
    return e.tobytes()


SEEDS = _seeds()
MAGIC = [b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"\xff\xd8\xff\xe1", b"GIF89a", b"GIF87a", b"BM", b"II*\x00",
         b"MM\x00*", b"RIFF\x00\x01\x00\x00WEBPVP8 ", b"RIFF\x00\x01\x00\x00WEBPVP8L", b"%PDF", b"PK\x03\x04", b""]
EXTREMES = [b"\x00\x00\x00\x00", b"\xff\xff\xff\xff", b"\x7f\xff\xff\xff", b"\x80\x00\x00\x00", b"\x00\x00\x00\x01"]


@FUZZ
@given(st.sampled_from(MAGIC), st.binary(max_size=2048))
def test_fuzz_random_bytes(magic, tail):
    assert_loads_or_refuses(magic + tail)


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(SEEDS[draw(st.sampled_from(sorted(SEEDS)))])
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        how = draw(st.sampled_from(["flip", "truncate", "insert", "delete", "extreme"]))
        if how == "flip" and at < len(data):
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "truncate":
            del data[at:]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif how == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif how == "extreme":  # a header field set to 0, -1, 2**31 - 1, ...
            data[at : at + 4] = draw(st.sampled_from(EXTREMES))
    return bytes(data)


def test_fuzz_seeds_are_valid():
    for name, data in SEEDS.items():
        assert load_image(data).mode == "RGB", name


@FUZZ
@given(mutated())
def test_fuzz_mutated_files(data):
    assert_loads_or_refuses(data)


@FUZZ
@given(width=st.integers(0, 2**32 - 1), height=st.integers(0, 2**32 - 1),
       depth=st.sampled_from([1, 2, 4, 8, 16, 3, 0, 255]), colour=st.sampled_from([0, 2, 3, 4, 6, 1, 7, 255]),
       interlace=st.sampled_from([0, 1, 2]))
def test_fuzz_png_headers(width, height, depth, colour, interlace):
    """A PNG whose header (with a correct checksum) claims any size and pixel format, over the same small data."""
    assume(width * height <= 4_000_000 or width * height > images.MAX_PIXELS)  # no minutes-long honest decodes
    png = SEEDS["png"]
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace)
    data = png[:8] + png_chunk(b"IHDR", ihdr) + png[33:]
    assert zlib.crc32(b"IHDR" + ihdr) == struct.unpack(">I", data[29:33])[0]
    assert_loads_or_refuses(data)
