// What the explorer tells the server: the view (layer, head, query patch, grid rows, pooling, speed), debounced, for
// the address bar and the downloads (explorer.on_view); for a big model, sooner, the layers it lacks. A mixin.

const REPORT_MS = 400;  // a report to the server this long after the last change
const LOADING_MS = 150;  // a missing layer is asked for this soon

const Report = {
  wanted() {  // what the server is told
    const {layer, head, query, rows, pool, speed} = this.state;
    return {layer, head, query, rows, pool, speed};
  },

  schedule(ms = REPORT_MS) {
    clearTimeout(this.reportTimer);
    const report = () => {
      const now = JSON.stringify(this.wanted());
      if (now !== this.reported && this.root.isConnected) { this.reported = now; this.send("view", this.wanted()); }
    };
    if (!this.s.complete && this.lacks()) {
      // a big model lacks a layer the learner is heading for: ask now (at most every LOADING_MS), not after a pause,
      // so that the layer has come by the time ◀ / ▶ crosses into it
      const since = performance.now() - (this.asked || 0);
      if (since >= LOADING_MS) { this.asked = performance.now(); report(); } else ms = LOADING_MS - since;
    }
    this.reportTimer = setTimeout(report, ms);
  },

  lacks() {  // a layer of the window the server sends for this view (numbers.js, layerWindow) is not here
    const {layer, head} = this.state;
    return layerWindow(layer, head, this.d.L, this.d.H).some((l) => !this.s.has(l));
  },
};
