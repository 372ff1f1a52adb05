"""The walkthrough's steps, in order: the one list that the app's navigation (app/main.py), the tests, the
benchmarks and the scripts read.

A step is a module `app/steps/<name>.py` with a `main()` (`from app.steps import attention` imports it without running
it), served at the address `/<name>` (the first step at the root), titled by the catalog's `nav.<name>` and, if it is
a step of the walkthrough, numbered by its place here ("5 · Attention explorer"). A new step is one line below, one
module and one catalog key.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.i18n import t_in


@dataclass(frozen=True)
class Step:
    name: str  # module, address and catalog key
    icon: str  # Streamlit's Material icon in the sidebar
    number: int | None  # its place in the walkthrough, None for a page beside it (About)

    @property
    def file(self) -> str:
        """The page's file relative to app/, as st.Page and AppTest's switch_page take it."""
        return f"steps/{self.name}.py"

    @property
    def path(self) -> str:
        """Its address under the app's root: "" for the first step (Streamlit serves the default page there)."""
        return "" if self is STEPS[0] else self.name

    def title(self, lang: str) -> str:
        """Its link in the sidebar: "5 · Attention explorer"."""
        name = t_in(lang, f"nav.{self.name}")
        return name if self.number is None else f"{self.number} · {name}"

    def heading(self, lang: str, **values) -> str:
        """The page's own title, from the catalog's `<name>.title` filled with `values`: "Step 5 · Attention: which
        patches look at which" ("5단계 · …" in Korean)."""
        title = t_in(lang, f"{self.name}.title", **values)
        return title if self.number is None else t_in(lang, "nav.step_heading", n=self.number, title=title)


WALKTHROUGH = (  # (name, icon), in the order a learner takes them: numbered 1, 2, …
    ("patches", ":material/grid_view:"),
    ("flatten", ":material/view_stream:"),
    ("embedding", ":material/my_location:"),
    ("encoder", ":material/stacks:"),
    ("attention", ":material/visibility:"),
    ("experiments", ":material/science:"),
    ("prediction", ":material/target:"),
    ("tokens", ":material/layers:"),
    ("explanations", ":material/lightbulb:"),
    ("paper", ":material/article:"),
)
BESIDE = (("about", ":material/info:"),)  # pages after the walkthrough, not numbered
STEPS = (tuple(Step(name, icon, k) for k, (name, icon) in enumerate(WALKTHROUGH, start=1))
         + tuple(Step(name, icon, None) for name, icon in BESIDE))
NAMES = tuple(s.name for s in STEPS)


def step(name: str) -> Step:
    return STEPS[NAMES.index(name)]
