"""Fashion-MNIST from its four gzipped IDX files (Debian package `dataset-fashion-mnist`)."""
from __future__ import annotations

import functools
import gzip
import json
import os
import struct
from pathlib import Path
from types import MappingProxyType

import numpy as np

DEFAULT_DIRS = ("/usr/share/datasets/fashion-mnist",)
LABELS = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# The classes' names in every language of the app, in one file beside the teaching model: the model card, the demo
# pictures' manifest and the app read them there. Its English names are LABELS (tests/test_class_names.py).
CLASS_NAMES = Path(__file__).resolve().parent.parent / "assets" / "models" / "fashion-vit" / "class_names.json"
FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


@functools.cache
def class_names(lang: str) -> MappingProxyType[str, str]:
    """{English name: its name in `lang`} for the ten classes, from CLASS_NAMES, read-only ({} for a language it
    lacks)."""
    classes = json.loads(CLASS_NAMES.read_text(encoding="utf-8"))["classes"]
    return MappingProxyType({c["en"]: c[lang] for c in classes if lang in c})


class DatasetNotFound(FileNotFoundError):
    pass


def find_data_dir(data_dir: str | Path | None = None) -> Path:
    candidates = [data_dir] if data_dir else [os.environ.get("FASHION_MNIST_DIR"), *DEFAULT_DIRS]
    for d in candidates:
        if d and all((Path(d) / f).exists() for f in FILES["test"]):
            return Path(d)
    raise DatasetNotFound(
        f"Fashion-MNIST not found in {[c for c in candidates if c]}: install it with "
        "`apt-get install dataset-fashion-mnist` or pass --data DIR holding the four .gz IDX files")


def read_idx(path: Path) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        raw = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or dtype_code != 0x08:
        raise ValueError(f"{path} is not an unsigned-byte IDX file")
    shape = struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim])
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path} is truncated: expected {shape}")
    return data.reshape(shape).copy()  # writable, so torch.from_numpy can share it


def load_split(split: str, data_dir: str | Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(images (n, 28, 28) uint8, labels (n,) uint8) for 'train' (60k) or 'test' (10k)."""
    d = find_data_dir(data_dir)
    images_file, labels_file = FILES[split]
    images, labels = read_idx(d / images_file), read_idx(d / labels_file)
    if len(images) != len(labels):
        raise ValueError(f"{split}: {len(images)} images but {len(labels)} labels")
    return images, labels
