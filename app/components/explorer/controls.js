// What a learner does: buttons, sliders, radios, the query number, clicks on the maps, the grid and the chart, keys,
// play. Each changes the state and draws (Explorer.go); nothing waits for the server. A mixin of Explorer.

const KEYS = {ArrowRight: "next-head", ArrowLeft: "prev-head", ArrowDown: "next-layer", ArrowUp: "prev-layer",
              " ": "play"};

const Controls = {
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
    el.queryMap.addEventListener("click", (e) => {
      const cell = this.cellAt(el.queryMap, e, this.boxes.query);
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
    tip(el.grid, (e) => this.gridTip(e));
    tip(el.dist, (e) => this.distTip(e));
  },

  cellAt(canvas, e, box) {  // the [row, column] of a g×g map under the pointer, or null
    if (!box) return null;
    const r = canvas.getBoundingClientRect(), [x0, y0, size, n] = box;
    const x = (e.clientX - r.left - x0) / size * n, y = (e.clientY - r.top - y0) / size * n;
    return x >= 0 && y >= 0 && x < n && y < n ? [Math.floor(y), Math.floor(x)] : null;
  },

  tip(e, text) {
    const tip = this.el.tip;
    if (!text) { tip.hidden = true; return; }
    tip.textContent = text;
    tip.hidden = false;
    const r = this.root.getBoundingClientRect(), w = tip.offsetWidth;
    const x = Math.min(e.clientX - r.left + 14, this.root.clientWidth - w - 4);
    tip.style.left = `${Math.max(0, x)}px`;
    tip.style.top = `${e.clientY - r.top + 16}px`;
  },

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
  },

  go(change) {
    Object.assign(this.state, change);
    if ("query" in change) this.el.warning.textContent = "";
    this.draw();
    this.schedule();
  },

  typed(value) {
    const last = this.d.T - 2, asked = Number(value);
    if (value === "" || !Number.isFinite(asked)) { this.el.query.value = String(this.state.query); return; }
    const shown = Math.min(Math.max(Math.round(asked), 0), last);
    this.el.query.value = String(shown);
    this.go({query: shown});
    if (shown !== asked) {
      this.el.warning.textContent = this.t("attention.clamped_typed_query", {asked: value, shown, last});
    }
  },

  stop() {  // no more steps of play mode: the learner paused, or the page was built anew (update)
    clearInterval(this.timer);
    this.timer = null;
    if (this.state) this.state.playing = false;
  },

  play(on) {  // start or stop stepping through every head of every layer
    this.stop();
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
  },

  key(e) {  // ←/→ heads, ↑/↓ layers, space play: from the page or inside the explorer, not from another field
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey || !this.root || !this.root.isConnected) return;
    const target = e.target, inside = this.root.contains(target);
    const field = target.closest?.("input, select, textarea, [contenteditable=''], [contenteditable=true], "
                                    + "[role=slider]");
    if (field || (!inside && target !== document.body && target !== document.documentElement)) return;
    if (e.key === " " && target.closest?.("button, summary, a")) return;  // space presses what has the focus
    const act = KEYS[e.key];
    if (!act) return;
    e.preventDefault();
    this.act(act);
  },
};
