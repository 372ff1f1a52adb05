"""A lesson's question on the learner's own picture: asked, answered, judged, revealed, and counted for the presenter
(issue 26, §3; docs/LESSONS.md, "What a learner sees").

    answer = solve(q, c)                         # the rule's answer on this picture and model (vit_core/questions.py)
    value = ask(q, c, key="lesson_q3", given=2)  # the value sent on this run, or None
    judge(q, answer, value)                      # Verdict: right or not, with the learner's own numbers
    reveal(q, answer, value, c)                  # the answer, the numbers behind it, one sentence of why, and yours
    tally(q, store_tally, c, show=True)          # the presenter's count, and the class's answers drawn

What a learner sends is what the class store keeps (lesson.Question.stored): a patch's number, a layer from 0, a
choice's option number, a whole number. Every widget is a Streamlit one with a label (keyboard and screen reader),
and a patch can also be tapped on the picture (the map's points carry their number: ranges.clicked). The texts are the
catalog's `questions.*`, numbers written by app/numbers.py and places by app/labels.py.
"""
from __future__ import annotations

import json

import numpy as np
import streamlit as st
from PIL import Image

from app import core, describe, figures, labels, numbers, plots, ranges, style, ui
from app.i18n import current_language, t
from app.lessons import lesson as lessons
from app.lessons import store
from vit_core import questions
from vit_core.questions import Answer, NoAnswer, Verdict

SIDE = 280  # the picture's side on screen, in pixels


# ---- the answer ----------------------------------------------------------------------------------------------------
@st.cache_resource(max_entries=256, show_spinner=False)
def _solved(image_bytes: bytes, model_id: str, rule: str, params: str) -> Answer | NoAnswer:
    loaded, analysis = core.get_model(model_id), core.analyse(image_bytes, model_id)
    with core.FORWARD_LOCK:  # the choice rules run the model again: queued with every other forward
        try:
            return questions.answer(rule, loaded.model, analysis, **json.loads(params))
        except NoAnswer as e:
            return e


def solve(q: lessons.Question, c: ui.Current) -> Answer | NoAnswer:
    """The answer of q's rule on this learner's picture and model, once per (picture, model, rule, parameters); a
    NoAnswer (a model without a head, a layer it does not have) is returned, not raised."""
    return _solved(c.image_bytes, c.model_id, q.rule, json.dumps(dict(q.params), sort_keys=True))


def judge(q: lessons.Question, answer: Answer, given: int) -> Verdict:
    """What `given` (as the store keeps it) scores against the answer, with the learner's own numbers."""
    if q.kind == "choice":
        means = q.options[given].means
        return Verdict(given, means in answer.correct, {"choice": given, "means": means})
    return answer.judge(int(given))


def right_values(q: lessons.Question, answer: Answer) -> tuple[int, ...]:
    """The right answers as the store keeps them (a choice's option numbers)."""
    if q.kind == "choice":
        return tuple(q.option(means) for means in answer.correct)
    return tuple(int(v) for v in answer.correct)


# ---- asking ---------------------------------------------------------------------------------------------------------
def ask(q: lessons.Question, c: ui.Current, *, key: str, given: int | None = None,
        disabled: bool = False) -> int | None:
    """The question and its answer widget on this learner's picture; the value sent on this run, or None. `given`:
    the learner's earlier answer, shown as chosen and in words."""
    st.markdown(f"**{q.ask.get(current_language())}**")
    answer = solve(q, c)
    if isinstance(answer, NoAnswer):
        st.info(no_answer(answer, c))
        return None
    value = {"patch": _patch, "number": _number, "choice": _choice, "layer": _layer}[q.kind](q, c, key, given,
                                                                                                disabled)
    if given is not None:
        st.caption(t("questions.your_answer", answer=in_words(q, given, c)))
    sent = st.button(t("questions.send"), key=f"{key}_send", icon=":material/send:", disabled=disabled)
    return value if sent and value is not None else None


def _number(q, c, key, given, disabled):
    low, high = lessons.NUMBER_RANGE
    value = st.number_input(t("questions.number_label", low=low, high=high), min_value=low, max_value=high, step=1,
                            value=given, key=f"{key}_value", disabled=disabled, placeholder=t("questions.number_hint"))
    return None if value is None else int(value)


def _choice(q, c, key, given, disabled):
    lang = current_language()
    texts = [o.text.get(lang) for o in q.options]
    return st.radio(t("questions.choice_label"), range(len(texts)), format_func=texts.__getitem__, index=given,
                    key=f"{key}_choice", disabled=disabled)


