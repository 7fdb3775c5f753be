// The side panel: why a node is in its state, in the customer's language first
// (promises and acts, then technology), and who must act.

import { clear, h, put } from "./dom.js";
import { KIND_LAYER, KIND_WORD, promiseWord } from "./model.js";

function stateBadge(state, kind) {
  const word = kind === "promise" ? promiseWord(state) : state;
  return h("span", { class: `state ${state}` }, word);
}

function nodeLink(ctx, id) {
  const n = ctx.names.get(id);
  const text = n && n.name && n.name !== id ? `${n.name} (${id})` : id;
  return h("button", { class: "node-link", type: "button", dataset: { id },
                       onclick: () => ctx.focus(id) }, text);
}

function kindBadge(kind) {
  return kind ? h("span", { class: `kind ${kind}` }, KIND_WORD[kind] || kind) : null;
}

function ruleWords(ctx, why) {
  if (why.rule === "failed") {
    return ctx.live ? `Reported ${why.given || why.state} by a monitoring source.`
      : `Set ${why.given || why.state} in this what-if.`;
  }
  const parts = why.causes.map((c) => {
    if (c.rule === "group") {
      return `its redundancy group “${c.group}” lost ${c.dependency} (${c.state}): ${c.headroom}`;
    }
    if (c.rule === "soft") return `it softly needs ${c.dependency}, which is ${c.state} (soft: at risk at most)`;
    return `it needs ${c.dependency}, which is ${c.state}`;
  });
  const given = why.given ? ` It was also set ${why.given} itself.` : "";
  return `${why.state === "down" ? "Down" : "At risk"} because ${parts.join("; ")}.${given}`;
}

function providersList(ctx, answer, onChain) {
  const mustAct = answer.providers.filter((p) => p.failed.length);
  const affected = answer.providers.filter((p) => !p.failed.length);
  const rank = (p) => (p.failed.concat(p.affected).some((id) => onChain.has(id)) ? 0 : 1);
  mustAct.sort((a, b) => rank(a) - rank(b));
  return [
    h("h3", {}, "Who must act"),
    mustAct.length ? h("ul", { class: "providers" }, mustAct.map((p) => h("li", { dataset: { provider: p.provider } },
      h("strong", {}, p.provider), ": fix ", p.failed.flatMap((id, i) => [i ? ", " : "", nodeLink(ctx, id)]),
      p.affected.length ? ` (also affected: ${p.affected.join(", ")})` : ""))) : h("p", {}, "Nobody: nothing failed."),
    affected.length ? h("h3", {}, "Also affected") : null,
    affected.length ? h("ul", {}, affected.map((p) => h("li", {}, h("strong", {}, p.provider), ": ",
      p.affected.flatMap((id, i) => [i ? ", " : "", nodeLink(ctx, id)])))) : null,
  ];
}

/** The planned and acknowledged badges of a node in the live answer (none in a what-if). */
function markBadges(ctx, id) {
  const a = ctx.answer;
  if (!ctx.live || !a) return [];
  const out = [];
  const planned = a.planned || { components: {}, promises: [] };
  if (planned.components[id] || planned.promises.includes(id)) {
    out.push(" ", h("span", { class: "mark planned", title: "broken by planned work alone" }, "planned"));
  }
  const acked = a.acknowledged || { nodes: {}, promises: [] };
  const own = acked.nodes[id];
  if (own || acked.promises.includes(id)) {
    out.push(" ", h("span", { class: "mark acked", title: own ? `acknowledged by ${own.by}` : "every failure behind it is acknowledged" },
      own ? `acknowledged · ${own.by}` : "acknowledged"));
  }
  return out;
}

function promiseLines(ctx, ids, state) {
  return ids.map((id) => {
    const n = ctx.names.get(id);
    return h("li", { dataset: { id, state } }, stateBadge(state, "promise"), " ", nodeLink(ctx, id),
             n && n.owner ? ` (owner ${n.owner})` : "", ...markBadges(ctx, id));
  });
}

