// The explorer's words: every sentence a screen reader hears (the templates filled in, the number style and a
// patch's place are ../shared/words.js). Each sentence is a declared port of the app/describe.py function named above
// it (the reference; the catalog is app/locales/*/alt.toml and attention.toml); tests/browser/test_explorer_parity.py
// runs both in both languages.
// `tr(key, values)` is the catalog lookup: Explorer.t, or the test's own.

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
