"""What a page says of the picture, beside what the model made of it (catalog: locales/*/notes.toml).

**What the model saw.** `vit_core.images.Preparation` (in every analysis) records what the crop and resize did to
the picture as uploaded. A page says so only where it changes what a learner should believe of the prediction:
- less than SEEN_BELOW (half) of the picture seen: a centre crop of a picture longer than 2:1 ("The model saw the
  centre 50×50 of the 50×10000 picture: 0.5% of it.");
- enlarged more than ENLARGED_OVER (4) times both ways: each of the model's pixels is then a blurred sixteenth, or
  less, of one of the picture's, and the model sees no detail the few pixels did not hold; a picture of one pixel is
  one colour ("Enlarged from 1×1 pixel: the model sees one colour.");
- squashed from a shape longer than SQUASHED_BEYOND (2:1), the same limit as the crop's: beyond it, a centre crop
  would have lost more than half, and a squash shrinks what it shows more than twice along its long side.
Shrinking is never said: nearly every photo is shrunk, and keeps what the model can use. `seen` writes the sentences;
`what_the_model_saw` shows them on page 1, beside the prediction on page 7, and at the top of pages 6 and 8.

**One of the model's classes?** `app.pictures.shows_a_class` knows it for a demo (its manifest names its class in
Fashion-MNIST's ten and, where it is one, in ImageNet-1k's thousand) and not for an upload. Pages 6 and 8 say at the
top (`classes`):
- a picture that is none of the model's classes (the panda on the teaching model): so, in one sentence, and one
  click to the Fashion-MNIST test image of the class the model predicted, which the experiments and explanations can
  follow. The panda stays the first demo: it is the lesson's first picture.
- a picture the app cannot know (an upload; a demo on a model of other classes): which classes the model knows, once,
  without claiming the picture is none of them, where they are few enough to read (at most MAX_LISTED). A teacher who
  uploaded a photo chose it: no button offers to replace it (the sidebar has "Back to the demo pictures").
- a picture that is one of them (a Fashion-MNIST demo; the panda on the paper's ImageNet models): nothing.
"""
from __future__ import annotations

import streamlit as st

from app import numbers, pictures, ui
from app.i18n import t
from app.labels import class_name
from vit_core.images import Preparation

SEEN_BELOW = 0.5  # a share of the picture's area
ENLARGED_OVER = 4.0  # times, both ways
SQUASHED_BEYOND = 2.0  # the long side over the short one
MAX_LISTED = 20  # classes a page names for a picture it cannot know


def seen(prep: Preparation) -> list[str]:
    """What the crop and resize did to the picture, in the page's language, where it matters (the limits above)."""
    (w, h), S = prep.size, prep.input_size
    bw, bh = prep.box_size
    notes = []
    if prep.seen < SEEN_BELOW:
        notes.append(t("notes.seen", cw=round(bw), ch=round(bh), w=w, h=h, share=numbers.number(100 * prep.seen)))
    if prep.size == (1, 1):
        notes.append(t("notes.one_pixel"))
    elif min(prep.scale) > ENLARGED_OVER:
        notes.append(t("notes.enlarged", x=numbers.number(min(prep.scale)), w=round(bw), h=round(bh), S=S))
    if prep.squashed and max(prep.aspect, 1 / prep.aspect) > SQUASHED_BEYOND:
        notes.append(t("notes.squashed", w=w, h=h, S=S, x=numbers.number(max(prep.aspect, 1 / prep.aspect))))
    return notes


def what_the_model_saw(c: ui.Current) -> None:
    """The sentences of `seen`, in one box, or nothing."""
    notes = seen(c.analysis.preparation)
    if notes:
        st.warning(" ".join(notes), icon=":material/crop_free:")


def classes(c: ui.Current) -> None:
    """At the top of pages 6 and 8: whether the picture is one of the model's classes (see the module's doc)."""
    cfg = c.config
    n = cfg.num_labels
    if not n:
        return
    known = pictures.shows_a_class(c.demo, cfg.labels)
    names = ", ".join(class_name(cfg, i) for i in range(n)) if n <= MAX_LISTED else ""
    if known is False:
        st.warning(t("notes.not_a_class", n=n, classes=names), icon=":material/help:")
        demo = pictures.fashion_demo(cfg.labels[int(c.analysis.probs.argmax())])
        entry = pictures.demos()[pictures.demo_ids().index(demo)]
        st.button(t("notes.switch", cls=class_name(cfg, cfg.labels.index(entry["label"])), i=entry["index"]),
                  key="switch_to_fashion", on_click=pictures.show_demo, args=(demo,), icon=":material/swap_horiz:")
    elif known is None and names:
        st.info(t("notes.classes", n=n, classes=names))
