"""Files a class might upload, good and bad, generated in memory (nothing is committed).

Every `Case` says what `vit_core.images.load_image` must do with its bytes: return an RGB picture that passes
`check` ("ok"), or raise `ImageError` whose message contains `message` ("error"). The same corpus serves the unit
tests (tests/test_images.py) and the app's upload tests, which can send `data` under `filename`.

Test pictures are mostly made of flat blocks of colour, so a lossy format (JPEG, WebP) still gives back known colours
in the middle of each block, and a misplaced block shows a wrong orientation or a wrong frame.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable, Literal

import numpy as np
from PIL import Image

RED, GREEN, BLUE, WHITE, BLACK, GREY = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0), (128,) * 3
Check = Callable[[Image.Image], None]  # raises AssertionError when the returned picture is wrong


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    expect: Literal["ok", "error"]
    check: Check | None = None
    message: str = ""  # for "error": a phrase the message must contain (case-insensitive)
    filename: str = "upload.png"  # what a user would have called it (the app's upload tests send it)

    def __repr__(self) -> str:  # keeps pytest ids and failure reports short
        return f"Case({self.name!r}, {len(self.data)} bytes, {self.expect!r})"


# ---- building blocks ----
def encode(im: Image.Image, fmt: str, **options) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **options)
    return buf.getvalue()


def quadrants(w: int = 64, h: int = 48) -> np.ndarray:
    """An asymmetric (h, w, 3) picture: red, green / blue, white. Each of the 8 flips and turns looks different."""
    a = np.empty((h, w, 3), np.uint8)
    a[: h // 2, : w // 2], a[: h // 2, w // 2 :] = RED, GREEN
    a[h // 2 :, : w // 2], a[h // 2 :, w // 2 :] = BLUE, WHITE
    return a


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width×height pixels: a decompression bomb, without allocating it."""
    small = encode(Image.new("RGB", (8, 8), RED), "PNG")
    ihdr = struct.pack(">II", width, height) + small[24:29]  # new size, same bit depth, colour type, ...
    return small[:8] + png_chunk(b"IHDR", ihdr) + small[33:]


def zip_file() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("cat.png", encode(Image.new("RGB", (8, 8), RED), "PNG"))
    return buf.getvalue()


def gif_header(width: int = 8, height: int = 8) -> bytes:
    """GIF signature and logical screen descriptor, no colour table: what comes before the first frame."""
    return b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)


# ---- checks ----
def pixels(size: tuple[int, int] | None = None, tol: int = 0, **where: tuple[int, ...]) -> Check:
    """The picture has `size`, and named points are close to given colours: pixels(at_3_4=RED) means (3, 4) is red."""

    def check(im: Image.Image) -> None:
        if size is not None:
            assert im.size == size, f"size {im.size}, expected {size}"
        for name, rgb in where.items():
            x, y = (int(v) for v in name.split("_")[1:])
            got = im.getpixel((x, y))
            assert max(abs(g - e) for g, e in zip(got, rgb)) <= tol, f"({x}, {y}) is {got}, expected {rgb} ± {tol}"

    return check


def upright(tol: int) -> Check:
    """The picture is `quadrants()` the right way up (red top-left, white bottom-right)."""
    return pixels((64, 48), tol, at_16_12=RED, at_48_12=GREEN, at_16_36=BLUE, at_48_36=WHITE)


