// Step 8's words in the browser: every sentence and number the layer view writes. Each is a declared port of the
// Python function named above it (the reference; catalog app/locales/*/tokens.toml and alt.toml);
// tests/browser/test_lens_parity.py runs both in both languages. The templates, the number style and a patch's place
// are ../shared/words.js. `tr(key, values)` is the catalog lookup: the part's own, or the test's.

// Python's round() of a float: half to even (round(12.5) is 12)
function roundHalfEven(x) {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

// port of app.numbers.share: k of n, and that share in whole percent: "31/49 (63%)" (more digits only where whole
// percent would say 0% or 100% of a part: app.numbers.percent)
function share(k, n) {
  const whole = n ? roundHalfEven(100 * k / n) : 0;
  const pct = (whole !== 0 && whole !== 100) || k === 0 || k === n ? `${whole}%` : number(100 * (k / n)) + "%";
  return `${k}/${n} (${pct})`;
}

// port of app/describe.layer_in_view: the sentence under the layer slider
const layerSentence = (tr, layer, L) =>
  layer === 0 ? tr("tokens.layer_caption") : tr("tokens.layer_block", {layer, L});

// the classes voted for, most voted first, ties by class (votes: indices into the classes, ascending class number):
// [[index, count], …], as np.unique and np.lexsort((classes, -counts)) in app/describe.votes and vote_rows
function voteCounts(votes) {
  const counts = new Map();
  for (const v of votes) counts.set(v, (counts.get(v) || 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0] - b[0]);
}

// port of app/describe.votes: how many patches vote for the answer, the three classes voted for most, the cls token's
function votesSentence(tr, layer, votes, names, answer, clsVote) {
  const most = voteCounts(votes).slice(0, 3).map(([k, n]) => tr("tokens.alt_count", {name: names[k], n})).join(", ");
  const agree = votes.reduce((s, v) => s + (v === answer ? 1 : 0), 0);
  return tr("tokens.alt_votes", {layer, share: share(agree, votes.length), answer: names[answer], most,
                                 cls: names[clsVote]});
}

// port of app/describe.vote_rows: the classes voted for, most first, as table rows [class, patches]
const voteRows = (votes, names, n) => voteCounts(votes).slice(0, n).map(([k, c]) => [names[k], String(c)]);

// port of app/describe.similar: one patch's similarity to every patch (N values): the most and least alike other
function similarSentence(tr, layer, patch, row, g) {
  let top = -1, low = -1;
  for (let k = 0; k < row.length; k++) {
    if (k === patch) continue;
    if (top < 0 || row[k] > row[top]) top = k;
    if (low < 0 || row[k] < row[low]) low = k;
  }
  return tr("tokens.alt_similar", {layer, patch: patchPlace(tr, patch, g), top: patchPlace(tr, top, g),
                                   v: number(row[top]), low: patchPlace(tr, low, g), vlow: number(row[low])});
}

// numpy's median of float64 values: the middle one, or the mean of the two middle ones
function median(values) {
  const s = Float64Array.from(values).sort(), m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// port of app/describe.norm_map: the patches' norms at one layer (N values), the largest outlined
function normsSentence(tr, layer, norms, largest, g) {
  const named = largest.map((k) => `${patchPlace(tr, k, g)} ${number(norms[k])}`).join(", ");
  return tr("tokens.alt_norms", {layer, largest: named, median: number(median(norms))});
}

// port of app/ui.as_text_label: "title: as text"; after a question or an exclamation, no colon
const asTextLabel = (tr, title) =>
  tr(/[?!？]$/.test(title.trimEnd()) ? "alt.as_text_question" : "alt.as_text", {title});
