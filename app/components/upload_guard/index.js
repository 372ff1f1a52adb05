// The upload guard (app/pictures.py): a file over the app's limit is stopped in the browser, before it is sent.
// data: {limit: bytes, box: the uploader's container key, label: the uploader button's accessible name}.
// Capture-phase listeners on the document run before React's (on the app's root), so a file too large never reaches
// Streamlit's uploader: the file input is emptied, a drop is cancelled and the dropzone's drag state ended, and the
// file's name and size go to the server as the trigger value "refused". Installed once per window; each run renews
// the limit and the function that reports. It also gives the uploader's button its accessible name, in the page's
// language, again whenever Streamlit draws it (the shared observer, ../shared/observer.js).
export default function(component) {
    window.__vitUploadGuard = {limit: component.data.limit, box: component.data.box, label: component.data.label,
                               report: component.setTriggerValue};
    // the uploader's button shows our words through CSS (picker_css), which a screen reader does not read: name it
    const name = () => {
        const guard = window.__vitUploadGuard;
        const dropzone = document.querySelector(".st-key-" + guard.box + " [data-testid='stFileUploaderDropzone']");
        const button = dropzone && dropzone.querySelector("button");
        if (button && button.getAttribute("aria-label") !== guard.label) button.setAttribute("aria-label", guard.label);
    };
    name();
    if (window.__vitUploadGuardOn) return;
    window.__vitUploadGuardOn = true;
    window.__vitObserve("upload_guard", (mutations) => {
        if (mutations.some((m) => m.type === "childList")) name();  // nodes came or went: the button may be new
    });
    const inBox = (el) => el && el.closest && el.closest(".st-key-" + window.__vitUploadGuard.box);
    const tooBig = (files) => Array.from(files || []).find((f) => f.size > window.__vitUploadGuard.limit);
    const refuse = (file) => window.__vitUploadGuard.report("refused", {name: String(file.name), size: file.size});
    document.addEventListener("change", (event) => {
        const input = event.target;
        if (!(input instanceof HTMLInputElement) || input.type !== "file" || !inBox(input)) return;
        const file = tooBig(input.files);
        if (!file) return;
        event.stopImmediatePropagation();
        input.value = "";
        refuse(file);
    }, true);
    document.addEventListener("drop", (event) => {
        if (!inBox(event.target)) return;
        const file = tooBig(event.dataTransfer && event.dataTransfer.files);
        if (!file) return;
        event.preventDefault();
        event.stopImmediatePropagation();
        // the dropzone saw the drag come in: tell it the drag has left, or it keeps showing its drop overlay
        event.target.dispatchEvent(new DragEvent("dragleave", {bubbles: true, cancelable: true}));
        refuse(file);
    }, true);
}
