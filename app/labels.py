"""How the app names things, in the page's language: patches, tokens, the values of a flattened patch, dimensions.

Patches and tokens are numbered as the arrays are: patch k (0-based) sits at row k // g, column k % g of the grid, and
is token k + 1 (token 0 is cls). Catalog: locales/*/labels.toml.
"""
from __future__ import annotations

from app.i18n import current_language, t
from vit_core.config import ViTConfig
from vit_core.data import class_names
from vit_core.patches import value_name


def channel(ch: int, channels: int) -> str:
    return "RGB"[ch] if channels == 3 else str(ch)


def place(r, c, short: bool = False) -> str:
    """A place on the grid, the one way the app writes it in the page's language: "row 2, column 3" ("2행 3열");
    `short` where space is tight (axis names, hovers, the attention matrix's rows): "row 2, col 3". Every caption, alt
    text, table and tooltip that says where a patch (or a pixel of a patch) is goes through here, or through its port
    in app/components/shared/words.js; tests/app/test_places.py fails on a place written any other way."""
    return t("labels.place_short" if short else "labels.place", r=r, c=c)


def head(layer, head) -> str:
    """One head of one layer, 1-based as the pages show them: "layer 2, head 3" ("2층 3번 헤드")."""
    return t("labels.head", layer=layer, head=head)


def at_layer(layer, what: str) -> str:
    """Something after one layer: "layer 6, Sandal" ("6층, 샌들")."""
    return t("labels.at_layer", layer=layer, what=what)


def patch(k: int, g: int, short: bool = False) -> str:
    """"patch 17 (row 2, column 3)"; short, "patch 17 (row 2, col 3)" (Korean: "패치 17 (2행 3열)" both)."""
    return t("labels.patch", k=k, place=place(k // g, k % g, short))


def patch_run(first: int, last: int, g: int) -> str:
    """"patches 0–6 (row 0, col 0–6)": a pooled row of the attention matrix; a run that crosses into the next image
    row, "patches 10–20 (row 1, col 3 – row 2, col 6)"."""
    (r0, c0), (r1, c1) = divmod(first, g), divmod(last, g)
    where = (place(r0, f"{c0}–{c1}", short=True) if r0 == r1 else
             t("labels.place_range", first=place(r0, c0, short=True), last=place(r1, c1, short=True)))
    return t("labels.patch_run", i=first, j=last, place=where)


def token(i: int, g: int) -> str:
    """"token 18 = patch 17 (row 2, col 3)", "token 0 = cls"."""
    return t("labels.token_cls") if i == 0 else t("labels.token", i=i, patch=patch(i - 1, g, short=True))


def token_in_words(i: int, g: int) -> str:
    """"cls token", "patch 17 (row 2, column 3)"."""
    return t("labels.cls_token") if i == 0 else patch(i - 1, g)


def token_short(i: int) -> str:
    """"cls", "p17": bar-chart axes, where every token needs a name."""
    return "cls" if i == 0 else f"p{i - 1}"


def where(i: int, P: int, C: int, order: str = "p1 p2 c") -> str:
    """The pixel and channel that value i of a flattened patch comes from: "row 1, col 1, G"."""
    r, c, ch = value_name(i, P, C, order)
    return t("labels.where", place=place(r, c, short=True), ch=channel(ch, C))


def value(i: int, P: int, C: int) -> str:
    """"value 5 · row 0, col 1, B": value i of a patch flattened in the model's (p1 p2 c) order."""
    return t("labels.value", i=i, where=where(i, P, C))


def dim(j: int) -> str:
    return t("labels.dim", j=j)


def matrix_labels(g: int, block: int) -> list[str]:
    """One name per row and column of the (pooled) attention matrix: "cls", then each patch, or each run of `block`
    patches."""
    n = g * g
    return [t("labels.cls")] + [patch(first, g, short=True) if min(first + block, n) - 1 == first
                                else patch_run(first, min(first + block, n) - 1, g) for first in range(0, n, block)]


def class_name(cfg: ViTConfig, i: int) -> str:
    """Class i of the checkpoint in the page's language, or "class 7" where the checkpoint names no class i."""
    return translated_class(cfg.labels[i]) if i < len(cfg.labels) else t("prediction.class_number", i=i)


def translated_class(name: str) -> str:
    """A class name in the page's language: Fashion-MNIST's ten are translated (class_names.json beside the teaching
    model, vit_core.data.class_names); other checkpoints' classes keep their own names."""
    return class_names(current_language()).get(name, name)
