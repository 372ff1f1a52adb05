// A map of step 8's layer view (votes, similarity, norms): its code is the layer part's (index.js, joined with the
// ports and the drawing), sent once a page with the slider, not once a map. This hands the map to it, or, until that
// code has run, leaves it in a queue that index.js empties.
export default function (component) {
  if (window.__vitLensMount) return window.__vitLensMount(component);
  (window.__vitLensQueue = window.__vitLensQueue || []).push(component);
}
