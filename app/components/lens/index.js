// Step 8's layer view in the browser (issue 27): app/components/lens/__init__.py mounts one part of it in each place
// of the page (the layer slider, the logit lens's votes, the chosen patch's similarity, the patches' norms) and sends
// each its data for every layer, once. A step of the slider (or ←/→, Home/End) redraws every part here, without a
// round trip (store.js keeps the one layer); the layer is reported to the server, debounced, and a patch picked on
// the similarity map at once. Mounted without a shadow root (isolate_styles=False), so every class is prefixed "lx-".
//
// The files, joined in this order by __init__.py (JS_FILES): ../shared/josa.js, ../shared/words.js and text.js
// (ports of the Python reference, tested equal in tests/browser/test_lens_parity.py), ../shared/bytes.js, store.js,
// maps.js and this one: the layer part's code, which the maps' parts (part.js, a few lines) use too, so that a page
// is sent it once, not once a part.

const touchScreen = () => window.matchMedia("(hover: none)").matches;  // a phone: tap, not hover

class LensPart {
  constructor(parent) {
    this.parent = parent;
    this.root = null;
    this.sig = null;
    this.timer = null;
    this.resize = new ResizeObserver(() => this.draw());
  }

  t(key, values = {}) { return fmt(window.__vitLens.text[key] ?? key, values); }

  update(d, send) {
    this.send = send;
    const sig = `${d.base}|${d.part}|${d.patch ?? ""}|${d.mount}`;
    if (sig === this.sig && this.root && this.root.isConnected) return;  // a report's rerun: the same data
    this.sig = sig;
    this.d = d;
    if (d.votes) this.votes = new Uint16Array(bytes(d.votes).buffer);  // (L+1, T) indices into d.names
    if (d.sim) this.sim = floats(d.sim);  // (L+1, N)
    if (d.norms) this.norms = floats(d.norms);  // (L+1, N)
    if (d.lut) this.colours = lut(d.lut);
    if (d.colours) this.classColours = d.colours.map(hexRgb);
    this.reported = d.mount;
    if (d.part === "layer") Lens.shared(d);
    Lens.join(this, d);
    this.build();
    this.draw();
  }

  build() {
    const d = this.d, t = (k, v) => this.t(k, v);
    if (this.root) { this.resize.disconnect(); this.root.remove(); }
    const root = document.createElement("div");
    root.className = `lx lx-${d.part}`;
    const details = '<details class="lx-text"><summary></summary><div></div></details>';
    const map = '<p class="lx-title"></p><div class="lx-box"><canvas role="img"></canvas></div>';
    if (d.part === "layer") {
      root.innerHTML = `
        <label class="lx-slider"><span>${escape(t("tokens.layer_slider", {L: d.L}))}: <b class="lx-value"></b></span>
          <input type="range" min="0" max="${d.L}" step="1" aria-keyshortcuts="ArrowLeft ArrowRight Home End"></label>
        <p class="lx-note">${escape(t("tokens.layer_help"))}</p>
        <p class="lx-caption" aria-live="polite"></p>`;
    } else if (d.part === "votes") {
      const legend = d.legend.map(([name, colour]) => `<li><span class="lx-key" style="background:${colour}"></span>`
        + `${escape(name ?? t("tokens.other_classes"))}</li>`).join("");
      root.innerHTML = `${map}<ul class="lx-legend">${legend}</ul>
        <dl class="lx-metrics">
          <div><dt>${escape(t("tokens.agree_metric", {answer: d.names[d.answer]}))}</dt><dd class="lx-agree"></dd></div>
          <div><dt>${escape(t("tokens.cls_metric"))}</dt><dd class="lx-cls"></dd></div>
        </dl>${details}`;
    } else if (d.part === "similarity") {
      root.innerHTML = `${map}<p class="lx-caption">${escape(t(touchScreen() ? "tokens.tap_hint"
                                                                            : "tokens.click_hint"))}</p>${details}`;
    } else {
      root.innerHTML = `${map}<p class="lx-caption lx-norms-caption"></p>${details}`;
    }
    root.insertAdjacentHTML("beforeend", '<div class="lx-tip" role="tooltip" hidden></div>');
    this.parent.appendChild(root);
    this.root = root;
    const $ = (sel) => root.querySelector(sel);
    this.el = {slider: $("input[type=range]"), canvas: $("canvas"), text: $(".lx-text"), tip: $(".lx-tip")};
    if (this.el.slider) {
      this.el.slider.addEventListener("input", () => this.go(Number(this.el.slider.value)));
    }
    if (this.el.canvas) {
      const canvas = this.el.canvas;
      canvas.addEventListener("pointermove", (e) => this.tip(e));
      canvas.addEventListener("pointerleave", () => { this.el.tip.hidden = true; });
      if (d.part === "similarity") {
        canvas.addEventListener("click", (e) => {
          const k = this.cellAt(e);
          if (k !== null && k !== d.patch) this.send("view", {patch: k});  // the server sends that patch's rows
        });
      }
      this.resize.observe(canvas.parentElement);
    }
  }