/** Live: the window behind a planned node, its acknowledgement, the alerts behind it. */
function liveMarks(ctx, id) {
  const a = ctx.answer;
  if (!ctx.live || !a) return [];
  const out = [];
  const planned = a.planned || { windows: [], components: {}, promises: [] };
  const windowIds = planned.components[id] ? [planned.components[id]]
    : planned.promises.includes(id) ? planned.windows.map((w) => w.id) : [];
  const windows = planned.windows.filter((w) => windowIds.includes(w.id));
  if (windows.length) {
    out.push(h("h3", {}, "Planned work"), h("ul", { class: "windows" }, windows.map((w) => h("li", { dataset: { window: w.id } },
      h("strong", {}, w.title), ` (${w.id}${w.owner ? `, ${w.owner}` : ""}) until ${new Date(w.ends_at).toLocaleString()}`))));
  }
  const ack = (a.acknowledged || { nodes: {} }).nodes[id];
  if (ack) {
    out.push(h("h3", {}, "Acknowledged"), h("p", { class: "ack", dataset: { by: ack.by } },
      h("strong", {}, ack.by), ` since ${new Date(ack.at).toLocaleString()}`, ack.comment ? `: ${ack.comment}` : ""));
  }
  const alerts = (a.alerts || {})[id] || [];
  if (alerts.length) {
    out.push(h("h3", {}, `Alerts behind it (${alerts.length})`), h("ul", { class: "alerts" }, alerts.map((x) =>
      h("li", { dataset: { fingerprint: x.fingerprint } }, stateBadge(x.state), " ", h("strong", {}, x.alertname || x.fingerprint),
        ` from ${x.source}`, x.summary ? `: ${x.summary}` : "", x.starts_at ? ` (since ${new Date(x.starts_at).toLocaleString()})` : ""))));
  }
  return out;
}

/** Nothing selected: what the scenario (or the observed status) breaks. */
export function renderSummary(panel, ctx) {
  clear(panel);
  const a = ctx.answer;
  put(panel, h("h2", {}, ctx.travelAt ? `The record: the impact as it stood at ${new Date(ctx.travelAt).toLocaleString()}`
    : ctx.live ? "Live: the impact of what is observed now" : "What-if"));
  if (!ctx.live) {
    const failures = [...ctx.given.entries()];
    put(panel, failures.length
      ? h("p", {}, "Failed here: ", failures.flatMap(([id, s], i) => [i ? ", " : "", nodeLink(ctx, id), ` ${s}`]))
      : h("p", {}, "Click a component on the map, then fail or degrade it to see what breaks."));
  }
  if (!a) return;
  put(panel, 
    h("h3", {}, `Broken promises (${a.counts.broken_promises})`),
    a.broken_promises.length ? h("ul", { id: "broken" }, promiseLines(ctx, a.broken_promises, "down")) : h("p", {}, "none"),
    h("h3", {}, `Promises at risk (${a.counts.at_risk_promises})`),
    a.at_risk_promises.length ? h("ul", { id: "at-risk" }, promiseLines(ctx, a.at_risk_promises, "degraded")) : h("p", {}, "none"),
    h("h3", {}, `Service acts affected (${a.counts.service_acts})`),
    h("ul", {}, Object.entries(a.service_acts).map(([id, s]) => h("li", {}, stateBadge(s), " ", nodeLink(ctx, id)))),
    h("h3", {}, `Business services affected (${a.counts.business_services})`),
    h("ul", {}, Object.entries(a.business_services).map(([id, s]) => h("li", {}, stateBadge(s), " ", nodeLink(ctx, id)))),
    ...providersList(ctx, a, new Set()),
    h("p", { class: "rule" }, `${a.counts.impacted} node(s) impacted: ${a.counts.down} down, ${a.counts.degraded} degraded.`),
  );
  if (ctx.live) put(panel, h("h3", {}, "Changes as they happen"), ctx.eventLog);
}

