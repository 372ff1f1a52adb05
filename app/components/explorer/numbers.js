// The numbers the explorer computes in the browser. Each function is a declared port of a Python function, which is
// the reference (named above it); tests/browser/test_explorer_parity.py runs both on the same inputs, the JavaScript
// in Chromium, and fails where they differ.

// port of vit_core.views.dequantised: a row of 8-bit weights on its own scale back to floats, q · top / 255
function dequantised(q, top, offset, T) {
  const s = top / 255, out = new Float32Array(T);
  for (let j = 0; j < T; j++) out[j] = q[offset + j] * s;
  return out;
}

// port of vit_core.analysis.head_average, for one row: the mean of the heads' rows (H arrays of T)
function headAverage(rows) {
  const T = rows[0].length, out = new Float64Array(T);
  for (const x of rows) for (let j = 0; j < T; j++) out[j] += x[j];
  return Float32Array.from(out, (v) => v / rows.length);
}

// port of vit_core.analysis.pool_attention: cls alone, the patch tokens in runs of `block`; each tile its mean or its
// largest weight. m is (T, T) row-major; returns {z: (G, G) row-major, G}
function pooled(m, T, block, how) {
  if (block === 1) return {z: m, G: T};
  const group = (i) => (i === 0 ? 0 : Math.floor((i - 1) / block) + 1), G = group(T - 1) + 1;
  const sum = new Float64Array(G * G), n = new Float64Array(G * G), z = new Float32Array(G * G);
  for (let r = 0; r < T; r++) {
    for (let c = 0; c < T; c++) {
      const k = group(r) * G + group(c), v = m[r * T + c];
      if (how === "amax") sum[k] = n[k] ? Math.max(sum[k], v) : v; else sum[k] += v;
      n[k]++;
    }
  }
  for (let k = 0; k < G * G; k++) z[k] = how === "amax" ? sum[k] : sum[k] / n[k];
  return {z, G};
}

// port of vit_core.views.scaled: a map scaled to [0, 1] on its own (0 everywhere where it is flat)
function scaled(values) {
  let lo = Infinity, hi = -Infinity;
  for (const v of values) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  return Float32Array.from(values, (v) => (hi > lo ? (v - lo) / (hi - lo) : 0));
}

// port of app/describe.peaks: the head (0-based index into L·H maps) with the largest single weight and the one with
// the smallest largest weight, each with that weight: [[narrow, v], [broad, v]]
function peaks(maps) {
  let narrow = null, broad = null;
  maps.forEach((m, i) => {
    let hi = -Infinity;
    for (const v of m) hi = Math.max(hi, v);
    if (!narrow || hi > narrow[1]) narrow = [i, hi];
    if (!broad || hi < broad[1]) broad = [i, hi];
  });
  return [narrow, broad];
}

// port of app/components/explorer.window: the layers (1-based) a big model's explorer needs for a view: the one in
// view, and the one before or after it, on the side its head is nearer (where ◀ / ▶ would go next)
function layerWindow(layer, head, L, H) {
  const other = head > H / 2 ? layer + 1 : layer - 1;
  return other >= 1 && other <= L ? [Math.min(layer, other), Math.max(layer, other)] : [layer];
}