def _layer(q, c, key, given, disabled):
    L = c.config.num_hidden_layers
    names = [layer_name(n) for n in range(L + 1)]  # formatted once, in this run's language
    return st.selectbox(t("questions.layer_label", L=L), range(L + 1), format_func=names.__getitem__, index=given,
                        key=f"{key}_layer", disabled=disabled, placeholder=t("questions.layer_hint"))


def layer_name(n: int) -> str:
    """A layer as the prediction page counts it: 0 before the first block, n after block n."""
    return t("questions.layer_0") if n == 0 else t("questions.layer_n", n=n)


def _patch(q, c, key, given, disabled):
    g, N = c.config.grid_size, c.config.num_patches
    ss, box = st.session_state, f"{key}_patch"
    names = [labels.patch(k, g) for k in range(N)]  # formatted once, in this run's language
    chosen = ss.get(box, given)
    picture = plots.patch_grid_picture(c.analysis.model_view, c.config.patch_size, numbers=g <= 14, side=2 * SIDE)
    if chosen is not None:  # the learner's patch outlined
        im, cell = Image.fromarray(picture), picture.shape[1] / g
        r, col = divmod(int(chosen), g)
        plots.mark(im, (col * cell, r * cell, (col + 1) * cell - 1, (r + 1) * cell - 1), style.HIGHLIGHT,
                   max(3, round(cell / 8)))
        picture = np.asarray(im)

    def clicked() -> None:
        k = ranges.clicked(ss.get(f"pick_{key}"), 0, N - 1)
        if k is not None:
            ss[box] = k

    ui.chart(figures.patch_picture_chart(picture, g, names, height=SIDE), key=f"pick_{key}",
             title=t("questions.patch_map"), data=False, summary=t("questions.patch_map_text", n=N - 1),
             on_select=clicked if not disabled else "ignore", selection_mode="points",
             config={"displaylogo": False, "displayModeBar": False})
    st.caption(style.pointer_hint(t("questions.click_hint"), t("questions.tap_hint")), unsafe_allow_html=True)
    if box not in ss and given is not None:
        ss[box] = given
    return st.selectbox(t("questions.patch_label", n=N - 1), range(N), format_func=names.__getitem__, index=None,
                        key=box, disabled=disabled, placeholder=t("questions.patch_hint"))


# ---- in words -------------------------------------------------------------------------------------------------------
def in_words(q: lessons.Question, value: int, c: ui.Current) -> str:
    """An answer as the store keeps it, in words: "patch 24 (row 3, column 3)", "layer 4 (after block 4)", …"""
    if q.kind == "patch":
        return labels.patch(int(value), c.config.grid_size)
    if q.kind == "layer":
        return layer_name(int(value))
    if q.kind == "choice":
        return f"“{q.options[int(value)].text.get(current_language())}”"
    return numbers.number(int(value))


def no_answer(e: NoAnswer, c: ui.Current) -> str:
    return t(f"questions.no_answer_{e.reason}")


def _class(c: ui.Current, i: int) -> str:
    return labels.class_name(c.config, int(i))


def facts_in_words(q: lessons.Question, answer: Answer, c: ui.Current) -> dict[str, str]:
    """The facts of an answer as the catalog's sentences take them: numbers written, places and classes named."""
    f, g = answer.facts, c.config.grid_size
    words: dict[str, str] = {}
    for name, v in f.items():
        if name == "patch" and q.kind == "patch":  # (elsewhere "patch" is the patch's side in pixels)
            words[name] = labels.patch(int(v), g)
        elif name in ("class", "before", "after"):
            words[name] = _class(c, v)
        elif name in ("prob", "final_prob", "prob_before", "prob_after"):
            words[name] = numbers.percent(v)
        elif name == "head":
            words[name] = t("questions.heads_mean") if v == "mean" else t("questions.head_n", head=v)
        elif name == "method":
            words[name] = t(f"explanations.m_{v}")
        elif name == "fill":
            words[name] = t(f"questions.fill_{v}")
        elif isinstance(v, (list, tuple)):  # the masked patches: the sentence says how many ("masked")
            continue
        elif isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            words[name] = numbers.number(v)
        else:
            words[name] = str(v)
    if "layer" in f and q.kind == "layer":
        words["layer"] = layer_name(int(f["layer"]))
    return words


def reveal_text(q: lessons.Question, answer: Answer, c: ui.Current) -> tuple[str, str]:
    """(the answer with the numbers behind it, one sentence of why)."""
    words = facts_in_words(q, answer, c)
    rule = answer.rule
    if rule in ("mask_changes_top", "shuffle_changes_top"):
        outcome = answer.correct[0]
        which = "" if rule == "mask_changes_top" else ("_pos" if answer.facts["positions"] else "_nopos")
        return t(f"questions.reveal_{rule}_{outcome}", **words), t(f"questions.why_{rule}{which}", **words)
    return t(f"questions.reveal_{rule}", **words), t(f"questions.why_{rule}", **words)


