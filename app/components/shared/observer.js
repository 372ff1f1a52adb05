// One MutationObserver on the whole document for every component that follows what Streamlit draws (the upload
// guard names the uploader's button, streamlit_texts translates Streamlit's words). Joined first into each such
// component; the first one mounted installs it, once per window.
// window.__vitObserve(name, callback, {characterData, attributeFilter}): the callback gets each batch of mutation
// records and picks the ones it follows. The same name again (a re-mount, the next run) replaces its callback, so a
// name runs once per batch. What the observer watches is the union of what the callbacks asked for: nodes added or
// removed always, text and the named attributes when a callback wants them.
if (!window.__vitObserve) {
    const callbacks = new Map();  // name -> callback(mutations), called in the order the names were first added
    const attributes = new Set();
    let characterData = false;
    let watching = "";
    const observer = new MutationObserver((mutations) => {
        for (const callback of callbacks.values()) {
            try {
                callback(mutations);
            } catch (error) {  // one component's error leaves the others' callbacks running
                console.error(error);
            }
        }
    });
    window.__vitObserve = (name, callback, wants = {}) => {
        callbacks.set(name, callback);
        (wants.attributeFilter || []).forEach((attribute) => attributes.add(attribute));
        characterData = characterData || Boolean(wants.characterData);
        const options = {subtree: true, childList: true, characterData: characterData};
        if (attributes.size) options.attributeFilter = [...attributes];
        if (JSON.stringify(options) === watching) return;
        watching = JSON.stringify(options);
        observer.observe(document.body, options);  // observing again replaces the options; queued records stay
    };
}
