"""Numbers a student reads (issue 28 §2): every number on every page, in English and Korean, is written in the app's
one style (app/numbers.py; docs/ARCHITECTURE.md, "How the app writes numbers").

Every page runs through AppTest from the entry point, in both languages, with its widgets at their defaults and in a
few more states (experiments with a change applied, with and without position embeddings; two classes explained; the
paper's table with its spreads). Read: markdown, captions, headings, alerts, metrics, widget labels and options, the
alt texts and captions of pictures, formulas, dataframes and tables (cells as their column format writes them), and
each Plotly figure as the browser gets it: titles, tick texts, names, texts and customdata, and every hovertemplate
and texttemplate filled in for each point with d3-format's rules. Expander contents are in AppTest's tree. The
explorer (step 5) writes its numbers in the browser with the port of `number` (tests/browser/test_explorer_parity.py);
its templates are checked here with every catalog's.

A number is outside the style (`offences`) when it is
- a decimal with more than 3 significant digits (0.63265306, 83.89999999999999, 20.39035);
- written in e-notation (1.7e+00) outside a round-off figure, or for a value of 0.001 or more anywhere;
- zero written with decimals (0.00, 0.000, 0.00e+00);
- a decimal with trailing zeros (88.080, 0.500, 63.0%);
unless it is a value of the paper's tables as app/data/paper_results.json prints it (88.08, 99.50, 0.00), or stands
where the lesson is about precision, named here: the round-off figures (ROUNDOFF) and step 4's worked dot product
(PRECISE). The model card, quoted whole on page 10, is not the app's writing (QUOTED).
"""
from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from app.i18n import catalog, t_in
from app.numbers import PAPER_DATA
from app.steps import about, step

from tests.app import apptest
from tests.conftest import TEACHING

# ---- the style, as a reader checks it ----------------------------------------------------------------------------
# A number in running text: not inside a word or a name (ResNet152x4, ViT-B/16, v2), thousands separators allowed.
NUMBER = re.compile(r"(?<![A-Za-z0-9_./])[-−+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?(?![0-9]|\.[0-9])")
URL = re.compile(r"https?://\S+|arXiv:\S+|`[^`]*`")  # addresses, arXiv ids and code spans are not read as numbers

# The paper's values, as its tables print them: read from the app's own copy of the tables.
PAPER = set(re.findall(r"(?<![\w.])\d+\.\d+(?![\w.])", PAPER_DATA.read_text(encoding="utf-8")))

# Where the lesson is about precision. A round-off figure (float32 rounding, where the exponent is the point) may be in
# e-notation: these sentences and table columns, by catalog key.
ROUNDOFF = ("experiments.perm_exact", "experiments.perm_exact_nohead", "experiments.perm_not_exact",
            "experiments.perm_caption", "experiments.m_logit", "experiments.m_attention", "encoder.match",
            "encoder.mismatch")
ROUNDOFF_COLUMNS = ("experiments.perm_col_logits", "experiments.perm_col_attention")
# Quoted whole, not written by the app: the model card (page 10), which vit_core.model_card writes beside the weights
# at training time from training.json, and which Hugging Face shows as it is.
QUOTED = {lang: about.demoted(about.FRONT_MATTER.sub("", (TEACHING / name).read_text(encoding="utf-8")))
          for lang, name in (("en", "README.md"), ("ko", "README.ko.md"))}
# Step 4's worked dot product: one query and one key by hand, to the decimals that show the hand and the model agree
# (the products table with its sum, the formulas, and the four metrics that compare them).
PRECISE = ("encoder.score_here", "encoder.score_model", "encoder.weight_here", "encoder.weight_model", "encoder.sum")


def offences(text: str, *, roundoff: bool = False, precise: bool = False) -> list[str]:
    """The numbers in `text` written outside the style, each with why."""
    found = []
    text = URL.sub(" ", text)
    for m in NUMBER.finditer(text):
        token = m.group().lstrip("-−+")
        mantissa, _, exponent = token.lower().partition("e")
        whole, _, fraction = mantissa.replace(",", "").partition(".")
        digits = (whole + fraction).lstrip("0")
        if token in PAPER and (digits or text[:m.start()].endswith("± ")):  # the paper prints a spread of 0.00
            continue
        if exponent:
            value = float(mantissa.replace(",", "")) * 10.0 ** int(exponent)
            if value == 0:
                found.append(f"{token}: zero in e-notation")
            elif not roundoff:
                found.append(f"{token}: e-notation outside a round-off figure")
            elif value >= 1e-3:
                found.append(f"{token}: e-notation for a value that is no round-off")
            continue
        if fraction and not digits:
            found.append(f"{token}: zero written with decimals")
        elif precise:
            continue
        elif fraction.endswith("0"):
            found.append(f"{token}: trailing zeros")
        elif fraction and len(digits) > 3:
            found.append(f"{token}: {len(digits)} significant digits")
    return found


