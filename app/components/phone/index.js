// On a phone (app/phone.py), once per page load in the app's own window:
// - the sidebar closes after a tap on a page link, when it overlays the page (a narrow screen);
// - a tap on a Plotly chart is first told to Plotly as a mouse move, so that the click that follows selects the
//   point under the finger (a finger sends no move before its tap).
export default function() {
    if (window.__vitSidebarCloses) return;
    window.__vitSidebarCloses = true;
    document.addEventListener("click", (event) => {
        const link = event.target.closest("[data-testid='stSidebarNavLink'], [data-testid='stSidebar'] a[href]");
        if (!link || !window.matchMedia("(max-width: 767px)").matches) return;
        setTimeout(() => {
            const sidebar = document.querySelector("[data-testid='stSidebar']");
            const close = document.querySelector("[data-testid='stSidebarCollapseButton'] button");
            if (sidebar && close && sidebar.dataset.collapsed === "false") close.click();
        }, 0);
    }, true);
    document.addEventListener("touchstart", (event) => {
        const drag = event.target.closest && event.target.closest(".js-plotly-plot .nsewdrag");
        const touch = event.touches[0];
        if (!drag || !touch) return;
        drag.dispatchEvent(new MouseEvent("mousemove", {bubbles: true, clientX: touch.clientX,
                                                        clientY: touch.clientY}));
    }, {capture: true, passive: true});
}