def yours_text(q: lessons.Question, answer: Answer, verdict: Verdict, c: ui.Current) -> str:
    """The learner's own answer judged, with its own numbers: "You chose patch 24 (row 3, column 3): weight 0.04."""
    given = in_words(q, verdict.given, c)
    head = t("questions.right" if verdict.right else "questions.not_right")
    f = verdict.facts
    if q.kind == "patch":
        which = "score" if "score" in f else "weight"
        return head + " " + t(f"questions.yours_patch_{which}", given=given, value=numbers.number(f[which]))
    if q.kind == "layer":
        return head + " " + t("questions.yours_layer", given=given, top=_class(c, f["top"]),
                              prob=numbers.percent(f["prob"]), cls=_class(c, answer.facts["class"]))
    if q.kind == "number" and not verdict.right:
        return head + " " + t("questions.yours_number_off", given=given, off=numbers.number(abs(f["off_by"])))
    return head + " " + t("questions.yours", given=given)


# ---- the reveal -----------------------------------------------------------------------------------------------------
def reveal(q: lessons.Question, answer: Answer | NoAnswer, given: int | None, c: ui.Current) -> None:
    """The answer on this learner's picture with its numbers and why, and the learner's own answer judged."""
    st.markdown(f"**{q.ask.get(current_language())}**")
    if isinstance(answer, NoAnswer):
        st.info(no_answer(answer, c))
        return
    said, why = reveal_text(q, answer, c)
    verdict = judge(q, answer, given) if given is not None else None
    if q.kind == "patch":
        left, right = st.columns([2, 3], vertical_alignment="top")
        with left:
            _reveal_map(answer, given, c)
        box = right
    else:
        box = st.container()
    with box:
        st.markdown(said)
        st.markdown(why)
        if verdict is not None:
            (st.success if verdict.right else st.warning)(yours_text(q, answer, verdict, c))
        else:
            st.caption(t("questions.no_answer_given"))


def _reveal_map(answer: Answer, given: int | None, c: ui.Current) -> None:
    g = c.config.grid_size
    column = next(iter(answer.table.values()))
    values = np.asarray(column, dtype=np.float32).reshape(g, g)
    marked = tuple(int(k) for k in answer.correct) + (() if given is None else (int(given),))
    lo, hi = float(min(values.min(), 0)), float(values.max()) or 1.0
    picture = figures.values_picture(c.analysis.model_view, values, lo, hi, style.HEAT, SIDE, marked=marked)
    st.image(picture, width=SIDE, caption=t("questions.reveal_map"),
             alt=describe.heat(t("questions.reveal_map"), values))


# ---- the presenter's count ----------------------------------------------------------------------------------------
def tally(q: lessons.Question, counted: store.Tally, c: ui.Current, *, show: bool) -> None:
    """How many answered and how many were right on their own picture; with `show`, the class's answers drawn (a heat
    map of the tapped patches, or a bar per answer), each readable as text. No learner is named: there are none."""
    if not counted.answered:
        st.markdown(t("questions.tally_none"))
        return
    st.markdown(t("questions.tally", answered=counted.answered, right=counted.right,
                  share=numbers.percent(counted.right / counted.answered)))
    if not show:
        return
    if q.kind == "patch":
        g, N = c.config.grid_size, c.config.num_patches
        counts = np.zeros(N, np.float32)
        for value, n in counted.counts.items():
            if 0 <= value < N:
                counts[value] = n
        grid = counts.reshape(g, g)
        picture = figures.values_picture(c.analysis.model_view, grid, 0, float(grid.max()) or 1.0, style.HEAT, SIDE)
        st.image(picture, width=SIDE, caption=t("questions.tally_map"),
                 alt=t("questions.tally_map_text", cells=", ".join(
                     f"{labels.patch(k, g)}: {numbers.number(n)}" for k, n in sorted(
                         counted.counts.items(), key=lambda kv: -kv[1])[:8])))
        return
    names = [in_words(q, v, c) for v in counted.counts]
    fig = figures.top_chart(np.array(list(counted.counts.values()), np.float32) / counted.answered, names,
                            t("questions.tally_axis"))
    ui.chart(fig, key="lesson_tally_chart", title=t("questions.tally_title"), value=numbers.percent,
             config={"displaylogo": False, "displayModeBar": False})