def test_the_rules_find_what_the_issue_found():
    """The checker itself, on the issue's own examples and on numbers in the style."""
    bad = ["로짓의 가장 큰 변화 0.00e+00", "1.7e+00", "9.4e-01", "0.63265306", "0.4901961088180542", "83.89999999999999",
           "20.39035", "the highest 88.080 at 4262", "0.000", "-0.00", "63.0%", "0.500", "1,234.5"]
    good = ["0", "0.214", "0.49", "83.9", "0.00000069", "31/49 (63%)", "1,234", "88.08", "99.50 ± 0.06", "ViT-B/16",
            "ResNet152x4", "§4.2", "https://arxiv.org/abs/2010.11929v2", "arXiv:2010.11929", "`--n 1000`", "91.3%",
            "(행 1, 열 5)", "0.5초", "-0.25"]
    assert all(offences(s) for s in bad), [s for s in bad if not offences(s)]
    assert not any(offences(s) for s in good), {s: offences(s) for s in good if offences(s)}
    assert not offences("9.1e-07", roundoff=True) and offences("9.1e-07") and offences("1.7e+00", roundoff=True)
    assert not offences("0.359980", precise=True) and offences("0.00", precise=True)


# ---- what a page says, read from AppTest's tree ------------------------------------------------------------------
TEXT_FIELDS = {"body", "label", "options", "help", "placeholder", "delta", "alt", "caption", "raw_value"}
SKIPPED = {"Code", "Html", "UnknownElement"}  # source code, style sheets; components are read below (Plotly)


def proto_strings(msg) -> list[str]:
    from google.protobuf.message import Message

    out = []
    for field, value in msg.ListFields():
        values = value if hasattr(value, "__len__") and not isinstance(value, (str, bytes, Message)) else [value]
        for v in values:
            if isinstance(v, Message):
                out += proto_strings(v)
            elif isinstance(v, str) and field.name in TEXT_FIELDS:
                out.append(v)
    return out


D3 = re.compile(r"^(?P<sign>\+)?(?P<comma>,)?(?:\.(?P<precision>\d+))?(?P<trim>~)?(?P<type>[fdrgp%])?$")


def d3(value, spec: str) -> str:
    """`value` as Plotly's d3-format writes it with `spec` (the specifiers the app may use)."""
    if isinstance(value, str) or spec is None:
        return value if isinstance(value, str) else (str(int(value)) if float(value).is_integer() else repr(value))
    m = D3.match(spec)
    assert m, f"a format d3-format is not asked for here: {spec}"
    v, kind, n = float(value), m["type"] or "g", int(m["precision"] or 6)
    sign = "+" if m["sign"] else ""
    if kind in "%p":
        v *= 100
    comma = "," if m["comma"] else ""
    if kind in "f%":
        s = f"{v:{sign}{comma}.{n}f}"
    elif kind == "d":
        s = f"{round(v):{sign}{comma}d}"
    elif kind == "g":  # JavaScript's toPrecision
        s = f"{v:{sign}.{n}g}"
    else:  # r, p: n significant digits in decimal notation
        rounded = float(f"{v:.{n - 1}e}")
        decimals = max(0, n - 1 - math.floor(math.log10(abs(rounded)))) if rounded else 0
        s = f"{rounded:{sign}{comma}.{decimals}f}"
    if m["trim"] and "." in s:
        s = re.sub(r"\.?0+(?=$|e)", "", s)
    return s + ("%" if kind in "%p" else "")


TEMPLATE = re.compile(r"%\{([^}:]+)(?::([^}]*))?\}")


