// Downloads of the drawn view (PNG, SVG, GraphML, DOT, Mermaid) and of the whole graph.

import { call } from "./api.js";
import { toSvg } from "./svg.js";

const SUFFIX = { graphml: "graphml", dot: "dot", mermaid: "mmd" };

export function download(name, blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The drawn view: pictures from the canvas, graph formats from the API for the drawn ids. */
export async function exportView(format, cy, ids, center) {
  const base = `servicegraph-${center || "view"}`;
  if (format === "png") {
    download(`${base}.png`, cy.png({ output: "blob", full: true, scale: 2, bg: "#ffffff" }));
  } else if (format === "svg") {
    download(`${base}.svg`, new Blob([toSvg(cy)], { type: "image/svg+xml" }));
  } else {
    const res = await call(`/v1/views/export/${format}`, { method: "POST", body: { ids } });
    download(`${base}.${SUFFIX[format]}`, await res.blob());
  }
}

/** The whole live graph, as `GET /v1/export/{format}` gives it. */
export async function exportWhole(format) {
  const res = await call(`/v1/export/${format}`);
  download(`servicegraph.${SUFFIX[format]}`, await res.blob());
}