/** One node: its state, the rule, the chain back to the failure, its headroom, who acts. */
export function renderNode(panel, ctx, node, why) {
  clear(panel);
  const state = why ? why.state : "ok";
  put(panel, 
    h("h2", { dataset: { id: node.id, state } }, kindBadge(node.kind), " ", node.name || node.id),
    h("p", {}, stateBadge(state, node.kind), ...markBadges(ctx, node.id), " ", h("code", {}, node.id),
      node.provider ? ` · provider ${node.provider}` : "", node.owner ? ` · owner ${node.owner}` : ""),
    ...liveMarks(ctx, node.id),
  );
  if (node.description) put(panel, h("p", { class: "rule" }, node.description));
  if (!ctx.live) {
    const given = ctx.given.get(node.id);
    put(panel, h("div", { class: "actions" },
      h("button", { id: "fail-down", type: "button", onclick: () => ctx.setGiven(node.id, "down"),
                    disabled: given === "down" }, "Fail it (down)"),
      h("button", { id: "fail-degraded", type: "button", onclick: () => ctx.setGiven(node.id, "degraded"),
                    disabled: given === "degraded" }, "Degrade it"),
      h("button", { id: "restore", type: "button", onclick: () => ctx.setGiven(node.id, null),
                    disabled: !given }, "Restore"),
      h("button", { type: "button", onclick: () => ctx.recenter(node.id) }, "Centre the map here")));
  }
  if (!why || state === "ok") {
    put(panel, h("p", {}, node.kind === "promise" ? "This promise is kept." : "Not affected."));
  } else {
    put(panel, h("h3", {}, "Why"), h("p", { class: "why", dataset: { rule: why.rule } }, ruleWords(ctx, why)));
    const chain = why.chain && why.chain.length ? why.chain : null;
    if (chain) {
      put(panel, h("h3", {}, "The chain, from what the customer sees to what failed"),
        h("ol", { class: "chain" }, chain.map((id) => {
          const n = ctx.names.get(id);
          return h("li", { dataset: { id } }, kindBadge(n && n.kind), " ", nodeLink(ctx, id),
                   ctx.states[id] ? ` — ${ctx.states[id]}` : "");
        })));
    } else if (why.via) {
      put(panel, h("p", {}, "Next step towards the failure: ", nodeLink(ctx, why.via)));
    }
    const groups = why.causes.filter((c) => c.headroom);
    if (groups.length) {
      put(panel, h("h3", {}, "Redundancy headroom"), h("ul", { class: "headroom" },
        groups.map((c) => h("li", {}, `${c.group}: ${c.headroom}`))));
    }
    if (why.causes.length) {
      put(panel, h("h3", {}, "Caused by"), h("ul", { class: "causes" }, why.causes
        .slice().sort((x, y) => (KIND_LAYER[ctx.names.get(x.dependency)?.kind] ?? 9) - (KIND_LAYER[ctx.names.get(y.dependency)?.kind] ?? 9))
        .map((c) => h("li", {}, nodeLink(ctx, c.dependency), ` ${c.state} (${c.rule}${c.group ? `, group ${c.group}` : ""})`))));
    }
  }
  if (ctx.answer) put(panel, ...providersList(ctx, ctx.answer, new Set(why && why.chain ? why.chain : [node.id])));
}

/** One node as the record kept it at a past moment (time travel): its state since
 *  when, and the failed components behind it with their providers, as they stood. */
export function renderRecorded(panel, ctx, node, why, at) {
  clear(panel);
  const state = why ? why.state : "ok";
  put(panel,
    h("h2", { dataset: { id: node.id, state } }, kindBadge(node.kind), " ", node.name || node.id),
    h("p", {}, stateBadge(state, node.kind), " ", h("code", {}, node.id),
      ` at ${new Date(at).toLocaleString()}`, why && why.since ? `, since ${new Date(why.since).toLocaleString()}` : "",
      why && why.planned ? " (planned)" : ""));
  if (!why) {
    put(panel, h("p", { class: "rule" }, "Nothing recorded against it at that moment: the record keeps the " +
      "promises, business services and service acts, and the components observed failing."));
  } else if (why.causes && why.causes.length) {
    put(panel, h("h3", {}, "Caused by (as recorded)"), h("ul", { class: "causes" }, why.causes.map((c) =>
      h("li", { dataset: { id: c.component } }, nodeLink(ctx, c.component), ` ${c.state}`,
        c.provider ? ` · provider ${c.provider}` : "", c.planned ? ` · planned${c.window ? ` (${c.window})` : ""}` : ""))));
  } else if (why.given) {
    put(panel, h("p", { class: "why" }, `Observed ${why.given}.`));
  }
  if (ctx.answer) put(panel, ...providersList(ctx, ctx.answer, new Set([node.id])));
}
