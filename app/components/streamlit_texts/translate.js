// Streamlit's and Plotly's own words in the page's language, where the browser shows them or reads them aloud: text,
// and the attributes below. Only exact, whole strings of window.__vitTexts ({English: the page's language}, empty on
// an English page) are replaced.
const TRANSLATED_ATTRIBUTES = ["aria-label", "placeholder", "title", "data-title"];

function translate(root) {
    const texts = window.__vitTexts;
    if (!Object.keys(texts).length) return;
    const scope = root.nodeType === 1 ? root : root.parentElement;
    if (!scope) return;
    for (const el of [scope, ...scope.querySelectorAll("[aria-label], [placeholder], [title], [data-title]")]) {
        for (const name of TRANSLATED_ATTRIBUTES) {
            const value = el.getAttribute && el.getAttribute(name);
            if (value && texts[value] && value !== texts[value]) el.setAttribute(name, texts[value]);
        }
    }
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
        const text = node.nodeType === 3 && node.nodeValue.trim();
        if (text && texts[text]) node.nodeValue = node.nodeValue.replace(text, texts[text]);
    }
}
