// The record view: a month of every promise (share kept, time at risk and broken,
// planned apart), the providers' part in the broken time, and for one promise a
// timeline of its states whose breaks link into the map at the cause.

import { ApiError, getJson, query } from "./api.js";
import { clear, h } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 1000;  // the timeline's drawing width (its viewBox), scaled to the page
const PAGE = 1000;   // transitions per request of the timeline

/** `3 h 5 min` from seconds; seconds only below a minute. */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  let s = Math.round(Math.abs(seconds));
  const sign = seconds < 0 ? "−" : "";
  if (s === 0) return "0";
  if (s < 60) return `${sign}${s} s`;
  const parts = [];
  for (const [unit, size] of [["d", 86400], ["h", 3600], ["min", 60]]) {
    const n = Math.floor(s / size);
    if (n) parts.push(`${n} ${unit}`);
    s -= n * size;
  }
  return sign + parts.join(" ");
}

const percent = (share) => (share === null || share === undefined ? "" : `${(share * 100).toFixed(3)} %`);

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

/** The browser's own time zone, the view's default. */
export function browserZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

function thisMonth(zone) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit" })
    .formatToParts(new Date());
  const get = (t) => parts.find((p) => p.type === t).value;
  return `${get("year")}-${get("month")}`;
}

function when(zone) {
  const f = new Intl.DateTimeFormat("en-GB", { timeZone: zone, day: "numeric", month: "short",
                                               hour: "2-digit", minute: "2-digit" });
  return (iso) => (iso ? f.format(new Date(iso)) : "");
}

/** The state of a band: the figure it adds to. */
const BAND = { ok: "kept", degraded: "at-risk", down: "broken" };

/**
 * The bands of one node over [from, to): its state before the period (the last
 * transition before it, or ok) and each transition in the period, clipped.
 */
export function bands(before, transitions, from, to) {
  const out = [];
  let state = before ? before.state : "ok";
  let planned = before ? before.planned : false;
  let at = from;
  for (const t of transitions) {
    const moment = Date.parse(t.at);
    if (moment >= to) break;
    if (moment > at) out.push({ start: at, end: moment, state: BAND[state], planned: state !== "ok" && planned });
    at = Math.max(at, moment);
    state = t.state;
    planned = t.planned;
  }
  if (to > at) out.push({ start: at, end: to, state: BAND[state], planned: state !== "ok" && planned });
  return out;
}

/** The bands from the breaks alone (when the server has no timeline): broken or kept. */
function bandsOfBreaks(breaks, from, to) {
  const out = [];
  let at = from;
  for (const b of breaks) {
    const start = Math.max(from, Date.parse(b.start));
    const end = Math.min(to, b.end ? Date.parse(b.end) : to);
    if (start > at) out.push({ start: at, end: start, state: "kept", planned: false });
    if (end > start) out.push({ start, end, state: "broken", planned: b.planned });
    at = Math.max(at, end);
  }
  if (to > at) out.push({ start: at, end: to, state: "kept", planned: false });
  return out;
}

async function everyPage(params) {
  const first = await getJson(`/v1/history?${query({ ...params, limit: PAGE, offset: 0 })}`);
  const rows = [...first.transitions];
  for (let offset = PAGE; offset < first.page.total; offset += PAGE) {
    const next = await getJson(`/v1/history?${query({ ...params, limit: PAGE, offset })}`);
    rows.push(...next.transitions);
  }
  return rows;
}

/** The node's transitions over the period and its last one before; null when the
 *  server has no timeline (`/v1/history`). */
async function timelineOf(id, layer, from, to) {
  try {
    const last = await getJson(`/v1/history?${query({ node: id, layer, to: from, limit: 1 })}`);
    let before = null;
    if (last.page.total > 1) {
      before = (await getJson(`/v1/history?${query({ node: id, layer, to: from, limit: 1,
                                                     offset: last.page.total - 1 })}`)).transitions[0];
    } else if (last.page.total === 1) {
      before = last.transitions[0];
    }
    const during = await everyPage({ node: id, layer, from, to });
    return { before, during };
  } catch (err) {
    if (err instanceof ApiError && [404, 405, 501].includes(err.status)) return null;
    throw err;
  }
}

