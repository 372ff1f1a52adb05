// The attention explorer in the browser (issue 15): app/explorer.py sends the picture's attentions once, quantised to
// 8 bits, and this module draws every view of a head on canvas. A step (a button, a key, a slider, play) redraws here
// without a round trip; the view is reported to the server, debounced, for the address bar and the pages after.
// A large model (ViT-B/16) sends one layer at a time, and the next one ahead: this module asks for a layer it lacks.
// Mounted without a shadow root (isolate_styles=False), so every class is prefixed "vx-".

const REPORT_MS = 400;  // a report to the server this long after the last change
const LOADING_MS = 150;  // a missing layer is asked for this soon
const controllers = new Set();

function bytes(b64) {
  const s = atob(b64), out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
const floats = (b64) => new Float32Array(bytes(b64).buffer);

// ---- text: the catalog's templates, filled in as Python's str.format fills them ({x}, {x:.3f}, {x:g}) --------------
function fmt(template, values) {
  return template.replace(/\{(\w+)(?::([^}]*))?\}/g, (all, name, spec) => {
    const v = values[name];
    if (v === undefined) return all;
    if (spec && /^\.\d+f$/.test(spec)) return Number(v).toFixed(Number(spec.slice(1, -1)));
    if (spec === "g") return String(Number(v));
    return String(v);
  });
}
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                                             "'": "&#39;"}[c]));
function markdown(s) {  // what the catalog's sentences use: **bold**, `code`, [text](url)
  return escape(s).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/`(.+?)`/g, "<code>$1</code>")
    .replace(/\[([^\]]+)\]\((https:[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>');
}
function number(v) {  // as app/describe.number: three decimals; two significant digits for tiny ones
  const a = Math.abs(v);
  if ((a >= 1e-3 && a < 1e3) || v === 0) return v.toFixed(3);
  if (a < 1e-3) return String(Number(v.toPrecision(2)));
  return Math.round(v).toLocaleString("en-US");
}

// ---- colours --------------------------------------------------------------------------------------------------------
function lut(b64) {
  const b = bytes(b64), out = [];
  for (let i = 0; i < 256; i++) out.push([b[3 * i], b[3 * i + 1], b[3 * i + 2]]);
  return out;
}
const css = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

// ---- the data -------------------------------------------------------------------------------------------------------
class Store {
  constructor(d) {
    this.L = d.L; this.H = d.H; this.T = d.T; this.g = d.g; this.N = d.T - 1;
    this.layers = new Map();  // 0-based layer → {att (H·T·T bytes), scale (H·T), roll (T·T bytes), rscale (T)}
    this.complete = d.complete;
    this.add(d);
  }
  add(d) {
    for (const [li, block] of Object.entries(d.layers)) {
      if (this.layers.has(Number(li))) continue;
      this.layers.set(Number(li), {att: bytes(block.att), scale: floats(block.scale), roll: bytes(block.roll),
                                    rscale: floats(block.rscale)});
    }
    if (!this.complete) {  // keep the layers around the one in view, and the rows of every layer
      const keep = new Set(Object.keys(d.layers).map(Number));
      for (const li of [...this.layers.keys()]) if (!keep.has(li) && this.layers.size > 4) this.layers.delete(li);
    }
    this.rows = {cls: {q: bytes(d.rows.cls.q), s: floats(d.rows.cls.s), roll: floats(d.rows.cls.roll)},
                 query: {k: d.rows.query.k, q: bytes(d.rows.query.q), s: floats(d.rows.query.s),
                         roll: floats(d.rows.query.roll)}};
  }
  has(layer) { return this.layers.has(layer - 1); }
  row(layer, head, r) {  // head's attention row r (0: cls, 1 + k: patch k) as T floats; null when not loaded
    const T = this.T, b = this.layers.get(layer - 1);
    if (b) {
      const off = ((head - 1) * T + r) * T, s = b.scale[(head - 1) * T + r] / 255, out = new Float32Array(T);
      for (let j = 0; j < T; j++) out[j] = b.att[off + j] * s;
      return out;
    }
    const which = r === 0 ? this.rows.cls : this.rows.query.k + 1 === r ? this.rows.query : null;
    if (!which) return null;
    const i = (layer - 1) * this.H + (head - 1), s = which.s[i] / 255, out = new Float32Array(T);
    for (let j = 0; j < T; j++) out[j] = which.q[i * T + j] * s;
    return out;
  }
  matrix(layer, head) {  // (T, T) floats and the head's largest weight; null when not loaded
    const T = this.T, b = this.layers.get(layer - 1);
    if (!b) return null;
    const m = new Float32Array(T * T);
    let top = 0;
    for (let r = 0; r < T; r++) {
      const s = b.scale[(head - 1) * T + r] / 255, off = ((head - 1) * T + r) * T;
      top = Math.max(top, b.scale[(head - 1) * T + r]);
      for (let j = 0; j < T; j++) m[r * T + j] = b.att[off + j] * s;
    }
    return {m, top};
  }
  average(layer, r) {  // the mean of the layer's heads, row r
    const rows = [];
    for (let h = 1; h <= this.H; h++) rows.push(this.row(layer, h, r));
    if (rows.some((x) => !x)) return null;
    const out = new Float32Array(this.T);
    for (const x of rows) for (let j = 0; j < this.T; j++) out[j] += x[j] / this.H;
    return out;
  }
  rollout(layer, r) {  // row r of the rollout up to this layer
    const b = this.layers.get(layer - 1), T = this.T;
    if (b) {
      const s = b.rscale[r] / 255, out = new Float32Array(T);
      for (let j = 0; j < T; j++) out[j] = b.roll[r * T + j] * s;
      return out;
    }
    const which = r === 0 ? this.rows.cls : this.rows.query.k + 1 === r ? this.rows.query : null;
    return which ? which.roll.slice((layer - 1) * T, layer * T) : null;
  }
}

const patches = (row) => row.subarray(1);  // a token row without cls: the N patches, row by row

function pooled(m, T, block, how) {  // as vit_core.analysis.pool_attention: cls alone, patch tokens in runs of block
  if (block === 1) return {z: m, G: T};
  const group = (i) => (i === 0 ? 0 : Math.floor((i - 1) / block) + 1), G = group(T - 1) + 1;
  const z = new Float32Array(G * G), n = new Float32Array(G * G);
  for (let r = 0; r < T; r++) {
    for (let c = 0; c < T; c++) {
      const k = group(r) * G + group(c), v = m[r * T + c];
      if (how === "amax") z[k] = n[k] ? Math.max(z[k], v) : v; else z[k] += v;
      n[k]++;
    }
  }
  if (how !== "amax") for (let k = 0; k < G * G; k++) z[k] /= n[k];
  return {z, G};
}

function strongest(values, n) {  // the n largest, largest first, ties by index: [[index, value], …]
  const order = [...values.keys()].sort((a, b) => values[b] - values[a] || a - b);
  return order.slice(0, n).map((k) => [k, values[k]]);
}

// ---- the explorer ---------------------------------------------------------------------------------------------------
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
  patch(k) { return this.t("labels.patch_in_words", {k, r: Math.floor(k / this.s.g), c: k % this.s.g}); }

  update(d, report) {
    this.send = report;
    if (d.base !== this.base) {  // a new picture, model or language: start from what the server had
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
      this.reported = JSON.stringify(this.wanted());
      this.build();
    } else {
      this.s.add(d);  // layers and rows for a big model: drawn again only if the view was waiting for them
      if (!this.waiting) return;
    }
    this.draw();
  }

  wanted() {  // what the server is told: the view, and for a large model the layer it should send
    const {layer, head, query, rows, pool, speed} = this.state;
    return {layer, head, query, rows, pool, speed};
  }

  // ---- DOM ----------------------------------------------------------------------------------------------------------
  build() {
    const d = this.d, t = (k, v) => this.t(k, v), L = d.L, H = d.H;
    if (this.root) { this.resize.disconnect(); this.root.remove(); }
    const root = document.createElement("div");
    root.className = "vx";
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", t("attention.title"));
    const speeds = d.speeds.map((s) => `<option value="${s}">${escape(t("attention.seconds", {s}))}</option>`);
    const button = (act, key, text) =>
      `<button type="button" data-act="${act}" aria-keyshortcuts="${key}">${escape(t(text))}</button>`;
    const pool = d.block > 1 ? `<fieldset class="vx-radios"><legend>${escape(t("attention.pool_label"))}</legend>
        ${["mean", "amax"].map((k) => `<label><input type="radio" name="vx-pool-${d.uid}" value="${k}">
        ${escape(t(`attention.pool_${k}`))}</label>`).join("")}</fieldset>` : "";
    root.innerHTML = `
      <div class="vx-controls">
        <div class="vx-sliders">
          <label class="vx-slider">
            <span>${escape(t("attention.layer_slider", {L}))}: <b class="vx-value-layer"></b></span>
            <input type="range" min="1" max="${L}" step="1" data-key="layer" ${L > 1 ? "" : "disabled"}></label>
          <label class="vx-slider">
            <span>${escape(t("attention.head_slider", {H}))}: <b class="vx-value-head"></b></span>
            <input type="range" min="1" max="${H}" step="1" data-key="head" ${H > 1 ? "" : "disabled"}></label>
        </div>
        <div class="vx-buttons">
          ${button("prev-head", "ArrowLeft", "attention.prev")}
          ${button("next-head", "ArrowRight", "attention.next")}
          ${button("prev-layer", "ArrowUp", "attention.prev_layer")}
          ${button("next-layer", "ArrowDown", "attention.next_layer")}
          <button type="button" data-act="play" aria-pressed="false" aria-keyshortcuts="Space"></button>
          <label class="vx-speed">${escape(t("attention.speed"))}
            <select data-key="speed">${speeds.join("")}</select></label>
        </div>
        <p class="vx-position"><span class="vx-where" aria-live="polite"></span> <span class="vx-ends"></span></p>
        <p class="vx-note">${escape(t("attention.keys"))}</p>
      </div>
      <h3 class="vx-matrix-title"></h3>
      <div class="vx-row">
        <div class="vx-col vx-wide">
          ${pool}
          <div class="vx-box"><canvas class="vx-matrix" role="img"></canvas></div>
          <p class="vx-caption vx-matrix-caption"></p>
          <p class="vx-caption vx-pooled"></p>
          <details class="vx-text"><summary></summary><div class="vx-matrix-text"></div></details>
        </div>
        <div class="vx-col">
          <p>${markdown(t("attention.cls_title"))}</p>
          <div class="vx-box vx-map-box"><canvas class="vx-cls" role="img"></canvas></div>
          <p class="vx-caption vx-cls-caption"></p>
          <details class="vx-text"><summary></summary><div class="vx-cls-text"></div></details>
        </div>
      </div>
      <h3>${escape(t("attention.query_title"))}</h3>
      <p>${markdown(t("attention.query_intro", {how: t(touch() ? "attention.query_intro_tap"
                                                                         : "attention.query_intro_click")}))}</p>
      <div class="vx-row">
        <div class="vx-col">
          <div class="vx-box vx-map-box"><canvas class="vx-query" role="img"></canvas></div>
          <p class="vx-caption vx-query-caption"></p>
          <label class="vx-number">${escape(t("attention.query_input", {N: d.T - 2}))}
            <input type="number" inputmode="numeric" min="0" max="${d.T - 2}" step="1" data-key="query"></label>
          <p class="vx-warning" role="status"></p>
          <details class="vx-text"><summary></summary><div class="vx-query-text"></div></details>
        </div>
        <div class="vx-col">
          <dl class="vx-metrics">
            <div><dt>${escape(t("attention.on_cls"))}</dt><dd class="vx-on-cls"></dd></div>
            <div><dt>${escape(t("attention.on_self"))}</dt><dd class="vx-on-self"></dd></div>
            <div><dt>${escape(t("attention.distance_metric"))}</dt><dd class="vx-distance"></dd></div>
          </dl>
        </div>
      </div>
      <h3>${escape(t("attention.grid_title", {L, H}))}</h3>
      <fieldset class="vx-radios"><legend>${escape(t("attention.grid_rows"))}</legend>
        <label><input type="radio" name="vx-rows-${d.uid}" value="cls"> ${escape(t("attention.grid_rows_cls"))}</label>
        <label><input type="radio" name="vx-rows-${d.uid}" value="query"> <span class="vx-rows-query"></span></label>
      </fieldset>
      <div class="vx-row">
        <div class="vx-col vx-wide">
          <div class="vx-box"><canvas class="vx-grid" role="img"></canvas></div>
          <p class="vx-caption vx-grid-caption"></p>
          <button type="button" data-act="grid-png">${escape(t("common.download_png"))}</button>
        </div>
        <div class="vx-col">
          <p class="vx-average-title"></p>
          <div class="vx-box vx-map-box"><canvas class="vx-average" role="img"></canvas></div>
          <p class="vx-caption">${escape(t("attention.average_caption", {H}))}</p>
          <p class="vx-rollout-title"></p>
          <div class="vx-box vx-map-box"><canvas class="vx-rollout" role="img"></canvas></div>
          <p class="vx-caption vx-rollout-caption"></p>
        </div>
      </div>
      <h3>${escape(t("attention.distance_title"))}</h3>
      <div class="vx-box"><canvas class="vx-dist" role="img"></canvas></div>
      <ul class="vx-legend">
        <li><span class="vx-key vx-key-uniform"></span>${escape(t("attention.distance_uniform", {u: d.uniform}))}</li>
        <li><span class="vx-key vx-key-mean"></span>${escape(t("attention.distance_mean"))}</li>
        <li><span class="vx-key vx-key-heads"></span>${escape(t("attention.distance_heads"))}</li>
        <li><span class="vx-key vx-key-current"></span>${escape(t("attention.distance_current"))}</li>
      </ul>
      <details class="vx-text"><summary>${escape(t("alt.as_text", {title: t("attention.distance_title")}))}</summary>
        <div class="vx-dist-text"></div></details>
      <div class="vx-tip" role="tooltip" hidden></div>`;
    this.parent.appendChild(root);
    this.root = root;
    const $ = (sel) => root.querySelector(sel);
    this.el = {
      layer: $("[data-key=layer]"), head: $("[data-key=head]"),
      speed: $("[data-key=speed]"), query: $("[data-key=query]"), warning: $(".vx-warning"),
      matrix: $(".vx-matrix"), cls: $(".vx-cls"), queryMap: $(".vx-query"), grid: $(".vx-grid"),
      average: $(".vx-average"), rollout: $(".vx-rollout"), dist: $(".vx-dist"), tip: $(".vx-tip"),
    };
    this.el.speed.value = String(this.state.speed);
    for (const canvas of root.querySelectorAll("canvas")) this.resize.observe(canvas.parentElement);
    this.wire();
  }

  wire() {
    const root = this.root, el = this.el;
    root.addEventListener("click", (e) => {
      const act = e.target.closest("[data-act]")?.dataset.act;
      if (act) this.act(act);
    });
    el.layer.addEventListener("input", () => this.go({layer: Number(el.layer.value)}));
    el.head.addEventListener("input", () => this.go({head: Number(el.head.value)}));
    el.speed.addEventListener("change", () => {
      this.state.speed = Number(el.speed.value);
      this.play(this.state.playing);
    });
    el.query.addEventListener("change", () => this.typed(el.query.value));
    el.query.addEventListener("keydown", (e) => { if (e.key === "Enter") this.typed(el.query.value); });
    for (const radio of root.querySelectorAll("input[type=radio]")) {
      radio.addEventListener("change", () => {
        this.go(radio.name.startsWith("vx-pool") ? {pool: radio.value} : {rows: radio.value});
      });
    }
    const cellOf = (canvas, e, box) => {  // the cell of a g×g map under the pointer, or null
      const r = canvas.getBoundingClientRect(), [x0, y0, size, n] = box;
      const x = (e.clientX - r.left - x0) / size * n, y = (e.clientY - r.top - y0) / size * n;
      return x >= 0 && y >= 0 && x < n && y < n ? [Math.floor(y), Math.floor(x)] : null;
    };
    el.queryMap.addEventListener("click", (e) => {
      const cell = cellOf(el.queryMap, e, this.boxes.query);
      if (cell) this.go({query: cell[0] * this.s.g + cell[1]});
    });
    el.grid.addEventListener("click", (e) => {
      const hit = this.gridHit(e);
      if (hit) this.go({layer: hit[0], head: hit[1]});
    });
    el.dist.addEventListener("click", (e) => {
      const hit = this.distHit(e);
      if (hit) this.go({layer: hit[0], head: hit[1]});
    });
    const tip = (canvas, text) => {
      canvas.addEventListener("pointermove", (e) => this.tip(e, text(e)));
      canvas.addEventListener("pointerdown", (e) => this.tip(e, text(e)));  // a tap on a touch screen
      canvas.addEventListener("pointerleave", () => { el.tip.hidden = true; });
    };
    tip(el.matrix, (e) => this.matrixTip(e));
    tip(el.cls, (e) => this.mapTip(e, el.cls, "cls"));
    tip(el.queryMap, (e) => this.mapTip(e, el.queryMap, "query"));
    tip(el.grid, (e) => {
      const h = this.gridHit(e);
      return h && this.t("attention.tip_head", {layer: h[0], head: h[1]});
    });
    tip(el.dist, (e) => {
      const h = this.distHit(e);
      return h && this.t("attention.tip_distance", {layer: h[0], head: h[1],
                                                    px: this.d.dist[(h[0] - 1) * this.d.H + h[1] - 1].toFixed(1)});
    });
  }

  tip(e, text) {
    const tip = this.el.tip;
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    const r = this.root.getBoundingClientRect(), w = tip.offsetWidth;
    const x = Math.min(e.clientX - r.left + 14, this.root.clientWidth - w - 4);
    tip.style.left = `${Math.max(0, x)}px`;
    tip.style.top = `${e.clientY - r.top + 16}px`;
  }

  // ---- state --------------------------------------------------------------------------------------------------------
  act(act) {
    const {layer, head} = this.state, L = this.d.L, H = this.d.H;
    if (act === "play") return this.play(!this.state.playing);
    if (act === "grid-png") return this.download();
    if (this.state.playing) return;
    if (act === "next-head" || act === "prev-head") {
      const pos = Math.min(Math.max((layer - 1) * H + head - 1 + (act === "next-head" ? 1 : -1), 0), L * H - 1);
      this.go({layer: Math.floor(pos / H) + 1, head: (pos % H) + 1});
    } else if (act === "next-layer" || act === "prev-layer") {
      this.go({layer: Math.min(Math.max(layer + (act === "next-layer" ? 1 : -1), 1), L)});
    }
  }

  go(change) {
    Object.assign(this.state, change);
    if ("query" in change) this.el.warning.textContent = "";
    this.draw();
    this.schedule();
  }

  typed(value) {
    const last = this.d.T - 2, asked = Number(value);
    if (value === "" || !Number.isFinite(asked)) { this.el.query.value = String(this.state.query); return; }
    const shown = Math.min(Math.max(Math.round(asked), 0), last);
    this.el.query.value = String(shown);
    this.go({query: shown});
    if (shown !== asked) {
      this.el.warning.textContent = this.t("attention.clamped_typed_query", {asked: value, shown, last});
    }
  }

  play(on) {
    clearInterval(this.timer);
    this.state.playing = on;
    if (on) {
      this.timer = setInterval(() => {
        if (!this.root.isConnected) return this.play(false);
        const {layer, head} = this.state, L = this.d.L, H = this.d.H, pos = ((layer - 1) * H + head) % (L * H);
        const next = {layer: Math.floor(pos / H) + 1, head: (pos % H) + 1};
        if (!this.s.has(next.layer) && !this.s.complete) return this.schedule(LOADING_MS);  // wait for it
        this.go(next);
      }, this.state.speed * 1000);
    }
    this.draw();
  }

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
  }

  lacks() {  // the layers the server sends a big model (app/explorer.py, window): this one and the next one ahead
    const {layer, head} = this.state, ahead = head > this.d.H / 2 ? layer + 1 : layer - 1;
    return !this.s.has(layer) || (ahead >= 1 && ahead <= this.d.L && !this.s.has(ahead));
  }

  key(e) {  // ←/→ heads, ↑/↓ layers, space play: from the page or from inside the explorer, not from another field
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || !this.root.isConnected) return;
    const target = e.target, inside = this.root.contains(target);
    const field = target.closest?.("input, select, textarea, [contenteditable=''], [contenteditable=true], "
                                    + "[role=slider]");
    if (field || (!inside && target !== document.body && target !== document.documentElement)) return;
    if (e.key === " " && target.closest?.("button, summary, a")) return;  // space presses what has the focus
    const act = {ArrowRight: "next-head", ArrowLeft: "prev-head", ArrowDown: "next-layer", ArrowUp: "prev-layer",
                 " ": "play"}[e.key];
    if (!act) return;
    e.preventDefault();
    this.act(act);
  }

  // ---- drawing ------------------------------------------------------------------------------------------------------
  draw() {
    if (!this.root || !this.root.isConnected) return;
    const d = this.d, st = this.state, t = (k, v) => this.t(k, v), el = this.el, L = d.L, H = d.H, g = d.g;
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
    this.drawMaps(loaded);
    this.drawGrid();
    this.drawDistances();
  }

  canvas(canvas, height) {  // size a canvas to its box at the screen's pixel ratio; returns its context and width
    const w = Math.max(120, Math.floor(canvas.parentElement.clientWidth)), h = Math.round(height(w));
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = `${this.d.font}px ${getComputedStyle(this.root).fontFamily}`;
    ctx.fillStyle = getComputedStyle(this.root).color;
    return {ctx, w, h};
  }

  cells(ctx, values, n, x0, y0, size, colours, scale) {  // an n×n grid of values drawn as one scaled bitmap
    const img = new ImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const c = colours[Math.max(0, Math.min(255, Math.round(scale(values[i]) * 255)))];
      img.data.set([c[0], c[1], c[2], 255], 4 * i);
    }
    const off = document.createElement("canvas");
    off.width = n; off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, x0, y0, size, size);
  }

  outline(ctx, x, y, size, width, height = size) {  // as app/plots.mark: cyan, dashed with black, drawn inwards
    ctx.save();
    ctx.lineWidth = width;
    ctx.strokeStyle = this.d.highlight;
    ctx.strokeRect(x + width / 2, y + width / 2, size - width, height - width);
    ctx.setLineDash([Math.max(4, 2 * width), Math.max(4, 2 * width)]);
    ctx.strokeStyle = "black";
    ctx.strokeRect(x + width / 2, y + width / 2, size - width, height - width);
    ctx.restore();
  }

  drawMatrix(loaded) {
    const d = this.d, el = this.el, st = this.state, T = d.T, t = (k, v) => this.t(k, v);
    const left = 64, top = 8, bar = 44, bottom = 46;  // px: the ticks and title, the colour bar, the key axis
    const sideOf = (w) => Math.max(40, Math.min(w, d.matrix_cap) - left - bar);  // square cells, as wide as fits
    const {ctx, w} = this.canvas(el.matrix, (w) => top + sideOf(w) + bottom);
    const m = loaded ? this.s.matrix(st.layer, st.head) : null;
    const side = sideOf(w);
    this.boxes.matrix = [left, top, side, 0];
    if (!m) {
      ctx.fillText(t("attention.loading"), left, top + 20);
      el.matrix.setAttribute("aria-label", t("attention.loading"));
      return;
    }
    const {z, G} = pooled(m.m, T, d.block, st.pool), zmax = Math.max(...z);
    this.boxes.matrix = [left, top, side, G];
    this.pooledZ = z;
    this.cells(ctx, z, G, left, top, side, this.seq, (v) => v / (zmax || 1));
    const cell = side / G, qrow = 1 + Math.floor(st.query / d.block);
    this.outline(ctx, left, top + qrow * cell, side, Math.max(1, Math.min(3, cell / 3)), cell);
    // ticks: cls, then the first patch of some image rows (as the Plotly chart had them)
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    const step = Math.max(1, Math.ceil(d.g / 8)), ticks = [[0, d.labels_cls]];
    for (let r = step; r < d.g; r += step) ticks.push([1 + Math.floor((r * d.g) / d.block), String(r * d.g)]);
    for (const [i, label] of ticks) ctx.fillText(label, left - 4, top + (i + 0.5) * cell);
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (const [i, label] of ticks) ctx.fillText(label, left + (i + 0.5) * cell, top + side + 4);
    ctx.fillText(t("attention.axis_key"), left + side / 2, top + side + 24);
    ctx.save();
    ctx.translate(14, top + side / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle";
    ctx.fillText(t("attention.axis_query"), 0, 0);
    ctx.restore();
    this.colourBar(ctx, left + side + 6, top, side, this.seq, 0, zmax);
    const row = this.s.row(st.layer, st.head, st.query + 1);
    let qsum = 0;
    for (const v of row) qsum += v;
    el.matrix.parentElement.parentElement.querySelector(".vx-matrix-caption").innerHTML = markdown(
      t("attention.matrix_caption", {T, top: m.top, qsum, q: st.query}) + " "
      + t(touch() ? "attention.matrix_hint_tap" : "attention.matrix_hint_hover"));
    if (d.block > 1) {
      this.root.querySelector(".vx-pooled").textContent = t("attention.pooled_caption",
        {T, b: d.block, G, how: t(`attention.pool_${st.pool}`)});
    }
    const title = t("attention.matrix_title", {layer: st.layer, head: st.head});
    const best = strongest(z, 1)[0], [br, bc] = [Math.floor(best[0] / G), best[0] % G];
    const said = t("alt.matrix", {T, G, top: number(best[1]), q: d.matrix_labels[br], k: d.matrix_labels[bc],
                                  query: this.patch(st.query)});
    el.matrix.setAttribute("aria-label", `${title}. ${said}`);
    const keys = strongest(patches(row), d.rows_n).map(([k, v]) => [this.patch(k), number(v)]);
    keys.unshift([d.labels_cls, number(row[0])]);
    this.textTable(el.matrix.closest(".vx-col").querySelector(".vx-text"),
                   t("alt.as_text", {title}), said, [t("alt.col_key"), t("alt.col_value")], keys);
  }

  colourBar(ctx, x, y, h, colours, lo, hi) {
    for (let i = 0; i < h; i++) {
      ctx.fillStyle = css(colours[Math.round(255 * (1 - i / (h - 1)))]);
      ctx.fillRect(x, y + i, 10, 1);
    }
    ctx.fillStyle = getComputedStyle(this.root).color;
    ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (const f of [0, 0.5, 1]) ctx.fillText((lo + (hi - lo) * f).toFixed(hi < 0.1 ? 3 : 2), x + 13, y + h * (1 - f));
  }

  overlay(canvas, values, outlined, key) {  // a g×g map over the model's view, scaled to [0, 1], as app/plots.map_over
    const d = this.d, g = d.g, {ctx, w} = this.canvas(canvas, (w) => Math.min(w, d.map_cap));
    const side = Math.min(w, d.map_cap);
    this.boxes[key] = [0, 0, side, g];
    if (!values) {
      ctx.fillText(this.t("attention.loading"), 8, 20);
      return false;
    }
    let lo = Infinity, hi = -Infinity;
    for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    ctx.imageSmoothingEnabled = false;
    if (this.view.complete && this.view.naturalWidth) ctx.drawImage(this.view, 0, 0, side, side);
    ctx.globalAlpha = 0.55;
    this.cells(ctx, values, g, 0, 0, side, this.heat, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
    ctx.globalAlpha = 1;
    if (outlined !== null) {
      const cell = side / g;
      const width = Math.max(2, Math.round(cell / 8));
      this.outline(ctx, (outlined % g) * cell, Math.floor(outlined / g) * cell, cell, width);
    }
    return true;
  }

  described(what, values, outlined) {  // as app/describe.heat
    const [[k1, v1], second] = strongest(values, 2);
    let low = 0;
    for (let k = 1; k < values.length; k++) if (values[k] < values[low]) low = k;
    let text = this.t("alt.heat", {what, top: this.patch(k1), v: number(v1), low: this.patch(low),
                                   vlow: number(values[low])});
    if (second) text += " " + this.t("alt.heat_second", {second: this.patch(second[0]), v: number(second[1])});
    if (outlined !== null) text += " " + this.t("alt.outlined", {patch: this.patch(outlined)});
    return text;
  }

  textTable(details, title, sentences, columns, rows) {
    details.querySelector("summary").textContent = title;
    const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("");
    details.querySelector("div").innerHTML = `<p>${escape(sentences)}</p><table><thead><tr>${columns.map(
      (c) => `<th scope="col">${escape(c)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`;
  }

  mapRows(values) {
    return strongest(values, this.d.rows_n).map(([k, v]) => [this.patch(k), number(v)]);
  }

  drawMaps(loaded) {
    const d = this.d, st = this.state, el = this.el, t = (k, v) => this.t(k, v), {layer, head, query} = st;
    const cls = this.s.row(layer, head, 0), row = this.s.row(layer, head, query + 1);
    const col = (c) => c.closest(".vx-col");
    if (this.overlay(el.cls, cls && patches(cls), null, "cls")) {
      const map = patches(cls), at = strongest(map, 1)[0];
      el.cls.parentElement.parentElement.querySelector(".vx-cls-caption").textContent =
        t("attention.cls_caption", {self: cls[0], top: at[1], at: at[0]});
      const said = this.described(t("alt.cls_map", {layer, head, self: number(cls[0])}), map, null);
      el.cls.setAttribute("aria-label", said);
      this.textTable(col(el.cls).querySelector(".vx-text"),
                     t("alt.as_text", {title: t("alt.t_cls_map", {layer, head})}),
                     said, [t("alt.col_patch"), t("alt.col_value")], this.mapRows(map));
    }
    if (this.overlay(el.queryMap, row && patches(row), query, "query")) {
      const map = patches(row), g = d.g;
      col(el.queryMap).querySelector(".vx-query-caption").textContent =
        t("attention.query_caption", {q: query, r: Math.floor(query / g), c: query % g}) + " "
        + t(touch() ? "attention.tap_hint" : "attention.click_hint");
      const said = this.described(t("alt.query_map", {layer, head, patch: this.patch(query)}), map, query);
      el.queryMap.setAttribute("aria-label", said);
      this.textTable(col(el.queryMap).querySelector(".vx-text"),
                     t("alt.as_text", {title: t("alt.t_query_map", {k: query})}),
                     said, [t("alt.col_patch"), t("alt.col_value")], this.mapRows(map));
      this.root.querySelector(".vx-on-cls").textContent = row[0].toFixed(3);
      this.root.querySelector(".vx-on-self").textContent = row[query + 1].toFixed(3);
    }
    this.root.querySelector(".vx-distance").textContent = `${d.dist[(layer - 1) * d.H + head - 1].toFixed(1)} px`;
    const r = st.rows === "cls" ? 0 : query + 1, outlined = st.rows === "cls" ? null : query;
    const average = this.s.average(layer, r), roll = this.s.rollout(layer, r);
    if (!average || !roll) this.waiting = true;
    this.root.querySelector(".vx-average-title").innerHTML = markdown(t("attention.average_title", {layer, H: d.H}));
    this.root.querySelector(".vx-rollout-title").innerHTML = markdown(t("attention.rollout_title", {layer}));
    this.root.querySelector(".vx-rollout-caption").innerHTML = markdown(
      layer === 1 ? t("attention.rollout_caption_first") : t("attention.rollout_caption", {layer}));
    if (this.overlay(el.average, average && patches(average), outlined, "average")) {
      el.average.setAttribute("aria-label",
                              this.described(t("alt.average", {layer, H: d.H}), patches(average), outlined));
    }
    if (this.overlay(el.rollout, roll && patches(roll), outlined, "rollout")) {
      el.rollout.setAttribute("aria-label", this.described(t("alt.rollout", {layer}), patches(roll), outlined));
    }
  }

  gridRows() {  // (L·H) maps of g·g for the chosen row, each scaled to [0, 1]; null entries where not loaded
    const st = this.state, s = this.s, r = st.rows === "cls" ? 0 : st.query + 1, out = [];
    for (let l = 1; l <= this.d.L; l++) for (let h = 1; h <= this.d.H; h++) {
      const row = s.row(l, h, r);
      out.push(row && patches(row));
    }
    return out;
  }

  drawGrid() {
    const d = this.d, st = this.state, L = d.L, H = d.H, g = d.g, t = (k, v) => this.t(k, v);
    const label = 28, gap = 2;
    const {ctx, w} = this.canvas(this.el.grid, (w) => {
      const cell = Math.min(d.grid_cap, Math.floor((Math.min(w, 560) - label) / H) - gap);
      return label + L * (cell + gap) + 4;
    });
    const cell = Math.min(d.grid_cap, Math.floor((Math.min(w, 560) - label) / H) - gap);
    this.boxes.grid = [label, label, cell + gap];
    const maps = this.gridRows();
    if (maps.some((m) => !m)) this.waiting = true;
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(t("attention.grid_head"), label + (H * (cell + gap)) / 2, 7);
    for (let h = 0; h < H; h++) ctx.fillText(String(h + 1), label + h * (cell + gap) + cell / 2, 20);
    ctx.save(); ctx.translate(7, label + (L * (cell + gap)) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(t("attention.grid_layer"), 0, 0); ctx.restore();
    for (let l = 0; l < L; l++) ctx.fillText(String(l + 1), 20, label + l * (cell + gap) + cell / 2);
    let narrow = null, broad = null;
    maps.forEach((m, i) => {
      const x = label + (i % H) * (cell + gap), y = label + Math.floor(i / H) * (cell + gap);
      if (!m) { ctx.fillStyle = "#888"; ctx.fillRect(x, y, cell, cell); return; }
      let lo = Infinity, hi = -Infinity;
      for (const v of m) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      this.cells(ctx, m, g, x, y, cell, this.heat, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
      if (!narrow || hi > narrow[1]) narrow = [i, hi];
      if (!broad || hi < broad[1]) broad = [i, hi];
    });
    const i = (st.layer - 1) * H + st.head - 1;
    this.outline(ctx, label + (i % H) * (cell + gap) - 2, label + Math.floor(i / H) * (cell + gap) - 2, cell + 4, 3);
    this.root.querySelector(".vx-grid-caption").textContent = t("attention.grid_caption",
      {layer: st.layer, head: st.head, L, H});
    if (narrow) {
      const row = st.rows === "cls" ? t("alt.row_cls") : t("alt.row_query", {k: st.query});
      const at = (k) => [Math.floor(k / H) + 1, (k % H) + 1];
      const [nl, nh] = at(narrow[0]), [bl, bh] = at(broad[0]);
      this.el.grid.setAttribute("aria-label", t("alt.heads_grid", {
        L, H, row, layer: st.layer, head: st.head, nl, nh, nv: number(narrow[1]), bl, bh, bv: number(broad[1])}));
    }
  }

  gridHit(e) {
    const [x0, y0, step] = this.boxes.grid || [], r = this.el.grid.getBoundingClientRect();
    if (!step) return null;
    const c = Math.floor((e.clientX - r.left - x0) / step), l = Math.floor((e.clientY - r.top - y0) / step);
    return c >= 0 && l >= 0 && c < this.d.H && l < this.d.L ? [l + 1, c + 1] : null;
  }

  drawDistances() {
    const d = this.d, L = d.L, H = d.H, st = this.state, t = (k, v) => this.t(k, v);
    const {ctx, w, h} = this.canvas(this.el.dist, () => 300);
    const left = 56, right = 12, top = 10, bottom = 40, pw = w - left - right, ph = h - top - bottom;
    const ymax = Math.max(d.uniform, ...d.dist) * 1.08 || 1;
    const X = (l) => left + ((l - 0.5) / L) * pw, Y = (v) => top + ph * (1 - v / ymax);
    this.boxes.dist = {X, Y};
    ctx.strokeStyle = "rgba(128,128,128,0.35)"; ctx.lineWidth = 1;
    ctx.textAlign = "right"; ctx.textBaseline = "middle";
    const ystep = niceStep(ymax / 5);
    for (let v = 0; v <= ymax; v += ystep) {
      ctx.beginPath(); ctx.moveTo(left, Y(v)); ctx.lineTo(left + pw, Y(v)); ctx.stroke();
      ctx.fillText(String(Math.round(v * 10) / 10), left - 4, Y(v));
    }
    ctx.textAlign = "center"; ctx.textBaseline = "top";
    for (let l = 1; l <= L; l++) ctx.fillText(String(l), X(l), top + ph + 4);
    ctx.fillText(t("attention.distance_x"), left + pw / 2, top + ph + 22);
    ctx.save(); ctx.translate(12, top + ph / 2); ctx.rotate(-Math.PI / 2); ctx.textBaseline = "middle";
    ctx.fillText(t("attention.distance_y"), 0, 0); ctx.restore();
    ctx.setLineDash([6, 4]); ctx.strokeStyle = "rgba(230,40,40,0.6)"; ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(left, Y(d.uniform)); ctx.lineTo(left + pw, Y(d.uniform)); ctx.stroke();
    ctx.setLineDash([2, 3]); ctx.strokeStyle = "rgba(120,120,120,0.8)";
    ctx.beginPath();
    for (let l = 1; l <= L; l++) {
      let mean = 0;
      for (let k = 0; k < H; k++) mean += d.dist[(l - 1) * H + k] / H;
      if (l === 1) ctx.moveTo(X(l), Y(mean)); else ctx.lineTo(X(l), Y(mean));
    }
    ctx.stroke(); ctx.setLineDash([]);
    ctx.fillStyle = "rgba(76,120,168,0.75)";
    for (let i = 0; i < L * H; i++) {
      ctx.beginPath(); ctx.arc(X(Math.floor(i / H) + 1), Y(d.dist[i]), 4, 0, 2 * Math.PI); ctx.fill();
    }
    const v = d.dist[(st.layer - 1) * H + st.head - 1];
    ctx.fillStyle = "#e62828"; ctx.strokeStyle = "black"; ctx.lineWidth = 1.5;
    ctx.beginPath(); ctx.arc(X(st.layer), Y(v), 8, 0, 2 * Math.PI); ctx.fill(); ctx.stroke();
    this.el.dist.setAttribute("aria-label", t("alt.distances", {L, H, layer: st.layer, head: st.head,
                                                                px: v.toFixed(1), u: d.uniform.toFixed(1)}));
    if (!this.distTable) {
      const rows = [];
      for (let i = 0; i < L * H; i++) {
        rows.push([String(Math.floor(i / H) + 1), String((i % H) + 1), d.dist[i].toFixed(1)]);
      }
      this.textTable(this.root.querySelector(".vx-dist-text").parentElement,
                     t("alt.as_text", {title: t("attention.distance_title")}), t("alt.distances_all", {L, H}),
                     [t("attention.grid_layer"), t("attention.grid_head"), t("alt.col_px")], rows);
      this.distTable = true;
    }
  }

  distHit(e) {
    const b = this.boxes.dist, r = this.el.dist.getBoundingClientRect(), d = this.d;
    if (!b) return null;
    const x = e.clientX - r.left, y = e.clientY - r.top;
    let best = null;
    for (let i = 0; i < d.L * d.H; i++) {
      const dx = b.X(Math.floor(i / d.H) + 1) - x, dy = b.Y(d.dist[i]) - y, dd = dx * dx + dy * dy;
      if (dd < 64 && (!best || dd < best[1])) best = [i, dd];
    }
    return best && [Math.floor(best[0] / d.H) + 1, (best[0] % d.H) + 1];
  }

  matrixTip(e) {
    const [x0, y0, side, G] = this.boxes.matrix || [], r = this.el.matrix.getBoundingClientRect();
    if (!G) return null;
    const c = Math.floor((e.clientX - r.left - x0) / side * G), q = Math.floor((e.clientY - r.top - y0) / side * G);
    if (c < 0 || q < 0 || c >= G || q >= G) return null;
    const key = this.d.block > 1 ? `attention.tip_matrix_${this.state.pool}` : "attention.tip_matrix";
    return this.t(key, {q: this.d.matrix_labels[q], k: this.d.matrix_labels[c], v: this.pooledZ[q * G + c].toFixed(4)});
  }

  mapTip(e, canvas, key) {
    const box = this.boxes[key], r = canvas.getBoundingClientRect();
    if (!box) return null;
    const [x0, y0, side, g] = box, c = Math.floor((e.clientX - r.left - x0) / side * g);
    const rr = Math.floor((e.clientY - r.top - y0) / side * g);
    if (c < 0 || rr < 0 || c >= g || rr >= g) return null;
    const row = this.s.row(this.state.layer, this.state.head, key === "cls" ? 0 : this.state.query + 1);
    const k = rr * g + c;
    return row && this.t("attention.tip_map", {patch: this.patch(k), v: row[k + 1].toFixed(4)});
  }

  download() {  // the grid as it is drawn, as a PNG
    const a = document.createElement("a");
    a.href = this.el.grid.toDataURL("image/png");
    a.download = `attention_grid_${this.state.rows}.png`;
    a.click();
  }
}

const touch = () => window.matchMedia("(hover: none)").matches;  // a phone: tap, not hover

function niceStep(raw) {
  const p = 10 ** Math.floor(Math.log10(raw || 1)), f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

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
