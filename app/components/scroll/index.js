// Scroll the app's document to a lesson section (app/components/scroll/__init__.py says when and why).
// data: {anchor: "<page>-<section>", nonce: scroll once for each, wait: ms to wait for the anchor to appear}.
// The section is an element with that id (a heading's anchor=) or the keyed container st-key-<anchor>. It may not
// exist yet when this runs: the shared observer (../shared/observer.js) tells when the page changes. Once found, it is
// scrolled to the top of the view, below Streamlit's fixed header, and keeps its place while the page above it is
// still being drawn (charts, pictures): until the page has been still for QUIET ms, the learner moves (wheel, touch,
// a key, a pointer), or HOLD ms have passed.
const QUIET = 3000, HOLD = 20000, MARGIN = 8;
export default function(component) {
    const {anchor, nonce, wait} = component.data;
    const token = anchor + "\u0000" + nonce;
    window.__vitScrollSeen = (window.__vitScrollSeen || 0) + 1;  // requests handed to this window (a test waits on it)
    if (window.__vitScrollDone === token) return;  // this request is done (or under way): a rerun asks nothing new
    window.__vitScrollDone = token;
    if (window.__vitScrollStop) window.__vitScrollStop();  // an earlier request still keeping its section in place

    const reduce = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    const find = () => document.getElementById(anchor) || document.querySelector(".st-key-" + CSS.escape(anchor));
    const top = () => {  // where the section's top belongs: just below Streamlit's header
        const bar = document.querySelector("[data-testid='stHeader']");
        return (bar ? Math.max(0, bar.getBoundingClientRect().bottom) : 0) + MARGIN;
    };
    const INPUT = ["wheel", "touchstart", "keydown", "pointerdown"];
    let target = null, arrived = 0, changed = 0, done = false, timer = 0;
    const place = (behavior) => {
        target.style.scrollMarginTop = top() + "px";
        target.scrollIntoView({block: "start", behavior: behavior});
    };
    const stop = () => {
        done = true;
        clearInterval(timer);
        window.__vitObserve("scroll", () => {});
        INPUT.forEach((e) => window.removeEventListener(e, stop, true));
        if (window.__vitScrollStop === stop) window.__vitScrollStop = null;
    };
    const arrive = () => {
        target = find();
        if (!target) return;
        arrived = changed = performance.now();
        place(reduce ? "auto" : "smooth");
        if (!target.hasAttribute("tabindex")) target.setAttribute("tabindex", "-1");
        target.focus({preventScroll: true});  // the keyboard and a screen reader go on from the section
    };
    const check = () => {
        if (done) return;
        const now = performance.now();
        if (!target) {
            if (now - started > wait) stop(); else arrive();  // not there yet: give up after `wait`
            return;
        }
        if (!target.isConnected) { target = find() || target; }  // drawn again: the new element
        if (now - changed > QUIET || now - arrived > HOLD) { stop(); return; }
        const smoothing = !reduce && now - arrived < 1000;  // a smooth scroll under way moves the section itself
        // the page above it changed, or below it (at the page's end it could go no higher): back in place, at once
        if (!smoothing && Math.abs(target.getBoundingClientRect().top - top()) > 4) place("auto");
    };
    const started = performance.now();
    INPUT.forEach((e) => window.addEventListener(e, stop, true));
    window.__vitScrollStop = stop;
    window.__vitObserve("scroll", () => { changed = performance.now(); check(); });
    timer = setInterval(check, 250);  // the quiet and the time limits are kept even when nothing changes
    arrive();
}
