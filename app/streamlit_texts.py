"""Streamlit's and Plotly's own words in the page's language: "Skip to main content", "Link to heading", a select
box's "Choose an option", a chart toolbar's "Download plot as a PNG", "Collapse sidebar", …

The same script sets `<html lang>` to the page's language, so that a screen reader reads Korean as Korean, and names
every chart drawn by app/ui.chart after its text alternative (role "figure", aria-label, aria-describedby), and lets
the keyboard scroll code panels (tabindex 0).

Streamlit 1.67 has no parameter for these texts, so a few lines of JavaScript, run in the app's own window, replace
them where the browser shows them or reads them aloud (text, aria-label, placeholder, title, data-title), and keep
replacing them as Streamlit draws. Only exact, whole strings from the catalog `streamlit_texts.toml` are replaced;
English pages are left alone. Keys there are the English text with spaces as underscores.
"""
from __future__ import annotations

import streamlit as st

from app.i18n import DEFAULT, catalog, current_language, t

_TRANSLATE = st.components.v2.component("streamlit_texts", js="""
export default function(component) {
    // the page's language, for screen readers and the browser's own tools: <html lang> follows the UI language
    if (component.data.lang) document.documentElement.lang = component.data.lang;
    window.__vitTexts = component.data.texts || {};
    window.__vitAsText = component.data.as_text || "{title}";
    const translate = (root) => {
        const texts = window.__vitTexts;
        if (!Object.keys(texts).length) return;
        const scope = root.nodeType === 1 ? root : root.parentElement;
        if (!scope) return;
        for (const el of [scope, ...scope.querySelectorAll("[aria-label], [placeholder], [title], [data-title]")]) {
            for (const name of ["aria-label", "placeholder", "title", "data-title"]) {
                const value = el.getAttribute && el.getAttribute(name);
                if (value && texts[value] && value !== texts[value]) el.setAttribute(name, texts[value]);
            }
        }
        const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
        for (let node = walker.currentNode; node; node = walker.nextNode()) {
            const text = node.nodeType === 3 && node.nodeValue.trim();
            if (text && texts[text]) node.nodeValue = node.nodeValue.replace(text, texts[text]);
        }
    };
    // each chart drawn by app/ui.chart is named after its text alternative, the expander beside it
    const nameCharts = () => {
        for (const box of document.querySelectorAll("[class*='st-key-astext_']")) {
            const chart = box.querySelector("[data-testid='stPlotlyChart']");
            const summary = box.querySelector("[data-testid='stExpander'] summary");
            const details = box.querySelector("[data-testid='stExpanderDetails']");
            if (!chart || !summary) continue;
            // the expander says "<title>: as text"; the chart's name is the title alone
            const said = (summary.querySelector("[data-testid='stMarkdownContainer']") || summary).innerText.trim();
            const [before, after] = window.__vitAsText.split("{title}");
            const label = said.startsWith(before) && said.endsWith(after) && said.length > before.length + after.length
                ? said.slice(before.length, said.length - after.length) : said;
            if (chart.getAttribute("aria-label") !== label) {
                chart.setAttribute("role", "figure");
                chart.setAttribute("aria-label", label);
            }
            if (details) {
                details.id = details.id || "astext-" + Math.random().toString(36).slice(2);
                if (chart.getAttribute("aria-describedby") !== details.id)
                    chart.setAttribute("aria-describedby", details.id);
            }
        }
    };
    // a code panel that scrolls sideways can be scrolled from the keyboard too: it takes the focus (WCAG 2.1.1)
    const focusableCode = () => {
        for (const box of document.querySelectorAll("[data-testid='stCode'] > pre, [data-testid='stCode'] > div"))
            if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
    };
    translate(document.body);
    nameCharts();
    focusableCode();
    if (window.__vitTextsObserver) return;
    window.__vitTextsObserver = new MutationObserver((mutations) => {
        for (const m of mutations) {
            if (m.type === "childList") m.addedNodes.forEach(translate);
            else translate(m.target);
        }
        nameCharts();
        focusableCode();
    });
    window.__vitTextsObserver.observe(document.body, {
        subtree: true, childList: true, characterData: true, attributes: true,
        attributeFilter: ["aria-label", "placeholder", "title", "data-title"],
    });
}
""")


def texts(lang: str) -> dict[str, str]:
    """{English text as Streamlit writes it: the same in `lang`} ({} for English)."""
    if lang == DEFAULT:
        return {}
    english, local = catalog(DEFAULT), catalog(lang)
    return {english[key]: local[key] for key in english if key.startswith("streamlit_texts.") and key in local}


def translate() -> None:
    """Run once per page run (it draws nothing: its container is hidden with the address-bar state)."""
    with st.container(key="url_state_texts_box"):
        lang = current_language()
        _TRANSLATE(data={"texts": texts(lang), "lang": lang, "as_text": t("alt.as_text", title="{title}")},
                   key="streamlit_texts")
