"""A beat's view on this learner's model: the session-state values that make a page show it (issue 26, §2).

    values, clamped = widget_values("encoder", beat.view, c.config, probs=c.analysis.probs,
                                    picture=c.analysis.model_view)
    st.session_state.update(values)         # before the page runs: its widgets open on the beat's view
    for p in clamped:                       # what this model does not have, for an info line
        st.info(t("lessons.error_beyond_model", **p.values))

A view is written as a lesson writes it (app/lessons/lesson.py: VIEWS, COMMON; docs/LESSONS.md, "Views"): layers and
heads from 1, "last", patches from 0, class words, mask presets. Each value is translated here into what the page's
widget really holds (lesson.WIDGETS names the widget): the encoder's query selectbox counts tokens (0 is cls, patch
k is k + 1), the token step's layer counts from 0, a preset becomes the patches the experiments page would mask, a
class word becomes this picture's class. A value beyond the model (layer 8 of 6, patch 60 of 49) becomes the nearest
one, as a link's does (app/ranges.py), and is listed in `clamped`.

A view is the whole of its page's view: a widget of the page that the view leaves out is set to the value the page
opens with (the layer slider at 1, no mask, …; tests/app/test_lesson_views.py checks them against the pages), so that
one beat's mask or ablated heads do not linger into the next, and a learner who explored comes back to exactly the
beat. The widgets are set, not dropped: the browser would send a dropped widget's old value back. The picture and the
model stay the learner's own unless the view names them.

`config` is the vit_core config of the model the page will show (the view's `model`, if it names one). Importing this
module imports neither streamlit nor torch; vit_core (the patch sizes, the mask presets) is imported when a view needs
it, as the app has it loaded anyway.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import NamedTuple

import numpy as np

from app import budget, ranges
from app.lessons.lesson import VIEWS, WIDGETS, Problem

TEACHING = "teaching"  # core.TEACHING_ID: model_choice's value for the teaching model; a curated one is "hub:<name>"


class Shown(NamedTuple):
    values: dict[str, object]  # session-state key → the value its widget holds: every view widget of the page
    clamped: tuple[Problem, ...]  # values beyond this model, each shown as the nearest one ("beyond_model")


def widget_values(page: str, view: Mapping[str, object], config, *, probs: Sequence[float] | None = None,
                  picture: np.ndarray | None = None) -> Shown:
    """The session state that makes `page` show `view` on a model of `config`: a value for every widget of the
    page's view (lesson.WIDGETS, and those that go with them: the encoder's key and window, the experiments' preset
    picker and shuffle toggle, the explanations' picked token), the view's or the page's opening one. `probs` (the
    picture's class probabilities) is needed on the explanations page of a model with a head ("predicted", the opening
    class);
    `picture` (the model's view, H × W × 3) for the "centre" mask, which finds the object in it. A view's `section`
    sets no widget (app/components/scroll scrolls to it); `image` and `model` set the sidebar's pickers."""
    to = _Translator(config, probs, picture)
    values: dict[str, object] = {}
    for key in VIEWS[page]:  # in VIEWS' order: the encoder's window follows its query
        value = view.get(key)
        translate = getattr(to, f"{page}_{key}", None)
        if translate is not None:
            values.update(translate(value))
        elif key in PLAIN:
            values[WIDGETS[page][key]] = PLAIN[key][page] if value is None else value
        else:
            raise KeyError(f"no translation of {page}'s view key {key!r}")
    if "image" in view:
        values["demo"] = view["image"]
    if "model" in view:
        values["model_choice"] = view["model"] if view["model"] == TEACHING else f"hub:{view['model']}"
    return Shown(values, tuple(to.clamped))


# view keys whose widget holds the word as written, and the word each page opens with
PLAIN = {"matrix": {"encoder": "probs"}, "rows": {"attention": "cls"}, "fill": {"experiments": "mean"},
         "attention": {"experiments": "head"}, "method": {"explanations": "attention"}}


class _Translator:
    """One method per view key whose value the widget holds differently, named <page>_<key>; the words of PLAIN go
    straight to their widget. Each takes the view's value, or None for the page's opening one, and returns
    {session-state key: value}."""

    def __init__(self, config, probs, picture):
        self.cfg, self.probs, self.picture = config, probs, picture
        self.L, self.H, self.N = config.num_hidden_layers, config.num_attention_heads, config.num_patches
        self.g = config.grid_size
        self.clamped: list[Problem] = []

    def near(self, field: str, value: int, lo: int, hi: int) -> int:
        """`value` brought into lo…hi (ranges.clamped), noting a value beyond the model."""
        shown = ranges.clamped(value, lo, hi)
        if shown != value:
            self.clamped.append(Problem(0, "beyond_model", MappingProxyType({"field": field, "value": value,
                                                                             "last": hi})))
        return shown

    def layer(self, value: object, default: int = 1) -> int:
        """An attention layer, from 1 or "last" → from 1, as the sliders hold it."""
        if value is None:
            return default
        return self.L if value == "last" else self.near("layer", int(value), 1, self.L)

    def head(self, value: object) -> int:
        return 1 if value is None else self.near("head", int(value), 1, self.H)

    def patch(self, value: object, default: int, field: str = "patch") -> int:
        return default if value is None else self.near(field, int(value), 0, self.N - 1)

    @property
    def centre(self) -> int:
        """The patch in the middle of the grid (vit_core.views.centre_patch), where the pages open."""
        return (self.g // 2) * self.g + self.g // 2

    # ---- by page ----
    def patches_patch_size(self, value):
        """The what-if slider offers the sizes that cut the picture into a whole grid: the nearest of them."""
        if value is None:
            return {"whatif_p": self.cfg.patch_size}
        from vit_core.views import patch_sizes  # vit_core imports torch: only when a view needs it
        nearest = min(patch_sizes(self.cfg), key=lambda p: (abs(p - int(value)), p))
        if nearest != value:
            self.clamped.append(Problem(0, "beyond_model", MappingProxyType(
                {"field": "patch_size", "value": value, "last": nearest})))
        return {"whatif_p": nearest}

    def flatten_patch(self, value):
        return {"flatten_patch": self.patch(value, min(self.N // 2, self.N - 1))}

    def embedding_patch(self, value):
        return {"embedding_sim_patch": self.patch(value, self.centre)}

    def encoder_layer(self, value):
        return {"encoder_layer": self.layer(value)}

    def encoder_head(self, value):
        return {"encoder_head": self.head(value)}

    def encoder_query(self, value):
        """The query selectbox lists tokens: 0 is the cls token, patch k is token k + 1. The key follows the
        strongest weight (-1), and the matrix's window is the one around the query, as when the page opens."""
        token = 0 if value in (None, "cls") else self.patch(value, 0, "query") + 1
        start, _ = budget.window(self.cfg.num_tokens, budget.BLOCK_WINDOW, token)
        return {"encoder_query": token, "encoder_key": -1, "encoder_window": start}

    def attention_layer(self, value):
        return {"att_layer": self.layer(value)}

    def attention_head(self, value):
        return {"att_head": self.head(value)}

    def attention_query(self, value):
        return {"att_query": self.patch(value, self.centre, "query")}

    def experiments_mask(self, value):
        """A preset: the patches the page's preset picker would mask, and the picker showing it. A list: those
        patches (each beyond the model brought to the last one), the picker saying "own"."""
        if value is None:
            return {"exp_mask": [], "exp_preset": "none"}
        if isinstance(value, str):
            from vit_core.interventions import preset
            if value == "centre" and self.picture is None:
                raise ValueError('the "centre" mask needs the picture (picture=analysis.model_view)')
            mask = preset(value, self.g, self.picture, self.cfg.patch_size)
            return {"exp_mask": sorted(int(k) for k in mask), "exp_preset": value}
        return {"exp_mask": sorted({self.patch(k, 0, "mask") for k in value}), "exp_preset": "own"}

    def experiments_shuffle(self, value):
        return {"exp_shuffle": False, "exp_seed": 0} if value is None else {"exp_shuffle": True, "exp_seed": value}

    def experiments_positions(self, value):
        """`positions = false` leaves the position embeddings out: the page's toggle says "without"."""
        return {"exp_nopos": value is False}

    def experiments_ablate(self, value):
        """["2.1", …] (layer.head, from 1) → the head picker's options, which are written the same way."""
        heads = []
        for name in value or ():
            layer, head = (int(x) for x in str(name).split("."))
            heads.append(f"{self.layer(layer)}.{self.head(head)}")
        return {"exp_heads": list(dict.fromkeys(heads))}

    def experiments_layer(self, value):
        return {"exp_layer": self.layer(value, default=self.L)}

    def experiments_head(self, value):
        return {"exp_head": self.head(value)}

    def tokens_layer(self, value):
        """The token step counts layers from 0 (the embeddings) to L, and opens on L: "last"."""
        return {"lens_layer": self.L if value in (None, "last") else self.near("layer", int(value), 0, self.L)}

    def tokens_patch(self, value):
        return {"lens_patch": self.patch(value, self.centre)}

    def explanations_class(self, value):
        """The target class; the page opens on the predicted one."""
        k = self.klass("predicted" if value is None else value, "class")
        return {} if k is None else {"expl_target": k}

    def explanations_other(self, value):
        """The class compared with the target, or None (no comparison), as the page opens."""
        k = None if value is None else self.klass(value, "other")
        return {"expl_other": k}

    def explanations_layer(self, value):
        return {"expl_layer": self.layer(value, default=self.L), "expl_token": None}

    def explanations_head(self, value):
        return {"expl_head": self.head(value)}

    def klass(self, value: object, field: str) -> int | None:
        """A class number, or "predicted" / "runner_up": the first and second most likely class of this picture;
        None on a model without a classification head, whose page has no class to pick."""
        n = self.cfg.num_labels
        if not n:
            return None
        if isinstance(value, str):
            if self.probs is None:
                raise ValueError(f'"{value}" needs the picture\'s class probabilities (probs=analysis.probs)')
            ranked = np.argsort(-np.asarray(self.probs, dtype=float), kind="stable")
            return int(ranked[min(("predicted", "runner_up").index(value), n - 1)])
        return self.near(field, int(value), 0, n - 1)
