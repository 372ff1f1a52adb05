// The explorer's words: the catalog's templates filled in as Python fills them, and every sentence a screen reader
// hears. Each sentence is a declared port of the app/describe.py function named above it (the reference; the
// catalog is app/locales/*/alt.toml and attention.toml); tests/browser/test_explorer_parity.py runs both in both
// languages.
// `tr(key, values)` is the catalog lookup: Explorer.t, or the test's own.

// port of app/i18n.t_in: str.format ({x}, {x:.3f}, {x:g}), then each Korean particle pair such as 은(는) chosen by
// the value before it (josaResolve, ../shared/josa.js, the port of app/josa.resolve)
function fmt(template, values) {
  return josaResolve(template.replace(/\{(\w+)(?::([^}]*))?\}/g, (all, name, spec) => {
    const v = values[name];
    if (v === undefined) return all;
    if (spec && /^\.\d+f$/.test(spec)) return fixed(Number(v), Number(spec.slice(1, -1)));
    if (spec === "g") return general(Number(v));
    return String(v);
  }));
}

// port of Python's f"{v:g}": six significant digits, trailing zeros dropped, e-notation below 1e-4 and from 1e6
function general(v) {
  if (v === 0) return "0";
  const e = Math.floor(Math.log10(Math.abs(Number(v.toPrecision(6)))));
  if (e >= -4 && e < 6) return String(Number(v.toPrecision(6)));
  const [m, x] = v.toExponential(5).split("e");
  return `${m.includes(".") ? m.replace(/0+$/, "").replace(/\.$/, "") : m}e${x[0]}${x.slice(1).padStart(2, "0")}`;
}
const escape = (s) => String(s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;",
                                                             "'": "&#39;"}[c]));
function markdown(s) {  // what the catalog's sentences use: **bold**, `code`, [text](url)
  return escape(s).replace(/\*\*(.+?)\*\*/g, "<strong>$1</strong>").replace(/`(.+?)`/g, "<code>$1</code>")
    .replace(/\[([^\]]+)\]\((https:[^)\s]+)\)/g, '<a href="$2" target="_blank" rel="noopener">$1</a>');
}

// port of Python's f"{v:.{f}f}": v's exact decimal value rounded half to even (toFixed rounds 0.0625 up to 0.063,
// Python down to 0.062); |v| < 1e21
function fixed(v, f) {
  const [whole, frac] = Math.abs(v).toFixed(100).split(".");  // exact: a double ≥ 2^-47 has at most 100 decimals
  const digits = (whole + frac.slice(0, f)).split("").map(Number), rest = frac.slice(f);
  const odd = digits[digits.length - 1] % 2 === 1;
  if (rest[0] > "5" || (rest[0] === "5" && (/[1-9]/.test(rest.slice(1)) || odd))) {
    let i = digits.length - 1;
    while (i >= 0 && digits[i] === 9) digits[i--] = 0;
    if (i < 0) digits.unshift(1); else digits[i] += 1;
  }
  const s = digits.join(""), n = s.length - f;
  return (v < 0 || Object.is(v, -0) ? "-" : "") + (f ? `${s.slice(0, n)}.${s.slice(n)}` : s);
}

// port of app.numbers.number (app/describe.number): three significant digits, positional (0.00000069, never 6.9e-7),
// trailing zeros dropped, zero as 0; from 1,000 on a whole number with thousands separators
function number(v) {
  if (v === 0 || !Number.isFinite(v)) return v === 0 ? "0" : String(v);
  if (Math.abs(v) >= 999.5) return fixed(v, 0).replace(/\B(?=(\d{3})+$)/g, ",");
  const lead = Number(Math.abs(v).toExponential().split("e")[1]);  // the exponent of the leading digit
  const digits = (s) => s.replace("-", "").replace(".", "").replace(/^0+/, "").length;
  let s = fixed(v, 2 - lead);
  if (digits(s) > 3) s = fixed(v, 1 - lead);  // rounded up to a fourth digit: 9.996 → 10.00
  return s.includes(".") ? s.replace(/0+$/, "").replace(/\.$/, "") : s;
}

// ports of app/labels.place and labels.patch: "row 2, column 3", "patch 17 (row 2, column 3)"; short where space is
// tight: "row 2, col 3"
const place = (tr, r, c, short = false) => tr(short ? "labels.place_short" : "labels.place", {r, c});
const patchPlace = (tr, k, g, short = false) =>
  tr("labels.patch", {k, place: place(tr, Math.floor(k / g), k % g, short)});

// port of app/describe.heat: a map over the picture (N values, g×g), where it is strongest and weakest, and the
// patch outlined on it (null: none)
function heatSentence(tr, what, values, g, outlined) {
  const [[k1, v1], second] = strongest(values, 2), low = weakest(values);
  let text = tr("alt.heat", {what, top: patchPlace(tr, k1, g), v: number(v1), low: patchPlace(tr, low, g),
                             vlow: number(values[low])});
  if (second) text += " " + tr("alt.heat_second", {second: patchPlace(tr, second[0], g), v: number(second[1])});
  if (outlined !== null) text += " " + tr("alt.outlined", {patch: patchPlace(tr, outlined, g)});
  return text;
}

// ports of app/describe.cls_map, query_map, head_average and rollout
const clsMapSentence = (tr, layer, head, map, g, self) =>
  heatSentence(tr, tr("alt.cls_map", {layer, head, self: number(self)}), map, g, null);
const queryMapSentence = (tr, layer, head, query, map, g) =>
  heatSentence(tr, tr("alt.query_map", {layer, head, patch: patchPlace(tr, query, g)}), map, g, query);
const averageSentence = (tr, layer, H, map, g, outlined) =>
  heatSentence(tr, tr("alt.average", {layer, H}), map, g, outlined);
const rolloutSentence = (tr, layer, map, g, outlined) => heatSentence(tr, tr("alt.rollout", {layer}), map, g, outlined);

// port of app/describe.map_rows: a map's n strongest patches as table rows [patch in words, value]
const mapRows = (tr, values, g, n) => strongest(values, n).map(([k, v]) => [patchPlace(tr, k, g), number(v)]);

// port of app/describe.heads_grid: L·H maps of a row (raw weights), the head in view framed; query null: cls's row
function gridSentence(tr, maps, L, H, layer, head, query) {
  const [narrow, broad] = peaks(maps), at = (i) => [Math.floor(i / H) + 1, (i % H) + 1];
  const [nl, nh] = at(narrow[0]), [bl, bh] = at(broad[0]);
  const row = query === null ? tr("alt.row_cls") : tr("alt.row_query", {k: query});
  return tr("alt.heads_grid", {L, H, row, layer, head, nl, nh, nv: number(narrow[1]), bl, bh, bv: number(broad[1])});
}

// port of app/describe.matrix: the (G, G) matrix in view (pooled or not), its brightest cell by the matrix's row and
// column labels, and the query patch whose row is outlined
function matrixSentence(tr, z, G, names, query, g) {
  const [best, value] = strongest(z, 1)[0];
  return tr("alt.matrix", {G, top: number(value), q: names[Math.floor(best / G)], k: names[best % G],
                           query: patchPlace(tr, query, g)});
}

// port of app/describe.distances: the chart of every head's mean attention distance, the head in view on it
const distancesSentence = (tr, L, H, layer, head, px, uniform) =>
  tr("alt.distances", {L, H, layer, head, px: number(px), u: number(uniform)});
