// The maps over the picture: where the cls token looks and where the query patch looks (head in view), the head
// average and the rollout (layer in view), each with its sentence and, for cls and query, its table. A mixin.

const MapsView = {
  overlay(canvas, values, outlined, key) {  // a g×g map over the model's view, scaled to [0, 1], as app/plots.map_over
    const d = this.d, g = d.g, {ctx, w} = this.canvas(canvas, (w) => Math.min(w, d.map_cap));
    const side = Math.min(w, d.map_cap);
    this.boxes[key] = [0, 0, side, g];
    if (!values) {
      ctx.fillText(this.t("attention.loading"), 8, 20);
      return false;
    }
    ctx.imageSmoothingEnabled = false;
    if (this.view.complete && this.view.naturalWidth) ctx.drawImage(this.view, 0, 0, side, side);
    ctx.globalAlpha = 0.55;
    this.cells(ctx, scaled(values), g, 0, 0, side, this.heat, (v) => v);
    ctx.globalAlpha = 1;
    if (outlined !== null) {
      const cell = side / g;
      const width = Math.max(2, Math.round(cell / 8));
      this.outline(ctx, (outlined % g) * cell, Math.floor(outlined / g) * cell, cell, width);
    }
    return true;
  },

  drawMaps() {
    const d = this.d, st = this.state, el = this.el, t = (k, v) => this.t(k, v), {layer, head, query} = st, g = d.g;
    const cls = this.s.row(layer, head, 0), row = this.s.row(layer, head, query + 1);
    const col = (c) => c.closest(".vx-col");
    if (this.overlay(el.cls, cls && patches(cls), null, "cls")) {
      const map = patches(cls), at = strongest(map, 1)[0];
      col(el.cls).querySelector(".vx-cls-caption").textContent =
        t("attention.cls_caption", {self: number(cls[0]), top: number(at[1]), at: at[0]});
      const said = clsMapSentence(t, layer, head, map, g, cls[0]);
      el.cls.setAttribute("aria-label", said);
      this.textTable(col(el.cls).querySelector(".vx-text"),
                     t("alt.as_text", {title: t("alt.t_cls_map", {layer, head})}), said,
                     [t("alt.col_patch"), t("alt.col_value")], mapRows(t, map, g, d.rows_n));
    }
    if (this.overlay(el.queryMap, row && patches(row), query, "query")) {
      const map = patches(row);
      col(el.queryMap).querySelector(".vx-query-caption").textContent =
        t("attention.query_caption", {patch: patchPlace(t, query, g)}) + " "
        + t(touch() ? "attention.tap_hint" : "attention.click_hint");
      const said = queryMapSentence(t, layer, head, query, map, g);
      el.queryMap.setAttribute("aria-label", said);
      this.textTable(col(el.queryMap).querySelector(".vx-text"),
                     t("alt.as_text", {title: t("alt.t_query_map", {k: query})}), said,
                     [t("alt.col_patch"), t("alt.col_value")], mapRows(t, map, g, d.rows_n));
      this.root.querySelector(".vx-on-cls").textContent = number(row[0]);
      this.root.querySelector(".vx-on-self").textContent = number(row[query + 1]);
    }
    this.root.querySelector(".vx-distance").textContent = `${number(d.dist[(layer - 1) * d.H + head - 1])} px`;
    const r = st.rows === "cls" ? 0 : query + 1, outlined = st.rows === "cls" ? null : query;
    const average = this.s.average(layer, r), roll = this.s.rollout(layer, r);
    if (!average || !roll) this.waiting = true;
    this.root.querySelector(".vx-average-title").innerHTML = markdown(t("attention.average_title", {layer, H: d.H}));
    this.root.querySelector(".vx-rollout-title").innerHTML = markdown(t("attention.rollout_title", {layer}));
    this.root.querySelector(".vx-rollout-caption").innerHTML = markdown(
      layer === 1 ? t("attention.rollout_caption_first") : t("attention.rollout_caption", {layer}));
    if (this.overlay(el.average, average && patches(average), outlined, "average")) {
      el.average.setAttribute("aria-label", averageSentence(t, layer, d.H, patches(average), g, outlined));
    }
    if (this.overlay(el.rollout, roll && patches(roll), outlined, "rollout")) {
      el.rollout.setAttribute("aria-label", rolloutSentence(t, layer, patches(roll), g, outlined));
    }
  },

  mapTip(e, canvas, key) {
    const cell = this.cellAt(canvas, e, this.boxes[key]);
    if (!cell) return null;
    const row = this.s.row(this.state.layer, this.state.head, key === "cls" ? 0 : this.state.query + 1);
    const k = cell[0] * this.d.g + cell[1];
    return row && this.t("attention.tip_map", {patch: patchPlace(this.t.bind(this), k, this.d.g),
                                               v: number(row[k + 1])});
  },
};
