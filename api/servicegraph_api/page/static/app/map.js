// The map: Cytoscape.js with dagre's layered layout (or the fast layered
// layout for big views), colours by kind, red and amber by state.
//
// Element ids are never made from the model's ids: those may hold any character
// ("->", "|", ":", arrows), so any id built by joining them could be forged by
// another id, and Cytoscape keeps only one element per id. Each draw numbers its
// elements instead, in one namespace per sort: nodes n0, n1..., folded groups
// g0, g1..., edges e0, e1... The model's id of a node is its data("ref"), an
// edge's ends are data("from") and data("to"); `node(id)` finds a drawn node.

import { keyOf } from "./keys.js";
import { layered } from "./layout.js";
import { KIND_LAYER, KIND_PLURAL, STATE_RANK } from "./model.js";

/** Above this many drawn nodes dagre is too slow for a responsive tab... */
export const DAGRE_MAX = 300;
/** ...and with a layer wider than this its single rows are too wide to read. */
const DAGRE_WIDEST = 30;

const COLOURS = {
  promise: "#6a4c93", business_service: "#1982c4", service_act: "#2a9d8f",
  service_system: "#8ac926", ci: "#8d99ae",
};
const SHAPES = {
  promise: "round-octagon", business_service: "round-hexagon", service_act: "round-tag",
  service_system: "round-rectangle", ci: "rectangle",
};

const STYLE = [
  { selector: "node", style: {
    "shape": (n) => SHAPES[n.data("kind")] || "ellipse",
    "width": 150, "height": 54,
    "background-color": "#ffffff",
    "border-width": 3,
    "border-color": (n) => COLOURS[n.data("kind")] || "#999",
    "label": "data(label)", "font-size": 11, "color": "#1d232b",
    "text-wrap": "wrap", "text-max-width": 138, "text-valign": "center", "text-halign": "center",
  } },
  { selector: "node[kind = 'promise']", style: {
    "background-color": "#efe9f6", "font-weight": "bold", "width": 170, "height": 62, "border-width": 4,
  } },
  { selector: "node.down", style: { "background-color": "#d62828", "color": "#ffffff" } },
  { selector: "node.degraded", style: { "background-color": "#f4a100" } },
  { selector: "node.failed", style: {
    "border-color": "#111111", "border-width": 7, "border-style": "double",
  } },
  // Planned work: hatched over its state's colour (the impact is shown, not hidden).
  { selector: "node.planned", style: {
    "background-fill": "linear-gradient", "background-gradient-stop-colors": "#ffffff #8d99ae",
    "background-gradient-direction": "to-bottom-right", "border-style": "dashed",
    "border-color": "#5c6773", "border-width": 3 } },
  { selector: "node.planned.down", style: { "background-gradient-stop-colors": "#d62828 #8d99ae" } },
  { selector: "node.planned.degraded", style: { "background-gradient-stop-colors": "#f4a100 #8d99ae" } },
  // Acknowledged: someone is on it (a green ring).
  { selector: "node.acked", style: { "outline-color": "#2d6a2e", "outline-width": 4,
    "outline-offset": 2, "outline-opacity": 1 } },
  { selector: "node.aggregate", style: {
    "shape": "round-rectangle", "border-style": "dashed", "background-color": "#f6f7f9",
    "width": 130, "height": 46,
  } },
  { selector: "node.center", style: { "overlay-color": "#3a86ff", "overlay-opacity": 0.12, "overlay-padding": 8 } },
  { selector: "node:selected", style: { "overlay-color": "#1d232b", "overlay-opacity": 0.18, "overlay-padding": 6 } },
  { selector: "edge", style: {
    "width": 1.6, "line-color": "#9aa5b1", "target-arrow-color": "#9aa5b1",
    "target-arrow-shape": "triangle", "arrow-scale": 0.9, "curve-style": "bezier",
    "label": "data(label)", "font-size": 9, "color": "#3a86ff", "text-background-color": "#ffffff",
    "text-background-opacity": 0.85, "text-background-padding": 1,
  } },
  { selector: "edge[impact = 'soft']", style: { "line-style": "dashed" } },
  { selector: "edge[group]", style: { "width": 3, "line-color": "#3a86ff", "target-arrow-color": "#3a86ff" } },
  { selector: "edge.down", style: { "line-color": "#d62828", "target-arrow-color": "#d62828", "width": 3 } },
  { selector: "edge.degraded", style: { "line-color": "#f4a100", "target-arrow-color": "#f4a100", "width": 3 } },
  { selector: "edge.aggregate", style: { "line-style": "dotted" } },
];

function nodeLabel(n, groupSizes) {
  const lines = [n.name || n.id];
  const who = n.provider ? `by ${n.provider}` : n.owner ? `owner ${n.owner}` : "";
  if (who) lines.push(who);
  for (const [group, rule] of Object.entries(n.redundancy || {})) {
    const size = groupSizes.get(keyOf(n.id, group));
    // A rule is a count, a share ("50%") or {min_ok, ok_at}, each a count or a share.
    const [minOk, okAt] = rule !== null && typeof rule === "object" ? [rule.min_ok, rule.ok_at] : [rule];
    lines.push(`needs ${minOk} of ${size ?? "?"} ${group}${okAt === undefined ? "" : `, ok at ${okAt}`}`);
  }
  return lines.join("\n");
}

