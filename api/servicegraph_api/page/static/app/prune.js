// What of a fetched neighbourhood to draw: big fan-outs folded into one node,
// and at most `budget` nodes, nearest first ("show more" raises it). Pure: no DOM.

import { keyOf } from "./keys.js";

/**
 * @param {{center: string, nodes: object[], edges: object[]}} view  nodes nearest first
 * @param {{budget: number, fanout: number, keep: number, expanded: Set<string>, all: boolean}} opts
 * @returns {{nodes: object[], aggregates: object[], edges: object[], cut: number, folded: number}}
 */
export function prune(view, opts) {
  const { budget, fanout, keep, expanded, all } = opts;
  const order = new Map(view.nodes.map((n, i) => [n.id, i]));
  const byId = new Map(view.nodes.map((n) => [n.id, n]));
  const adjacent = new Map(view.nodes.map((n) => [n.id, []]));
  for (const e of view.edges) {
    if (!byId.has(e.from) || !byId.has(e.to)) continue;
    adjacent.get(e.from).push({ other: e.to, needs: true });
    adjacent.get(e.to).push({ other: e.from, needs: false });
  }
  for (const list of adjacent.values()) list.sort((a, b) => order.get(a.other) - order.get(b.other));

  // A spanning tree from the center, breadth first, so each node hangs off one parent.
  const parent = new Map([[view.center, null]]);
  const needsChild = new Map(); // child id -> whether the parent needs it (edge parent -> child)
  const queue = [view.center];
  for (let i = 0; i < queue.length; i++) {
    for (const { other, needs } of adjacent.get(queue[i]) || []) {
      if (parent.has(other)) continue;
      parent.set(other, queue[i]);
      needsChild.set(other, needs);
      queue.push(other);
    }
  }
  for (const n of view.nodes) if (!parent.has(n.id)) { parent.set(n.id, view.center); queue.push(n.id); }

  // Fold a parent's children of one kind and one direction when there are too many.
  // A group keeps its parts: its key is for lookups only, never taken apart again.
  const groups = new Map(); // key -> {parent, kind, needs, ids}
  for (const id of queue) {
    const p = parent.get(id);
    if (p === null) continue;
    const { kind } = byId.get(id);
    const needs = needsChild.get(id);
    const key = keyOf(p, kind, needs ? "needs" : "needed-by");
    if (!groups.has(key)) groups.set(key, { parent: p, kind, needs, ids: [] });
    groups.get(key).ids.push(id);
  }
  const foldedInto = new Map(); // child id -> aggregate key
  const pinned = new Set(); // children of a group the user opened: shown whatever the budget
  for (const [key, { ids }] of groups) {
    if (expanded.has(key)) ids.forEach((id) => pinned.add(id));
    if (all || ids.length <= fanout || expanded.has(key)) continue;
    for (const id of ids.slice(keep)) foldedInto.set(id, key);
  }

  // Visible: not folded, parent visible; then the budget, nearest first.
  const visible = new Set();
  const hiddenUnder = new Map(); // aggregate key -> [ids folded, with what hangs below them]
  const cutIds = [];
  const rootOf = new Map();
  for (const id of queue) {
    const p = parent.get(id);
    if (p === null) { visible.add(id); continue; }
    if (foldedInto.has(id) && visible.has(p)) rootOf.set(id, foldedInto.get(id));
    else if (rootOf.has(p)) rootOf.set(id, rootOf.get(p));
    if (rootOf.has(id)) {
      const key = rootOf.get(id);
      if (!hiddenUnder.has(key)) hiddenUnder.set(key, []);
      hiddenUnder.get(key).push(id);
      continue;
    }
    if (!visible.has(p)) { cutIds.push(id); continue; }
    if (!all && !pinned.has(id) && visible.size >= budget) { cutIds.push(id); continue; }
    visible.add(id);
  }

  const aggregates = [];
  for (const [key, ids] of hiddenUnder) {
    const { parent: p, kind, needs } = groups.get(key);
    if (!visible.has(p)) continue;
    const direct = ids.filter((id) => foldedInto.get(id) === key);
    aggregates.push({ key, parent: p, kind, needs, members: ids, direct: direct.length,
                      beyond: ids.length - direct.length });
  }
  const edges = view.edges.filter((e) => visible.has(e.from) && visible.has(e.to));
  return {
    nodes: view.nodes.filter((n) => visible.has(n.id)),
    aggregates,
    edges,
    cut: cutIds.length,
    folded: aggregates.reduce((sum, a) => sum + a.members.length, 0),
  };
}
