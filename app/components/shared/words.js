// The words and numbers every component writes (the attention explorer, step 8's layer view): the catalog's templates
// filled in as Python fills them, the number style, a patch's place, a map's strongest cells. Each function is a
// declared port of the Python function named above it, the reference; tests/browser/test_explorer_parity.py and
// test_lens_parity.py run both on the same inputs in Chromium. Joined after josa.js (fmt resolves Korean particles with
// josaResolve) and before the component's own files.

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

// port of app/describe.strongest: the n largest, largest first, ties by index: [[index, value], …]
function strongest(values, n) {
  const order = [...values.keys()].sort((a, b) => values[b] - values[a] || a - b);
  return order.slice(0, n).map((k) => [k, values[k]]);
}

// port of app/describe.weakest: the index of the smallest value (the first, on a tie)
function weakest(values) {
  let low = 0;
  for (let k = 1; k < values.length; k++) if (values[k] < values[low]) low = k;
  return low;
}

// port of app/describe.map_rows: a map's n strongest patches as table rows [patch in words, value]
const mapRows = (tr, values, g, n) => strongest(values, n).map(([k, v]) => [patchPlace(tr, k, g), number(v)]);