function drawTimeline(drawn, from, to, zone) {
  const span = Math.max(1, to - from);
  const x = (t) => ((t - from) / span) * WIDTH;
  const chart = svg("svg", { id: "record-timeline", viewBox: `0 0 ${WIDTH} 64`, role: "img",
                             "aria-label": "The promise's states over the period" });
  const at = when(zone);
  // Kept first, the rest over it, each at least a few units wide so a short break shows
  // on a month (its data keeps its true length).
  for (const b of [...drawn.filter((d) => d.state === "kept"), ...drawn.filter((d) => d.state !== "kept")]) {
    const cls = `band ${b.state}${b.planned ? " planned" : ""}`;
    chart.append(svg("rect", { class: cls, x: x(b.start), y: 6, height: 32,
                               width: Math.max(x(b.end) - x(b.start), b.state === "kept" ? 0 : 3),
                               dataset: { state: b.state, planned: String(b.planned),
                                          start: new Date(b.start).toISOString(),
                                          seconds: String((b.end - b.start) / 1000) } },
    svg("title", {}, `${b.state.replace("-", " ")}${b.planned ? " (planned)" : ""}: ${at(b.start)} – ` +
                     `${at(b.end)} (${duration((b.end - b.start) / 1000)})`)));
  }
  // A tick at each local midnight, labelled every few days.
  const day = new Intl.DateTimeFormat("en-GB", { timeZone: zone, day: "numeric" });
  const hour = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "numeric", hourCycle: "h23" });
  for (let t = Math.ceil(from / 3600000) * 3600000; t < to; t += 3600000) {
    if (Number(hour.format(new Date(t))) !== 0) continue;
    const n = Number(day.format(new Date(t)));
    chart.append(svg("line", { class: "tick", x1: x(t), x2: x(t), y1: 38, y2: n % 5 === 1 ? 46 : 42 }));
    if (n === 1 || n % 5 === 1) chart.append(svg("text", { class: "tick-label", x: x(t) + 2, y: 58 }, String(n)));
  }
  return chart;
}

/** The record of one promise: its figures, timeline and breaks. */
async function showPromise(el, ctx, id, params) {
  const out = clear(el.querySelector("#record-promise"));
  const doc = await getJson(`/v1/promises/${encodeURIComponent(id)}/record?${query(params)}`);
  const r = doc.record;
  const from = Date.parse(doc.period.from);
  const to = Math.min(Date.parse(doc.period.to), doc.period.as_of ? Date.parse(doc.period.as_of) : Infinity);
  const zone = doc.period.tz;
  const travel = await ctx.travel();
  // The timeline (`/v1/history`) comes with time travel: both read the record's transitions.
  const found = travel ? await timelineOf(id, r.layer, doc.period.from, new Date(to).toISOString()) : null;
  const drawn = found ? bands(found.before, found.during, from, to) : bandsOfBreaks(r.breaks, from, to);
  const at = when(zone);
  out.append(
    h("h3", { dataset: { id } }, `${r.name || id} (${id})`),
    h("p", {}, `Kept ${percent(r.share_kept)} of ${duration(doc.period.counted_seconds)}: at risk ` +
      `${duration(r.at_risk_seconds)}, broken ${duration(r.broken_seconds)} (of which planned ` +
      `${duration(r.planned.broken_seconds)}) in ${r.break_count} break(s).`,
      r.target ? ` Target ${r.target.kept} %: ${r.target.met ? "met" : "missed"}, budget left ` +
                 `${duration(r.target.budget_left_seconds)}.` : ""),
    drawTimeline(drawn, from, to, zone),
    h("p", { class: "legend" }, h("span", { class: "swatch kept" }), " kept ", h("span", { class: "swatch at-risk" }),
      " at risk ", h("span", { class: "swatch broken" }), " broken ", h("span", { class: "swatch planned" }),
      " planned", found ? "" : " (this server keeps no timeline: only the breaks are drawn, time at risk is not)"),
    h("h4", {}, `Breaks (${r.breaks.length})`),
    r.breaks.length ? h("ol", { id: "record-breaks" }, r.breaks.map((b) => h("li", { dataset: { start: b.start } },
      `${at(b.start)} – ${b.end ? at(b.end) : "still broken"}: ${duration(b.duration_seconds)}`,
      b.planned ? " planned" : "", ". Caused by ",
      b.causes.length ? b.causes.flatMap((c, i) => [i ? ", " : "", h("button", {
        class: "node-link cause-link", type: "button", dataset: { id: c.component, at: b.start },
        title: travel ? "open the map as it stood when the break began" : "open the map (as it is now)",
        onclick: () => ctx.openAt(c.component, b.start),
      }, c.component), c.provider ? ` (${c.provider}${c.planned ? ", planned" : ""})` : ""]) : "nothing recorded",
      b.providers.length ? `; shared: ${b.providers.map((p) => `${p.provider} ${duration(p.seconds)}`).join(", ")}` : "")))
      : h("p", {}, "No breaks."),
    h("p", { class: "rule" }, travel ? "A cause opens the map as it stood when the break began."
      : "A cause opens the map as it is now: this server cannot show the map as it stood then."),
  );
  el.dataset.promise = id;
  return doc;
}

