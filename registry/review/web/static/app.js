// The review page: list, filter, show evidence, decide with one click or key (s / d / v / x).
// The officer is signed in (/login); decisions are recorded in their name, with the session's CSRF token.
"use strict";

const $ = (sel) => document.querySelector(sel);
let current = null;   // the item shown in the detail panel
let items = [];
let session = null;   // {name, role, csrf_token}
const KEY_FIELDS = ["record_uid", "department", "source_record_id", "component"];  // differ by nature: not marked

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v; else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (k === "style") node.style.cssText = v;   // CSSOM: the page's content security policy allows no style attributes
    else node.setAttribute(k, v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(c ?? ""));
  return node;
}
const show = (v) => (v === null || v === undefined || v === "" ? "—" : String(v));

async function api(path, options = {}) {
  const res = await fetch(path, { credentials: "same-origin", ...options });
  if (res.status === 401) { window.location.assign("/login"); throw new Error("signed out"); }
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || (typeof body.detail === "string" ? body.detail : res.statusText));
  return body;
}

function change(path, method, body) {
  return api(path, { method, headers: { "Content-Type": "application/json", "X-CSRF-Token": session.csrf_token },
                     body: JSON.stringify(body) });
}

function fillSelect(select, values, keep) {
  const first = select.options[0];
  select.replaceChildren(first, ...values.map(([value, label]) => el("option", { value }, label)));
  select.value = values.some(([v]) => v === keep) ? keep : "";
}

async function loadItems() {
  const params = new URLSearchParams();
  for (const name of ["kind", "street", "community"]) {
    const v = $("#f-" + name).value; if (v) params.set(name, v);
  }
  if ($("#f-decided").checked) params.set("status", "all");
  const data = await api("/api/items?" + params);
  items = data.items;
  const warnings = $("#warnings");
  warnings.replaceChildren(...(data.warnings || []).map((w) => el("p", {}, w)));
  warnings.hidden = !(data.warnings || []).length;
  const f = data.facets;
  fillSelect($("#f-kind"), Object.entries(f.kinds).map(([k, n]) => [k, `${k} (${n})`]), $("#f-kind").value);
  fillSelect($("#f-street"), Object.keys(f.streets).map((s) => [s, s]), $("#f-street").value);
  const communities = $("#f-street").value ? f.streets[$("#f-street").value] : Object.values(f.streets).flat();
  fillSelect($("#f-community"), [...new Set(communities)].sort().map((c) => [c, c]), $("#f-community").value);
  renderList();
}

function renderList() {
  const rows = items.map((it) => el("tr", {
      class: [it.status, current && current.item_id === it.item_id ? "selected" : ""].join(" "),
      "data-item-id": it.item_id, onclick: () => openItem(it.item_id) },
    el("td", {}, el("span", { class: "kind " + it.kind }, it.kind)),
    el("td", {}, String(it.priority)),
    el("td", {}, [it.street, it.community].filter(Boolean).join(" / ") || "—"),
    el("td", {}, it.summary || ""),
    el("td", { class: "status " + it.status }, it.status)));
  $("#items tbody").replaceChildren(...rows);
  $("#count").textContent = `${items.length} item(s)`;
}

function sideBySide(records) {
  const fields = [];
  for (const r of records) for (const k of Object.keys(r)) if (!fields.includes(k)) fields.push(k);
  const body = fields.map((f) => {
    const cells = records.map((r) => show(r[f]));
    const differs = records.length > 1 && !KEY_FIELDS.includes(f) && new Set(cells).size > 1;
    return el("tr", {}, el("td", { class: "field" }, f), ...cells.map((c) => el("td", { class: differs ? "diff" : "" }, c)));
  });
  return el("table", { class: "side" }, el("tbody", {}, body));
}

function waterfall(rows) {
  const max = Math.max(1, ...rows.map((w) => Math.abs(w.match_weight || 0)));
  return el("table", { class: "waterfall" }, el("thead", {}, el("tr", {}, el("th", {}, "comparison"), el("th", {}, "level"),
      el("th", {}, "weight"), el("th", {}, ""))),
    el("tbody", {}, rows.map((w) => el("tr", {}, el("td", {}, w.comparison), el("td", {}, w.level),
      el("td", { class: "num" }, (w.match_weight >= 0 ? "+" : "") + Number(w.match_weight || 0).toFixed(2)),
      el("td", {}, el("span", { class: "bar " + (w.match_weight >= 0 ? "pos" : "neg"),
        style: `width:${Math.round(80 * Math.abs(w.match_weight || 0) / max)}px` }))))));
}

