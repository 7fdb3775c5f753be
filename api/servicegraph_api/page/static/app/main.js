// The dependency explorer: search, draw, what-if, live, tables, exports.

import { ApiError, askForKey, forgetKey, getJson, postJson, query, readEvents } from "./api.js";
import { h } from "./dom.js";
import { exportView, exportWhole } from "./exports.js";
import { DependencyMap } from "./map.js";
import { renderNode, renderRecorded, renderSummary } from "./panel.js";
import { prune } from "./prune.js";
import * as record from "./record.js";
import * as tables from "./tables.js";

const $ = (sel) => document.querySelector(sel);
const BUDGET = 120;       // nodes drawn at first, nearest first; "show more" adds more
const FANOUT = 8;         // more children of one kind than this are folded...
const KEEP = 4;           // ...keeping this many in sight
const URL_BUDGET = 6000;  // characters of `within` per GET /v1/current

// Everything the page knows; on window so a test (or a curious user) can look.
const sg = window.sg = {
  mode: "whatif", given: new Map(), view: null, part: null, budget: BUDGET, expanded: new Set(),
  all: false, states: {}, answer: null, selected: null, names: new Map(), promiseIds: [],
  lastDraw: null, draws: [], liveEvents: [], live: null, generation: 0,
  travelAt: null, travel: null,
};
const eventLog = h("ol", { id: "events", reversed: true });

function status(text, error = false) {
  const el = $("#status");
  el.textContent = text;
  el.classList.toggle("error", error);
}

function failed(err) {
  console.error(err);
  status(err instanceof ApiError ? `${err.status}: ${err.message}` : String(err.message || err), true);
}

function remember(nodes) {
  for (const n of nodes) sg.names.set(n.id, n);
}

// --- search -----------------------------------------------------------------------

let searchTimer = null;
async function search(text) {
  const list = $("#search-results");
  if (!text.trim()) { list.hidden = true; return []; }
  const page = await getJson(`/v1/nodes?${query({ q: text.trim(), limit: 12 })}`);
  remember(page.items);
  list.replaceChildren(...page.items.map((n) => h("li", {}, h("button", {
    type: "button", dataset: { id: n.id }, onclick: () => { list.hidden = true; show(n.id); },
  }, h("span", { class: `kind ${n.kind}` }, n.kind.replace("_", " ")), " ", n.name, " ", h("code", {}, n.id)))));
  if (!page.items.length) list.replaceChildren(h("li", {}, h("em", {}, "no match")));
  list.hidden = false;
  return page.items;
}

// --- drawing ----------------------------------------------------------------------

const map = new DependencyMap($("#cy"), { onSelect: (id) => select(id), onExpand: (key) => expand(key) });
sg.cy = map.cy;
sg.map = map;

/** Fetch the neighbourhood of `id` and draw it; the time to first draw is kept. */
async function draw(id) {
  const t0 = performance.now();
  const generation = ++sg.generation;
  status(`Loading the neighbourhood of ${id}…`);
  const params = { direction: $("#direction").value, depth: $("#depth").value, limit: $("#limit").value };
  const view = await getJson(`/v1/nodes/${encodeURIComponent(id)}/neighbourhood?${query(params)}`);
  if (generation !== sg.generation) return; // a newer draw started meanwhile
  const fetched = performance.now();
  remember(view.nodes);
  Object.assign(sg, { view, budget: BUDGET, expanded: new Set(), all: false, selected: null });
  history.replaceState(null, "", `#node=${encodeURIComponent(id)}`);
  const layout = await redraw();
  const drawn = performance.now();
  await refreshStates();
  const painted = performance.now();
  sg.lastDraw = {
    center: id, fetched: view.nodes.length, truncated: view.truncated, drawn: sg.part.nodes.length,
    aggregates: sg.part.aggregates.length, layout, fetch_ms: fetched - t0, first_draw_ms: drawn - t0,
    with_states_ms: painted - t0,
  };
  sg.draws.push(sg.lastDraw);
  renderPanel();
}

