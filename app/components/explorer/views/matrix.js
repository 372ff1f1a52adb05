// The attention matrix of the head in view (pooled for a big model), its caption, its sentence and table, and the value
// under the pointer. A mixin of Explorer.

const MatrixView = {
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
      t("attention.matrix_caption", {T, top: number(m.top), qsum: number(qsum), q: st.query}) + " "
      + t(touch() ? "attention.matrix_hint_tap" : "attention.matrix_hint_hover"));
    if (d.block > 1) {
      this.root.querySelector(".vx-pooled").textContent = t("attention.pooled_caption",
        {T, b: d.block, G, how: t(`attention.pool_${st.pool}`)});
    }
    const title = t("attention.matrix_title", {layer: st.layer, head: st.head});
    const said = matrixSentence(t, z, G, d.matrix_labels, st.query, d.g);
    el.matrix.setAttribute("aria-label", `${title}. ${said}`);
    const keys = mapRows(t, patches(row), d.g, d.rows_n);
    keys.unshift([d.labels_cls, number(row[0])]);
    this.textTable(el.matrix.closest(".vx-col").querySelector(".vx-text"),
                   t("alt.as_text", {title}), said, [t("alt.col_key"), t("alt.col_value")], keys);
  },

  matrixTip(e) {
    const [x0, y0, side, G] = this.boxes.matrix || [], r = this.el.matrix.getBoundingClientRect();
    if (!G) return null;
    const c = Math.floor((e.clientX - r.left - x0) / side * G), q = Math.floor((e.clientY - r.top - y0) / side * G);
    if (c < 0 || q < 0 || c >= G || q >= G) return null;
    const key = this.d.block > 1 ? `attention.tip_matrix_${this.state.pool}` : "attention.tip_matrix";
    return this.t(key, {q: this.d.matrix_labels[q], k: this.d.matrix_labels[c], v: number(this.pooledZ[q * G + c])});
  },
};