function renderDetail(it) {
  const ev = it.evidence || {}, subj = it.subject || {};
  const parts = [
    el("h2", {}, `${it.kind} · ${it.item_id}`),
    el("div", { class: "meta" }, `priority ${it.priority} · resident ${show(it.resident_id)} · ${show(it.street)} / ${show(it.community)} · first raised ${show(it.first_raised_date)}`),
    el("p", {}, it.summary || ""),
  ];
  if (it.status === "decided")
    parts.push(el("div", { class: "banner", id: "decided-banner" },
      `Decided: ${it.decision}${it.decided_by ? " by " + it.decided_by : ""} at ${show(it.decided_at)}`));
  if (subj.record_l && subj.record_r) parts.push(el("div", { class: "meta" }, `pair: ${subj.record_l} ↔ ${subj.record_r}`));
  if (ev.records && ev.records.length) parts.push(el("h3", {}, "Records"), sideBySide(ev.records));
  if (ev.members) parts.push(el("h3", {}, "Records of the resident (component = group held by strong links)"),
    sideBySide(ev.members.map((m) => ({ component: m.component, ...m.record }))));
  if (ev.match_probability !== undefined && ev.match_probability !== null)
    parts.push(el("p", {}, `Match probability ${Number(ev.match_probability).toFixed(3)}`
      + (ev.model_match_probability !== undefined && ev.model_match_probability !== ev.match_probability
         ? ` (the model's ${Number(ev.model_match_probability).toFixed(3)})` : "")));
  if (ev.overruled_link) parts.push(el("p", {}, `Overruled link ${ev.overruled_link.record_l} ↔ ${ev.overruled_link.record_r}: `
    + `p=${Number(ev.overruled_link.match_probability).toFixed(3)} (the model's ${Number(ev.overruled_link.model_match_probability).toFixed(4)})`));
  if (ev.kept_apart_because && ev.kept_apart_because.length) parts.push(el("h3", {}, "Kept apart because"),
    el("ul", {}, ev.kept_apart_because.map((w) => el("li", {}, w))));
  if (ev.waterfall && ev.waterfall.length) parts.push(el("h3", {}, "Waterfall"), waterfall(ev.waterfall));
  if (ev.links && ev.links.length) parts.push(el("h3", {}, "Links inside the resident"),
    el("ul", {}, ev.links.map((l) => el("li", {}, `${l.record_l} ↔ ${l.record_r}  p=${Number(l.match_probability).toFixed(3)}`))));
  if (ev.values) {
    parts.push(el("h3", {}, `Values of ${ev.attribute}`),
      el("div", { class: "candidates" }, Object.entries(ev.values).map(([v, recs]) =>
        el("div", {}, el("button", { type: "button", class: "candidate", onclick: () => { $("#value").value = v; } }, v),
          " ← " + [].concat(recs).join(", ")))));
  }
  if (ev.lineage && ev.lineage.length) parts.push(el("h3", {}, "Lineage"),
    el("ul", {}, ev.lineage.map((l) => el("li", {}, `${l.value}  ${l.department}:${l.source_record_id}  (${l.rule})`))));
  if (ev.nearest_household_records) parts.push(el("h3", {}, "Nearest household-register records"),
    el("ul", {}, ev.nearest_household_records.length ? ev.nearest_household_records.map((c) =>
      el("li", {}, `${c.record}  p=${Number(c.match_probability).toFixed(3)}`)) : [el("li", {}, "none")]));
  $("#detail").className = "";
  $("#detail").replaceChildren(...parts);
  $("#decide").hidden = false;
  $("#value-row").hidden = it.kind !== "conflict";
  $("#message").textContent = "";
  const allowed = { uncertain_link: ["same", "different", "dismiss"], weak_cluster: ["same", "different", "dismiss"],
    overruled_link: ["same", "different", "dismiss"],
    identity_conflict: ["same", "different", "dismiss"], conflict: ["value", "dismiss"], orphan: ["dismiss"],
    audit_sample: ["same", "different"] }[it.kind] || [];
  for (const b of document.querySelectorAll("#decide button[data-decision]")) b.disabled = !allowed.includes(b.dataset.decision);
}

async function openItem(id) {
  try {
    current = await api("/api/items/" + encodeURIComponent(id));
    renderDetail(current);
    renderList();
  } catch (e) { message(e.message, "error"); }
}

function message(text, kind) { const m = $("#message"); m.textContent = text; m.className = kind; }

async function decide(decision) {
  if (!current) return;
  const button = document.querySelector(`#decide button[data-decision="${decision}"]`);
  if (button && button.disabled) { message(`a ${current.kind} item cannot be decided "${decision}"`, "error"); return; }
  const reason = $("#reason").value.trim();
  if (!reason) { message("Enter a reason first.", "error"); $("#reason").focus(); return; }
  const body = { decision, reason };
  if (decision === "value") body.value = $("#value").value.trim();
  try {
    const res = await change(`/api/items/${encodeURIComponent(current.item_id)}/decision`, "POST", body);
    current = res.item;
    const listed = items.find((i) => i.item_id === current.item_id);
    if (listed) Object.assign(listed, { status: current.status, decision: current.decision });
    renderDetail(current);
    renderList();
    $("#reason").value = "";
    message(`Recorded: ${decision} (${res.decision.decision_id}). It applies from the next run.`, "ok");
  } catch (e) { message(e.message, "error"); }
}

document.addEventListener("keydown", (ev) => {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement.tagName);
  if (typing || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const decision = { s: "same", d: "different", v: "value", x: "dismiss" }[ev.key];
  if (decision && current) { ev.preventDefault(); decide(decision); }
});
for (const b of document.querySelectorAll("#decide button[data-decision]"))
  b.addEventListener("click", () => decide(b.dataset.decision));
for (const id of ["#f-kind", "#f-street", "#f-community", "#f-decided"]) $(id).addEventListener("change", loadItems);
for (const f of ["#filters", "#decide"]) $(f).addEventListener("submit", (ev) => ev.preventDefault());
$("#sign-out").addEventListener("click", async () => {
  try { await change("/api/session", "DELETE", {}); } finally { window.location.assign("/login"); }
});

api("/api/session").then((s) => {
  session = s;
  $("#officer").textContent = s.name;
  return loadItems();
}).catch((e) => { $("#detail").textContent = e.message; });
