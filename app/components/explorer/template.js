// The explorer's page: controls, headings, a canvas and a "… as text" box for each view, the legend. Built once per
// picture, model and language (Explorer.update); the views fill it in on every step. A mixin of Explorer.

const Template = {
  build() {
    const d = this.d, t = (k, v) => this.t(k, v), L = d.L, H = d.H;
    if (this.root) { this.resize.disconnect(); this.root.remove(); }
    const root = document.createElement("div");
    root.className = "vx";
    root.id = "attention-explorer";  // a lesson section's anchor (lesson.SECTIONS, app/components/scroll)
    root.setAttribute("role", "group");
    root.setAttribute("aria-label", t("attention.title"));
    const speeds = d.speeds.map((s) => `<option value="${s}">${escape(t("attention.seconds", {s: number(s)}))}`
                                       + "</option>");
    const button = (act, key, text) =>
      `<button type="button" data-act="${act}" aria-keyshortcuts="${key}">${escape(t(text))}</button>`;
    const pool = d.block > 1 ? `<fieldset class="vx-radios"><legend>${escape(t("attention.pool_label"))}</legend>
        ${["mean", "amax"].map((k) => `<label><input type="radio" name="vx-pool-${d.uid}" value="${k}">
        ${escape(t(`attention.pool_${k}`))}</label>`).join("")}</fieldset>` : "";
    root.innerHTML = `
      <div class="vx-controls">
        <div class="vx-sliders">
          <label class="vx-slider">
            <span>${escape(t("attention.layer_slider", {L}))}: <b class="vx-value-layer"></b></span>
            <input type="range" min="1" max="${L}" step="1" data-key="layer" ${L > 1 ? "" : "disabled"}></label>
          <label class="vx-slider">
            <span>${escape(t("attention.head_slider", {H}))}: <b class="vx-value-head"></b></span>
            <input type="range" min="1" max="${H}" step="1" data-key="head" ${H > 1 ? "" : "disabled"}></label>
        </div>
        <div class="vx-buttons">
          ${button("prev-head", "ArrowLeft", "attention.prev")}
          ${button("next-head", "ArrowRight", "attention.next")}
          ${button("prev-layer", "ArrowUp", "attention.prev_layer")}
          ${button("next-layer", "ArrowDown", "attention.next_layer")}
          <button type="button" data-act="play" aria-pressed="false" aria-keyshortcuts="Space"></button>
          <label class="vx-speed">${escape(t("attention.speed"))}
            <select data-key="speed">${speeds.join("")}</select></label>
        </div>
        <p class="vx-position"><span class="vx-where" aria-live="polite"></span> <span class="vx-ends"></span></p>
        <p class="vx-note vx-keys">${escape(t("attention.keys"))}</p>
        <p class="vx-note">${escape(t("attention.jump"))}</p>
      </div>
      <h3 class="vx-matrix-title"></h3>
      <div class="vx-row">
        <div class="vx-col vx-wide">
          ${pool}
          <div class="vx-box"><canvas class="vx-matrix" role="img"></canvas></div>
          <p class="vx-caption vx-matrix-caption"></p>
          <p class="vx-caption vx-pooled"></p>
          <details class="vx-text"><summary></summary><div class="vx-matrix-text"></div></details>
        </div>
        <div class="vx-col">
          <p>${markdown(t("attention.cls_title"))}</p>
          <div class="vx-box vx-map-box"><canvas class="vx-cls" role="img"></canvas></div>
          <p class="vx-caption vx-cls-caption"></p>
          <details class="vx-text"><summary></summary><div class="vx-cls-text"></div></details>
        </div>
      </div>
      <h3>${escape(t("attention.query_title"))}</h3>
      <p>${markdown(t("attention.query_intro", {how: t(touch() ? "attention.query_intro_tap"
                                                                         : "attention.query_intro_click")}))}</p>
      <div class="vx-row">
        <div class="vx-col">
          <div class="vx-box vx-map-box"><canvas class="vx-query" role="img"></canvas></div>
          <p class="vx-caption vx-query-caption"></p>
          <label class="vx-number">${escape(t("attention.query_input", {N: d.T - 2}))}
            <input type="number" inputmode="numeric" min="0" max="${d.T - 2}" step="1" data-key="query"></label>
          <p class="vx-warning" role="status"></p>
          <details class="vx-text"><summary></summary><div class="vx-query-text"></div></details>
        </div>
        <div class="vx-col">
          <dl class="vx-metrics">
            <div><dt>${escape(t("attention.on_cls"))}</dt><dd class="vx-on-cls"></dd></div>
            <div><dt>${escape(t("attention.on_self"))}</dt><dd class="vx-on-self"></dd></div>
            <div><dt>${escape(t("attention.distance_metric"))}</dt><dd class="vx-distance"></dd></div>
          </dl>
        </div>
      </div>
      <h3>${escape(t("attention.grid_title", {L, H}))}</h3>
      <fieldset class="vx-radios"><legend>${escape(t("attention.grid_rows"))}</legend>
        <label><input type="radio" name="vx-rows-${d.uid}" value="cls"> ${escape(t("attention.grid_rows_cls"))}</label>
        <label><input type="radio" name="vx-rows-${d.uid}" value="query"> <span class="vx-rows-query"></span></label>
      </fieldset>
      <div class="vx-row">
        <div class="vx-col vx-wide">
          <div class="vx-box"><canvas class="vx-grid" role="img"></canvas></div>
          <p class="vx-caption vx-grid-caption"></p>
          <button type="button" data-act="grid-png">${escape(t("common.download_png"))}</button>
        </div>
        <div class="vx-col">
          <p class="vx-average-title"></p>
          <div class="vx-box vx-map-box"><canvas class="vx-average" role="img"></canvas></div>
          <p class="vx-caption">${escape(t("attention.average_caption", {H}))}</p>
          <p class="vx-rollout-title"></p>
          <div class="vx-box vx-map-box"><canvas class="vx-rollout" role="img"></canvas></div>
          <p class="vx-caption vx-rollout-caption"></p>
        </div>
      </div>
      <h3 id="attention-distances">${escape(t("attention.distance_title"))}</h3>
      <div class="vx-box"><canvas class="vx-dist" role="img"></canvas></div>
      <ul class="vx-legend">
        <li><span class="vx-key vx-key-uniform"></span>${
          escape(t("attention.distance_uniform", {u: number(d.uniform)}))}</li>
        <li><span class="vx-key vx-key-mean"></span>${escape(t("attention.distance_mean"))}</li>
        <li><span class="vx-key vx-key-heads"></span>${escape(t("attention.distance_heads"))}</li>
        <li><span class="vx-key vx-key-current"></span>${escape(t("attention.distance_current"))}</li>
      </ul>
      <details class="vx-text"><summary>${escape(t("alt.as_text", {title: t("attention.distance_title")}))}</summary>
        <div class="vx-dist-text"></div></details>
      <div class="vx-tip" role="tooltip" hidden></div>`;
    this.parent.appendChild(root);
    this.root = root;
    this.distTable = false;  // the distances' table is written once per page built (views/distances)
    const $ = (sel) => root.querySelector(sel);
    this.el = {
      layer: $("[data-key=layer]"), head: $("[data-key=head]"),
      speed: $("[data-key=speed]"), query: $("[data-key=query]"), warning: $(".vx-warning"),
      matrix: $(".vx-matrix"), cls: $(".vx-cls"), queryMap: $(".vx-query"), grid: $(".vx-grid"),
      average: $(".vx-average"), rollout: $(".vx-rollout"), dist: $(".vx-dist"), tip: $(".vx-tip"),
    };
    this.el.speed.value = String(this.state.speed);
    for (const canvas of root.querySelectorAll("canvas")) this.resize.observe(canvas.parentElement);
    this.wire();
  },
};
