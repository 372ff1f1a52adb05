// Streamlit's and Plotly's own words in the page's language, where the browser shows them or reads them aloud: text,
// and the attributes below. Only exact, whole strings of window.__vitTexts ({English: the page's language}, empty on
// an English page) are replaced; an English text with a {name} in it ("Select {n} matches") is a pattern whose
// {name} stands for any text, kept in the translation.
const TRANSLATED_ATTRIBUTES = ["aria-label", "placeholder", "title", "data-title"];
let patternsOf = [null, []];  // [the texts they were made from, [[RegExp, translation]]]

function translated(texts, text) {
    if (texts[text]) return texts[text];
    if (patternsOf[0] !== texts) {
        const quote = (s) => s.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
        patternsOf = [texts, Object.keys(texts).filter((k) => /\{\w+\}/.test(k)).map((k) => [
            new RegExp("^" + k.split(/(\{\w+\})/).map((p, i) => i % 2 ? `(?<${p.slice(1, -1)}>.+?)` : quote(p))
                .join("") + "$"), texts[k]])];
    }
    for (const [pattern, local] of patternsOf[1]) {
        const m = pattern.exec(text);
        if (m) return local.replace(/\{(\w+)\}/g, (all, name) => m.groups[name] ?? all);
    }
    return null;
}

function translate(root) {
    const texts = window.__vitTexts;
    if (!Object.keys(texts).length) return;
    const scope = root.nodeType === 1 ? root : root.parentElement;
    if (!scope) return;
    for (const el of [scope, ...scope.querySelectorAll("[aria-label], [placeholder], [title], [data-title]")]) {
        for (const name of TRANSLATED_ATTRIBUTES) {
            const value = el.getAttribute && el.getAttribute(name);
            const local = value && translated(texts, value);
            if (local && value !== local) el.setAttribute(name, local);
        }
    }
    const walker = document.createTreeWalker(scope, NodeFilter.SHOW_TEXT);
    for (let node = walker.currentNode; node; node = walker.nextNode()) {
        const text = node.nodeType === 3 && node.nodeValue.trim();
        const local = text && translated(texts, text);
        if (local) node.nodeValue = node.nodeValue.replace(text, local);
    }
}