def plotly_texts(spec: dict) -> list[str]:
    """What a reader of the figure reads: titles, tick texts, trace names and texts, and each hover and text template
    filled in for every point (at most 400 a trace)."""
    out = []
    layout = spec.get("layout", {})
    for key, axis in layout.items():
        if key.startswith(("xaxis", "yaxis")) and isinstance(axis, dict):
            out += [str(s) for s in axis.get("ticktext", [])] + [(axis.get("title") or {}).get("text", "")]
    out += [(layout.get("title") or {}).get("text", "")] + [a.get("text", "") for a in layout.get("annotations", [])]
    for tr in spec.get("data", []):
        arrays = {k: (apptest.floats(tr[k]) if isinstance(tr.get(k), dict) else tr.get(k))
                  for k in ("x", "y", "z", "text", "customdata", "hovertext")}
        out.append(tr.get("name") or "")
        for k in ("text", "hovertext"):
            if isinstance(arrays[k], (list, np.ndarray)) and not isinstance(arrays[k], str):
                out += [str(s) for s in np.ravel(np.asarray(arrays[k], dtype=object))[:400]]
        for k in ("text", "hovertext"):
            if isinstance(arrays[k], str):
                out.append(arrays[k])
        z = arrays["z"]
        if tr.get("type") == "heatmap" and z is not None:
            points = [(i, j) for i in range(len(z)) for j in range(len(z[0]))]
        else:
            points = list(range(max((len(arrays[k]) for k in ("x", "y") if arrays[k] is not None), default=0)))
        for template in (tr.get("hovertemplate"), tr.get("texttemplate")):
            if not isinstance(template, str):
                continue
            for p in points[:400]:
                out.append(TEMPLATE.sub(lambda m: d3(point_value(tr, arrays, m[1], p), m[2]), template))
    return [s for s in out if s]


def point_value(tr: dict, arrays: dict, name: str, p):
    i, j = (p if isinstance(p, tuple) else (None, p))
    if name == "fullData.name":
        return tr.get("name", "")
    base, _, index = name.partition("[")
    if tr.get("type") == "heatmap":
        where = {"z": lambda a: a[i][j], "x": lambda a: a[j], "y": lambda a: a[i]}.get(base, lambda a: a[i][j])
    else:
        where = lambda a: a[j]  # noqa: E731
    array = arrays.get(base)
    if array is None:
        return ""
    value = where(array)
    if index:
        value = value[int(index.rstrip("]"))]
    return value.item() if hasattr(value, "item") else value


def frame_cells(element) -> list[tuple[str, str]]:
    """A dataframe's or table's cells as (column, text): numbers as the column's format writes them."""
    frame = element.value
    frame = frame.data if hasattr(frame, "data") and not isinstance(frame, pd.DataFrame) else frame
    config = json.loads(element.proto.columns or "{}") if hasattr(element.proto, "columns") else {}
    out = [(str(c), str(c)) for c in frame.columns]
    for col in frame.columns:
        fmt = (config.get(str(col), {}).get("type_config") or {}).get("format")
        for v in frame[col].tolist():
            if isinstance(v, (int, np.integer)) or (isinstance(v, float) and v.is_integer() and not fmt):
                text = f"{int(v):,}" if fmt == "localized" else str(int(v))
            elif isinstance(v, (float, np.floating)):
                text = (fmt % v) if fmt and "%" in fmt else repr(float(v))
            else:
                text = str(v)
            out.append((str(col), text))
    return out


def template(lang: str, key: str) -> re.Pattern:
    """The sentence of catalog `key`, its placeholders as wildcards."""
    parts = re.split(r"\{\w+(?::[^}]*)?\}", catalog(lang)[key].replace("{{", "{").replace("}}", "}"))
    return re.compile(".*?".join(re.escape(re.sub(r"\[\[.*?\]\]", "", p)) for p in parts), re.S)


def page_offences(at, page: str, lang: str, seen: list | None = None) -> list[str]:
    """The numbers outside the style on the page AppTest holds, each with where and why; `seen` collects every text
    read, as (where, text)."""
    roundoff = [template(lang, k) for k in ROUNDOFF]
    roundoff_columns = {t_in(lang, k) for k in ROUNDOFF_COLUMNS}
    precise = [t_in(lang, k) for k in PRECISE]
    found = []

    def check(where: str, text: str, **allow):
        allow.setdefault("roundoff", any(p.search(text) for p in roundoff))
        if seen is not None:
            seen.append((where, text))
        found.extend(f"{where}: {o} in {text[:160]!r}" for o in offences(text, **allow))

    def walk(node):
        kind, proto = type(node).__name__, getattr(node, "proto", None)
        children = getattr(node, "children", None)
        if children:
            for c in children.values():
                walk(c)
            if kind == "Expander":
                check("expander", proto.label)
            return
        if proto is None:
            return
        if kind in ("Dataframe", "Table"):
            for col, text in frame_cells(node):
                check(f"{kind} [{col}]", text, roundoff=col in roundoff_columns)
        elif kind == "UnknownElement" and getattr(proto, "spec", ""):
            for text in plotly_texts(json.loads(proto.spec)):
                check("chart", text)
        elif kind == "Metric":
            check("metric", " · ".join(proto_strings(proto)), precise=proto.label in precise)
        elif kind == "Latex":
            check("formula", proto.body, precise=page == step("encoder").file)  # the worked dot product
        elif kind == "Markdown" and proto.body == QUOTED[lang]:
            return
        elif kind == "Markdown" and any(f"| {p} |" in proto.body for p in precise):
            check("markdown", proto.body, precise=True)  # the products table of the worked dot product
        elif kind not in SKIPPED:
            for text in proto_strings(proto):
                check(kind, text)

    walk(at._tree)
    return found