async function redraw() {
  const t0 = performance.now();
  const v = sg.view;
  sg.part = prune(v, { budget: sg.budget, fanout: FANOUT, keep: KEEP, expanded: sg.expanded, all: sg.all });
  const layout = await map.draw(sg.part, v.center);
  map.paint(sg.states, sg.paintedGiven || {});
  sg.lastRedraw = { nodes: sg.part.nodes.length, aggregates: sg.part.aggregates.length, layout,
                    ms: performance.now() - t0 };
  const p = sg.part;
  const hidden = p.cut + p.folded;
  let text = `${p.nodes.length} of ${v.nodes.length} nodes around ${v.center}`;
  if (p.folded) text += `; ${p.folded} folded into ${p.aggregates.length} group(s) (click one to open it)`;
  if (p.cut) text += `; ${p.cut} more beyond`;
  if (v.truncated) text += `; the server cut the neighbourhood at ${v.nodes.length} nodes (raise "Nodes")`;
  status(`${text}. Layout: ${layout}.`);
  $("#show-more").hidden = !p.cut;
  $("#show-more").textContent = `Show more (${p.cut} hidden)`;
  $("#show-all").hidden = !hidden;
  if (sg.selected) map.select(sg.selected);
  return layout;
}

function expand(key) {
  sg.expanded.add(key);
  redraw().catch(failed);
}

async function show(id, opts = {}) {
  selectTab("map");
  if (!sg.view || sg.view.center !== id) await draw(id);
  if (opts.fail) {
    for (const c of opts.also || [id]) sg.given.set(c, opts.fail);
    if (sg.mode !== "whatif") setMode("whatif");
    await refreshStates();
  }
  select(id);
}

// --- states: what-if or live --------------------------------------------------------

function chunks(ids) {
  const out = [[]];
  let size = 0;
  for (const id of ids) {
    if (size + id.length + 8 > URL_BUDGET && out[out.length - 1].length) { out.push([]); size = 0; }
    out[out.length - 1].push(id);
    size += encodeURIComponent(id).length + 8;
  }
  return out;
}

let statesTurn = 0;

/** The state of every fetched node: the what-if scenario, what is observed now, or what
 *  the record kept at the moment travelled to. */
async function refreshStates() {
  if (!sg.view) return;
  // Only the latest question paints: a slow answer for a moment the slider has left, or
  // for the past after "Now", must not come in over a newer one.
  const turn = ++statesTurn;
  const ids = sg.view.nodes.map((n) => n.id);
  const limit = Math.min(10000, Math.max(ids.length, 1));
  let answer;
  if (sg.mode === "whatif") {
    const down = [...sg.given].filter(([, s]) => s === "down").map(([id]) => id);
    const degraded = [...sg.given].filter(([, s]) => s === "degraded").map(([id]) => id);
    answer = await postJson(`/v1/impact?limit=${limit}`, { down, degraded, within: ids });
  } else if (sg.travelAt) {
    answer = await travelled(sg.travelAt);
  }
  if (!answer) {
    // GET carries `within` in the URL: ask in chunks, the rest of the answer is the same.
    const parts = await Promise.all(chunks(ids).map((part) =>
      getJson(`/v1/current?${query({ limit, within: part })}`)));
    answer = parts[0];
    for (const p of parts.slice(1)) {
      Object.assign(answer.impacted, p.impacted);
      Object.assign(answer.explanations, p.explanations);
      Object.assign(answer.alerts, p.alerts);
    }
  }
  if (turn !== statesTurn) return;
  sg.answer = answer;
  sg.states = answer.impacted;
  const given = sg.mode === "whatif" ? Object.fromEntries(sg.given)
    : Object.fromEntries(Object.entries(answer.explanations).filter(([, w]) => w.given).map(([id, w]) => [id, w.given]));
  sg.paintedGiven = given;
  map.paint(sg.states, given, marksOf(answer));
  if (sg.travelAt) status(`The map as it stood at ${new Date(sg.travelAt).toLocaleString()}, from the record.`);
  renderPanel();
}

/** The map's answer at `at` (`GET /v1/current?at=`); null, back to now, when the server
 *  finds the moment ahead of its clock (this browser's clock runs ahead of it). */
async function travelled(at) {
  try {
    return asImpact(await getJson(`/v1/current?${query({ at })}`));
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 422 && aheadOfTheServer(err.body))) throw err;
    if (sg.travelAt !== at) return null;  // the slider has moved on: its answer paints
    sg.travelAt = null;
    $("#travel-label").textContent = "now";
    status(`The server's clock has not reached ${new Date(at).toLocaleString()} yet: the map now.`);
    return null;
  }
}

/** Whether a 422's body names the query field `field` (optionally with a message
 *  starting `start`). */
