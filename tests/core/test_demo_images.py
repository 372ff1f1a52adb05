"""The demo pictures in assets/images/: the manifest matches the folder, every file loads, the Fashion-MNIST ones
are the test images they claim to be, and scripts/make_demo_images.py regenerates the same pixels."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vit_core.data import LABELS, DatasetNotFound, load_split
from vit_core.imagenet import imagenet_classes
from vit_core.images import load_image

ROOT = Path(__file__).resolve().parents[2]
IMAGES = ROOT / "assets" / "images"
MANIFEST = json.loads((IMAGES / "manifest.json").read_text(encoding="utf-8"))


def pixels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


@pytest.fixture(scope="module")
def test_split():
    try:
        return load_split("test")
    except DatasetNotFound as e:
        pytest.skip(str(e))


def test_manifest_lists_exactly_the_pngs():
    files = [e["file"] for e in MANIFEST]
    assert len(files) == len(set(files))
    assert set(files) == {p.name for p in IMAGES.glob("*.png")}
    for e in MANIFEST:
        assert e["title_en"] and e["title_ko"] and e["source"] and e["license"] == "MIT"
        assert 0 < len(e["short_en"]) <= 24 and 0 < len(e["short_ko"]) <= 16  # they fit the sidebar picker's box
        assert e["kind"] in ("drawing", "fashion-mnist")
        assert e["label"] is None or e["label"] in LABELS
        assert "imagenet" not in e or e["imagenet"] in imagenet_classes()  # written only where it is one of them


@pytest.mark.parametrize("file", [e["file"] for e in MANIFEST])
def test_every_file_loads(file):
    im = load_image(IMAGES / file)
    assert im.mode == "RGB" and min(im.size) >= 28


def test_fubao_28_is_small_rgb():
    with Image.open(IMAGES / "fubao_28.png") as im:
        assert im.size == (28, 28) and im.mode == "RGB"


def test_one_fashion_mnist_test_image_per_class(test_split):
    images, labels = test_split
    fashion = [e for e in MANIFEST if e["kind"] == "fashion-mnist"]
    assert sorted(e["label"] for e in fashion) == sorted(LABELS)
    for e in fashion:
        i = e["index"]
        assert LABELS[labels[i]] == e["label"]
        assert i == np.flatnonzero(labels == labels[i])[0]  # the first of its class
        assert np.array_equal(pixels(IMAGES / e["file"]), images[i])


def test_script_regenerates_the_same_pixels(tmp_path, test_split):
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_images.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8")) == MANIFEST
    assert {p.name for p in tmp_path.glob("*.png")} == {e["file"] for e in MANIFEST}
    for e in MANIFEST:
        assert np.array_equal(pixels(tmp_path / e["file"]), pixels(IMAGES / e["file"])), e["file"]
