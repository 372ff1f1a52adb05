"""Make the demo pictures in assets/images/ (deterministic: same pixels on every run).

- Fu Bao (푸바오), the giant panda born at Everland, drawn from scratch with PIL shapes: a 28×28 version for the
  teaching model and a 512×384 one, non-square so that the app's centre crop shows (the panda fills that square).
- The first Fashion-MNIST test image of each class, as 28×28 grayscale PNGs.
- Colourful "photos" of a sneaker, a T-shirt and a bag, to try the classifier on pictures unlike its training data.
- manifest.json, which the app reads to list the demos in English and Korean.

Usage: python scripts/make_demo_images.py [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from vit_core.data import LABELS, class_names, load_split

OUT = Path(__file__).resolve().parent.parent / "assets" / "images"
SS = 4  # supersampling: shapes are drawn SS× larger, then shrunk with LANCZOS for smooth edges
FMNIST = ("Fashion-MNIST test set (Zalando SE), https://github.com/zalandoresearch/fashion-mnist", "MIT")
OURS = ("Drawn by scripts/make_demo_images.py in this repository", "MIT")

INK, FUR, GREEN, DARK_GREEN = (28, 28, 32), (250, 246, 236), (104, 170, 62), (58, 118, 40)


class Pen:
    """ImageDraw in unit coordinates: (0, 0)–(1, 1) maps onto a square of `side` pixels whose corner is (x0, y0)."""

    def __init__(self, image: Image.Image, side: float, x0: float = 0, y0: float = 0):
        self.draw, self.s, self.x0, self.y0 = ImageDraw.Draw(image), side, x0, y0

    def xy(self, pts):
        return [(self.x0 + x * self.s, self.y0 + y * self.s) for x, y in pts]

    def ellipse(self, cx, cy, rx, ry, fill, angle=0.0):
        t, a = np.linspace(0, 2 * np.pi, 120, endpoint=False), math.radians(angle)
        x, y = rx * np.cos(t), ry * np.sin(t)
        self.polygon(zip(cx + x * math.cos(a) - y * math.sin(a), cy + x * math.sin(a) + y * math.cos(a)), fill)

    def polygon(self, pts, fill):
        self.draw.polygon(self.xy(pts), fill=fill)

    def line(self, pts, fill, width):
        self.draw.line(self.xy(pts), fill=fill, width=max(1, round(width * self.s)), joint="curve")


def supersampled(size, background, paint) -> Image.Image:
    """Paint on an SS× canvas with paint(image), then shrink to `size`."""
    big = Image.new("RGB", (size[0] * SS, size[1] * SS), background)
    paint(big)
    return big.resize(size, Image.LANCZOS)


def bamboo(pen: Pen, x0, y0, x1, y1, width, detail):
    """A bamboo stalk from (x0, y0) to (x1, y1) with darker nodes and a few leaves at the (x1, y1) end."""
    dx, dy = x1 - x0, y1 - y0
    px, py = -dy / math.hypot(dx, dy) * width * 0.6, dx / math.hypot(dx, dy) * width * 0.6  # across the stalk
    pen.line([(x0, y0), (x1, y1)], GREEN, width)
    for t in (0.15, 0.38, 0.62, 0.85) if detail else (0.3, 0.62):
        x, y = x0 + t * dx, y0 + t * dy
        pen.line([(x - px, y - py), (x + px, y + py)], DARK_GREEN, width * (0.16 if detail else 0.3))  # nodes
    leaves = ((-60, 0.2), (-15, 0.24), (30, 0.18)) if detail else ((-50, 0.17), (10, 0.17))
    for k, (angle, length) in enumerate(leaves):
        length *= width / 0.06 if detail else 1.0
        a = math.atan2(dy, dx) + math.radians(angle)
        cx, cy = x1 + math.cos(a) * length / 2, y1 + math.sin(a) * length / 2
        pen.ellipse(cx, cy, length / 2, length / 7, GREEN if k % 2 else DARK_GREEN, math.degrees(a))


def panda(pen: Pen, detail: bool):
    """Fu Bao sitting and holding a bamboo stalk, filling the unit square (head and upper body)."""
    pen.ellipse(0.50, 0.98, 0.44, 0.30, INK)                     # shoulder band and arms, behind the chest
    pen.ellipse(0.50, 1.02, 0.27, 0.28, FUR)                     # white chest and belly
    for sx in (-1, 1):
        pen.ellipse(0.50 + sx * 0.24, 0.19, 0.105, 0.105, INK)   # ears
    pen.ellipse(0.50, 0.45, 0.32, 0.28, FUR)                     # round head
    for sx in (-1, 1):
        pen.ellipse(0.50 + sx * 0.115, 0.46, 0.07, 0.10, INK, angle=sx * -32)  # eye patches
        if detail:
            pen.ellipse(0.50 + sx * 0.105, 0.445, 0.022, 0.022, (245, 245, 245))  # eyes with a shine
            pen.ellipse(0.50 + sx * 0.102, 0.448, 0.014, 0.014, INK)
            pen.ellipse(0.50 + sx * 0.097, 0.440, 0.005, 0.005, (255, 255, 255))
    pen.ellipse(0.50, 0.575, 0.055, 0.035, INK)                  # nose
    if detail:
        pen.line([(0.50, 0.60), (0.50, 0.63)], INK, 0.008)       # mouth
        pen.line([(0.46, 0.645), (0.48, 0.65), (0.50, 0.63), (0.52, 0.65), (0.54, 0.645)], INK, 0.008)
        for sx in (-1, 1):
            pen.ellipse(0.50 + sx * 0.2, 0.56, 0.035, 0.022, (246, 196, 196))  # rosy cheeks
    for cx, cy, angle in ((0.27, 0.90, 30), (0.71, 0.82, -10)):
        pen.ellipse(cx, cy, 0.13, 0.08, INK, angle)              # arms reaching for the stalk
    bamboo(pen, 0.30, 1.05, 0.86, 0.62, 0.06 if detail else 0.085, detail)
    for x, y in ((0.38, 0.92), (0.60, 0.79)):
        pen.ellipse(x, y, 0.085, 0.07, INK, angle=-20)           # paws gripping the stalk


def fubao(size, square: int, detail: bool, background) -> Image.Image:
    """Fu Bao in a centred square of `square` pixels on a canvas of `size` pixels."""
    w, h = size

    def paint(im):
        if detail:  # a soft sky-to-meadow gradient and some grass
            a = np.linspace(0, 1, im.height)[:, None, None]
            sky, meadow = np.array([214, 234, 247]), np.array([206, 232, 190])
            rows = (sky * (1 - a) + meadow * a).astype(np.uint8)
            im.paste(Image.fromarray(np.broadcast_to(rows, (im.height, im.width, 3)).copy()))
            ground = Pen(im, im.width)  # unit = the canvas width
            ground.ellipse(0.5, 1.4, 1.0, 0.8, (176, 214, 148))
            rng = np.random.default_rng(7)
            for x in rng.uniform(0, 1, 120):
                y = 0.62 + 0.12 * rng.uniform()
                ground.line([(x, y), (x + rng.uniform(-0.012, 0.012), y - rng.uniform(0.015, 0.035))],
                            (120, 178, 96), 0.003)
            for x0, x1, top in ((0.06, 0.09, 0.16), (0.13, 0.15, 0.26), (0.94, 0.91, 0.12), (0.87, 0.86, 0.3)):
                bamboo(ground, x0, 0.66, x1, top, 0.018, True)
        side = square * 0.94  # a small margin inside the square
        panda(Pen(im, side * SS, (w - side) / 2 * SS, (h - side) / 2 * SS), detail)

    return supersampled(size, background, paint)


def shadow(im: Image.Image, pen: Pen, cx, cy, rx, ry, strength=110):
    """A soft contact shadow: a blurred dark ellipse."""
    mask = Image.new("L", im.size, 0)
    Pen(mask, pen.s, pen.x0, pen.y0).ellipse(cx, cy, rx, ry, strength)
    im.paste((40, 30, 20), (0, 0, *im.size), mask.filter(ImageFilter.GaussianBlur(pen.s * ry * 0.8)))


def wood(size) -> Image.Image:
    """Light oak planks: horizontal grain from a few sines per plank, thin dark seams between planks."""
    w, h = size
    rng = np.random.default_rng(3)
    y, x = np.mgrid[0:h, 0:w] / w
    plank = (y * 5).astype(int)  # five planks per canvas width
    phase, tone = rng.uniform(0, 6.3, (plank.max() + 1, 3)), rng.uniform(-10, 10, plank.max() + 1)
    grain = sum(np.sin(y * f * 90 + np.sin(x * f * 2 + phase[plank, i]) * 1.2) for i, f in enumerate((1.0, 2.3, 5.1)))
    shade = tone[plank] + grain * 5 - 60 * (np.abs((y * 5) % 1 - 0.5) > 0.495)  # seams
    base = np.array([222, 186, 140])
    return Image.fromarray(np.clip(base + shade[..., None] * np.array([1.0, 0.9, 0.7]), 0, 255).astype(np.uint8))


def sneaker_photo(size=(400, 300)) -> Image.Image:
    """A blue and orange running shoe, side view, on a wooden floor."""
    def paint(im):
        im.paste(wood(im.size))
        pen = Pen(im, im.width)
        shadow(im, pen, 0.51, 0.665, 0.42, 0.035)
        blue, light, orange, white = (36, 98, 196), (70, 136, 222), (248, 132, 40), (246, 246, 242)
        t = np.linspace(-np.pi / 2, 0, 24)
        toe = list(zip(0.78 + 0.10 * np.cos(t), 0.58 + 0.15 * np.sin(t)))                      # rounded toe
        pen.polygon([(0.13, 0.60), (0.12, 0.47), (0.15, 0.37), (0.20, 0.30), (0.27, 0.29), (0.40, 0.31),
                     (0.46, 0.25), (0.53, 0.24), (0.62, 0.37), *toe], blue)                   # upper
        pen.polygon([*toe, (0.70, 0.58)], light)                                                # toe cap
        pen.ellipse(0.30, 0.30, 0.10, 0.028, (30, 34, 48), angle=3)                             # collar opening
        pen.polygon([(0.13, 0.60), (0.12, 0.47), (0.15, 0.37), (0.20, 0.30), (0.24, 0.30), (0.20, 0.60)],
                    orange)                                                                      # heel tab
        for dx in (0.0, 0.07):                                                                  # side stripes
            pen.polygon([(0.32 + dx, 0.59), (0.50 + dx, 0.36), (0.545 + dx, 0.38), (0.38 + dx, 0.59)], orange)
        for i in range(5):                                                                      # laces
            x, y = 0.49 + i * 0.045, 0.285 + i * 0.028
            pen.line([(x - 0.02, y - 0.012), (x + 0.02, y + 0.012)], white, 0.008)
        pen.draw.rounded_rectangle(pen.xy([(0.11, 0.57), (0.90, 0.66)]), round(0.04 * pen.s), white)  # sole
        pen.line([(0.13, 0.625), (0.88, 0.625)], (196, 196, 190), 0.005)                         # midsole line
    return supersampled(size, (0, 0, 0), paint)


def tshirt_photo(size=(300, 400)) -> Image.Image:
    """A red T-shirt laid flat on a white table."""
    def paint(im):
        pen = Pen(im, im.width)  # y runs to 4/3
        shadow(im, pen, 0.51, 0.75, 0.40, 0.52, 60)
        red, dark = (214, 36, 44), (168, 22, 30)
        shirt = [(0.39, 0.22), (0.21, 0.27), (0.04, 0.44), (0.15, 0.55), (0.25, 0.47), (0.25, 1.15),
                 (0.75, 1.15), (0.75, 0.47), (0.85, 0.55), (0.96, 0.44), (0.79, 0.27), (0.61, 0.22)]
        pen.polygon(shirt, red)
        pen.ellipse(0.50, 0.235, 0.12, 0.075, dark)                                 # collar rib
        pen.ellipse(0.50, 0.23, 0.10, 0.058, (132, 16, 24))                         # inside of the back
        for pts in ([(0.06, 0.455), (0.165, 0.545)], [(0.94, 0.455), (0.835, 0.545)], [(0.25, 1.12), (0.75, 1.12)]):
            pen.line(pts, dark, 0.006)                                              # hems
        for pts in ([(0.32, 0.70), (0.40, 0.85), (0.38, 1.02)], [(0.64, 0.62), (0.60, 0.80)]):
            pen.line(pts, (204, 32, 40), 0.014)                                     # soft folds
    return supersampled(size, (246, 246, 246), paint)


def bag_photo(size=(400, 320)) -> Image.Image:
    """A brown leather handbag with a gold clasp against a teal wall."""
    def paint(im):
        pen = Pen(im, im.width)  # y runs to 0.8
        pen.polygon([(0, 0.62), (1, 0.62), (1, 0.8), (0, 0.8)], (196, 214, 210))    # the shelf it stands on
        shadow(im, pen, 0.50, 0.645, 0.30, 0.03)
        brown, dark, gold = (150, 88, 48), (112, 62, 32), (224, 180, 70)
        pen.draw.arc(pen.xy([(0.33, 0.08), (0.67, 0.50)]), 180, 360, fill=dark, width=round(0.03 * pen.s))  # handle
        pen.polygon([(0.26, 0.30), (0.74, 0.30), (0.80, 0.64), (0.20, 0.64)], brown)                      # body
        pen.polygon([(0.26, 0.30), (0.74, 0.30), (0.76, 0.44), (0.50, 0.50), (0.24, 0.44)], dark)          # flap
        pen.ellipse(0.50, 0.475, 0.03, 0.025, gold)                                                        # clasp
        pen.line([(0.22, 0.60), (0.78, 0.60)], (128, 74, 38), 0.004)                                      # stitching
    return supersampled(size, (64, 150, 150), paint)


def slug(label: str) -> str:
    """'T-shirt/top' → 'tshirt_top', 'Ankle boot' → 'ankle_boot'."""
    return re.sub(r"[ /]+", "_", re.sub(r"[^a-z0-9 /]", "", label.lower()))


def entry(file, title_en, title_ko, kind="drawing", label=None, index=None, credit=OURS, short=None, imagenet=None):
    """A manifest entry. `short` (English, Korean): the title as the sidebar's picker shows it, short enough for its
    box; the full title is the caption below it. `label`: its Fashion-MNIST class, None for none of the ten;
    `imagenet`: its ImageNet-1k class where it is one, written only then (app.pictures.shows_a_class)."""
    source, licence = credit
    short_en, short_ko = short or (title_en, title_ko)
    return {"file": file, "title_en": title_en, "title_ko": title_ko, "short_en": short_en, "short_ko": short_ko,
            "kind": kind, "label": label, "index": index, **({"imagenet": imagenet} if imagenet else {}),
            "source": source, "license": licence}


def main(out: Path = OUT) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    pictures = [  # (picture, manifest entry)
        (fubao((28, 28), 28, False, (204, 228, 244)),
         entry("fubao_28.png", "Fu Bao the giant panda (28×28 drawing)", "푸바오 (28×28 그림)",
               short=("Fu Bao · 28×28", "푸바오 · 28×28"), imagenet="giant panda")),
        (fubao((512, 384), 384, True, (214, 234, 247)),
         entry("fubao_512.png", "Fu Bao the giant panda (512×384 drawing)", "푸바오 (512×384 그림)",
               short=("Fu Bao · 512×384", "푸바오 · 512×384"), imagenet="giant panda")),
        (sneaker_photo(), entry("sneaker_photo.png", "A blue sneaker on a wooden floor (drawing)",
                                "나무 바닥 위의 파란 스니커즈 (그림)", label="Sneaker",
                                short=("Blue sneaker", "파란 스니커즈"))),
        (tshirt_photo(), entry("tshirt_photo.png", "A red T-shirt on a white table (drawing)",
                               "흰 탁자 위의 빨간 티셔츠 (그림)", label="T-shirt/top",
                               short=("Red T-shirt", "빨간 티셔츠"))),
        (bag_photo(), entry("bag_photo.png", "A brown handbag against a teal wall (drawing)",
                            "청록색 벽 앞의 갈색 핸드백 (그림)", label="Bag",
                            short=("Brown handbag", "갈색 핸드백"))),
    ]
    images, labels = load_split("test")
    for c, label in enumerate(LABELS):
        label_ko = class_names("ko")[label]  # assets/models/fashion-vit/class_names.json
        i = int(np.flatnonzero(labels == c)[0])  # the first test image of this class
        pictures.append((Image.fromarray(images[i], "L"),
                         entry(f"fashion_{i}_{slug(label)}.png", f"Fashion-MNIST test image #{i}: {label}",
                               f"Fashion-MNIST 테스트 이미지 #{i}: {label_ko}", "fashion-mnist", label, i, FMNIST,
                               short=(f"Test #{i} · {label}", f"테스트 #{i} · {label_ko}"))))
    for picture, e in pictures:
        picture.save(out / e["file"])
    manifest = [e for _, e in pictures]
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return manifest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder (default: assets/images)")
    for e in main(parser.parse_args().out):
        print(e["file"])