function problemOf(body, field, start = "") {
  return Boolean(body && Array.isArray(body.problems) &&
    body.problems.some((p) => p.field === field && String(p.message).startsWith(start)));
}

/** Whether a 422's problems say the moment `at` is in the server's future. */
const aheadOfTheServer = (body) => problemOf(body, "at", "in the future");

/** Time travel's answer (`GET /v1/current?at=`) in the shape of the live one: the
 *  record keeps the promises, acts, business services and observed components. */
function asImpact(then) {
  const impacted = {};
  for (const id of then.broken_promises) impacted[id] = "down";
  for (const id of then.at_risk_promises) impacted[id] = "degraded";
  Object.assign(impacted, then.service_acts, then.business_services);
  const explanations = {};
  for (const [id, o] of Object.entries(then.observed)) {
    impacted[id] = o.state;
    explanations[id] = { state: o.state, given: o.state, rule: "failed", causes: [], since: o.since };
  }
  for (const [id, w] of Object.entries(then.explanations)) explanations[id] = { ...explanations[id], ...w, recorded: true };
  const states = Object.values(impacted);
  return {
    at: then.at, impacted, explanations, alerts: {}, travel: then,
    broken_promises: then.broken_promises, at_risk_promises: then.at_risk_promises,
    service_acts: then.service_acts, business_services: then.business_services,
    providers: then.providers.map((p) => ({ provider: p.provider, failed: p.failed, affected: [] })),
    planned: { windows: [], components: then.planned.components, promises: then.planned.promises },
    acknowledged: { nodes: {}, promises: [] },
    counts: { broken_promises: then.broken_promises.length, at_risk_promises: then.at_risk_promises.length,
              service_acts: Object.keys(then.service_acts).length,
              business_services: Object.keys(then.business_services).length, impacted: states.length,
              down: states.filter((x) => x === "down").length, degraded: states.filter((x) => x === "degraded").length },
  };
}

/** The nodes to mark planned and acknowledged (a what-if has neither). */
function marksOf(answer) {
  const planned = answer.planned || { components: {}, promises: [] };
  const acked = answer.acknowledged || { nodes: {}, promises: [] };
  return {
    planned: new Set([...Object.keys(planned.components), ...planned.promises]),
    acked: new Set([...Object.keys(acked.nodes), ...acked.promises]),
  };
}

function context() {
  return {
    live: sg.mode === "live", travelAt: sg.travelAt, given: sg.given, answer: sg.answer, names: sg.names, states: sg.states,
    eventLog, focus: (id) => focus(id), recenter: (id) => draw(id).catch(failed),
    setGiven: (id, state) => {
      if (state) sg.given.set(id, state); else sg.given.delete(id);
      refreshStates().catch(failed);
    },
  };
}

let panelTurn = 0;
async function renderPanel() {
  const panel = $("#panel");
  const turn = ++panelTurn;
  const ctx = context();
  const id = sg.selected;
  if (!id) { renderSummary(panel, ctx); return; }
  const node = sg.names.get(id) || { id };
  if (sg.travelAt && sg.answer && sg.answer.travel) {
    renderRecorded(panel, ctx, node, sg.answer.explanations[id], sg.answer.at);
    return;
  }
  let why = sg.answer && sg.answer.explanations[id];
  if (sg.mode === "whatif" && sg.answer && sg.states[id]) {
    // The whole chain, for any node (the bulk answer has it for promises only).
    const scenario = {
      down: [...sg.given].filter(([, s]) => s === "down").map(([k]) => k),
      degraded: [...sg.given].filter(([, s]) => s === "degraded").map(([k]) => k),
    };
    try {
      why = await postJson(`/v1/impact/explain/${encodeURIComponent(id)}`, scenario);
    } catch (err) { failed(err); }
  } else if (sg.mode === "live" && sg.answer && sg.states[id]) {
    // Under the observed states, the whole chain too.
    try {
      why = await getJson(`/v1/current/explain/${encodeURIComponent(id)}`);
    } catch (err) { failed(err); }
  }
  if (turn === panelTurn) renderNode(panel, ctx, node, why);
}

function select(id) {
  sg.selected = id;
  map.select(id);
  renderPanel().catch(failed);
}

/** A node named in the panel or a table: select it when drawn, else draw around it. */
function focus(id) {
  if (sg.view && sg.view.nodes.some((n) => n.id === id) && map.node(id).nonempty()) {
    select(id);
    map.cy.animate({ center: { eles: map.node(id) }, duration: 250 });
  } else {
    show(id).catch(failed);
  }
}