function table(headers, rows) {
  return h("table", {}, h("thead", {}, h("tr", {}, headers.map((t) => h("th", {}, t)))), h("tbody", {}, rows));
}

/** Render the record view in `el`; ctx: {openAt(id, iso), travel(): Promise<bool>}. */
export async function render(el, ctx) {
  delete el.dataset.ready;
  const month = el.querySelector("#record-month");
  const zone = el.querySelector("#record-tz");
  if (!zone.value) zone.value = browserZone();
  if (!month.value) month.value = thisMonth(zone.value);
  const zones = el.querySelector("#record-zones");
  if (!zones.children.length && Intl.supportedValuesOf) {
    zones.append(...Intl.supportedValuesOf("timeZone").map((z) => h("option", { value: z })));
  }
  el.querySelector("#record-show").onclick = () => render(el, ctx).catch((err) => failedHere(el, err));
  const params = { from: month.value, tz: zone.value.trim() || "UTC" };
  const note = el.querySelector("#record-status");
  note.classList.remove("error");
  note.textContent = `Loading the record of ${params.from} (${params.tz})…`;
  let nodes;
  let providers;
  try {
    [nodes, providers] = await Promise.all([getJson(`/v1/record?${query({ ...params, by: "promise" })}`),
                                            getJson(`/v1/record?${query({ ...params, by: "provider" })}`)]);
  } catch (err) {
    failedHere(el, err);
    return;
  }
  const p = nodes.period;
  note.textContent = `${p.from} to ${p.to} (${p.tz})${p.as_of ? `, up to now (${p.as_of})` : ""}: ` +
    `${duration(p.counted_seconds)} counted.`;
  const open = (id) => showPromise(el, ctx, id, params).catch((err) => failedHere(el, err));
  const pick = (id) => h("button", { class: "node-link", type: "button", dataset: { id }, onclick: () => open(id) }, id);
  const promises = nodes.nodes.filter((n) => n.layer === "promise");
  clear(el.querySelector("#record-promises")).append(table(
    ["promise", "name", "owner", "share kept", "at risk", "broken", "planned: at risk", "planned: broken", "breaks", "budget left"],
    promises.map((n) => h("tr", { dataset: { id: n.id, share: String(n.share_kept),
                                             broken: String(n.broken_seconds),
                                             plannedBroken: String(n.planned.broken_seconds) } },
      h("td", {}, pick(n.id)), h("td", {}, n.name || ""), h("td", {}, n.owner || ""),
      h("td", { class: "share" }, percent(n.share_kept)),
      h("td", {}, duration(n.unplanned.at_risk_seconds)), h("td", { class: "broken" }, duration(n.unplanned.broken_seconds)),
      h("td", {}, duration(n.planned.at_risk_seconds)), h("td", { class: "planned-broken" }, duration(n.planned.broken_seconds)),
      h("td", { class: "count" }, String(n.break_count)),
      h("td", {}, n.target ? duration(n.target.budget_left_seconds) : "")))));
  clear(el.querySelector("#record-providers")).append(providers.providers.length ? table(
    ["provider", "minutes broken", "of which planned", "breaks", "promises"],
    providers.providers.map((s) => h("tr", { dataset: { provider: s.provider, minutes: String(s.broken_minutes) } },
      h("td", {}, s.provider), h("td", { class: "minutes" }, s.broken_minutes.toFixed(2)),
      h("td", {}, (s.planned_seconds / 60).toFixed(2)), h("td", { class: "count" }, String(s.breaks)),
      h("td", {}, s.promises.flatMap((id, i) => [i ? ", " : "", pick(id)])))))
    : h("p", {}, "No promise was broken."));
  const chosen = el.dataset.promise && promises.some((n) => n.id === el.dataset.promise) ? el.dataset.promise
    : (promises.find((n) => n.break_count) || promises[0] || {}).id;
  if (chosen) await open(chosen);
  el.dataset.ready = `${params.from} ${params.tz}`;
}

function failedHere(el, err) {
  const note = el.querySelector("#record-status");
  note.classList.add("error");
  note.textContent = err instanceof ApiError && err.status === 501
    ? "This server keeps no record of transitions, so it has no record to show."
    : err instanceof ApiError ? `${err.status}: ${err.message}` : String(err.message || err);
  el.dataset.ready = "error";
}
