// Step 5's attention explorer in the browser (issue 15): __init__.py sends the picture's attentions once, 8 bits a
// weight, and this component draws every view of a head on canvas. A step (a button, a key, a slider, play) redraws
// here without a round trip; the view is reported to the server, debounced (report.js). A large model (ViT-B/16) is
// sent a window of layers, and this component asks for a layer it lacks. Mounted without a shadow root
// (isolate_styles=False), so every class is prefixed "vx-".
//
// The files, joined in this order by __init__.py (JS_FILES): numbers.js and text.js (ports of the Python reference,
// tested equal in tests/browser/test_explorer_parity.py), data.js (the store), canvas.js, template.js, controls.js,
// report.js, one file per drawn view in views/, and this one, which puts the explorer together.

class Explorer {
  constructor(parent) {
    this.parent = parent;
    this.root = null;
    this.base = null;
    this.timer = null;
    this.reportTimer = null;
    this.reported = "";
    this.boxes = {};  // where each canvas drew its cells, for the pointer
    this.resize = new ResizeObserver(() => this.draw());
  }

  t(key, values = {}) { return fmt(this.text[key] ?? key, values); }

  update(d, report) {
    this.send = report;
    if (d.base !== this.base) {  // a new picture, model or language: start from what the server had
      this.stop();  // the old page's play mode stops with it (its interval would step the new one)
      this.base = d.base;
      this.text = d.text;
      this.d = d;
      this.s = new Store(d);
      this.heat = lut(d.lut.heat);
      this.seq = lut(d.lut.seq);
      this.view = new Image();
      this.view.onload = () => this.draw();
      this.view.src = d.view;
      this.state = {...d.state, playing: false};
      this.opened = JSON.stringify(d.state);
      this.reported = JSON.stringify(this.wanted());
      this.boxes = {};
      this.build();
    } else if (JSON.stringify(d.state) !== this.opened) {  // a new view from the server (a lesson's beat): show it
      this.stop();
      this.s.add(d);
      this.opened = JSON.stringify(d.state);
      this.go({...d.state});  // drawn, and reported back like a step (the address bar follows)
      return;
    } else {
      this.s.add(d);  // layers and rows for a big model: drawn again only if the view was waiting for them
      if (!this.waiting) return;
    }
    this.draw();
  }

  draw() {  // every view of the state, and the controls that show it
    if (!this.root || !this.root.isConnected) return;
    const d = this.d, st = this.state, t = (k, v) => this.t(k, v), el = this.el, L = d.L, H = d.H;
    const {layer, head, query} = st;
    el.layer.value = String(layer);
    el.head.value = String(head);
    this.root.querySelector(".vx-value-layer").textContent = String(layer);
    this.root.querySelector(".vx-value-head").textContent = String(head);
    if (document.activeElement !== el.query) el.query.value = String(query);
    for (const r of this.root.querySelectorAll("input[type=radio]")) {
      r.checked = r.value === (r.name.startsWith("vx-pool") ? st.pool : st.rows);
    }
    const first = layer === 1 && head === 1, last = layer === L && head === H;
    const button = (act) => this.root.querySelector(`[data-act=${act}]`);
    button("prev-head").disabled = st.playing || first;
    button("next-head").disabled = st.playing || last;
    button("prev-layer").disabled = st.playing || layer === 1;
    button("next-layer").disabled = st.playing || layer === L;
    el.layer.disabled = st.playing || L === 1;
    el.head.disabled = st.playing || H === 1;
    const play = button("play");
    play.textContent = st.playing ? t("attention.pause") : t("attention.play");
    play.setAttribute("aria-pressed", String(st.playing));
    // said by a screen reader on every step: where the explorer is, not the sentence about the buttons after it
    this.root.querySelector(".vx-where").innerHTML = markdown(t("attention.position",
      {layer, L, head, H, l0: layer - 1, h0: head - 1, T: d.T}));
    this.root.querySelector(".vx-ends").textContent = st.playing ? t("attention.playing") : t("attention.ends");
    this.root.querySelector(".vx-matrix-title").textContent = t("attention.matrix_title", {layer, head});
    this.root.querySelector(".vx-rows-query").textContent = t("attention.grid_rows_query", {q: query});
    const loaded = this.s.has(layer);
    this.waiting = !loaded;  // set again by the grid and the maps, where a row is not here yet
    this.root.classList.toggle("vx-loading", !loaded);
    this.drawMatrix(loaded);
    this.drawMaps();
    this.drawGrid();
    this.drawDistances();
  }
}
Object.assign(Explorer.prototype, Canvas, Template, Controls, Report, MatrixView, MapsView, GridView, DistancesView);

const controllers = new Set();  // the explorers on the page: one listener for the keys serves them all
document.addEventListener("keydown", (e) => { for (const c of controllers) c.key(e); });

export default function (component) {
  const {data, parentElement, setStateValue} = component;
  let ctl = parentElement.__vx;
  if (!ctl) {
    ctl = new Explorer(parentElement);
    parentElement.__vx = ctl;
  }
  for (const c of controllers) if (!c.root || !c.root.isConnected) controllers.delete(c);
  controllers.add(ctl);
  ctl.update(data, setStateValue);
}