  go(layer) {  // a step: every part draws it now; the layer part tells the server later
    Lens.set(Math.min(Math.max(layer, 0), this.d.L));
    for (const p of window.__vitLens.parts) if (p.d.part === "layer") p.schedule();
  }

  schedule() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      if (Lens.layer !== this.reported && this.root.isConnected) {
        this.reported = Lens.layer;
        this.send("view", {layer: Lens.layer});
      }
    }, REPORT_MS);
  }

  draw() {
    if (!this.root || !this.root.isConnected) return;
    const d = this.d, layer = Lens.layer, t = (k, v) => this.t(k, v), g = d.g, N = d.N;
    const title = this.root.querySelector(".lx-title");
    if (d.part === "layer") {
      if (document.activeElement !== this.el.slider || this.el.slider.value !== String(layer)) {
        this.el.slider.value = String(layer);
      }
      this.root.querySelector(".lx-value").textContent = String(layer);
      this.root.querySelector(".lx-caption").textContent = layerSentence(t, layer, d.L);
    } else if (d.part === "votes") {
      const T = d.T, row = this.votes.subarray(layer * T, (layer + 1) * T), votes = Array.from(row.subarray(1));
      const cls = row[0], said = votesSentence(t, layer, votes, d.names, d.answer, cls);
      this.cellText = (k) => d.names[votes[k]];
      this.drawCells((k) => this.classColours[votes[k]], []);
      const name = t("tokens.votes_title", {layer});
      title.innerHTML = `<strong>${escape(name)}</strong>`;
      this.el.canvas.setAttribute("aria-label", said);
      this.root.querySelector(".lx-agree").textContent = share(votes.filter((v) => v === d.answer).length, N);
      this.root.querySelector(".lx-cls").textContent = d.names[cls];
      this.textTable(name, said, [t("tokens.col_class"), t("tokens.col_patches")], voteRows(votes, d.names, d.rows_n));
    } else if (d.part === "similarity") {
      const row = this.sim.subarray(layer * N, (layer + 1) * N), said = similarSentence(t, layer, d.patch, row, g);
      this.cellText = (k) => number(row[k]);
      this.drawCells(this.scale(row, -1, 1, this.colours), [d.patch]);
      const name = t("tokens.sim_map_title", {patch: patchPlace(t, d.patch, g), layer});
      title.innerHTML = `<strong>${escape(name)}</strong>`;
      this.el.canvas.setAttribute("aria-label", said);
      this.textTable(name, said, [t("alt.col_patch"), t("alt.col_value")], mapRows(t, row, g, d.rows_n));
    } else {
      const row = this.norms.subarray(layer * N, (layer + 1) * N), largest = d.largest[layer];
      const said = normsSentence(t, layer, row, largest, g);
      this.cellText = (k) => number(row[k]);
      this.drawCells(this.scale(row, 0, d.top, this.colours), largest);
      const name = t("tokens.norm_map_title", {layer});
      title.innerHTML = `<strong>${escape(name)}</strong>`;
      this.root.querySelector(".lx-norms-caption").textContent = t("tokens.norm_map_caption",
                                                                   {layer, k: largest.length});
      this.el.canvas.setAttribute("aria-label", said);
      this.textTable(name, said, [t("alt.col_patch"), t("alt.col_value")], mapRows(t, row, g, d.rows_n));
    }
  }

  key(e) {  // ←/→ a layer, Home/End the first and the last, from inside a part (not from a field: the slider moves
    // itself, and fires "input")
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || !this.root || !this.root.isConnected) return;
    const target = e.target;
    if (!this.root.contains(target) || target.closest?.("input, select, textarea")) return;
    const to = {ArrowLeft: Lens.layer - 1, ArrowRight: Lens.layer + 1, Home: 0, End: this.d.L}[e.key];
    if (to === undefined) return;
    e.preventDefault();
    this.go(to);
  }
}
Object.assign(LensPart.prototype, Maps);

const lensParts = new Set();  // one listener for the keys serves every part
document.addEventListener("keydown", (e) => { for (const p of lensParts) p.key(e); });

function mountLens(component) {
  const {data, parentElement, setStateValue} = component;
  if (!Lens.ready(data)) {  // a map before the layer part's templates and picture: after them
    window.__vitLens.waiting.push(component);
    return;
  }
  let part = parentElement.__lx;
  if (!part) {
    part = new LensPart(parentElement);
    parentElement.__lx = part;
  }
  for (const p of lensParts) if (!p.root || !p.root.isConnected) lensParts.delete(p);
  lensParts.add(part);
  part.update(data, setStateValue);
  if (data.part === "layer") {
    for (const waiting of window.__vitLens.waiting.splice(0)) mountLens(waiting);
  }
}

// the maps' own component (part.js) hands them here; those that came before this code ran wait in a queue
window.__vitLensMount = mountLens;
for (const waiting of (window.__vitLensQueue || []).splice(0)) mountLens(waiting);

export default mountLens;