// --- live mode ----------------------------------------------------------------------

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => refreshStates().catch(failed), 150);
}

function logEvent(text, state) {
  eventLog.prepend(h("li", { class: state || "" }, text));
  while (eventLog.children.length > 200) eventLog.lastChild.remove();
}

function onEvent(name, data) {
  sg.liveEvents.push({ name, data });
  if (name === "snapshot") {
    const states = Object.values(data.promises);
    logEvent(`${new Date().toLocaleTimeString()} connected: ${states.filter((s) => s === "down").length} broken, ` +
             `${states.filter((s) => s === "degraded").length} at risk`);
  } else if (name === "promise") {
    const n = sg.names.get(data.promise);
    const at = data.at ? new Date(data.at).toLocaleTimeString() : "";
    logEvent(`${at} ${n ? n.name : data.promise}: ${data.previous} → ${data.state}`, data.state);
  }
  refreshSoon();
}

// Acknowledgements and windows change no promise's state, so the stream does not tell
// of them: the live answer is read again now and then as well.
const LIVE_REREAD_MS = 5000;
let rereadTimer = null;
function rereadLive() {
  clearInterval(rereadTimer);
  rereadTimer = setInterval(() => { if (sg.mode === "live") refreshStates().catch(failed); }, LIVE_REREAD_MS);
}

function startLive() {
  const controller = new AbortController();
  sg.live = controller;
  (async () => {
    let wait = 1000;
    while (!controller.signal.aborted) {
      try {
        await readEvents("/v1/events", onEvent, controller.signal);
        wait = 1000;
      } catch (err) {
        if (controller.signal.aborted) return;
        logEvent(`stream interrupted (${err.message}); reconnecting`);
      }
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 15000);
    }
  })();
}

function setMode(mode) {
  sg.mode = mode;
  $("#mode-whatif").setAttribute("aria-pressed", String(mode === "whatif"));
  $("#mode-live").setAttribute("aria-pressed", String(mode === "live"));
  $("#clear").hidden = mode !== "whatif";
  if (sg.live) { sg.live.abort(); sg.live = null; }
  clearInterval(rereadTimer);
  if (mode === "live") { startLive(); rereadLive(); }
  if (mode !== "live") sg.travelAt = null;
  showSlider().catch(failed);
  refreshStates().catch(failed);
}

// --- time travel: the map at a past moment (live mode) --------------------------------

const SLIDER_DAYS = 7;   // how far back the slider reaches unless a break asks for more
const MINUTE = 60000;

/** Whether the server answers `GET /v1/current?at=T` (time travel); asked once. */
async function travelAvailable() {
  if (sg.travel === null) {
    sg.travel = (async () => {
      try {
        const then = await getJson(`/v1/current?${query({ at: new Date(Date.now() - MINUTE).toISOString(), limit: 1 })}`);
        return Boolean(then && then.structure);  // a server without the record ignores `at`
      } catch (err) {
        // A 422 names `at`: the server read it, so it travels (this browser's clock may
        // run ahead of the server's, or the record keep less than a minute).
        if (err instanceof ApiError) return err.status === 422 && problemOf(err.body, "at");
        throw err;
      }
    })();
  }
  return sg.travel;
}

/** The slider in live mode, when time travel is there: from `from` (ms) to now. */
async function showSlider(from) {
  const box = $("#travel");
  const available = sg.mode === "live" && await travelAvailable();
  box.hidden = !available;
  if (!available) return;
  const slider = $("#travel-at");
  const now = Date.now();
  let start = Math.min(from ?? now - SLIDER_DAYS * 86400000, sg.travelAt ? Date.parse(sg.travelAt) : now,
                       slider.dataset.from ? Number(slider.dataset.from) : now);
  if (sg.travelAt) {
    // The steps pass through the moment travelled to, so the slider sits exactly on it
    // (a break's start), and a step back and forth comes back to it.
    const at = msAtOrAfter(sg.travelAt);
    start = at - Math.ceil((at - start) / MINUTE) * MINUTE;
  }
  slider.dataset.from = String(start);
  slider.max = String(Math.ceil((now - start) / MINUTE));
  slider.value = sg.travelAt ? String(Math.round((Date.parse(sg.travelAt) - start) / MINUTE)) : slider.max;
  $("#travel-label").textContent = sg.travelAt ? new Date(sg.travelAt).toLocaleString() : "now";
}

