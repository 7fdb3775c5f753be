// The catalogues, the silo x service matrix, single points of failure and
// planned changes, as tables whose ids open the map on that node.

import { getJson, postJson } from "./api.js";
import { clear, h } from "./dom.js";
import { keyOf } from "./keys.js";

function link(show, id) {
  return h("button", { class: "node-link", type: "button", dataset: { id }, onclick: () => show(id) }, id);
}

function links(show, ids) {
  return (ids || []).flatMap((id, i) => [i ? ", " : "", link(show, id)]);
}

function table(headers, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))),
           h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c) => h("td", {}, c))))));
}

const props = (p) => Object.entries(p || {}).map(([k, v]) => `${k}: ${v}`).join(", ");

export async function promises(el, show) {
  const { items } = await getJson("/v1/catalogue/promises");
  clear(el).append(h("h2", {}, `Promises (${items.length})`), table(
    ["promise", "name", "owner", "targets", "kept through"],
    items.map((p) => [link(show, p.id), p.name, p.owner || "", props(p.properties), links(show, p.kept_through)])));
}

export async function acts(el, show) {
  const { items } = await getJson("/v1/catalogue/service-acts");
  clear(el).append(h("h2", {}, `Service acts (${items.length})`), table(
    ["act", "name", "performed by", "serves"],
    items.map((a) => [link(show, a.id), a.name, links(show, a.performed_by), links(show, a.serves)])));
}

export async function systems(el, show) {
  const { items } = await getJson("/v1/catalogue/service-systems");
  clear(el).append(h("h2", {}, `Service systems (${items.length})`), table(
    ["system", "name", "visible to the customer", "provider", "owner", "performs", "depends on"],
    items.map((s) => [link(show, s.id), s.name, s.visible ? "yes" : "no", s.provider || "", s.owner || "",
                      links(show, s.performs), links(show, s.depends_on)])));
}

export async function matrix(el, show) {
  const columns = el.dataset.columns || "business_service";
  const m = await getJson(`/v1/matrix?columns=${columns}`);
  const cells = new Map(m.cells.map((c) => [keyOf(c.silo, c.service), c.cis]));
  const pick = h("select", { id: "matrix-columns", onchange: (e) => { el.dataset.columns = e.target.value; matrix(el, show); } },
    ["business_service", "promise", "service_act", "service_system"].map((v) =>
      h("option", { value: v, selected: v === columns }, v.replace("_", " "))));
  clear(el).append(h("h2", {}, "Silo × service"), h("label", {}, "Columns: ", pick),
    h("p", {}, "Each cell lists the CIs of that silo the service depends on."),
    table(["silo", ...m.services.map((s) => link(show, s))],
          m.silos.map((silo) => [silo, ...m.services.map((s) => links(show, cells.get(keyOf(silo, s))))])));
}

export async function spof(el, show, promiseIds) {
  const wanted = el.dataset.promise || "";
  const data = wanted ? await getJson(`/v1/promises/${encodeURIComponent(wanted)}/spof`)
    : await getJson("/v1/spof?limit=200");
  const pick = h("select", { id: "spof-promise", onchange: (e) => { el.dataset.promise = e.target.value; spof(el, show, promiseIds); } },
    h("option", { value: "" }, "across the catalogue (service systems and CIs)"),
    promiseIds.map((id) => h("option", { value: id, selected: id === wanted }, id)));
  clear(el).append(h("h2", {}, "Single points of failure"), h("label", {}, "For: ", pick),
    h("p", {}, "Components whose failure alone breaks a promise, most promises broken first."),
    table(["component", "kind", "breaks", "puts at risk", ""], data.single_points.map((p) => [
      link(show, p.component), p.kind, links(show, p.breaks), links(show, p.at_risk),
      h("button", { type: "button", onclick: () => show(p.component, { fail: "down" }) }, "fail it on the map")])));
}

function changeRow(c = {}) {
  const input = (name, value, size) => h("input", { name, value: value || "", size });
  const state = h("select", { name: "state" }, ["down", "degraded"].map((s) => h("option", { selected: s === c.state }, s)));
  const row = h("tr", {}, h("td", {}, input("id", c.id, 12)), h("td", {}, input("components", (c.components || []).join(", "), 28)),
    h("td", {}, input("start", c.start, 22)), h("td", {}, input("end", c.end, 22)), h("td", {}, state));
  row.append(h("td", {}, h("button", { type: "button", onclick: () => row.remove() }, "remove")));
  return row;
}

export function changesForm(el, show) {
  const body = el.querySelector("#change-form tbody");
  if (!body.children.length) {
    body.append(changeRow({ id: "patch-web-1", components: ["web-1"], start: "2030-01-01T20:00:00Z", end: "2030-01-01T22:00:00Z", state: "down" }),
                changeRow({ id: "patch-web-2", components: ["web-2"], start: "2030-01-01T21:00:00Z", end: "2030-01-01T23:00:00Z", state: "down" }));
  }
  el.querySelector("#change-add").onclick = () => body.append(changeRow());
  el.querySelector("#change-assess").onclick = async () => {
    const out = clear(el.querySelector("#change-result"));
    const changes = [...body.querySelectorAll("tr")].map((tr) => {
      const v = (n) => tr.querySelector(`[name=${n}]`).value.trim();
      return { id: v("id"), components: v("components").split(",").map((s) => s.trim()).filter(Boolean),
               start: v("start"), end: v("end"), state: v("state") };
    });
    try {
      const r = await postJson("/v1/changes/assess", { changes });
      out.append(h("h3", {}, "Each change alone"), table(["change", "window", "broken", "at risk", "impacted", ""],
        Object.entries(r.changes).map(([id, c]) => [id, c.window ? `${c.window.start} – ${c.window.end}` : "",
          links(show, c.broken_promises), links(show, c.at_risk_promises), String(Object.keys(c.impacted).length),
          h("button", { type: "button", onclick: () => show(c.components[0], { fail: c.state, also: c.components }) }, "show on the map")])));
      out.append(h("h3", {}, `Conflicts (${r.conflicts.length})`), r.conflicts.length ? table(
        ["changes", "overlap", "broken together", "at risk together"],
        r.conflicts.map((c) => [c.changes.join(" + "), `${c.start} – ${c.end}`, links(show, c.broken_promises || []),
                                links(show, c.at_risk_promises || [])])) : h("p", {}, "none"));
    } catch (err) {
      out.append(h("p", { class: "error" }, err.message));
    }
  };
}
