// The three maps over the model's view of the picture, drawn on canvas at the layer in view: one colour a patch,
// blended over the picture as app/figures.cells_picture blends it (60% colour), chosen patches outlined in cyan.
// A mixin of LensPart (index.js): `this` is the part.

const BLEND = 0.6;  // app/figures.cells_picture's alpha
const hexRgb = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));

const Maps = {
  // the g×g cells `colour(k)` ([r, g, b]) over the picture; the patches `marked` outlined
  drawCells(colour, marked) {
    const d = this.d, g = d.g, canvas = this.el.canvas;
    const side = Math.max(120, Math.min(d.side, Math.floor(canvas.parentElement.clientWidth)));
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(side * dpr)) {
      canvas.width = canvas.height = Math.round(side * dpr);
      canvas.style.width = canvas.style.height = `${side}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, side, side);
    ctx.imageSmoothingEnabled = false;
    const view = window.__vitLens.view;
    if (view && view.complete && view.naturalWidth) ctx.drawImage(view, 0, 0, side, side);
    const img = new ImageData(g, g);
    for (let k = 0; k < g * g; k++) img.data.set([...colour(k), 255], 4 * k);
    if (!this.off) this.off = document.createElement("canvas");
    this.off.width = this.off.height = g;
    this.off.getContext("2d").putImageData(img, 0, 0);
    ctx.globalAlpha = view && view.naturalWidth ? BLEND : 1;
    ctx.drawImage(this.off, 0, 0, side, side);
    ctx.globalAlpha = 1;
    const cell = side / g, width = Math.max(2, Math.round(cell / 8));
    for (const k of marked) {  // as app/plots.mark: cyan, dashed with black, drawn inwards
      const x = (k % g) * cell + width / 2, y = Math.floor(k / g) * cell + width / 2;
      ctx.lineWidth = width;
      ctx.setLineDash([]);
      ctx.strokeStyle = d.highlight;
      ctx.strokeRect(x, y, cell - width, cell - width);
      ctx.setLineDash([Math.max(4, 2 * width), Math.max(4, 2 * width)]);
      ctx.strokeStyle = "black";
      ctx.strokeRect(x, y, cell - width, cell - width);
    }
    ctx.setLineDash([]);
    this.box = side;
  },

  scale(values, lo, hi, colours) {  // a value's colour on a fixed scale, as app/plots.coloured (matplotlib's index)
    return (k) => colours[Math.min(255, Math.max(0, Math.floor((values[k] - lo) / (hi - lo) * 256)))];
  },

  cellAt(e) {  // the patch under the pointer, or null
    const r = this.el.canvas.getBoundingClientRect(), g = this.d.g, size = this.box || r.width;
    const x = Math.floor((e.clientX - r.left) / size * g), y = Math.floor((e.clientY - r.top) / size * g);
    return x >= 0 && y >= 0 && x < g && y < g ? y * g + x : null;
  },

  tip(e) {
    const k = this.cellAt(e), tip = this.el.tip;
    if (k === null) { tip.hidden = true; return; }
    tip.textContent = `${patchPlace((key, v) => this.t(key, v), k, this.d.g, true)}: ${this.cellText(k)}`;
    tip.hidden = false;
    const r = this.root.getBoundingClientRect();
    tip.style.left = `${Math.max(0, Math.min(e.clientX - r.left + 14, this.root.clientWidth - tip.offsetWidth - 4))}px`;
    tip.style.top = `${e.clientY - r.top + 16}px`;
  },

  textTable(title, sentence, columns, rows) {  // the map "as text": its sentence, then a table
    const details = this.el.text;
    details.querySelector("summary").textContent = asTextLabel((k, v) => this.t(k, v), title);
    const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("");
    details.querySelector("div").innerHTML = `<p>${escape(sentence)}</p><table><thead><tr>${columns.map(
      (c) => `<th scope="col">${escape(c)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`;
  },
};
