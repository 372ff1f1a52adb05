// What a screen reader and the keyboard need that Streamlit does not give.

// each chart drawn by app/ui.chart is named after its text alternative, the expander beside it: role "figure",
// aria-label (the expander says one of window.__vitAsText, "<title>: as text"; the chart's name is the title alone) and
// aria-describedby (the expander's text)
function nameCharts() {
    for (const box of document.querySelectorAll("[class*='st-key-astext_']")) {
        const chart = box.querySelector("[data-testid='stPlotlyChart']");
        const summary = box.querySelector("[data-testid='stExpander'] summary");
        const details = box.querySelector("[data-testid='stExpanderDetails']");
        if (!chart || !summary) continue;
        const said = (summary.querySelector("[data-testid='stMarkdownContainer']") || summary).innerText.trim();
        let label = said;
        for (const words of window.__vitAsText) {  // "<title>: as text", or "<title>? (as text)" (ui.as_text_label)
            const [before, after] = words.split("{title}");
            if (said.startsWith(before) && said.endsWith(after) && said.length > before.length + after.length) {
                label = said.slice(before.length, said.length - after.length);
                break;
            }
        }
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
}

// a code panel that scrolls sideways can be scrolled from the keyboard too: it takes the focus (WCAG 2.1.1)
function focusableCode() {
    for (const box of document.querySelectorAll("[data-testid='stCode'] > pre, [data-testid='stCode'] > div"))
        if (!box.hasAttribute("tabindex")) box.setAttribute("tabindex", "0");
}
