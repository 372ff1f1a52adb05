"""Experiments on the ViT: change its input or its weights' use, and run the same model code (issue 13).

An `Intervention` is a set of flags that `ViT.trace` and `ViT.forward` take (vit_core/model.py applies them:
`apply_to_pixels`, `head_keep`); nothing is hooked in from outside. This module needs no torch.

- **mask**: the patches named (row-major from 0, as the app numbers them, in the original picture) are filled in the
  model's normalised input space: `mean` fills 0, the colour of the preprocessing's image_mean (mid grey for the
  teaching model: experiments.mean_fill), not black; `blur` the patch's own mean colour
  (the strongest blur that keeps its colour); `noise` standard normal noise, seeded, so a run can be repeated.
- **shuffle**: the patches' contents move to other positions by a seeded permutation; the position embeddings stay
  with the positions. `permutation[i]` is the original patch now at position i. Masking comes first, so a masked patch
  moves with its contents.
- **no_pos_embed**: E_pos is left out of Eq. 1, for the cls token too.
- **ablate**: heads named (layer, head), 0-based; their share of attention × V is zeroed before the output
  projection, which equals zeroing that head's columns of the projection.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FILLS = ("mean", "blur", "noise")
NOISE_SEED = 0  # the noise fill is the same on every run


@dataclass(frozen=True)
class Intervention:
    mask: tuple[int, ...] = ()  # patch numbers, row-major from 0
    fill: str = "mean"  # one of FILLS
    shuffle_seed: int | None = None  # None: the patches stay where they are
    no_pos_embed: bool = False
    ablate: tuple[tuple[int, int], ...] = ()  # (layer, head), 0-based

    def __post_init__(self):
        if self.fill not in FILLS:
            raise ValueError(f"fill must be one of {FILLS}, not {self.fill!r}")
        # one canonical form, so that equal experiments are equal (and cache as one)
        object.__setattr__(self, "mask", tuple(sorted({int(i) for i in self.mask})))
        object.__setattr__(self, "ablate", tuple(sorted({(int(l), int(h)) for l, h in self.ablate})))

    @property
    def changes_input(self) -> bool:
        return bool(self.mask) or self.shuffle_seed is not None

    @property
    def is_none(self) -> bool:
        return not (self.changes_input or self.no_pos_embed or self.ablate)

    def check(self, num_patches: int, layers: int, heads: int) -> None:
        """Raise ValueError when a patch or head is not in a model of this size."""
        bad = [i for i in self.mask if not 0 <= i < num_patches]
        if bad:
            raise ValueError(f"patch numbers run from 0 to {num_patches - 1}: {bad}")
        bad = [(l + 1, h + 1) for l, h in self.ablate if not (0 <= l < layers and 0 <= h < heads)]
        if bad:
            raise ValueError(f"heads run from 1.1 to {layers}.{heads}: {', '.join(f'{l}.{h}' for l, h in bad)}")

    def describe(self) -> dict[str, np.ndarray]:
        """What was done, as arrays for a .npz: patch numbers from 0; layer and head from 1, as the app shows them."""
        out = {"masked_patches": np.array(self.mask, dtype=np.int64),
               "ablated_heads": np.array([(l + 1, h + 1) for l, h in self.ablate], dtype=np.int64).reshape(-1, 2),
               "no_pos_embed": np.array(self.no_pos_embed)}
        if self.mask:
            out["mask_fill"] = np.array(self.fill)
        if self.shuffle_seed is not None:
            out["shuffle_seed"] = np.array(self.shuffle_seed, dtype=np.int64)
        return out


def permutation(num_patches: int, seed: int) -> np.ndarray:
    """A seeded permutation of the patch positions: `permutation[i]` is the original patch now at position i."""
    return np.random.default_rng(int(seed)).permutation(num_patches)


def token_order(perm: np.ndarray) -> np.ndarray:
    """Token indices that undo a shuffle: `x[order]` of an unshuffled run's tokens is the shuffled run's order
    (cls stays first)."""
    return np.concatenate([[0], np.asarray(perm) + 1])


# ---- presets for the mask ----------------------------------------------------------------------------------------
def centre_patches(grid: int, centre: tuple[float, float] | None = None) -> tuple[int, ...]:
    """A square of about half the grid's side around `centre` (row, column in patches; default: the grid's middle),
    kept inside the grid."""
    side = max(1, round(grid / 2))
    r0, c0 = ((grid - side) / 2, (grid - side) / 2) if centre is None else (centre[0] - side / 2, centre[1] - side / 2)
    top, left = (min(max(int(np.floor(x)), 0), grid - side) for x in (r0, c0))
    return tuple(r * grid + c for r in range(top, top + side) for c in range(left, left + side))


def object_centre(view: np.ndarray, patch: int) -> tuple[float, float]:
    """Where the object is in the model's view ((S, S, 3) uint8), in patches: the centre of mass of how far each pixel
    is from the background colour, taken as the median colour of the picture's outermost pixels. A picture that
    is all background gives the middle."""
    v = view.astype(np.float32)
    border = np.concatenate([v[0], v[-1], v[:, 0], v[:, -1]])  # (4S, 3)
    weight = np.abs(v - np.median(border, axis=0)).sum(axis=-1)  # (S, S)
    total = weight.sum()
    S = view.shape[0]
    if total < 1e-6:
        return (S / patch / 2, S / patch / 2)
    rows, cols = np.indices(weight.shape) + 0.5
    return (float((rows * weight).sum() / total / patch), float((cols * weight).sum() / total / patch))


def object_centre_patches(grid: int, view: np.ndarray, patch: int) -> tuple[int, ...]:
    """"The object's centre": a square of about half the grid's side around where the object is (object_centre)."""
    return centre_patches(grid, object_centre(view, patch))