export class DependencyMap {
  constructor(container, { onSelect, onExpand }) {
    this.cy = cytoscape({
      container, style: STYLE, wheelSensitivity: 0.3, minZoom: 0.02, maxZoom: 3,
      boxSelectionEnabled: false, textureOnViewport: true, hideEdgesOnViewport: true,
    });
    this.elementOf = new Map(); // the model's node id -> its element id, this draw
    this.cy.on("tap", "node", (evt) => {
      const n = evt.target;
      if (n.hasClass("aggregate")) onExpand(n.data("key"));
      else onSelect(n.data("ref"));
    });
    this.cy.on("tap", (evt) => { if (evt.target === this.cy) onSelect(null); });
  }

  /** Replace the drawn elements; resolves when laid out and painted. */
  draw(part, center) {
    const groupSizes = new Map();
    for (const e of part.edges) {
      if (e.group) groupSizes.set(keyOf(e.from, e.group), (groupSizes.get(keyOf(e.from, e.group)) || 0) + 1);
    }
    const elementOf = new Map();
    const elements = [];
    part.nodes.forEach((n, i) => {
      elementOf.set(n.id, `n${i}`);
      elements.push({ group: "nodes", data: {
        id: `n${i}`, ref: n.id, kind: n.kind, name: n.name, label: nodeLabel(n, groupSizes),
      }, classes: n.id === center ? "center" : "" });
    });
    let edges = 0;
    part.aggregates.forEach((a, i) => {
      const beyond = a.beyond ? `\n(+${a.beyond} beyond)` : "";
      elements.push({ group: "nodes", data: {
        id: `g${i}`, key: a.key, kind: a.kind, members: a.members,
        label: `+${a.direct} ${KIND_PLURAL[a.kind] || a.kind}${beyond}\nclick to show`,
      }, classes: "aggregate" });
      const parent = elementOf.get(a.parent);
      const [source, target] = a.needs ? [parent, `g${i}`] : [`g${i}`, parent];
      elements.push({ group: "edges", data: { id: `e${edges++}`, source, target, label: "" },
                      classes: "aggregate" });
    });
    for (const e of part.edges) {
      const data = { id: `e${edges++}`, source: elementOf.get(e.from), target: elementOf.get(e.to),
                     from: e.from, to: e.to, label: "" };
      if (e.group) { data.group = e.group; data.label = e.group; }
      if (e.impact === "soft") { data.impact = "soft"; data.label = data.label ? `${data.label} (soft)` : "soft"; }
      elements.push({ group: "edges", data });
    }
    this.elementOf = elementOf;
    this.cy.startBatch();
    this.cy.elements().remove();
    this.cy.add(elements);
    this.cy.endBatch();
    return this.layout();
  }

  layout() {
    const nodes = this.cy.nodes();
    const width = {};
    for (const n of nodes) width[n.data("kind")] = (width[n.data("kind")] || 0) + 1;
    const big = nodes.length > DAGRE_MAX || Math.max(0, ...Object.values(width)) > DAGRE_WIDEST;
    const done = new Promise((resolve) => this.cy.one("layoutstop", resolve));
    if (big) {
      const pos = layered(nodes.map((n) => ({ id: n.id(), kind: n.data("kind") })),
                          this.cy.edges().map((e) => ({ from: e.source().id(), to: e.target().id() })));
      this.cy.layout({ name: "preset", positions: (n) => pos.get(n.id()), fit: true, padding: 30 }).run();
    } else {
      const layer = (n) => KIND_LAYER[n.data("kind")] ?? 4;
      this.cy.layout({
        name: "dagre", rankDir: "TB", nodeSep: 25, rankSep: 60, edgeSep: 10, fit: true, padding: 30,
        // Edges point from dependant to dependency; stretching each edge across the
        // kinds it spans keeps promises on top and CIs at the bottom.
        minLen: (e) => Math.max(1, layer(e.target()) - layer(e.source())),
      }).run();
    }
    return done.then(() => new Promise((resolve) => requestAnimationFrame(() => resolve(big ? "layered" : "dagre"))));
  }

  /** Colour nodes (and the edges between impacted nodes) by state; mark those of
   *  planned work and those acknowledged (`marks`: sets of model ids). */
  paint(states, given, marks = { planned: new Set(), acked: new Set() }) {
    this.cy.batch(() => {
      this.cy.nodes().removeClass("down degraded failed planned acked");
      this.cy.edges().removeClass("down degraded");
      for (const n of this.cy.nodes()) {
        let s = states[n.data("ref")];
        if (n.hasClass("aggregate")) {
          s = n.data("members").reduce((w, m) => (STATE_RANK[states[m]] > STATE_RANK[w] ? states[m] : w), "ok");
        } else if (given[n.data("ref")]) {
          n.addClass("failed");
        }
        if (s === "down" || s === "degraded") n.addClass(s);
        if (marks.planned.has(n.data("ref"))) n.addClass("planned");
        if (marks.acked.has(n.data("ref"))) n.addClass("acked");
      }
      for (const e of this.cy.edges()) {
        // A folded group's edge has no model ends: its group node carries the state.
        const s = states[e.data("from")];
        const t = states[e.data("to")];
        if (s && t && s !== "ok" && t !== "ok") e.addClass(STATE_RANK[t] < STATE_RANK[s] ? t : s);
      }
    });
  }

  /** The drawn node of the model's node `id` (an empty collection when not drawn). */
  node(id) {
    const element = this.elementOf.get(id);
    return element === undefined ? this.cy.collection() : this.cy.getElementById(element);
  }

  select(id) {
    this.cy.nodes().unselect();
    if (id !== null && id !== undefined) this.node(id).select();
  }

  fit() { this.cy.fit(undefined, 30); }

  /** The model's ids of the drawn nodes (folded groups left out). */
  drawnIds() { return this.cy.nodes().not(".aggregate").map((n) => n.data("ref")); }
}