/** The first whole millisecond at or after `iso`: the record's times have microseconds,
 *  which Date.parse drops, and the moment just before a transition is before it. */
function msAtOrAfter(iso) {
  const ms = Date.parse(iso);
  const fraction = /\.\d{3}(\d+)/.exec(iso);
  return fraction && /[1-9]/.test(fraction[1]) ? ms + 1 : ms;
}

let travelTimer = null;
function travelTo(at) {
  sg.travelAt = at;
  $("#travel-label").textContent = at ? new Date(at).toLocaleString() : "now";
  clearTimeout(travelTimer);
  travelTimer = setTimeout(() => refreshStates().catch(failed), 200);
}

/** Open the map at `id` as it stood at `at` when the server can travel in time, else
 *  the map now, saying so. */
async function openAt(id, at) {
  if (await travelAvailable()) {
    sg.travelAt = at;
    if (sg.mode !== "live") setMode("live"); else await showSlider();
    await show(id);
    await refreshStates();
  } else {
    await show(id);
    status(`This is the map now: this server cannot show it as it stood at ${new Date(at).toLocaleString()}.`);
  }
}

// --- tabs ---------------------------------------------------------------------------

const TABS = {
  promises: (el) => tables.promises(el, show),
  acts: (el) => tables.acts(el, show),
  systems: (el) => tables.systems(el, show),
  matrix: (el) => tables.matrix(el, show),
  spof: (el) => tables.spof(el, show, sg.promiseIds),
  changes: (el) => tables.changesForm(el, show),
  record: (el) => record.render(el, { openAt: (id, at) => openAt(id, at).catch(failed), travel: travelAvailable }),
};

function selectTab(name) {
  for (const b of document.querySelectorAll("#tabs button")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const s of document.querySelectorAll(".tab")) s.hidden = s.id !== `tab-${name}`;
  if (TABS[name]) Promise.resolve(TABS[name]($(`#tab-${name}`))).catch(failed);
}

// --- wiring -------------------------------------------------------------------------

$("#search").addEventListener("input", (e) => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(() => search(e.target.value).catch(failed), 200);
});
$("#search-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  try {
    const found = await search($("#search").value);
    if (found.length) { $("#search-results").hidden = true; await show(found[0].id); }
  } catch (err) { failed(err); }
});
for (const id of ["#direction", "#depth", "#limit"]) {
  $(id).addEventListener("change", () => sg.view && draw(sg.view.center).catch(failed));
}
$("#mode-whatif").onclick = () => setMode("whatif");
$("#mode-live").onclick = () => setMode("live");
$("#key-button").onclick = () => askForKey();
$("#key-forget").onclick = () => { forgetKey(); $("#key-input").value = ""; };
$("#fit").onclick = () => map.fit();
$("#show-more").onclick = () => { sg.budget += BUDGET * 2; redraw().catch(failed); };
$("#show-all").onclick = () => { sg.all = true; redraw().catch(failed); };
$("#travel-at").addEventListener("input", (e) => {
  const slider = e.target;
  const at = Number(slider.dataset.from) + Number(slider.value) * MINUTE;
  travelTo(Number(slider.value) >= Number(slider.max) ? null : new Date(at).toISOString());
});
$("#travel-now").onclick = () => { travelTo(null); showSlider().catch(failed); };
$("#clear").onclick = () => { sg.given.clear(); refreshStates().catch(failed); };
for (const b of document.querySelectorAll("[data-export]")) {
  b.onclick = () => exportView(b.dataset.export, map.cy, map.drawnIds(), sg.view && sg.view.center).catch(failed);
}
for (const a of document.querySelectorAll("[data-whole]")) {
  a.onclick = (e) => { e.preventDefault(); exportWhole(a.dataset.whole).catch(failed); };
}
for (const b of document.querySelectorAll("#tabs button")) b.onclick = () => selectTab(b.dataset.tab);

async function start() {
  const { items } = await getJson("/v1/catalogue/promises");
  remember(items.map((p) => ({ ...p, kind: "promise" })));
  sg.promiseIds = items.map((p) => p.id);
  const wanted = new URLSearchParams(location.hash.slice(1)).get("node") || sg.promiseIds[0];
  if (wanted) await draw(wanted);
  else status("The graph is empty: load one with `servicegraph load FILE`.");
  sg.ready = true;
}

start().catch(failed);