# ---- every page, both languages, a few widget states ---------------------------------------------------------------
STATES = {  # page: widget states beyond the defaults, each a separate run
    step("experiments").file: [dict(exp_mask=[16, 17, 23, 24], exp_heads=["1.2", "6.4"], exp_shuffle=True, exp_seed=5),
                               dict(exp_shuffle=True, exp_nopos=True)],
    step("explanations").file: [dict(expl_other=1, expl_method="gradient", expl_token=3)],
    step("paper").file: [dict(paper_t2_std=True, paper_t6_labels=True, paper_t5_target="cifar100")],
}


def walk_app(lang: str) -> dict[str, list[str]]:
    found = {}
    at = apptest.start(lang)
    for page in apptest.PAGES:
        apptest.open_page(at, page)
        assert not apptest.problems(at), (page, apptest.problems(at))
        found[page] = page_offences(at, page, lang)
        for i, state in enumerate(STATES.get(page, [])):
            run = apptest.open_step(page, lang=lang, **state)
            found[f"{page} {i + 1}"] = page_offences(run, page, lang)
    return found


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_every_page_writes_numbers_in_the_style(lang):
    found = walk_app(lang)
    assert not any(found.values()), {page: f[:15] for page, f in found.items() if f}


def test_the_walk_reads_what_a_student_reads():
    """The walk reads numbers wherever a page writes them (this test would pass on nothing otherwise): a chart's
    hovertemplate filled in, a dataframe's cells, a metric, an alt text, a caption, a formula, and a chart's "as text"
    table inside its expander."""
    seen = []
    for page in (step("paper").file, step("encoder").file):
        page_offences(apptest.open_step(page), page, "en", seen)

    def read(where: str, pattern: str) -> list[str]:
        return [text for w, text in seen if w.startswith(where) and re.search(pattern, text)]

    assert read("chart", r"exaFLOPs<br>.*: 88\.08%")  # Table 6's hover, filled in for ViT-H/14
    assert read("Dataframe", r"^88\.55$")  # Table 2's cell
    assert read("metric", r"\d\.\d+")
    assert read("Image", r"\d\.\d+")  # an alt text with a weight
    assert read("Caption", r"\d")
    assert read("formula", r"\\frac\{\d+\.\d+")  # the worked dot product
    assert read("Markdown", r"\| 4,262 \| 88\.08 \|")  # Table 6 as text, in its expander


# ---- the catalogs: no number format but the style's --------------------------------------------------------------
FORMAT = re.compile(r"(?<![{%])\{(\w+):([^}]*)\}")  # str.format, not a Plotly template
PLOTLY_FORMAT = re.compile(r"%\{\{?([^}:]+):([^}]*)\}")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_catalogs_write_numbers_through_the_style(lang):
    """A catalog sentence takes its numbers already written (app/numbers.py); only whole numbers keep a format ({n:,},
    {s:.0f}). A chart's template asks d3-format for the style's own specifiers (numbers.D3, D3_PERCENT, D3_SIGNED) or
    whole numbers. Never {x:.3f}, {x:.1e}, {x:.2%} or %{z:.4f}: those write 0.000, 1.7e+00 and 63.00%."""
    from app import numbers

    allowed_d3 = {numbers.D3, numbers.D3_PERCENT, numbers.D3_SIGNED, ",", "d", ",d", ".0%"}
    wrong = {}
    for key, text in catalog(lang).items():
        specs = [s for _, s in FORMAT.findall(text) if s not in (",", ".0f", ",.0f", ".0%")]  # whole numbers
        specs += [s for _, s in PLOTLY_FORMAT.findall(text) if s not in allowed_d3]
        if specs:
            wrong[key] = specs
    assert not wrong, wrong


def test_the_d3_writer_is_d3():
    """The test's d3-format stand-in, on values whose d3 output is known."""
    assert [d3(v, ",.3~r") for v in (0.4901961088180542, 83.89999999999999, 0.0, 1234.5, 6.9e-07)] == [
        "0.49", "83.9", "0", "1,230", "0.00000069"]
    assert [d3(0.6326, ".3~p"), d3(0.5, ".3~p"), d3(88.08, ".2f"), d3(0.25, ".0%"), d3(-1.5, "+.2f")] == [
        "63.3%", "50%", "88.08", "25%", "-1.50"]
    assert math.isclose(float(d3(20.39035, ".3~r")), 20.4)
