// Streamlit's own words in the page's language, and <html lang> (app/streamlit_texts.py), run once per page run.
// data: {texts: {English: the page's language} ({} for English), lang: the page's language, as_text: the chart
// expander's words with "{title}" for the chart's title, each way ui.as_text_label writes them}.
// Everything on the page now, then everything Streamlit draws later (the shared observer, ../shared/observer.js).
export default function(component) {
    // the page's language, for screen readers and the browser's own tools: <html lang> follows the UI language
    if (component.data.lang) document.documentElement.lang = component.data.lang;
    window.__vitTexts = component.data.texts || {};
    window.__vitAsText = component.data.as_text || ["{title}"];
    translate(document.body);
    nameCharts();
    focusableCode();
    window.__vitObserve("streamlit_texts", (mutations) => {
        for (const m of mutations) {
            if (m.type === "childList") m.addedNodes.forEach(translate);
            else translate(m.target);
        }
        nameCharts();
        focusableCode();
    }, {characterData: true, attributeFilter: TRANSLATED_ATTRIBUTES});
}
