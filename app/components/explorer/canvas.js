// Drawing on canvas, shared by every view: a canvas sized to its box, a grid of cells from a colour scale, the
// highlight's dashed outline, a colour bar. A mixin of Explorer (index.js): `this` is the explorer.

const css = (c) => `rgb(${c[0]},${c[1]},${c[2]})`;

const Canvas = {
  canvas(canvas, height) {  // size a canvas to its box at the screen's pixel ratio; returns its context and size
    const w = Math.max(120, Math.floor(canvas.parentElement.clientWidth)), h = Math.round(height(w));
    const dpr = window.devicePixelRatio || 1;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
      canvas.style.width = `${w}px`;
      canvas.style.height = `${h}px`;
    }
    const ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);
    ctx.font = `${this.d.font}px ${getComputedStyle(this.root).fontFamily}`;
    ctx.fillStyle = getComputedStyle(this.root).color;
    return {ctx, w, h};
  },

  cells(ctx, values, n, x0, y0, size, colours, scale) {  // an n×n grid of values drawn as one scaled bitmap
    const img = new ImageData(n, n);
    for (let i = 0; i < n * n; i++) {
      const c = colours[Math.max(0, Math.min(255, Math.round(scale(values[i]) * 255)))];
      img.data.set([c[0], c[1], c[2], 255], 4 * i);
    }
    const off = document.createElement("canvas");
    off.width = n; off.height = n;
    off.getContext("2d").putImageData(img, 0, 0);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(off, x0, y0, size, size);
  },

  outline(ctx, x, y, size, width, height = size) {  // as app/plots.mark: cyan, dashed with black, drawn inwards
    ctx.save();
    ctx.lineWidth = width;
    ctx.strokeStyle = this.d.highlight;
    ctx.strokeRect(x + width / 2, y + width / 2, size - width, height - width);
    ctx.setLineDash([Math.max(4, 2 * width), Math.max(4, 2 * width)]);
    ctx.strokeStyle = "black";
    ctx.strokeRect(x + width / 2, y + width / 2, size - width, height - width);
    ctx.restore();
  },

  colourBar(ctx, x, y, h, colours, lo, hi) {
    for (let i = 0; i < h; i++) {
      ctx.fillStyle = css(colours[Math.round(255 * (1 - i / (h - 1)))]);
      ctx.fillRect(x, y + i, 10, 1);
    }
    ctx.fillStyle = getComputedStyle(this.root).color;
    ctx.textAlign = "left"; ctx.textBaseline = "middle";
    for (const f of [0, 0.5, 1]) ctx.fillText(number(lo + (hi - lo) * f), x + 13, y + h * (1 - f));
  },

  textTable(details, title, sentences, columns, rows) {  // a <details> "… as text": sentences, then a table
    details.querySelector("summary").textContent = title;
    const body = rows.map((r) => `<tr>${r.map((c) => `<td>${escape(c)}</td>`).join("")}</tr>`).join("");
    details.querySelector("div").innerHTML = `<p>${escape(sentences)}</p><table><thead><tr>${columns.map(
      (c) => `<th scope="col">${escape(c)}</th>`).join("")}</tr></thead><tbody>${body}</tbody></table>`;
  },
};

const touch = () => window.matchMedia("(hover: none)").matches;  // a phone: tap, not hover