def shrunk_to(side: int, w: int, h: int, colour: tuple[int, int, int], tol: int) -> Check:
    """The picture of w×h was shrunk to `side` on its short side, keeping its shape and its colour."""

    def check(im: Image.Image) -> None:
        assert min(im.size) == side, f"size {im.size}: the short side should be {side}"
        assert abs(im.size[0] / im.size[1] - w / h) < 0.01, f"size {im.size} does not keep the shape of {w}×{h}"
        got = im.getpixel((im.size[0] // 2, im.size[1] // 2))
        assert max(abs(g - e) for g, e in zip(got, colour)) <= tol, f"centre is {got}, expected {colour}"

    return check


# ---- EXIF orientation ----
# Orientation n says how the stored rows and columns relate to the picture as it should be seen (EXIF 2.3, tag 274).
# The stored picture is the upright one turned the other way, built here with numpy, independently of Pillow.
STORED = {
    1: lambda a: a,
    2: lambda a: a[:, ::-1],  # mirrored left-right
    3: lambda a: a[::-1, ::-1],  # turned 180°
    4: lambda a: a[::-1],  # mirrored top-bottom
    5: lambda a: a.transpose(1, 0, 2),  # mirrored along the main diagonal
    6: lambda a: np.rot90(a, 1),  # turned 90° anticlockwise: the viewer turns it 90° clockwise
    7: lambda a: np.rot90(a, 2).transpose(1, 0, 2),  # mirrored along the other diagonal
    8: lambda a: np.rot90(a, -1),  # turned 90° clockwise
}


def exif(orientation: int, **tags) -> bytes:
    e = Image.Exif()
    e[0x0112] = orientation
    for tag, value in tags.items():
        e[int(tag[1:], 16)] = value  # t010F="Camera" sets tag 0x010F
    return e.tobytes()


def oriented_jpeg(orientation: int, stored: int | None = None) -> bytes:
    a = np.ascontiguousarray(STORED[stored or orientation](quadrants()))
    return encode(Image.fromarray(a), "JPEG", quality=95, exif=exif(orientation))


def jpeg_with_broken_exif_tag() -> bytes:
    """Orientation 6 is readable, but a text tag was renamed to a numeric one (InkSet, 0x014C) in the file."""
    a = np.ascontiguousarray(STORED[6](quadrants()))
    good = exif(6, t010F="Camera", t0110="Model X")
    block = good.replace(b"\x01\x10\x00\x02", b"\x01\x4c\x00\x02")  # tag 0x0110, type 2 (text)
    assert block != good
    return encode(Image.fromarray(a), "JPEG", quality=95, exif=block)


def jpeg_with_garbage_exif() -> bytes:
    junk = bytes(np.random.default_rng(0).integers(0, 256, 200, dtype=np.uint8))
    return encode(Image.fromarray(quadrants()), "JPEG", quality=95, exif=b"Exif\x00\x00MM\x00*" + junk)


# ---- pictures in every mode ----
def gray16(values: list[int], fmt: str = "PNG", mode: str = "I;16") -> bytes:
    a = np.array([values], np.uint16)
    return encode(Image.frombytes(mode, (len(values), 1), a.astype(">u2" if mode == "I;16B" else "<u2").tobytes()), fmt)


def rgba_png() -> bytes:
    """Left half fully transparent (and black underneath), right half red at half opacity."""
    a = np.zeros((8, 8, 4), np.uint8)
    a[:, 4:] = (255, 0, 0, 128)
    return encode(Image.fromarray(a), "PNG")


def la_png() -> bytes:
    a = np.zeros((8, 8, 2), np.uint8)
    a[:, 4:] = (100, 255)  # right half opaque grey 100, left half transparent black
    return encode(Image.fromarray(a), "PNG")


def palette_png() -> bytes:
    im = Image.new("P", (8, 8), 1)
    im.putpalette([*BLACK, *RED, *GREEN])
    im.paste(2, (4, 0, 8, 8))
    return encode(im, "PNG", transparency=1)  # palette index 1 (red, the left half) is transparent


def halves(left, right, mode: str = "RGB", size=(8, 8)) -> Image.Image:
    im = Image.new(mode, size, left)
    im.paste(right, (size[0] // 2, 0, *size))
    return im


def frames(fmt: str, **options) -> bytes:
    first, *rest = (Image.new("RGB", (8, 8), c) for c in (RED, GREEN, BLUE))
    return encode(first, fmt, save_all=True, append_images=rest, **options)


def transparent_gif() -> bytes:
    im = halves(0, 1, "P")
    im.putpalette([*RED, *GREEN])
    return encode(im, "GIF", transparency=0)  # the red left half is transparent


def float_tiff(values: list[float]) -> bytes:
    return encode(Image.fromarray(np.array([values], np.float32)), "TIFF")


def checkerboard_1bit() -> bytes:
    return encode(Image.fromarray(np.indices((8, 8)).sum(0) % 2 == 0), "PNG")  # mode "1", white at (0, 0)


def huge_jpeg(w: int = 6000, h: int = 4000) -> bytes:
    return encode(Image.new("RGB", (w, h), (40, 120, 200)), "JPEG", quality=80)


def truncated(data: bytes) -> bytes:
    return data[: len(data) // 2]


def with_bad_crc(png: bytes) -> bytes:
    return png[:29] + bytes([png[29] ^ 0xFF]) + png[30:]  # the IHDR checksum


def _corpus() -> list[Case]:
    photo = encode(Image.fromarray(quadrants()), "JPEG", quality=95)
    png = encode(Image.fromarray(quadrants()), "PNG")
    cases = [
        # ---- not pictures, or not whole ones ----
        Case("empty", b"", "error", message="empty"),
        Case("one-byte", b"\x89", "error", message="not a picture"),
        Case("truncated-jpeg", truncated(photo), "error", message="damaged", filename="photo.jpg"),
        Case("truncated-png", truncated(png), "error", message="damaged"),
        Case("png-signature-only", png[:8], "error"),
        Case("png-bad-crc", with_bad_crc(png), "error", message="damaged"),
        Case("text-renamed-png", b"Shopping list:\n- eggs\n- milk\n" * 20, "error", message="not a picture",
             filename="notes.png"),
        Case("html", b"<!DOCTYPE html><html><head><title>cat</title></head><body><img src=cat.png></body></html>",
             "error", message="not a picture", filename="cat.html"),
        Case("svg", b'<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>',
             "error", message="not a picture", filename="cat.svg"),
        Case("zip", zip_file(), "error", message="not a picture", filename="cats.zip"),
        Case("pdf-header", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n", "error",
             message="not a picture", filename="worksheet.pdf"),
        # Pillow can read these formats, but we refuse them before decoding (EPS would run Ghostscript).
        Case("eps", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 8 8\n%%EndComments\n", "error",
             message="not supported", filename="cat.eps"),
        Case("ico", encode(Image.new("RGB", (16, 16), RED), "ICO"), "error", message="not supported",
             filename="favicon.ico"),
        # ---- too many pixels: refused from the header, before any pixel is allocated ----
        Case("bomb-20000x20000", png_claiming(20_000, 20_000), "error", message="pixels", filename="bomb.png"),
        Case("bomb-8001x8000", png_claiming(8001, 8000), "error", message="pixels"),  # just over our 64 MP
        Case("bomb-10000x9500", png_claiming(10_000, 9500), "error", message="pixels"),  # where Pillow only warns
        # ---- GIFs without a picture ----
        Case("gif-zero-frames", gif_header() + b";", "error", filename="empty.gif"),
        Case("gif-garbage-after-header", gif_header() + b"\x00garbage!" * 20, "error", filename="broken.gif"),
        # ---- sizes ----
        Case("png-1x1", encode(Image.new("RGB", (1, 1), BLUE), "PNG"), "ok", pixels((1, 1), at_0_0=BLUE)),
        # A strip keeps every one of its pixels: shrunk to 1024 on its long side it would give the model 5 rows.
        Case("png-10000x50", encode(Image.new("RGB", (10_000, 50), GREEN), "PNG"), "ok",
             pixels((10_000, 50), at_5000_25=GREEN)),
        Case("png-50x10000", encode(Image.new("RGB", (50, 10_000), GREEN), "PNG"), "ok",
             pixels((50, 10_000), at_25_5000=GREEN)),
        # 6000×4000 is legal and common (a phone photo). It comes back 1024 px on its short side; JPEG's draft mode
        # decodes it at 1/2, 1/4 or 1/8 scale straight from the file, which is what keeps it fast and small.
        Case("jpeg-6000x4000", huge_jpeg(), "ok", shrunk_to(1024, 6000, 4000, (40, 120, 200), 6), filename="phone.jpg"),
        # ---- colour modes ----
        Case("jpeg-cmyk", encode(halves(RED, BLUE).convert("CMYK"), "JPEG", quality=95), "ok",
             pixels((8, 8), 40, at_1_4=RED, at_6_4=BLUE), filename="print.jpg"),
        Case("jpeg-gray", encode(halves(30, 220, "L"), "JPEG", quality=95), "ok",
             pixels((8, 8), 8, at_1_4=(30,) * 3, at_6_4=(220,) * 3), filename="gray.jpg"),
        Case("png-1bit", checkerboard_1bit(), "ok", pixels((8, 8), at_0_0=WHITE, at_1_0=BLACK, at_1_1=WHITE)),
        Case("png-16bit-gray", gray16([0, 65535, 32768, 300]), "ok",
             pixels((4, 1), at_0_0=BLACK, at_1_0=WHITE, at_2_0=GREY, at_3_0=(1,) * 3)),
        Case("png-16bit-gray-dark", gray16([0, 255, 128, 1000]), "ok",  # 255 of 65535 is nearly black, not white
             pixels((4, 1), at_0_0=BLACK, at_1_0=(1,) * 3, at_2_0=(0,) * 3, at_3_0=(4,) * 3)),
        Case("tiff-16bit-gray-big-endian", gray16([0, 65535, 32768, 300], "TIFF", "I;16B"), "ok",
             pixels((4, 1), at_0_0=BLACK, at_1_0=WHITE, at_2_0=GREY, at_3_0=(1,) * 3), filename="scan.tif"),
        Case("tiff-float", float_tiff([0.0, 1.0, 0.5, -3.0]), "ok",  # 0…1, as scientific pictures often are
             pixels((4, 1), at_0_0=BLACK, at_1_0=WHITE, at_2_0=GREY, at_3_0=BLACK), filename="f.tif"),
        Case("tiff-float-0-255", float_tiff([0.0, 255.0, 127.6]), "ok",
             pixels((3, 1), at_0_0=BLACK, at_1_0=WHITE, at_2_0=GREY), filename="f.tif"),
        Case("tiff-float-nan", float_tiff([float("nan"), 1.0, float("inf")]), "ok",
             pixels((3, 1), at_0_0=BLACK, at_1_0=WHITE, at_2_0=WHITE), filename="nan.tif"),
        Case("tiff-lab", encode(halves((0, 128, 128), (255, 128, 128), "LAB"), "TIFF"), "ok",
             pixels((8, 8), 6, at_1_4=BLACK, at_6_4=WHITE), filename="lab.tif"),
        Case("tiff-cmyk", encode(halves(RED, BLUE).convert("CMYK"), "TIFF"), "ok",
             pixels((8, 8), at_1_4=RED, at_6_4=BLUE), filename="print.tif"),
        # ---- transparency: transparent pixels become white ----
        Case("png-rgba", rgba_png(), "ok", pixels((8, 8), 1, at_1_4=WHITE, at_6_4=(255, 127, 127))),
        Case("png-la", la_png(), "ok", pixels((8, 8), at_1_4=WHITE, at_6_4=(100,) * 3)),
        Case("png-palette-transparent", palette_png(), "ok", pixels((8, 8), at_1_4=WHITE, at_6_4=GREEN)),
        Case("png-rgb-transparent-colour", encode(halves(RED, BLUE), "PNG", transparency=RED), "ok",
             pixels((8, 8), at_1_4=WHITE, at_6_4=BLUE)),
        Case("png-gray-transparent-value", encode(halves(7, 200, "L"), "PNG", transparency=7), "ok",
             pixels((8, 8), at_1_4=WHITE, at_6_4=(200,) * 3)),
        Case("gif-transparent", transparent_gif(), "ok", pixels((8, 8), at_1_4=WHITE, at_6_4=GREEN), filename="t.gif"),
        # ---- the first of several pictures ----
        Case("gif-animated", frames("GIF", duration=100, loop=0), "ok", pixels((8, 8), at_4_4=RED), filename="a.gif"),
        Case("webp-animated", frames("WEBP", lossless=True), "ok", pixels((8, 8), at_4_4=RED), filename="a.webp"),
        Case("tiff-multipage", frames("TIFF"), "ok", pixels((8, 8), at_4_4=RED), filename="pages.tif"),
        # ---- other formats ----
        Case("bmp", encode(Image.fromarray(quadrants()), "BMP"), "ok", upright(0), filename="paint.bmp"),
        Case("webp", encode(Image.fromarray(quadrants()), "WEBP", lossless=True), "ok", upright(0),
             filename="web.webp"),
        Case("webp-lossy", encode(Image.fromarray(quadrants()), "WEBP", quality=90), "ok", upright(48),
             filename="web.webp"),
        # ---- EXIF orientation: the camera stored the picture turned, and says so ----
        *(Case(f"jpeg-exif-orientation-{n}", oriented_jpeg(n), "ok", upright(48), filename="phone.jpg")
          for n in range(1, 9)),
        Case("jpeg-exif-orientation-9", oriented_jpeg(9, stored=1), "ok", upright(48), filename="phone.jpg"),  # no such
        Case("png-exif-orientation-6", encode(Image.fromarray(np.ascontiguousarray(STORED[6](quadrants()))), "PNG",
                                              exif=exif(6)), "ok", upright(0)),
        # A damaged EXIF block does not damage the picture: keep the picture (and the orientation, if readable).
        Case("jpeg-exif-broken-tag", jpeg_with_broken_exif_tag(), "ok", upright(48), filename="phone.jpg"),
        Case("jpeg-exif-garbage", jpeg_with_garbage_exif(), "ok", upright(48), filename="phone.jpg"),
    ]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


CASES: list[Case] = _corpus()
BY_NAME: dict[str, Case] = {c.name: c for c in CASES}
