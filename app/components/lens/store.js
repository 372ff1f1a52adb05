// The one layer every part of step 8's view shows (the slider, the votes, the similarity and the norms are mounted
// apart, between the page's own text): kept on the window, so that a step of the slider redraws every part at once,
// in the browser. A new picture, model or language, or a layer the server opens on (`mount`, the page's last full
// run: a link, a return to the page), starts it again from what the server says; a report's rerun, which sends the
// same mount, leaves it as the learner set it.

const REPORT_MS = 400;  // the layer is reported to the server this long after the last change

// The layer part also brings what every part needs, sent once: the catalog's templates and the model's view of the
// picture (`text`, `view`); a map that comes before it waits for it (index.js, mountLens).
if (!window.__vitLens) {
  window.__vitLens = {base: null, mount: null, layer: 0, parts: new Set(), text: null, view: null, waiting: []};
}

const Lens = {
  shared(d) {  // the layer part's data: the templates and the picture of this base
    const bus = window.__vitLens;
    bus.text = d.text;
    bus.textBase = d.base;
    if (!bus.view || bus.view.dataset.src !== d.view) {
      bus.view = new Image();
      bus.view.dataset.src = d.view;
      bus.view.onload = () => { for (const p of bus.parts) if (p.root && p.root.isConnected) p.draw(); };
      bus.view.src = d.view;
    }
  },

  ready(d) { return d.part === "layer" || window.__vitLens.textBase === d.base; },

  join(part, d) {  // a part mounted or sent new data: the layer it shows
    const bus = window.__vitLens;
    if (bus.base !== d.base || bus.mount !== d.mount) {
      bus.base = d.base;
      bus.mount = d.mount;
      bus.layer = Math.min(Math.max(d.mount, 0), d.L);
    }
    for (const p of bus.parts) if (!p.root || !p.root.isConnected) bus.parts.delete(p);
    bus.parts.add(part);
  },

  get layer() { return window.__vitLens.layer; },

  set(layer) {  // every part on the page draws the layer; the layer part reports it
    const bus = window.__vitLens;
    bus.layer = layer;
    for (const p of bus.parts) {
      if (p.root && p.root.isConnected) p.draw(); else bus.parts.delete(p);
    }
  },
};
