"""The 1000 ImageNet-1k class names, for checkpoints that only say "1000 classes" (see resources/README.md)."""
from __future__ import annotations

from functools import cache
from importlib.resources import files


def _lines(name: str) -> tuple[str, ...]:
    return tuple((files("vit_core") / "resources" / name).read_text(encoding="utf-8").splitlines())


@cache
def imagenet_classes() -> tuple[str, ...]:
    """Short names in class-index order: imagenet_classes()[388] == "giant panda"."""
    return _lines("imagenet_classes.txt")


@cache
def imagenet_synsets() -> tuple[str, ...]:
    """WordNet ids in the same order: imagenet_synsets()[388] == "n02510455"."""
    return _lines("imagenet_synsets.txt")
