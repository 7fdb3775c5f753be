// A fast layered layout for views too big for dagre: rows by kind (promises on
// top, CIs at the bottom), chains within one kind pushed a row down, order in a
// row by the mean position of the neighbours above. Linear in nodes and edges,
// so a few thousand nodes place in milliseconds. Pure: no DOM.

import { KIND_LAYER } from "./model.js";

const DX = 190;   // horizontal spacing
const DY = 120;   // vertical spacing

/**
 * @param {{id: string, kind: string}[]} nodes  nearest first
 * @param {{from: string, to: string}[]} edges  dependant -> dependency
 * @returns {Map<string, {x: number, y: number}>}
 */
export function layered(nodes, edges) {
  const kind = new Map(nodes.map((n) => [n.id, n.kind]));
  const sub = new Map(nodes.map((n) => [n.id, 0]));
  const same = edges.filter((e) => kind.has(e.from) && kind.get(e.from) === kind.get(e.to));
  // Longest chains within a kind, a few passes only: cycles must not loop forever.
  for (let pass = 0; pass < 4; pass++) {
    let moved = false;
    for (const e of same) {
      if (sub.get(e.to) < sub.get(e.from) + 1 && sub.get(e.from) < 3) {
        sub.set(e.to, sub.get(e.from) + 1);
        moved = true;
      }
    }
    if (!moved) break;
  }
  const depthOf = {};
  for (const n of nodes) depthOf[n.kind] = Math.max(depthOf[n.kind] || 0, sub.get(n.id) + 1);
  const offset = {};
  let acc = 0;
  for (const k of Object.keys(KIND_LAYER).sort((a, b) => KIND_LAYER[a] - KIND_LAYER[b])) {
    offset[k] = acc;
    acc += depthOf[k] || 0;
  }
  const rows = [];
  for (const n of nodes) {
    const r = offset[n.kind] + sub.get(n.id);
    (rows[r] = rows[r] || []).push(n.id);
  }
  const neighbours = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) {
    if (!neighbours.has(e.from) || !neighbours.has(e.to)) continue;
    neighbours.get(e.from).push(e.to);
    neighbours.get(e.to).push(e.from);
  }
  // A wide layer wraps onto several rows, so the whole view keeps about the shape of
  // a screen (1.5 : 1) instead of one endless row.
  const wrap = Math.max(12, Math.ceil(Math.sqrt((1.5 * nodes.length * DY) / DX)));
  const pos = new Map();
  let y = 0;
  for (const row of rows) {
    if (!row) continue;
    const score = new Map(row.map((id, i) => {
      const placed = neighbours.get(id).filter((m) => pos.has(m)).map((m) => pos.get(m).x);
      return [id, placed.length ? placed.reduce((a, b) => a + b, 0) / placed.length : Infinity + i];
    }));
    const ordered = row.map((id, i) => ({ id, i, s: score.get(id) }))
      .sort((a, b) => (a.s === b.s ? a.i - b.i : (a.s === Infinity ? 1 : b.s === Infinity ? -1 : a.s - b.s)));
    for (let start = 0; start < ordered.length; start += wrap) {
      const chunk = ordered.slice(start, start + wrap);
      chunk.forEach((item, i) => pos.set(item.id, { x: (i - (chunk.length - 1) / 2) * DX, y }));
      y += DY;
    }
    y += DY / 2;
  }
  return pos;
}
