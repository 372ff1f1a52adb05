// Every head of every layer as a small map of one row (cls's or the query patch's), the head in view framed; a click
// goes to a head, and the grid downloads as a PNG. A mixin of Explorer.

const GridView = {
  gridRows() {  // (L·H) maps of the chosen row's g·g patch weights; null entries where not loaded
    const st = this.state, s = this.s, r = st.rows === "cls" ? 0 : st.query + 1, out = [];
    for (let l = 1; l <= this.d.L; l++) for (let h = 1; h <= this.d.H; h++) {
      const row = s.row(l, h, r);
      out.push(row && patches(row));
    }
    return out;
  },

  gridCell(w) {  // px: a map's side in the grid for a box w wide
    return Math.min(this.d.grid_cap, Math.floor((Math.min(w, 560) - GRID_LABEL) / this.d.H) - GRID_GAP);
  },

  drawGrid() {
    const d = this.d, st = this.state, L = d.L, H = d.H, t = (k, v) => this.t(k, v), label = GRID_LABEL, gap = GRID_GAP;
    const {ctx, w} = this.canvas(this.el.grid, (w) => label + L * (this.gridCell(w) + gap) + 4);
    const cell = this.gridCell(w);
    this.boxes.grid = [label, label, cell + gap];
    const maps = this.gridRows();
    if (maps.some((m) => !m)) this.waiting = true;
    ctx.textAlign = "center"; ctx.textBaseline = "middle";
    ctx.fillText(t("attention.grid_head"), label + (H * (cell + gap)) / 2, 7);
    for (let h = 0; h < H; h++) ctx.fillText(String(h + 1), label + h * (cell + gap) + cell / 2, 20);
    ctx.save(); ctx.translate(7, label + (L * (cell + gap)) / 2); ctx.rotate(-Math.PI / 2);
    ctx.fillText(t("attention.grid_layer"), 0, 0); ctx.restore();
    for (let l = 0; l < L; l++) ctx.fillText(String(l + 1), 20, label + l * (cell + gap) + cell / 2);
    maps.forEach((m, i) => {
      const x = label + (i % H) * (cell + gap), y = label + Math.floor(i / H) * (cell + gap);
      if (!m) { ctx.fillStyle = "#888"; ctx.fillRect(x, y, cell, cell); return; }
      this.cells(ctx, scaled(m), d.g, x, y, cell, this.heat, (v) => v);
    });
    const i = (st.layer - 1) * H + st.head - 1;
    this.outline(ctx, label + (i % H) * (cell + gap) - 2, label + Math.floor(i / H) * (cell + gap) - 2, cell + 4, 3);
    this.root.querySelector(".vx-grid-caption").textContent = t("attention.grid_caption",
      {layer: st.layer, head: st.head, L, H});
    if (maps.every((m) => m)) {
      this.el.grid.setAttribute("aria-label", gridSentence(t, maps, L, H, st.layer, st.head,
                                                           st.rows === "cls" ? null : st.query));
    }
  },

  gridHit(e) {  // [layer, head] of the map under the pointer, or null
    const [x0, y0, step] = this.boxes.grid || [], r = this.el.grid.getBoundingClientRect();
    if (!step) return null;
    const c = Math.floor((e.clientX - r.left - x0) / step), l = Math.floor((e.clientY - r.top - y0) / step);
    return c >= 0 && l >= 0 && c < this.d.H && l < this.d.L ? [l + 1, c + 1] : null;
  },

  gridTip(e) {
    const h = this.gridHit(e);
    return h && this.t("attention.tip_head", {layer: h[0], head: h[1]});
  },

  download() {  // the grid as it is drawn, as a PNG
    const a = document.createElement("a");
    a.href = this.el.grid.toDataURL("image/png");
    a.download = `attention_grid_${this.state.rows}.png`;
    a.click();
  },
};

const GRID_LABEL = 28, GRID_GAP = 2;  // px: the grid's axis labels, and the gap between its maps