def border_patches(grid: int) -> tuple[int, ...]:
    """The outermost ring of patches."""
    return tuple(r * grid + c for r in range(grid) for c in range(grid) if r in (0, grid - 1) or c in (0, grid - 1))


def random_half(grid: int, seed: int = 0) -> tuple[int, ...]:
    """Half the patches (rounded down), chosen with a seed."""
    n = grid * grid
    return tuple(sorted(int(i) for i in np.random.default_rng(seed).permutation(n)[:n // 2]))


def preset(name: str, grid: int, view: np.ndarray, patch: int) -> tuple[int, ...]:
    """The patches of a named preset for the picture `view`: "centre" (the object's centre), "border",
    "random_half"."""
    if name == "centre":
        return object_centre_patches(grid, view, patch)
    if name == "border":
        return border_patches(grid)
    if name == "random_half":
        return random_half(grid)
    raise ValueError(f"no preset {name!r}")


PRESETS = ("centre", "border", "random_half")


def parse_heads(text: str, layers: int | None = None, heads: int | None = None) -> tuple[tuple[int, int], ...]:
    """"2.1,5.4" (layer.head, 1-based, as the app shows them) → ((1, 0), (4, 3)); ValueError on anything else."""
    out = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        layer, sep, head = item.partition(".")
        if not sep or not layer.isdigit() or not head.isdigit() or int(layer) < 1 or int(head) < 1:
            raise ValueError(f"a head is layer.head, both from 1 (e.g. 2.1), not {item!r}")
        out.append((int(layer) - 1, int(head) - 1))
    iv = Intervention(ablate=tuple(out))
    if layers is not None and heads is not None:
        iv.check(0, layers, heads)
    return iv.ablate


def parse_patches(text: str) -> tuple[int, ...]:
    """"0,8,24" → (0, 8, 24); ValueError on anything that is not a list of patch numbers from 0."""
    out = []
    for item in (x.strip() for x in text.split(",")):
        if not item:
            continue
        if not item.isdigit():
            raise ValueError(f"patch numbers are whole numbers from 0, not {item!r}")
        out.append(int(item))
    return tuple(out)
