// The drawn view as SVG, written from Cytoscape's model: node boxes with their
// colours and labels, edges as straight arrows between node borders. A small
// writer of our own (a picture for documents, not a pixel copy of the canvas).

const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
  .replace(/"/g, "&quot;");

function shape(n) {
  const { x, y } = n.position();
  const w = n.width();
  const h = n.height();
  const s = n.style();
  const fill = s["background-color"];
  const stroke = s["border-color"];
  const width = parseFloat(s["border-width"]) || 1;
  const dash = s["border-style"] === "dashed" ? ' stroke-dasharray="6 4"' : "";
  const kind = n.style("shape");
  const paint = `fill="${esc(fill)}" stroke="${esc(stroke)}" stroke-width="${width}"${dash}`;
  const l = x - w / 2;
  const t = y - h / 2;
  if (kind.includes("hexagon") || kind.includes("octagon") || kind.includes("tag")) {
    const c = Math.min(w, h) / 4;
    const pts = kind.includes("tag")
      ? [[l, t], [l + w - c, t], [l + w, y], [l + w - c, t + h], [l, t + h]]
      : [[l + c, t], [l + w - c, t], [l + w, t + c], [l + w, t + h - c], [l + w - c, t + h], [l + c, t + h],
         [l, t + h - c], [l, t + c]];
    return `<polygon points="${pts.map((p) => p.join(",")).join(" ")}" ${paint}/>`;
  }
  const r = kind === "rectangle" ? 0 : 8;
  return `<rect x="${l}" y="${t}" width="${w}" height="${h}" rx="${r}" ${paint}/>`;
}

function label(n) {
  const lines = String(n.data("label") || "").split("\n");
  const { x, y } = n.position();
  const colour = n.style("color");
  const weight = n.style("font-weight");
  const size = 11;
  const top = y - ((lines.length - 1) * size * 1.2) / 2;
  const spans = lines.map((line, i) =>
    `<tspan x="${x}" y="${top + i * size * 1.2}">${esc(line)}</tspan>`).join("");
  return `<text text-anchor="middle" dominant-baseline="middle" font-size="${size}" ` +
    `font-weight="${esc(weight)}" fill="${esc(colour)}">${spans}</text>`;
}

function edge(e) {
  const a = e.sourceEndpoint();
  const b = e.targetEndpoint();
  const colour = e.style("line-color");
  const width = parseFloat(e.style("width")) || 1;
  const dash = e.style("line-style") === "dashed" ? ' stroke-dasharray="6 4"'
    : e.style("line-style") === "dotted" ? ' stroke-dasharray="2 3"' : "";
  const text = e.data("label")
    ? `<text x="${(a.x + b.x) / 2}" y="${(a.y + b.y) / 2}" font-size="9" fill="#3a86ff" ` +
      `text-anchor="middle">${esc(e.data("label"))}</text>` : "";
  return `<line x1="${a.x}" y1="${a.y}" x2="${b.x}" y2="${b.y}" stroke="${esc(colour)}" ` +
    `stroke-width="${width}"${dash} marker-end="url(#arrow)" style="color:${esc(colour)}"/>${text}`;
}

/** The elements of `cy` as an SVG document (model coordinates). */
export function toSvg(cy) {
  const bb = cy.elements().boundingBox();
  const pad = 20;
  const view = [bb.x1 - pad, bb.y1 - pad, bb.w + 2 * pad, bb.h + 2 * pad];
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${view.join(" ")}" width="${view[2]}" ` +
      `height="${view[3]}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" ` +
      `orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`,
    `<rect x="${view[0]}" y="${view[1]}" width="${view[2]}" height="${view[3]}" fill="#ffffff"/>`,
  ];
  for (const e of cy.edges()) parts.push(edge(e));
  for (const n of cy.nodes()) {
    // A node carries the model's id; a folded group, which has none, its label only.
    const which = n.hasClass("aggregate") ? 'data-folded=""' : `data-id="${esc(n.data("ref"))}"`;
    parts.push(`<g ${which}>${shape(n)}${label(n)}</g>`);
  }
  parts.push("</svg>");
  return parts.join("\n");
}
