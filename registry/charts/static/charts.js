// The officers' chart page: GET /api/charts gives the night's summary and Vega-Lite specifications; each is
// drawn with vega-embed (served from the installed Splink package). Text is set with text nodes only.
"use strict";

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function pct(x) { return x === null || x === undefined ? "—" : (100 * x).toFixed(3) + "%"; }

function summary(data) {
  const parts = [el("h2", {}, `Night of ${data.extract_date}`)];
  if (data.warnings.length) {
    parts.push(el("ul", {}, ...data.warnings.map(w => el("li", { class: "warn" }, w))));
  } else {
    parts.push(el("p", {}, "No health warning tonight."));
  }
  const a = data.accuracy;
  if (a && a.sample_decided) {
    parts.push(el("table", {},
      el("tr", {}, el("th", {}, "audited night"), el("th", {}, "decided"), el("th", {}, "precision (95%)"),
         el("th", {}, "recall (95%)")),
      el("tr", {}, el("td", {}, a.extract_date), el("td", {}, `${a.sample_decided} of ${a.sample_size}`),
         el("td", {}, `${pct(a.precision)} (${pct(a.precision_ci[0])} – ${pct(a.precision_ci[1])})`),
         el("td", {}, `${pct(a.recall)} (${pct(a.recall_ci[0])} – ${pct(a.recall_ci[1])})`))));
    parts.push(el("p", {}, `Recall covers ${data.recall_covers}.`));
  } else {
    parts.push(el("p", {}, "No audit sample decided yet: `registry review sample --size 300` draws one."));
  }
  document.getElementById("summary").replaceChildren(...parts);
}

async function main() {
  const box = document.getElementById("charts");
  let data;
  try {
    const r = await fetch("/api/charts", { headers: { Accept: "application/json" }, credentials: "same-origin" });
    if (r.status === 401) { location.href = "/login"; return; }
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    data = await r.json();
  } catch (e) {
    document.getElementById("summary").replaceChildren(el("p", { class: "error" }, `Charts unavailable: ${e.message}`));
    return;
  }
  summary(data);
  for (const [name, spec] of Object.entries(data.charts)) {
    const div = el("div", { class: "chart", id: `chart-${name}` });
    box.append(div);
    try {
      // ast: Vega's expression interpreter instead of compiled code (the page's CSP allows no eval);
      // canvas and no default style: nothing that needs inline styles
      await vegaEmbed(div, spec, { actions: false, renderer: "canvas", ast: true, defaultStyle: false,
                                   tooltip: { disableDefaultStyle: true }, logLevel: vega.Error });
    } catch (e) {
      div.replaceChildren(el("p", { class: "error" }, `${name}: ${e.message}`));
    }
  }
  document.body.dataset.drawn = String(Object.keys(data.charts).length);
}

main();
