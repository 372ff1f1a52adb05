// The picture's attentions as app/components/explorer/__init__.py sends them (payload): every layer, or a big model's
// window of layers, 8 bits a weight with one scale a row, and every head's cls and query rows. Decoding is
// numbers.js's dequantised (a port of vit_core.views.dequantised); base64 is read by ../shared/bytes.js.

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
    const one = (r) => ({q: bytes(r.q), s: floats(r.s), roll: floats(r.roll)});
    this.rows = {cls: one(d.rows.cls), query: {k: d.rows.query.k, ...one(d.rows.query)}};
  }

  has(layer) { return this.layers.has(layer - 1); }

  kept(r) {  // the rows of every layer sent for token row r (0: cls, 1 + k: patch k), or null
    return r === 0 ? this.rows.cls : this.rows.query.k + 1 === r ? this.rows.query : null;
  }

  row(layer, head, r) {  // head's attention row r (0: cls, 1 + k: patch k) as T floats; null when not loaded
    const T = this.T, b = this.layers.get(layer - 1);
    if (b) return dequantised(b.att, b.scale[(head - 1) * T + r], ((head - 1) * T + r) * T, T);
    const which = this.kept(r);
    if (!which) return null;
    const i = (layer - 1) * this.H + (head - 1);
    return dequantised(which.q, which.s[i], i * T, T);
  }

  matrix(layer, head) {  // (T, T) floats and the head's largest weight; null when not loaded
    const T = this.T, b = this.layers.get(layer - 1);
    if (!b) return null;
    const m = new Float32Array(T * T);
    let top = 0;
    for (let r = 0; r < T; r++) {
      top = Math.max(top, b.scale[(head - 1) * T + r]);
      m.set(this.row(layer, head, r), r * T);
    }
    return {m, top};
  }

  average(layer, r) {  // row r of the mean of the layer's heads
    const rows = [];
    for (let h = 1; h <= this.H; h++) rows.push(this.row(layer, h, r));
    return rows.some((x) => !x) ? null : headAverage(rows);
  }

  rollout(layer, r) {  // row r of the rollout up to this layer
    const b = this.layers.get(layer - 1), T = this.T;
    if (b) return dequantised(b.roll, b.rscale[r], r * T, T);
    const which = this.kept(r);
    return which ? which.roll.slice((layer - 1) * T, layer * T) : null;
  }
}

const patches = (row) => row.subarray(1);  // a token row without cls: the N patches, row by row
