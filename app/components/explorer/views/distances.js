// Every head's mean attention distance against its layer (paper Fig. 7, right), the head in view marked; a click on a
// dot goes to that head. Its table of every head is written once per page built. A mixin of Explorer.

const DistancesView = {
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
    this.el.dist.setAttribute("aria-label", distancesSentence(t, L, H, st.layer, st.head, v, d.uniform));
    if (!this.distTable) {
      const rows = [];
      for (let i = 0; i < L * H; i++) {
        rows.push([String(Math.floor(i / H) + 1), String((i % H) + 1), number(d.dist[i])]);
      }
      this.textTable(this.root.querySelector(".vx-dist-text").parentElement,
                     t("alt.as_text", {title: t("attention.distance_title")}), t("alt.distances_all", {L, H}),
                     [t("attention.grid_layer"), t("attention.grid_head"), t("alt.col_px")], rows);
      this.distTable = true;
    }
  },

  distHit(e) {  // [layer, head] of the dot under the pointer (within 8 px), or null
    const b = this.boxes.dist, r = this.el.dist.getBoundingClientRect(), d = this.d;
    if (!b) return null;
    const x = e.clientX - r.left, y = e.clientY - r.top;
    let best = null;
    for (let i = 0; i < d.L * d.H; i++) {
      const dx = b.X(Math.floor(i / d.H) + 1) - x, dy = b.Y(d.dist[i]) - y, dd = dx * dx + dy * dy;
      if (dd < 64 && (!best || dd < best[1])) best = [i, dd];
    }
    return best && [Math.floor(best[0] / d.H) + 1, (best[0] % d.H) + 1];
  },

  distTip(e) {
    const h = this.distHit(e);
    return h && this.t("attention.tip_distance", {layer: h[0], head: h[1],
                                                  px: number(this.d.dist[(h[0] - 1) * this.d.H + h[1] - 1])});
  },
};

function niceStep(raw) {  // a round step for an axis: 1, 2 or 5 times a power of ten
  const p = 10 ** Math.floor(Math.log10(raw || 1)), f = raw / p;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}
