// The address bar's state (app/links.py): history.replaceState from the page itself, so that a reload keeps the
// view and stepping through heads adds no history entry. This runs in the app's window, not an iframe.
// data: {query: the app's values as a query string, page: a page's own values (its fragment's writer) or null}.
// A page that writes its own values (a fragment) has a writer of its own beside the app's: the two run in no set
// order, so the app's writer keeps what the page's last wrote for the same path.
export default function(component) {
    const path = window.location.pathname;
    let query = component.data.query;
    if (component.data.page != null) {
        window.__vitPageState = {path: path, query: component.data.page};
    } else if (window.__vitPageState && window.__vitPageState.path === path && window.__vitPageState.query) {
        query = (query ? query + "&" : "") + window.__vitPageState.query;
    }
    const url = path + (query ? "?" + query : "") + window.location.hash;
    if (url !== path + window.location.search + window.location.hash) {
        window.history.replaceState(window.history.state, "", url);
    }
}
